import type { IoleaseError, WriteData } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import {
  collectingHandler,
  connectToNetPeer,
  deferred,
  randomBytes,
  readAll,
  sha256,
  sleep,
  until,
  watchdog,
} from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend. */
export function writesSuite(kit: Kit): void {
  const { withLoop } = kit;

  type Completion = [index: number, error: string | undefined, bytes: number];

  describe('writes and write completions', () => {
    it('WRITE-3 WRITE-4 WRITE-5 a thousand writes complete once each, in order, bytes in order', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        peer.pause(); // a slow reader: the socket buffer fills and sends go partial
        const received = readAll(peer);
        const writes = Array.from({ length: 1000 }, () => randomBytes(1 + Math.floor(Math.random() * 20_000)));
        const completions: Completion[] = [];
        writes.forEach((data, i) => {
          channel.write(i % 3 === 0 ? [data.subarray(0, 5), data.subarray(5)] : data, (error, n) =>
            completions.push([i, error?.code, n]),
          );
        });
        expect(completions).toEqual([]); // never from inside write() (LOOP-2)
        setTimeout(() => peer.resume(), 50);
        await until(() => completions.length === 1000, 20_000, 'WRITE-3 all completions');
        channel.shutdown();
        expect(sha256(await received)).toBe(sha256(writes));
        expect(completions).toEqual(writes.map((w, i) => [i, undefined, w.length]));
        await sleep(20);
        expect(completions).toHaveLength(1000);
        expect(channel.pendingWriteBytes).toBe(0);
        expect(loop.stats().writesCompleted).toBe(1000);
        channel.close();
      });
    });

    it('WRITE-6 WRITE-7 one 16 MiB write to a slow reader completes once, after every byte', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const data = randomBytes(16 * 1024 * 1024);
        const done = deferred<[IoleaseError | undefined, number]>();
        let calls = 0;
        channel.write(data, (error, n) => {
          calls++;
          done.resolve([error, n]);
        });
        peer.pause();
        const received = readAll(peer);
        setTimeout(() => peer.resume(), 100);
        expect(await watchdog(done.promise, 10_000, 'WRITE-6 WRITE-7')).toEqual([undefined, data.length]);
        channel.shutdown();
        expect(sha256(await received)).toBe(sha256(data));
        expect(calls).toBe(1);
        channel.close();
      });
    });

    it('WRITE-1 zero-length writes complete with 0, in order; bad data throws and changes nothing', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const received = readAll(peer);
        const order: string[] = [];
        channel.write(new Uint8Array(0), (e, n) => order.push(`empty:${n}:${e?.code}`));
        channel.write(Buffer.from('ab'), (e, n) => order.push(`ab:${n}:${e?.code}`));
        channel.write([], (e, n) => order.push(`none:${n}:${e?.code}`));
        for (const bad of ['text', 42, null, [Buffer.from('x'), 'y'], { length: 1 }, new ArrayBuffer(4)]) {
          expect(() => channel.write(bad as never)).toThrow(
            expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
          );
        }
        expect(() => channel.write(Buffer.from('x'), 'cb' as never)).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
        );
        expect(channel.pendingWriteBytes).toBe(2);
        await until(() => order.length === 3, 5000);
        expect(order).toEqual(['empty:0:undefined', 'ab:2:undefined', 'none:0:undefined']);
        channel.shutdown();
        expect((await received).toString()).toBe('ab');
        channel.close();
      });
    });

    it('WRITE-9 LIFE-7 LIFE-12 close completes every pending write with CHANNEL_CLOSED, in order, before onClose', async () => {
      await withLoop(undefined, async (loop) => {
        const events: string[] = [];
        const closed = deferred();
        const { channel, peer } = await connectToNetPeer(loop, {
          onClose: () => {
            events.push('close');
            closed.resolve();
          },
        });
        peer.pause(); // nothing is read: most writes cannot leave
        for (let i = 0; i < 50; i++) {
          channel.write(randomBytes(1024 * 1024), (e, n) =>
            events.push(`${i}:${e?.code ?? 'ok'}:${n > 0 ? 'some' : 'none'}`),
          );
        }
        await sleep(50);
        const before = events.length;
        channel.close();
        channel.close(); // idempotent
        expect(channel.state).toBe('closed');
        expect(events).toHaveLength(before); // nothing synchronous from close() (LOOP-2)
        await watchdog(closed.promise, 10_000, 'WRITE-9 LIFE-7 LIFE-12');
        expect(events.at(-1)).toBe('close');
        const writes = events.slice(0, -1);
        expect(writes.map((e) => Number(e.split(':')[0]))).toEqual(Array.from({ length: 50 }, (_, i) => i));
        // What the kernel took before close succeeded; everything after failed: a prefix of
        // successes, then CHANNEL_CLOSED (50 MiB is more than loopback buffers hold).
        const firstFailure = writes.findIndex((e) => !e.includes(':ok:'));
        expect(firstFailure).toBeGreaterThanOrEqual(0);
        expect(writes.slice(firstFailure).every((e) => e.includes('ERR_IOLEASE_CHANNEL_CLOSED'))).toBe(true);
        expect(writes.slice(firstFailure + 1).every((e) => e.endsWith(':none'))).toBe(true);
        expect(channel.pendingWriteBytes).toBe(0);
        peer.destroy();
      });
    });

    it('WRITE-10 writes after close or shutdown complete with an error, never throw', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const results: string[] = [];
        channel.shutdown();
        channel.write(Buffer.from('late'), (e) => results.push(String(e?.code)));
        channel.close();
        channel.write(Buffer.from('later'), (e) => results.push(String(e?.code)));
        await until(() => results.length === 2, 5000);
        expect(results).toEqual(['ERR_IOLEASE_WRITE_AFTER_END', 'ERR_IOLEASE_CHANNEL_CLOSED']);
        await sleep(20);
        channel.write(Buffer.from('after onClose'), (e) => results.push(String(e?.code)));
        await until(() => results.length === 3, 5000);
        expect(results[2]).toBe('ERR_IOLEASE_CHANNEL_CLOSED');
        peer.destroy();
      });
    });

    it('LIFE-6 LIFE-8 reset() makes the peer see ECONNRESET; a peer reset reaches onError, then onClose', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const peerError = deferred<NodeJS.ErrnoException>();
        peer.on('error', (e) => peerError.resolve(e));
        peer.write('make the connection established both ways');
        await sleep(10);
        channel.reset();
        expect((await watchdog(peerError.promise, 10_000, 'LIFE-6 LIFE-8')).code).toBe('ECONNRESET');

        const handler = collectingHandler();
        const calls: string[] = [];
        const second = await connectToNetPeer(loop, {
          ...handler,
          onError: (_c, e) => calls.push(`error:${e.code}`),
          onClose: () => {
            calls.push('close');
            handler.closed.resolve();
          },
        });
        const pending: string[] = [];
        second.peer.pause();
        for (let i = 0; i < 20; i++)
          second.channel.write(randomBytes(512 * 1024), (e) => pending.push(e?.code ?? 'ok'));
        await sleep(20);
        second.peer.resetAndDestroy();
        await watchdog(handler.closed.promise, 10_000, 'LIFE-6 LIFE-8');
        // The first operation to meet the reset reports it: a receive sees ECONNRESET, a send
        // EPIPE, as with node:net.
        expect(calls).toHaveLength(2);
        expect(['error:ECONNRESET', 'error:EPIPE']).toContain(calls[0]);
        expect(calls[1]).toBe('close');
        expect(pending).toHaveLength(20);
        expect(pending.filter((c) => c !== 'ok').every((c) => c === 'ECONNRESET' || c === 'EPIPE')).toBe(true);
      });
    });
  });

  describe('writability water marks', () => {
    it('WATER-4 LIFE-2 a channel without a handler goes unwritable and writable again with nothing to call and nothing thrown', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, undefined as never, {
          waterMarks: { low: 1024, high: 64 * 1024 },
        });
        peer.pause();
        const received = readAll(peer);
        for (let i = 0; i < 8; i++) channel.write(randomBytes(256 * 1024));
        expect(channel.writable).toBe(false);
        await sleep(20);
        peer.resume();
        // A notification with no handler to take it must not throw (an uncaught error fails the run).
        await until(() => channel.writable, 10_000, 'WATER-4 writable again');
        channel.shutdown();
        expect((await watchdog(received, 10_000, 'WATER-4 the bytes')).length).toBe(2 * 1024 * 1024);
        channel.close();
      });
    });

    it('WATER-1 WATER-2 WATER-3 WATER-4 WRITE-11 turns unwritable above high, writable at low, notified once each', async () => {
      await withLoop(undefined, async (loop) => {
        const changes: boolean[] = [];
        const { channel, peer } = await connectToNetPeer(
          loop,
          { onWritabilityChanged: (_c, w) => changes.push(w) },
          { waterMarks: { low: 1024 * 1024, high: 4 * 1024 * 1024 } },
        );
        expect(channel.writable).toBe(true);
        peer.pause();
        const received = readAll(peer);
        const chunk = randomBytes(1024 * 1024);
        const returns: boolean[] = [];
        for (let i = 0; i < 8; i++) returns.push(channel.write(chunk));
        expect(returns).toEqual([true, true, true, true, false, false, false, false]);
        expect(channel.writable).toBe(false);
        expect(channel.pendingWriteBytes).toBe(8 * 1024 * 1024);
        expect(changes).toEqual([]); // not from inside write() (WATER-4)
        await sleep(10);
        expect(changes).toEqual([false]);
        peer.resume();
        await until(() => channel.writable, 10_000, 'writable again');
        expect(channel.pendingWriteBytes).toBeLessThanOrEqual(1024 * 1024);
        await until(() => changes.length === 2, 1000);
        expect(changes).toEqual([false, true]);
        channel.shutdown();
        expect((await received).length).toBe(8 * 1024 * 1024);
        channel.close();
      });
    });

    it.each(['close', 'reset', 'peer reset', 'loop close'] as const)(
      'WATER-4 LIFE-12 an unwritable channel ended by %s: failed completions, no writability change, then onClose',
      async (how) => {
        const loop = await kit.backend.createLoop();
        const calls: string[] = [];
        try {
          const closed = deferred<void>();
          const { channel, peer } = await connectToNetPeer(
            loop,
            {
              onWritabilityChanged: (_c, w) => calls.push(`writable ${w}`),
              onError: () => calls.push('error'),
              onClose: () => {
                calls.push('close');
                closed.resolve();
              },
            },
            { waterMarks: { low: 1024, high: 64 * 1024 } },
          );
          peer.pause();
          // A paused socket still reads until its buffer fills, so a reset may reach it as ECONNRESET.
          peer.on('error', () => undefined);
          const chunk = randomBytes(256 * 1024);
          for (let i = 0; i < 16; i++) channel.write(chunk, (e) => calls.push(e === undefined ? 'ok' : 'failed'));
          await until(() => calls.includes('writable false'), 5000, 'WATER-3 unwritable');
          if (how === 'close') channel.close();
          else if (how === 'reset') channel.reset();
          else if (how === 'peer reset') peer.resetAndDestroy();
          else void loop.close();
          await watchdog(closed.promise, 10_000, 'LIFE-12', () => calls);
          await sleep(20);
          const after = calls.slice(calls.indexOf('writable false') + 1);
          expect(after).not.toContain('writable true');
          expect(after.at(-1)).toBe('close');
          expect(after.filter((c) => c === 'failed').length).toBeGreaterThan(0);
          peer.destroy();
        } finally {
          await loop.close();
        }
      },
    );

    it('WATER-5 ERR-2 rejected water marks leave the old ones in force', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {}, { waterMarks: { low: 10, high: 100 } });
        peer.pause();
        expect(() => channel.setWaterMarks({ low: 10, high: 5 })).toThrow();
        expect(() => channel.setWaterMarks({ low: 1e9, high: 1e9 + 1, extra: 1 } as never)).not.toThrow();
        channel.setWaterMarks({ low: 10, high: 100 });
        expect(() => channel.setWaterMarks({ low: 0, high: -1 })).toThrow();
        // Still high = 100: 101 pending bytes make the channel unwritable.
        expect(channel.write(new Uint8Array(100))).toBe(true);
        expect(channel.write(new Uint8Array(1))).toBe(false);
        channel.close();
        peer.destroy();
      });
    });

    it('WATER-6 WRITE-11 writable is false after shutdown() and after close, whatever is pending, and never notified', async () => {
      await withLoop(undefined, async (loop) => {
        const changes: boolean[] = [];
        const onWritabilityChanged = (_c: unknown, writable: boolean) => changes.push(writable);
        // Shut down while unwritable: the writes drain below low, and no change is notified.
        const first = await connectToNetPeer(loop, { onWritabilityChanged }, { waterMarks: { low: 10, high: 100 } });
        first.peer.pause();
        const drained = readAll(first.peer);
        expect(first.channel.writable).toBe(true);
        // More than the socket takes while the peer does not read: it stays pending.
        expect(first.channel.write(new Uint8Array(32 * 1024 * 1024))).toBe(false);
        await until(() => changes.length === 1, 10_000, 'WATER-4 unwritable');
        first.channel.shutdown();
        expect(first.channel.writable).toBe(false);
        expect(first.channel.write(new Uint8Array(1))).toBe(false);
        first.peer.resume();
        await watchdog(drained, 10_000, 'WATER-6');
        await until(() => first.channel.pendingWriteBytes === 0, 10_000, 'WATER-6 drained');
        await sleep(20);
        expect(first.channel.writable).toBe(false);
        first.channel.close();
        // A writable channel that closes, and one the peer resets.
        const second = await connectToNetPeer(loop, { onWritabilityChanged });
        second.channel.close();
        expect(second.channel.writable).toBe(false);
        expect(second.channel.write(new Uint8Array(1))).toBe(false);
        const errored = deferred();
        const third = await connectToNetPeer(loop, { onWritabilityChanged, onError: () => errored.resolve() });
        third.peer.resetAndDestroy();
        await watchdog(errored.promise, 10_000, 'WATER-6 reset');
        expect(third.channel.writable).toBe(false);
        await sleep(20);
        expect(changes).toEqual([false]);
      });
    });

    it('WATER-5 rejects bad water marks', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        expect(() => channel.setWaterMarks({ low: 10, high: 5 })).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
        );
        expect(() => channel.setWaterMarks({ low: -1, high: 5 })).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' }),
        );
        channel.close();
        peer.destroy();
      });
    });
  });

  describe('half-close', () => {
    it('LIFE-4 LIFE-5 shutdown sends FIN after pending writes; reading goes on; onEnd once; then the channel closes by itself', async () => {
      await withLoop(undefined, async (loop) => {
        const handler = collectingHandler();
        let ends = 0;
        const { channel, peer } = await connectToNetPeer(loop, {
          ...handler,
          onEnd: (c) => {
            ends++;
            handler.onEnd?.(c);
          },
        });
        const fromChannel = readAll(peer);
        const big = randomBytes(3 * 1024 * 1024);
        channel.write(big);
        channel.shutdown();
        expect(channel.outputEnded).toBe(true);
        expect(sha256(await fromChannel)).toBe(sha256(big));
        expect(channel.state).toBe('open'); // our FIN alone does not close it
        peer.end('still reading after my shutdown');
        expect((await watchdog(handler.ended.promise, 10_000, 'LIFE-4 LIFE-5')).toString()).toBe(
          'still reading after my shutdown',
        );
        expect(ends).toBe(1);
        expect(channel.inputEnded).toBe(true);
        await watchdog(handler.closed.promise, 10_000, 'LIFE-4 LIFE-5'); // both directions ended: closed without close()
        expect(channel.state).toBe('closed');
        expect(handler.errors).toEqual([]);
      });
    });

    it('LIFE-5 after the peer ends, the channel stays open and writable until it shuts down too', async () => {
      await withLoop(undefined, async (loop) => {
        const handler = collectingHandler();
        const { channel, peer } = await connectToNetPeer(loop, handler);
        const fromChannel = readAll(peer);
        peer.end('bye');
        await watchdog(handler.ended.promise, 10_000, 'LIFE-5');
        await sleep(50);
        expect(channel.state).toBe('open');
        const done = deferred<unknown>();
        channel.write(Buffer.from('answer after your FIN'), (error) => done.resolve(error));
        expect(await watchdog(done.promise, 10_000, 'LIFE-5')).toBeUndefined();
        channel.shutdown();
        expect((await fromChannel).toString()).toBe('answer after your FIN');
        await watchdog(handler.closed.promise, 10_000, 'LIFE-5');
        expect(channel.state).toBe('closed');
      });
    });

    describe('completion details', () => {
      it('WRITE-3 DIAG-4 counters: every completion counted, failed ones too; bytes only of writes that succeeded; leases delivered exactly', async () => {
        await withLoop(undefined, async (loop) => {
          let reads = 0;
          let failure: IoleaseError | undefined;
          const { channel, peer } = await connectToNetPeer(loop, {
            onRead(_c, lease) {
              reads++;
              lease.release();
            },
            onError(_c, error) {
              failure = error;
            },
          });
          const before = loop.stats();
          const results: [unknown, number][] = [];
          // Views and arrays of them: two views, one view alone, an empty view among others. Each
          // write completes once, with its own bytes, however its views go to the system.
          const writes: WriteData[] = [
            new Uint8Array(10),
            new Uint8Array(20),
            new Uint8Array(30),
            [new Uint8Array(5), new Uint8Array(6)],
            [new Uint8Array(7)],
            [new Uint8Array(0), new Uint8Array(8)],
          ];
          for (const data of writes) channel.write(data, (e, b) => results.push([e, b]));
          await until(
            () => results.length === 6,
            5000,
            'WRITE-3 six completions',
            () => results,
          );
          await sleep(20); // room for a completion counted twice
          expect(results).toEqual([
            [undefined, 10],
            [undefined, 20],
            [undefined, 30],
            [undefined, 11],
            [undefined, 7],
            [undefined, 8],
          ]);
          let stats = loop.stats();
          expect(stats.writesCompleted - before.writesCompleted).toBe(6);
          expect(stats.bytesWritten - before.bytesWritten).toBe(86);
          // Reads: the leases delivered are exactly the onRead calls.
          peer.write(randomBytes(5000));
          await until(
            () => reads > 0 && loop.stats().leasesDelivered - before.leasesDelivered === reads,
            5000,
            'DIAG-4 leases',
          );
          // A write that cannot finish: the peer stops reading, then resets.
          peer.pause();
          const big = randomBytes(32 * 1024 * 1024);
          const failed = deferred<[unknown, number]>();
          channel.write(big, (e, b) => failed.resolve([e, b]));
          await sleep(50);
          peer.resetAndDestroy();
          const [error, bytesWritten] = await watchdog(failed.promise, 10_000, 'WRITE-3');
          expect(error).toBeInstanceOf(Error);
          expect(Number.isInteger(bytesWritten) && bytesWritten >= 0 && bytesWritten < big.length).toBe(true);
          await until(() => channel.state === 'closed', 5000, 'LIFE-8 closed after the reset');
          expect(failure?.code, 'LIFE-8 onError').toBe('ECONNRESET');
          stats = loop.stats();
          expect(stats.writesCompleted - before.writesCompleted).toBe(7);
          expect(stats.bytesWritten - before.bytesWritten).toBe(86);
        });
      });

      it('WRITE-4 WRITE-10 WATER-2 a write after shutdown() fails, uncounted, but only after the writes before it completed', async () => {
        await withLoop(undefined, async (loop) => {
          const { channel, peer } = await connectToNetPeer(loop, {});
          peer.pause();
          const order: string[] = [];
          channel.write(randomBytes(8 * 1024 * 1024), (e) => order.push(e === undefined ? 'big ok' : 'big failed'));
          channel.shutdown();
          const pending = channel.pendingWriteBytes;
          channel.write(Buffer.from('late'), (e) => order.push(`late ${(e as IoleaseError | undefined)?.code}`));
          expect(channel.pendingWriteBytes, 'WATER-2 a write failing at once is not pending').toBe(pending);
          await sleep(30);
          expect(order).toEqual([]); // the big write is still pending, so the late one waits behind it
          peer.resume();
          peer.on('data', () => {});
          await until(
            () => order.length === 2,
            10_000,
            'WRITE-4 both completions',
            () => order,
          );
          expect(order).toEqual(['big ok', 'late ERR_IOLEASE_WRITE_AFTER_END']);
          peer.destroy();
        });
      });

      it('WATER-2 inside a completion, pendingWriteBytes no longer counts that write', async () => {
        await withLoop(undefined, async (loop) => {
          const { channel, peer } = await connectToNetPeer(loop, {});
          const seen: number[] = [];
          for (const n of [100, 200, 300]) channel.write(new Uint8Array(n), () => seen.push(channel.pendingWriteBytes));
          expect(channel.pendingWriteBytes).toBe(600);
          await until(() => seen.length === 3, 5000, 'WRITE-3 three completions');
          expect(seen).toEqual([500, 300, 0]);
          peer.destroy();
        });
      });
    });
  });
}
