import type { Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { deferred, netConnect, poolState, readAll, strayBytes, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend. */
export function leaseSuite(kit: Kit): void {
  const { withLoop } = kit;

  const small = { sizeClasses: [{ size: 512, count: 8 }] };

  describe('leases', () => {
    it('LEASE-1 LEASE-9 POOL-5 a lease is a view of pool memory, and release returns the buffer', async () => {
      await withLoop(small, async (loop) => {
        const got = deferred<Lease>();
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => got.resolve(lease) }));
        const socket = await netConnect(listener.address.port);
        socket.write('hello lease');
        const lease = await watchdog(got.promise, 10_000, 'LEASE-1 LEASE-9 POOL-5');
        expect(Buffer.from(lease.bytes).toString()).toBe('hello lease');
        expect(lease.length).toBe(11);
        expect(lease.capacity).toBe(512);
        expect(lease.sizeClass).toBe(512);
        expect(lease.released).toBe(false);
        // LEASE-11: the ArrayBuffer behind the bytes is this lease's buffer and nothing more.
        expect(lease.bytes.buffer.byteLength).toBeLessThanOrEqual(512);
        expect(strayBytes(lease)).toBe(0);
        let stats = loop.pool.stats();
        expect(stats.leasesOut).toBe(1);
        expect(stats.bytesLeased).toBe(11);
        expect(stats.classes[0]).toMatchObject({ size: 512, count: 8, leased: 1, available: 7 });
        lease.release();
        expect(lease.released).toBe(true);
        stats = loop.pool.stats();
        expect(stats.leasesOut).toBe(0);
        // Back in the pool: free at once, or in a return batch on its way (POOL-5).
        expect(stats.classes[0]).toMatchObject({ leased: 0, quarantined: 0 });
        const c = stats.classes[0] as { available: number; returning: number };
        expect(c.available + c.returning).toBe(8);
        socket.destroy();
      });
    });

    it("LEASE-11 a lease's ArrayBuffer shows no bytes of the connection that used the buffer before", async () => {
      // One buffer: the second connection's short read lands where the first one's long read was.
      await withLoop({ sizeClasses: [{ size: 4096, count: 1 }] }, async (loop) => {
        const seen: { connection: number; stray: number; foreign: number; length: number }[] = [];
        let connections = 0;
        const listener = await loop.listen({ port: 0 }, () => {
          const connection = connections++;
          return {
            onRead(_channel, lease) {
              // What `Buffer.from(lease.bytes.buffer)` would show: the first connection's bytes
              // are 0x41, the second's 0x62.
              const whole = new Uint8Array(lease.bytes.buffer);
              const foreign = whole.reduce((n, b) => n + (b === (connection === 0 ? 0x62 : 0x41) ? 1 : 0), 0);
              seen.push({ connection, stray: strayBytes(lease), foreign, length: lease.length });
              lease.release();
            },
          };
        });
        const first = await netConnect(listener.address.port);
        first.write(Buffer.alloc(4000, 0x41));
        const received = (n: number) => seen.filter((r) => r.connection === n).reduce((t, r) => t + r.length, 0);
        await until(
          () => received(0) === 4000,
          10_000,
          'LEASE-11',
          () => ({ seen, pool: poolState(loop) }),
        );
        const second = await netConnect(listener.address.port);
        second.write(Buffer.alloc(10, 0x62));
        await until(
          () => received(1) === 10,
          10_000,
          'LEASE-11',
          () => ({ seen, pool: poolState(loop) }),
        );
        expect(seen.filter((r) => r.stray > 0 || r.foreign > 0)).toEqual([]);
        first.destroy();
        second.destroy();
      });
    });

    it("LEASE-11 an application may write into its lease's bytes, and send them from there", async () => {
      await withLoop(small, async (loop) => {
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            const bytes = lease.bytes;
            for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] as number) ^ 0x20;
            channel.write(bytes, () => lease.release());
          },
          onEnd: (channel) => channel.shutdown(),
        }));
        const socket = await netConnect(listener.address.port);
        const echo = readAll(socket);
        socket.end('HelloLease');
        expect((await watchdog(echo, 10_000, 'LEASE-11')).toString()).toBe('hELLOlEASE');
        expect(loop.pool.stats().leasesOut).toBe(0);
      });
    });

    it('LEASE-11 a lease whose ArrayBuffer the application detached: the buffer keeps serving', async () => {
      // One buffer, detached on every read where the runtime allows it (ArrayBuffer.transfer).
      await withLoop({ sizeClasses: [{ size: 512, count: 1 }] }, async (loop) => {
        let detached = 0;
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            const copy = Buffer.from(lease.bytes);
            try {
              (lease.bytes.buffer as ArrayBuffer).transfer();
              detached++;
            } catch {
              // Memory marked untransferable: the runtime refuses, which is as good.
            }
            lease.release();
            channel.write(copy);
          },
          onEnd: (channel) => channel.shutdown(),
        }));
        const socket = await netConnect(listener.address.port);
        const chunks: Buffer[] = [];
        socket.on('data', (d: Buffer) => chunks.push(d));
        for (const word of ['one', 'two', 'three']) {
          const before = Buffer.concat(chunks).length;
          socket.write(word);
          await until(
            () => Buffer.concat(chunks).length === before + word.length,
            10_000,
            'LEASE-11',
            () => ({
              detached,
              pool: poolState(loop),
            }),
          );
        }
        expect(Buffer.concat(chunks).toString()).toBe('onetwothree');
        expect(loop.pool.stats().leasesOut).toBe(0);
        socket.destroy();
      });
    });

    it("LEASE-3 LEASE-4 a second release throws ERR_IOLEASE_LEASE_RELEASED with the lease's leaseId; bytes are gone", async () => {
      await withLoop(small, async (loop) => {
        const got = deferred<Lease>();
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => got.resolve(lease) }));
        const socket = await netConnect(listener.address.port);
        socket.write('x');
        const lease = await watchdog(got.promise, 10_000, 'LEASE-3 LEASE-4');
        lease.release();
        const before = loop.pool.stats();
        let caught: { code?: string; leaseId?: number } = {};
        try {
          lease.release();
        } catch (e) {
          caught = e as typeof caught;
        }
        expect(caught.code).toBe('ERR_IOLEASE_LEASE_RELEASED');
        // The lease is named by a property, not by message text (ERR-5: messages may change).
        expect(caught.leaseId).toBe(lease.id);
        expect(loop.pool.stats()).toEqual(before);
        expect(() => lease.bytes).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_LEASE_RELEASED' }));
        expect([lease.length, lease.capacity, lease.released]).toEqual([1, 512, true]);
        socket.destroy();
      });
    });

    it('LEASE-2 LEASE-7 a held lease is never overwritten while later reads arrive; release in any order', async () => {
      await withLoop(small, async (loop) => {
        const leases: Lease[] = [];
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => leases.push(lease) }));
        const socket = await netConnect(listener.address.port);
        // TCP keeps no message boundaries, and a backend with incremental buffers splits a
        // message where a buffer ends: the held leases together must read as what was sent.
        const received = () => leases.reduce((n, l) => n + l.length, 0);
        let sent = '';
        for (let i = 0; i < 6; i++) {
          const text = `message-${i}-${'x'.repeat(i * 50)}`;
          sent += text;
          socket.write(text);
          await until(() => received() === sent.length, 5000, `read ${i}`);
        }
        expect(leases.length).toBeGreaterThanOrEqual(6);
        expect(leases.map((l) => Buffer.from(l.bytes).toString()).join('')).toBe(sent);
        // Out of order: by index mod 3, the later first.
        const order = [...leases.keys()].sort((a, b) => (a % 3) - (b % 3) || b - a);
        for (const i of order) (leases[i] as Lease).release();
        expect(loop.pool.stats().leasesOut).toBe(0);
        socket.destroy();
      });
    });

    it('LEASE-5 a lease stays valid after its channel closes', async () => {
      await withLoop(small, async (loop) => {
        const got = deferred<Lease>();
        const closed = deferred();
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead: (channel, lease) => {
            got.resolve(lease);
            channel.close();
          },
          onClose: () => closed.resolve(),
        }));
        const socket = await netConnect(listener.address.port);
        socket.write('outlives the channel');
        const lease = await watchdog(got.promise, 10_000, 'LEASE-5');
        await watchdog(closed.promise, 10_000, 'LEASE-5');
        expect(Buffer.from(lease.bytes).toString()).toBe('outlives the channel');
        expect(loop.pool.stats().leasesOut).toBe(1);
        lease.release();
        expect(loop.pool.stats().leasesOut).toBe(0);
        socket.destroy();
      });
    });

    it('LEASE-6 a lease stays readable after its loop closes, and releases once', async () => {
      let lease!: Lease;
      await withLoop(small, async (loop) => {
        const got = deferred<Lease>();
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, l) => got.resolve(l) }));
        const socket = await netConnect(listener.address.port);
        socket.write('after the loop');
        lease = await watchdog(got.promise, 10_000, 'LEASE-6');
        socket.destroy();
      });
      expect(Buffer.from(lease.bytes).toString()).toBe('after the loop');
      lease.release();
      expect(() => lease.release()).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_LEASE_RELEASED' }));
    });

    it('DIAG-3 poison mode overwrites a released buffer, so a stale view shows 0xDB', async () => {
      await withLoop({ ...small, diagnostics: { poison: true } }, async (loop) => {
        const got = deferred<Lease>();
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, l) => got.resolve(l) }));
        const socket = await netConnect(listener.address.port);
        socket.write('secret');
        const lease = await watchdog(got.promise, 10_000, 'DIAG-3');
        const stale = lease.bytes;
        lease.release();
        expect([...stale]).toEqual(new Array(6).fill(0xdb));
        socket.destroy();
      });
    });

    it('POOL-5 LEASE-6 data that arrives for a channel being closed goes back to the pool: every buffer is available again', async () => {
      await withLoop({ sizeClasses: [{ size: 1024, count: 8 }] }, async (loop) => {
        const closed = deferred();
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            lease.release();
            channel.close();
          },
          onClose: () => closed.resolve(),
        }));
        const socket = await netConnect(listener.address.port);
        socket.on('error', () => {});
        for (let i = 0; i < 20; i++) socket.write(Buffer.alloc(4000, i));
        await watchdog(closed.promise, 10_000, 'LIFE-7');
        await until(
          () => {
            const stats = loop.pool.stats();
            return stats.leasesOut === 0 && stats.classes.every((c) => c.available === c.count && c.leased === 0);
          },
          5000,
          'POOL-5 every buffer available',
          () => poolState(loop),
        );
        socket.destroy();
      });
    });

    it('LEASE-10 DIAG-3 in poison mode, a lease released under a pending write is reported, and its bytes still go out intact', async () => {
      await withLoop({ diagnostics: { poison: true } }, async (loop) => {
        const warnings: string[] = [];
        const onWarning = (w: Error & { code?: string }) => warnings.push(String(w.code));
        process.on('warning', onWarning);
        try {
          const listener = await loop.listen({ port: 0 }, () => ({
            onRead(channel, lease) {
              channel.write(lease.bytes);
              lease.release(); // too early: the write still sends these bytes
            },
            onEnd: (channel) => channel.shutdown(),
          }));
          const socket = await netConnect(listener.address.port);
          const payload = Buffer.alloc(200_000, 0x5a);
          const echoed: Buffer[] = [];
          const ended = new Promise<void>((resolve) => socket.once('end', resolve));
          socket.on('data', (d: Buffer) => echoed.push(d));
          socket.end(payload);
          await watchdog(ended, 10_000, 'LEASE-10');
          expect(Buffer.concat(echoed).equals(payload), 'the echo holds poison instead of the bytes').toBe(true);
          await until(
            () => warnings.includes('IOLEASE_RELEASE_UNDER_WRITE'),
            2000,
            'LEASE-10 the report',
            () => warnings,
          );
          socket.destroy();
        } finally {
          process.off('warning', onWarning);
        }
      });
    });
  });
}
