import type { IoleaseError } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { connectToNetPeer, deferred, randomBytes, readAll, sha256, sleep, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend: what a write takes of its memory (WRITE-12). */
export function writeMemorySuite(kit: Kit): void {
  const { withLoop } = kit;

  describe('write memory', () => {
    it('WRITE-12 ERR-2 a view of a detached ArrayBuffer is rejected with INVALID_ARG_VALUE, and nothing changes', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const received = readAll(peer);
        const gone = new Uint8Array(new ArrayBuffer(64));
        gone.buffer.transfer();
        let completions = 0;
        const invalid = expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' });
        expect(() => channel.write(gone, () => completions++)).toThrow(invalid);
        expect(() => channel.write([Buffer.from('a'), gone], () => completions++)).toThrow(invalid);
        expect(channel.pendingWriteBytes).toBe(0);
        const done = deferred<number>();
        channel.write(Buffer.from('after'), (_e, n) => done.resolve(n));
        expect(await watchdog(done.promise, 10_000, 'WRITE-12')).toBe(5);
        channel.shutdown();
        expect((await watchdog(received, 10_000, 'WRITE-12')).toString()).toBe('after');
        expect(completions).toBe(0);
        channel.close();
      });
    });

    it('WRITE-12 write() takes views and lengths when called: a view that grows and an array changed later send what they held', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        // A slow reader behind a large first write: the writes below wait in the backend's queue
        // while their views and array change.
        peer.pause();
        const received = readAll(peer);
        const first = randomBytes(8 * 1024 * 1024);
        const results: [IoleaseError | undefined, number][] = [];
        channel.write(first, (e, n) => results.push([e, n]));
        await sleep(20);
        // A length-tracking view of a resizable buffer: 4 bytes at write(), 8 right after.
        const resizable = new ArrayBuffer(4, { maxByteLength: 16 });
        const tracking = new Uint8Array(resizable);
        tracking.set([0x61, 0x62, 0x63, 0x64]);
        channel.write(tracking, (e, n) => results.push([e, n]));
        resizable.resize(8);
        tracking.fill(0x7a, 4);
        const list = [Buffer.from('-one'), Buffer.from('-two')];
        channel.write(list, (e, n) => results.push([e, n]));
        list.push(Buffer.from('-three'));
        // Shared memory is sent from where it is.
        const shared = new Uint8Array(new SharedArrayBuffer(4));
        shared.set([0x2d, 0x73, 0x61, 0x62]);
        channel.write(shared, (e, n) => results.push([e, n]));
        channel.shutdown();
        peer.resume();
        const bytes = await watchdog(received, 10_000, 'WRITE-12');
        expect(sha256(bytes.subarray(0, first.length))).toBe(sha256(first));
        expect(bytes.subarray(first.length).toString()).toBe('abcd-one-two-sab');
        await until(() => results.length === 4, 10_000, 'WRITE-12 completions');
        expect(results).toEqual([
          [undefined, first.length],
          [undefined, 4],
          [undefined, 8],
          [undefined, 4],
        ]);
        channel.close();
      });
    });

    for (const [when, delay] of [
      ['right after write()', 0],
      ['after part of it was sent', 50],
    ] as const) {
      it(`WRITE-12 WRITE-2 memory detached under a pending write ${when} is never sent as whatever it holds later`, async () => {
        await withLoop(undefined, async (loop) => {
          const errors: string[] = [];
          const messages: string[] = [];
          const { channel, peer } = await connectToNetPeer(loop, {
            onError: (_c, error) => {
              errors.push(String((error as { code?: string }).code));
              messages.push(String((error as { message?: string }).message));
            },
          });
          // Far more than the socket takes at once, so most of it is still pending when detached.
          peer.pause();
          const received = readAll(peer);
          const data = new Uint8Array(new ArrayBuffer(8 * 1024 * 1024)).fill(0x11);
          const done = deferred<[string | undefined, number]>();
          channel.write(data, (error, n) => done.resolve([error?.code, n]));
          if (delay > 0) await sleep(delay);
          // The memory moves to another ArrayBuffer, which then holds other bytes: whatever the
          // backend sends from here on must not be them.
          const moved = new Uint8Array(data.buffer.transfer());
          moved.fill(0xee);
          peer.resume();
          const [code, written] = await watchdog(done.promise, 20_000, 'WRITE-12 completion', () => ({
            errors,
            pending: channel.pendingWriteBytes,
          }));
          channel.shutdown();
          const bytes = await watchdog(received, 20_000, 'WRITE-12 bytes after FIN');
          expect(bytes.includes(0xee)).toBe(false);
          if (code === undefined) {
            expect(written).toBe(8 * 1024 * 1024);
            expect(bytes.length).toBe(8 * 1024 * 1024);
          } else {
            // The backend found the memory gone before sending all of it: the channel fails.
            expect(bytes.length).toBeLessThan(8 * 1024 * 1024);
            expect(errors).toEqual(['ERR_IOLEASE_INVALID_STATE']);
            expect(code).toBe('ERR_IOLEASE_INVALID_STATE');
            // The message says what went wrong, not only the code.
            expect(messages[0]).toMatch(/detached|shrunk/);
          }
          channel.close();
        });
      });
    }

    it('WRITE-1 WRITE-5 one write of 3,000 views and one of 24 MiB arrive whole and in order', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const received = readAll(peer);
        const views = Array.from({ length: 3000 }, () => randomBytes(1 + Math.floor(Math.random() * 200)));
        const big = randomBytes(24 * 1024 * 1024);
        const results: [IoleaseError | undefined, number][] = [];
        channel.write(views, (e, n) => results.push([e, n]));
        channel.write(big, (e, n) => results.push([e, n]));
        channel.shutdown();
        const bytes = await watchdog(received, 30_000, 'WRITE-1 WRITE-5');
        expect(sha256(bytes)).toBe(sha256([...views, big]));
        await until(() => results.length === 2, 10_000, 'WRITE-1 completions');
        expect(results).toEqual([
          [undefined, views.reduce((n, v) => n + v.length, 0)],
          [undefined, big.length],
        ]);
        channel.close();
      });
    });
  });
}
