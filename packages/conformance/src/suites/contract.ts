import { threadId } from 'node:worker_threads';
import {
  type ChannelHandler,
  FixedRecvByteBufferSizer,
  type LeakReport,
  type Lease,
  type PoolPressureEvent,
  type SizeClassStatistics,
} from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import {
  collectingHandler,
  connectToNetPeer,
  deferred,
  echoHandler,
  netConnect,
  poolState,
  randomBytes,
  readAll,
  sha256,
  sleep,
  until,
  watchdog,
} from '../helpers.js';
import { CAPABILITIES, type Kit } from '../kit.js';

/** Registers the suite against one backend: the contract's cross-cutting rules. */
export function contractSuite(kit: Kit): void {
  const { withLoop } = kit;

  describe('the contract', () => {
    it('TERM-1 the loop, listener, channel, pool and lease have the members of @iolease/interfaces', async () => {
      await withLoop(undefined, async (loop) => {
        for (const m of ['listen', 'connect', 'stats', 'onLeak', 'close'])
          expect(typeof Reflect.get(loop, m)).toBe('function');
        expect(typeof loop.backend).toBe('string');
        expect(loop.closed).toBe(false);
        for (const m of ['sizeClassFor', 'stats', 'onPressureChange'])
          expect(typeof Reflect.get(loop.pool, m)).toBe('function');
        const got = deferred<Lease>();
        const listener = await watchdog(
          loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => got.resolve(lease) })),
          10_000,
          'LIFE-1 a listen on a free port',
        );
        expect(typeof listener.close).toBe('function');
        expect(listener.address.port).toBeGreaterThan(0);
        const { channel, peer } = await connectToNetPeer(loop, {});
        for (const m of ['setHandler', 'setAutoRead', 'read', 'write', 'shutdown', 'close', 'reset', 'setWaterMarks']) {
          expect(typeof Reflect.get(channel, m)).toBe('function');
        }
        expect(typeof channel.id).toBe('number');
        const socket = await netConnect(listener.address.port);
        socket.write('x');
        const lease = await watchdog(got.promise, 10_000, 'TERM-1');
        expect(lease.bytes).toBeInstanceOf(Uint8Array);
        expect(typeof lease.release).toBe('function');
        lease.release();
        socket.destroy();
        peer.destroy();
      });
    });

    it('TERM-2 CONF-2 the declared capabilities are known names with boolean values', () => {
      for (const [name, value] of Object.entries(kit.backend.capabilities ?? {})) {
        expect(CAPABILITIES).toContain(name);
        expect(typeof value).toBe('boolean');
      }
    });

    it('LOOP-1 every callback runs on the thread that created the loop', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 2 }] }, async (loop) => {
        const threads = new Set<number>();
        const seen = () => threads.add(threadId);
        const closed = deferred();
        loop.pool.onPressureChange(seen);
        const listener = await loop.listen({ port: 0 }, () => {
          seen();
          return {
            onRead: (channel, lease) => {
              seen();
              channel.write(lease.bytes, () => {
                seen();
                lease.release();
              });
            },
            onEnd: (channel) => {
              seen();
              channel.shutdown();
              channel.write(Buffer.alloc(0), () => channel.close());
            },
            onClose: () => {
              seen();
              closed.resolve();
            },
          };
        });
        const socket = await netConnect(listener.address.port);
        const echoed = readAll(socket);
        socket.end(randomBytes(20_000));
        await echoed;
        await watchdog(closed.promise, 10_000, 'LOOP-1');
        expect(threads).toEqual(new Set([threadId]));
      });
    });

    it('LOOP-2 no callback runs inside the API call that causes it', async () => {
      await withLoop(undefined, async (loop) => {
        let inside = '';
        const events: string[] = [];
        const { channel, peer } = await connectToNetPeer(loop, {
          onWritabilityChanged: () => events.push(`writability${inside}`),
          onClose: () => events.push(`close${inside}`),
        });
        channel.setWaterMarks({ low: 0, high: 1 });
        inside = ' inside write()';
        channel.write(Buffer.from('abc'), () => events.push(`completion${inside}`));
        channel.write(Buffer.alloc(0), () => events.push(`empty completion${inside}`));
        inside = '';
        await until(
          () => events.includes('completion'),
          5000,
          'LOOP-2 the completion',
          () => events,
        );
        inside = ' inside close()';
        channel.close();
        channel.write(Buffer.from('late'), () => events.push(`late completion${inside}`));
        inside = '';
        await until(
          () => events.includes('close') && events.includes('late completion'),
          5000,
          'LOOP-2 close',
          () => events,
        );
        expect(events.filter((e) => e.includes('inside'))).toEqual([]);
        peer.destroy();
      });
    });

    it('LOOP-2 READ-2 nor inside the calls that let held data or the end through: setAutoRead, read, setHandler, shutdown', async () => {
      await withLoop(undefined, async (loop) => {
        let inside = '';
        const events: string[] = [];
        const leases: Lease[] = [];
        const handler: ChannelHandler = {
          onRead: (_c, lease) => {
            events.push(`read${inside}`);
            leases.push(lease);
          },
          onEnd: () => events.push(`end${inside}`),
          onClose: () => events.push(`close${inside}`),
        };
        const { channel, peer } = await connectToNetPeer(loop, handler, { autoRead: false });
        // Data and the end wait in the channel or the kernel while nothing is asked for.
        peer.end(randomBytes(64 * 1024));
        await sleep(50);
        const call = (name: string, f: () => void) => {
          inside = ` inside ${name}`;
          f();
          inside = '';
        };
        call('read()', () => channel.read());
        await until(
          () => events.includes('read'),
          5000,
          'LOOP-2 the read',
          () => events,
        );
        call('setHandler()', () => channel.setHandler({ ...handler }));
        call('setAutoRead(true)', () => channel.setAutoRead(true));
        await until(
          () => events.includes('end'),
          5000,
          'LOOP-2 the end',
          () => events,
        );
        // Input ended; ending output too closes the channel (LIFE-5), but not inside the call.
        call('shutdown()', () => channel.shutdown());
        await until(
          () => events.includes('close'),
          5000,
          'LOOP-2 the close',
          () => events,
        );
        expect(events.filter((e) => e.includes('inside'))).toEqual([]);
        for (const lease of leases) lease.release();
        peer.destroy();
      });
    });

    it('READ-4 read() while auto-read is on asks for nothing: after setAutoRead(false), nothing is delivered until the next read()', async () => {
      await withLoop(undefined, async (loop) => {
        const leases: Lease[] = [];
        const { channel, peer } = await connectToNetPeer(loop, { onRead: (_c, lease) => leases.push(lease) });
        channel.read(); // auto-read is on: no request is left behind
        channel.setAutoRead(false);
        await sleep(20);
        peer.write(randomBytes(32 * 1024));
        await sleep(100);
        expect(leases).toHaveLength(0);
        channel.read();
        await until(() => leases.length === 1, 5000, 'READ-4 the read asked for');
        await sleep(50);
        expect(leases).toHaveLength(1);
        for (const lease of leases) lease.release();
        channel.close();
        peer.destroy();
      });
    });

    it('LOOP-4 DIAG-4 stats() reports completions, batches, submissions and every counter of DIAG-4', async () => {
      await withLoop(undefined, async (loop) => {
        const before = loop.stats();
        const listener = await loop.listen({ port: 0 }, () => echoHandler());
        const socket = await netConnect(listener.address.port);
        const echoed = readAll(socket);
        socket.end(randomBytes(100_000));
        await echoed;
        const after = loop.stats();
        for (const key of [
          'completions',
          'completionBatches',
          'submissions',
          'submitCalls',
          'leasesDelivered',
          'writesCompleted',
          'bytesWritten',
          'zeroCopyCopied',
          'leaksDetected',
        ] as const) {
          expect(Number.isSafeInteger(after[key]), key).toBe(true);
          expect(after[key], key).toBeGreaterThanOrEqual(before[key]);
        }
        // A backend without a kernel queue counts the equivalents DIAG-4 names; zeros fail here.
        expect(after.completions, 'completions: reads and write completions handled').toBeGreaterThan(
          before.completions,
        );
        expect(after.completionBatches, 'completionBatches: crossings into JavaScript').toBeGreaterThan(0);
        expect(after.completionBatches, 'completionBatches <= completions').toBeLessThanOrEqual(after.completions);
        expect(after.submissions, 'submissions: operations started (writes issued, reads armed)').toBeGreaterThan(0);
        expect(after.submitCalls, 'submitCalls: calls that started them').toBeGreaterThan(0);
        expect(after.bytesWritten - before.bytesWritten).toBe(100_000);
        expect(Number.isSafeInteger(after.pool.leasesOut)).toBe(true);
        expect(Number.isSafeInteger(after.pool.pressureEvents)).toBe(true);
      });
    });

    it("POOL-1 POOL-6 LEASE-11 each lease views its buffer's own memory, the same few buffers as channels come and go", async () => {
      const classes = [
        { size: 512, count: 16 },
        { size: 16384, count: 8 },
      ];
      await withLoop({ sizeClasses: classes }, async (loop) => {
        const capacity = loop.stats().pool.capacityBytes;
        // Per class, every distinct ArrayBuffer leases were seen in: pool memory means at most
        // `count` of them, each no larger than a buffer of the class. With incremental buffers,
        // each lease's ArrayBuffer is its own bytes exactly, however many there are.
        const seen = new Map<number, Set<ArrayBufferLike>>(classes.map((c) => [c.size, new Set()]));
        let oversized = 0;
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            seen.get(lease.sizeClass)?.add(lease.bytes.buffer);
            const limit = kit.backend.incrementalBuffers ? lease.length : lease.capacity;
            if (lease.bytes.buffer.byteLength > limit) oversized++;
            channel.write(lease.bytes, () => lease.release());
          },
          onEnd: (channel) => channel.shutdown(),
        }));
        const sockets = await Promise.all(Array.from({ length: 100 }, () => netConnect(listener.address.port)));
        const echoes = sockets.map((s) => readAll(s));
        for (const s of sockets) s.end(randomBytes(3000));
        await watchdog(Promise.all(echoes), 20_000, 'POOL-1 POOL-6', () => poolState(loop));
        expect(oversized).toBe(0);
        if (!kit.backend.incrementalBuffers) {
          for (const c of classes) expect((seen.get(c.size) as Set<ArrayBufferLike>).size).toBeLessThanOrEqual(c.count);
        }
        expect([...seen.values()].reduce((n, set) => n + set.size, 0)).toBeGreaterThan(0);
        expect(loop.stats().pool.capacityBytes).toBe(capacity);
      });
    });

    it('LOOP-9 CONF-2 loop.capabilities reports the declared features; a request for a missing one rejects with FEATURE_UNSUPPORTED', async () => {
      await withLoop(undefined, async (loop) => {
        for (const c of CAPABILITIES) expect(loop.capabilities[c], c).toBe(kit.has(c));
        const unsupported = expect.objectContaining({ code: 'ERR_IOLEASE_FEATURE_UNSUPPORTED' });
        if (!loop.capabilities.reusePort) {
          await expect(loop.listen({ port: 0, reusePort: true }, () => ({}))).rejects.toEqual(unsupported);
        }
        if (!loop.capabilities.ipv6) {
          await expect(loop.listen({ host: '::1', port: 0 }, () => ({}))).rejects.toEqual(unsupported);
          await expect(loop.connect({ host: '::1', port: 9 })).rejects.toEqual(unsupported);
        }
        if (!loop.capabilities.unixSockets) {
          await expect(loop.listen({ path: '/tmp/iolease-unsupported.sock' }, () => ({}))).rejects.toEqual(unsupported);
          await expect(loop.connect({ path: '/tmp/iolease-unsupported.sock' })).rejects.toEqual(unsupported);
        }
        expect(loop.stats().listenersOpen).toBe(0);
        expect(loop.stats().channelsOpen).toBe(0);
      });
    });

    it('POOL-5 READ-2 every buffer is accounted for at every callback: available + leased + returning + quarantined = count', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 16 }] }, async (loop) => {
        const broken: unknown[] = [];
        let maxHeld = 0;
        const check = (where: string) => {
          for (const c of loop.pool.stats().classes) {
            maxHeld = Math.max(maxHeld, c.held);
            if (c.available + c.leased + c.returning + c.quarantined !== c.count || c.held > c.leased || c.held < 0) {
              broken.push({ where, ...c });
            }
          }
        };
        const received: Buffer[] = [];
        let reads = 0;
        const { channel, peer } = await connectToNetPeer(loop, {
          onRead(ch, lease) {
            check('onRead');
            received.push(Buffer.from(lease.bytes));
            lease.release();
            check('after release');
            // Pause now and then with more data on its way: what the kernel already put in pool
            // memory is held (READ-2) and must be counted.
            if (++reads % 5 === 0) {
              ch.setAutoRead(false);
              check('paused');
              setTimeout(() => {
                check('resuming');
                ch.setAutoRead(true);
              }, 5);
            }
          },
        });
        const payload = randomBytes(120_000);
        for (let off = 0; off < payload.length; off += 700) peer.write(payload.subarray(off, off + 700));
        await until(
          () => received.reduce((n, b) => n + b.length, 0) === payload.length,
          10_000,
          'POOL-5 all data',
          () => ({ stats: loop.pool.stats(), broken }),
        );
        await sleep(20);
        check('idle');
        expect(broken).toEqual([]);
        expect(sha256(received)).toBe(sha256(payload));
        expect(loop.pool.stats().classes[0]).toMatchObject({ held: 0, leased: 0, quarantined: 0 });
        expect(maxHeld).toBeGreaterThanOrEqual(0);
        channel.close();
        peer.destroy();
      });
    });

    it('POOL-7 the pool exposes its size classes and the mapping from a preferred size', async () => {
      const classes = [
        { size: 256, count: 4 },
        { size: 4096, count: 2 },
      ];
      await withLoop({ sizeClasses: classes }, async (loop) => {
        expect(loop.pool.sizeClasses.map((c) => ({ size: c.size, count: c.count }))).toEqual(classes);
        expect([1, 256, 257, 4096, 1 << 20].map((n) => loop.pool.sizeClassFor(n))).toEqual([
          256, 256, 4096, 4096, 4096,
        ]);
      });
    });

    it('LEASE-8 LIFE-9 leases hold at least one byte; the end is onEnd; state and ended flags follow the lifecycle', async () => {
      await withLoop(undefined, async (loop) => {
        const lengths: number[] = [];
        const ended = deferred();
        const { channel, peer } = await connectToNetPeer(loop, {
          onRead(_c, lease) {
            lengths.push(lease.length);
            lease.release();
          },
          onEnd: () => ended.resolve(),
        });
        expect(channel).toMatchObject({ state: 'open', inputEnded: false, outputEnded: false });
        for (let i = 0; i < 20; i++) {
          peer.write(randomBytes(1 + i * 50));
          await sleep(1);
        }
        peer.end();
        await watchdog(ended.promise, 10_000, 'LEASE-8 LIFE-9');
        expect(lengths.length).toBeGreaterThan(0);
        expect(Math.min(...lengths)).toBeGreaterThanOrEqual(1);
        expect(channel).toMatchObject({ state: 'open', inputEnded: true, outputEnded: false });
        channel.shutdown();
        expect(channel.outputEnded).toBe(true);
        channel.close();
        expect(channel.state).toBe('closed');
      });
    });

    it('ERR-6 operations a state forbids throw ERR_IOLEASE_INVALID_STATE', async () => {
      await withLoop(undefined, async (loop) => {
        const handler = collectingHandler();
        const { channel, peer } = await connectToNetPeer(loop, handler);
        channel.close();
        await watchdog(handler.closed.promise, 10_000, 'ERR-6');
        expect(() => channel.setHandler({})).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_STATE' }));
        peer.destroy();
      });
    });

    it('WRITE-2 written memory is never modified; memory the application changes after write() corrupts no other write', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const received = readAll(peer);
        const kept = randomBytes(200_000);
        const copy = Buffer.from(kept);
        const scribbled = randomBytes(200_000);
        const done = deferred();
        channel.write(kept);
        channel.write(scribbled);
        scribbled.fill(0x55); // the application breaks WRITE-2 for this write only
        channel.write(Buffer.from('tail'), () => done.resolve());
        await watchdog(done.promise, 10_000, 'WRITE-2');
        channel.shutdown();
        const bytes = await received;
        expect(kept.equals(copy)).toBe(true);
        expect(sha256(bytes.subarray(0, kept.length))).toBe(sha256(copy));
        expect(bytes.subarray(bytes.length - 4).toString()).toBe('tail');
        expect(bytes.length).toBe(kept.length + scribbled.length + 4);
        channel.close();
      });
    });

    it('READ-6 onEnd waits for every byte and for read interest, as data does', async () => {
      await withLoop(undefined, async (loop) => {
        const chunks: Buffer[] = [];
        let endedAt = -1;
        const { channel, peer } = await connectToNetPeer(
          loop,
          {
            onRead(_c, lease) {
              chunks.push(Buffer.from(lease.bytes));
              lease.release();
            },
            onEnd: () => {
              endedAt = chunks.length;
            },
          },
          { autoRead: false },
        );
        const payload = randomBytes(50_000);
        peer.end(payload);
        await sleep(100);
        expect(endedAt).toBe(-1); // auto-read off, no read(): neither data nor the end
        channel.read();
        await until(() => chunks.length > 0, 5000, 'one read');
        await sleep(50);
        expect(endedAt).toBe(-1);
        channel.setAutoRead(true);
        await until(() => endedAt >= 0, 5000, 'onEnd');
        expect(endedAt).toBe(chunks.length);
        expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
        channel.close();
      });
    });

    it('PRESS-7 a read never lands in a class smaller than the sizer asked for, even under pressure', async () => {
      const classes = [
        { size: 512, count: 64 },
        { size: 4096, count: 2 },
      ];
      await withLoop({ sizeClasses: classes }, async (loop) => {
        const held: Lease[] = [];
        let smallest = Number.POSITIVE_INFINITY;
        let total = 0;
        const pressure: PoolPressureEvent[] = [];
        loop.pool.onPressureChange((e) => pressure.push(e));
        const { channel, peer } = await connectToNetPeer(
          loop,
          {
            onRead(_c, lease) {
              smallest = Math.min(smallest, lease.sizeClass);
              total += lease.length;
              held.push(lease);
            },
          },
          { sizer: () => new FixedRecvByteBufferSizer(3000) },
        );
        peer.write(randomBytes(200_000));
        await until(() => pressure.some((e) => e.sizeClass === 4096 && e.underPressure), 5000, 'pressure on 4096');
        await sleep(50);
        for (let i = 0; total < 200_000 && i < 500; i++) {
          for (const lease of held.splice(0)) lease.release();
          await sleep(2);
        }
        expect(total).toBe(200_000);
        expect(smallest).toBe(4096);
        for (const lease of held.splice(0)) lease.release();
        channel.close();
        peer.destroy();
      });
    });

    it.skipIf(!kit.has('zeroCopySend'))(
      'WRITE-8 leases echoed with zero copy: every byte back in order, each write completes once with its whole length, copies counted',
      async () => {
        await withLoop(undefined, async (loop) => {
          // Leases are the memory a backend can send with zero copy: the loop owns it. Echo 8 MiB
          // through them; on loopback the kernel copies every zero-copy send and says so.
          const results: [string | undefined, number, number][] = [];
          const { channel, peer } = await connectToNetPeer(loop, {
            onRead: (c, lease) => {
              const length = lease.length;
              c.write(lease.bytes, (error, written) => {
                results.push([error?.code, written, length]);
                lease.release();
              });
            },
            onEnd: (c) => c.shutdown(),
          });
          const received = readAll(peer);
          const payload = randomBytes(8 * 1024 * 1024);
          peer.end(payload);
          const echoed = await watchdog(received, 20_000, 'WRITE-8 echo', () => ({
            completions: results.length,
            pending: channel.pendingWriteBytes,
            pool: poolState(loop),
          }));
          expect(sha256(echoed)).toBe(sha256(payload));
          await until(() => channel.pendingWriteBytes === 0, 5000, 'WRITE-8 the last completions');
          expect(results.every(([code, written, length]) => code === undefined && written === length)).toBe(true);
          expect(results.reduce((n, [, written]) => n + written, 0)).toBe(payload.length);
          const stats = loop.stats();
          expect(stats.bytesWritten).toBe(payload.length);
          expect(stats.zeroCopyCopied, 'WRITE-8 loopback copies every zero-copy send').toBeGreaterThan(0);
          channel.close();
        });
      },
    );

    it('DIAG-1 DIAG-2 a lease dropped without release is reported once, with its channel, class and read site; released ones never', async () => {
      await withLoop(
        { diagnostics: { leakDetection: 'all' }, sizeClasses: [{ size: 512, count: 8 }] },
        async (loop) => {
          const reports: LeakReport[] = [];
          loop.onLeak((r) => reports.push(r));
          const ids: number[] = [];
          let channelId = -1;
          const { channel, peer } = await connectToNetPeer(loop, {
            onRead(c, lease) {
              ids.push(lease.id);
              channelId = c.id;
              if (ids.length > 1) lease.release(); // the first lease is dropped, the rest released
            },
          });
          for (const word of ['leak me', 'keep', 'these', 'tidy']) {
            peer.write(word);
            await sleep(10);
          }
          await until(() => ids.length >= 2, 5000, 'leases');
          const { runInNewContext } = await import('node:vm');
          const { setFlagsFromString } = await import('node:v8');
          setFlagsFromString('--expose-gc');
          const gc = runInNewContext('gc') as () => void;
          for (let i = 0; i < 50 && reports.length === 0; i++) {
            gc();
            await sleep(20);
          }
          for (let i = 0; i < 5; i++) {
            gc();
            await sleep(10);
          }
          expect(reports).toHaveLength(1);
          expect(reports[0]).toMatchObject({ leaseId: ids[0], channelId, sizeClass: 512 });
          expect(reports[0]?.acquisitionSite).toEqual(expect.any(String));
          expect(loop.stats().leaksDetected).toBe(1);
          // Its buffer is not reused: a view of it may still be alive somewhere (POOL-5: quarantined).
          const stats = loop.stats().pool;
          expect(stats.leasesOut).toBe(0);
          expect(stats.classes[0]).toMatchObject({ quarantined: 1, leased: 0 });
          const c = stats.classes[0] as SizeClassStatistics;
          expect(c.available + c.leased + c.returning + c.quarantined).toBe(c.count);
          channel.close();
          peer.destroy();
        },
      );
    });
  });
}
