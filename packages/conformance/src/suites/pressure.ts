import type { Lease, PoolPressureEvent } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { deferred, netConnect, poolState, randomBytes, sha256, sleep, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend. */
export function pressureSuite(kit: Kit): void {
  const { withLoop, backend } = kit;

  describe('pool pressure', () => {
    it('PRESS-9 a channel at its maxLeases stops receiving: one that never releases cannot starve the others', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 16 }] }, async (loop) => {
        const hoarded: Lease[] = [];
        let served = '';
        let firstId = -1;
        const listener = await loop.listen({ port: 0, maxLeases: 2 }, (channel) => {
          if (firstId === -1) firstId = channel.id;
          return {
            onRead(_c, lease) {
              // The first connection keeps everything it gets; the second echoes and releases.
              if (channel.id === firstId) hoarded.push(lease);
              else {
                served += Buffer.from(lease.bytes).toString();
                lease.release();
              }
            },
          };
        });
        const hoarder = await netConnect(listener.address.port);
        hoarder.write(randomBytes(64 * 1024));
        await until(() => hoarded.length > 0, 5000, 'PRESS-9 first lease');
        await sleep(100);
        const held = loop.pool.stats().classes[0] as { leased: number };
        expect(held.leased).toBe(2);
        expect(hoarded).toHaveLength(2);
        const other = await netConnect(listener.address.port);
        other.write('still served');
        await until(
          () => served === 'still served',
          5000,
          'PRESS-9 the other channel',
          () => ({
            held: hoarded.length,
            pool: loop.pool.stats(),
          }),
        );
        // Releasing lets the hoarder receive again, up to its limit each time.
        const before = hoarded.length;
        for (const l of hoarded.splice(0)) l.release();
        await until(() => hoarded.length > 0, 5000, 'PRESS-9 resumed');
        expect(before).toBeGreaterThan(0);
        hoarder.destroy();
        other.destroy();
      });
    });

    it('PRESS-1 PRESS-2 PRESS-3 PRESS-6 50 clients through 4 × 512 B buffers: every byte arrives, in order, both ways', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 4 }] }, async (loop) => {
        const received = new Map<number, Buffer[]>();
        const held = new Map<number, Lease[]>();
        const ended = new Set<number>();
        const errors: unknown[] = [];
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            const parts = received.get(channel.id) ?? [];
            received.set(channel.id, parts);
            parts.push(Buffer.from(lease.bytes));
            // Hold leases a random while, then echo the oldest: the pool runs dry constantly, and
            // the echo keeps the order the bytes came in.
            const q = held.get(channel.id) ?? [];
            held.set(channel.id, q);
            q.push(lease);
            setTimeout(
              () => {
                const oldest = q.shift() as Lease;
                channel.write(oldest.bytes, (error) => {
                  if (error !== undefined) errors.push(error);
                  oldest.release();
                });
                if (ended.has(channel.id) && q.length === 0) channel.shutdown();
              },
              Math.floor(Math.random() * 4),
            );
          },
          onEnd(channel) {
            // Echo what is still held first: shut down after the last held lease is written.
            ended.add(channel.id);
            if ((held.get(channel.id) ?? []).length === 0) channel.shutdown();
          },
          onError: (_c, e) => errors.push(e),
        }));

        let streamsEnded = 0;
        const all = Promise.all(
          Array.from({ length: 50 }, async () => {
            const payload = randomBytes(8192 + Math.floor(Math.random() * 24_000));
            const socket = await netConnect(listener.address.port);
            const echoed: Buffer[] = [];
            const done = new Promise<Buffer>((resolve, reject) => {
              socket.on('data', (d: Buffer) => echoed.push(d));
              socket.once('end', () => {
                streamsEnded++;
                resolve(Buffer.concat(echoed));
              });
              socket.once('error', reject);
            });
            // Several writes, so the FIN often arrives while the server's pool is empty.
            for (let off = 0; off < payload.length; off += 4000) socket.write(payload.subarray(off, off + 4000));
            socket.end();
            return { payload, echoed: await done, socket };
          }),
        );
        // A waiter never woken stalls the streams behind it: say which rule, with the pool.
        const clients = await watchdog(all, 20_000, 'PRESS-3 every stream echoed and ended', () => ({
          streamsEnded,
          pool: poolState(loop),
        }));
        const serverHashes = new Set([...received.values()].map((parts) => sha256(parts)));
        for (const { payload } of clients) expect(serverHashes.has(sha256(payload))).toBe(true);
        for (const { payload, echoed } of clients) expect(sha256(echoed)).toBe(sha256(payload));
        expect(errors).toEqual([]);
        const stats = loop.pool.stats();
        expect(stats.pressureEvents).toBeGreaterThan(0);
        await until(() => loop.pool.stats().leasesOut === 0, 5000, 'all leases back');
        for (const c of clients) c.socket.destroy();
      });
    });

    it('PRESS-2 an end of stream reported while the ring is empty is neither lost nor early', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 2 }] }, async (loop) => {
        const held: Lease[] = [];
        const chunks: Buffer[] = [];
        const ended = deferred<void>();
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(_c, lease) {
            chunks.push(Buffer.from(lease.bytes));
            held.push(lease);
          },
          onEnd: () => ended.resolve(),
        }));
        const socket = await netConnect(listener.address.port);
        const payload = randomBytes(5000);
        socket.end(payload);
        // Hold both buffers until the peer has long finished: the kernel sees the FIN with an
        // empty ring. Then hand buffers back one at a time.
        await until(() => held.length === 2, 5000, 'pool exhausted');
        await sleep(50);
        expect(loop.pool.underPressure).toBe(true);
        let endSeen = false;
        void ended.promise.then(() => {
          endSeen = true;
        });
        while (!endSeen) {
          expect(Buffer.concat(chunks).length <= payload.length).toBe(true);
          const lease = held.shift();
          if (lease !== undefined) lease.release();
          await sleep(5);
        }
        expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
        for (const l of held) l.release();
      });
    });

    it('PRESS-4 PRESS-5 pressure transitions are notified once each, in order, and counted per class', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 2 }] }, async (loop) => {
        const events: PoolPressureEvent[] = [];
        const unsubscribe = loop.pool.onPressureChange((e) => events.push(e));
        const held: Lease[] = [];
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => held.push(lease) }));
        const socket = await netConnect(listener.address.port);
        socket.write(randomBytes(2000));
        await until(() => loop.pool.underPressure, 5000, 'pressure');
        await sleep(10);
        expect(events).toEqual([{ sizeClass: 512, underPressure: true }]);
        expect(loop.pool.stats().classes[0]).toMatchObject({ underPressure: true, pressureEvents: 1 });
        (held.shift() as Lease).release();
        await sleep(10);
        expect(events[1]).toEqual({ sizeClass: 512, underPressure: false });
        unsubscribe();
        for (const l of held) l.release();
        await until(() => held.length === 0 || loop.pool.stats().leasesOut <= held.length, 1000);
        socket.destroy();
      });
    });

    it('PRESS-4 LEASE-6 after the loop closed, releases count but notify nothing: the pressure state stays as it was', async () => {
      const loop = await backend.createLoop({ sizeClasses: [{ size: 512, count: 2 }] });
      const events: PoolPressureEvent[] = [];
      loop.pool.onPressureChange((e) => events.push(e));
      const held: Lease[] = [];
      const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => held.push(lease) }));
      const socket = await netConnect(listener.address.port);
      socket.on('error', () => {});
      socket.write(randomBytes(2000));
      await until(() => loop.pool.underPressure, 5000, 'PRESS-4 pressure');
      socket.destroy();
      await loop.close();
      expect(events).toEqual([{ sizeClass: 512, underPressure: true }]);
      for (const l of held) l.release();
      await sleep(20);
      expect(events, 'PRESS-4 no transition notified after close').toHaveLength(1);
      expect(loop.pool.underPressure).toBe(true);
      expect(loop.pool.stats().classes[0]).toMatchObject({ available: 2, leased: 0, pressureEvents: 1 });
    });
  });
}
