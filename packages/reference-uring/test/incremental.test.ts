// Incremental buffer consumption (IOU_PBUF_RING_INC, Linux 6.12+; POOL-4, LEASE-11): the option,
// the fallback, reads sharing a buffer, and the buffer's return only once the kernel is done with
// it and every lease carved from it is back.

import type net from 'node:net';
import { release } from 'node:os';
import {
  connectToNetPeer,
  netConnect,
  poolState,
  randomBytes,
  readAll,
  sha256,
  sleep,
  until,
  usingLoop,
  watchdog,
} from '@iolease/conformance';
import type { Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { createEventLoop, type UringEventLoop } from '../src/index.ts';

/** Whether this kernel has incremental buffer rings (6.12+); elsewhere the loop falls back. */
const [major = 0, minor = 0] = release().split('.').map(Number);
const kernelHasIncremental = major > 6 || (major === 6 && minor >= 12);

/** Every buffer back with the kernel, and no lease out. */
async function poolAtRest(loop: UringEventLoop, rule: string): Promise<void> {
  await until(
    () => {
      const s = loop.pool.stats();
      return s.leasesOut === 0 && s.classes.every((c) => c.available === c.count);
    },
    5000,
    rule,
    () => poolState(loop),
  );
}

describe('incremental buffers (POOL-4)', () => {
  it('POOL-4 off by default; asked for, used where the kernel has them (6.12+), whole buffers elsewhere', async () => {
    const plain = createEventLoop();
    expect(plain.features.incrementalBuffers).toBe(false);
    await plain.close();
    const asked = createEventLoop({ incrementalBuffers: true });
    expect(asked.features.incrementalBuffers).toBe(kernelHasIncremental);
    await asked.close();
    const off = createEventLoop({ incrementalBuffers: false });
    expect(off.features.incrementalBuffers).toBe(false);
    await off.close();
  });

  it('ERR-1 incrementalBuffers that is not a boolean is refused with a coded error', () => {
    expect(() => createEventLoop({ incrementalBuffers: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({
        code: 'ERR_IOLEASE_INVALID_ARG_TYPE',
        message: expect.stringMatching(/incrementalBuffers/),
      }),
    );
  });

  it.skipIf(!kernelHasIncremental)(
    'POOL-4 LEASE-11 one buffer holds the small reads of 50 connections, each lease an ArrayBuffer of its own bytes',
    async () => {
      // The same workload without incremental buffers: one read takes the only buffer, and the
      // other 49 connections wait for it (PRESS-1). That is what incremental buffers change.
      for (const incrementalBuffers of [false, true]) {
        const loop = createEventLoop({ incrementalBuffers, sizeClasses: [{ size: 4096, count: 1 }] });
        const leases = new Map<number, Lease>();
        const listener = await loop.listen({ port: 0 }, () => ({ onRead: (c, lease) => leases.set(c.id, lease) }));
        const sockets: net.Socket[] = [];
        for (let i = 0; i < 50; i++) {
          const socket = await netConnect(listener.address.port);
          socket.write(`connection ${String(i).padStart(2, '0')} `); // 14 bytes each
          sockets.push(socket);
        }
        if (!incrementalBuffers) {
          await until(() => loop.pool.underPressure && leases.size === 1, 5000, 'PRESS-1 the other 49 wait');
          await sleep(50);
          expect(leases.size).toBe(1);
        } else {
          await until(
            () => leases.size === 50,
            5000,
            'POOL-4 all 50 reads in one buffer',
            () => poolState(loop),
          );
          const texts = [...leases.values()].map((l) => Buffer.from(l.bytes).toString()).sort();
          expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `connection ${String(i).padStart(2, '0')} `));
          for (const lease of leases.values()) {
            expect(lease.bytes.buffer.byteLength).toBe(lease.length); // LEASE-11: nothing else in it
            expect(lease.sizeClass).toBe(4096);
          }
          // POOL-4: each read could have taken what the earlier ones left of the buffer.
          const capacities = [...leases.values()].map((l) => l.capacity).sort((a, b) => b - a);
          expect(capacities).toEqual(Array.from({ length: 50 }, (_, i) => 4096 - 14 * i));
          const stats = loop.pool.stats();
          expect(stats).toMatchObject({ leasesOut: 50, bytesLeased: 700, pressureEvents: 0 });
          expect(stats.classes[0]).toMatchObject({ leased: 1, available: 0, returning: 0 });
        }
        for (const lease of leases.values()) lease.release();
        for (const s of sockets) s.destroy();
        await loop.close();
      }
    },
  );

  it.skipIf(!kernelHasIncremental)(
    'POOL-4 POOL-5 a buffer comes back only with the last of its leases, and only once the kernel is done with it',
    async () => {
      const loop = createEventLoop({ incrementalBuffers: true, sizeClasses: [{ size: 1024, count: 2 }] });
      const held: Lease[] = [];
      const { channel, peer } = await connectToNetPeer(loop, { onRead: (_c, lease) => held.push(lease) });
      const received = () => held.reduce((n, l) => n + l.length, 0);
      for (let i = 1; i <= 3; i++) {
        peer.write(Buffer.alloc(100, i));
        await until(() => received() === 100 * i, 5000, `read ${i}`);
      }
      const cls = () => loop.pool.stats().classes[0];
      // Three leases, one buffer, which the kernel goes on filling.
      expect(cls()).toMatchObject({ leased: 1, available: 1 });
      (held.shift() as Lease).release();
      (held.shift() as Lease).release();
      expect(cls()).toMatchObject({ leased: 1, available: 1 });
      // The last lease back: the buffer is the kernel's again, which never stopped filling it.
      (held.shift() as Lease).release();
      expect(cls()).toMatchObject({ leased: 0, available: 2, returning: 0 });
      // Fill the rest of it and all of the other: the kernel is done with both.
      peer.write(Buffer.alloc(2048 - 300, 9));
      await until(
        () => received() === 2048 - 300,
        5000,
        'the rest of both buffers',
        () => poolState(loop),
      );
      expect(cls()).toMatchObject({ leased: 2, available: 0, underPressure: true });
      // Both come back with their last leases, and receiving goes on into them.
      for (const lease of held.splice(0)) lease.release();
      expect(cls()).toMatchObject({ leased: 0, returning: 2 });
      peer.write(Buffer.alloc(10, 7));
      await until(
        () => received() === 10,
        5000,
        'PRESS-3 receiving again',
        () => poolState(loop),
      );
      expect(Buffer.from((held[0] as Lease).bytes)).toEqual(Buffer.alloc(10, 7));
      (held.shift() as Lease).release();
      channel.close();
      peer.destroy();
      await poolAtRest(loop, 'POOL-5 at rest');
      await loop.close();
    },
  );

  it.skipIf(!kernelHasIncremental)(
    "LEASE-11 POOL-6 a place's ArrayBuffer is made once: the same read of a later round gets the same one",
    async () => {
      // One 1 KiB buffer, 16-byte reads one at a time: 64 reads a round, each at its own place,
      // the first 16 places (one per 64 bytes) keeping their ArrayBuffer for the next round.
      await usingLoop(
        createEventLoop({ incrementalBuffers: true, sizeClasses: [{ size: 1024, count: 1 }] }),
        async (loop) => {
          const buffers: ArrayBufferLike[] = [];
          const listener = await loop.listen({ port: 0 }, () => ({
            onRead(c, lease) {
              buffers.push(lease.bytes.buffer);
              c.write(lease.bytes, () => lease.release());
            },
          }));
          const socket = await netConnect(listener.address.port);
          let echoed = 0;
          socket.on('data', (d: Buffer) => {
            echoed += d.length;
          });
          for (let i = 0; i < 128; i++) {
            socket.write(Buffer.alloc(16, i));
            await until(() => echoed === (i + 1) * 16, 5000, 'LEASE-11 one read at a time');
          }
          expect(buffers).toHaveLength(128);
          for (let k = 0; k < 16; k++) {
            expect(buffers[64 + k] === buffers[k], `place ${k} made again in the second round`).toBe(true);
          }
          socket.destroy();
        },
      );
    },
  );

  it.skipIf(!kernelHasIncremental)(
    'LEASE-2 LEASE-7 checksummed echo through shared buffers, leases held for random times: every byte back in order, the pool at rest after',
    async () => {
      // Small classes, so buffers are shared by many reads and go round many times; poison mode,
      // so a buffer reused while a lease of it is still held would corrupt the echo.
      const loop = createEventLoop({
        incrementalBuffers: true,
        sizeClasses: [
          { size: 2048, count: 8 },
          { size: 16384, count: 4 },
        ],
        diagnostics: { poison: true },
      });
      // Each lease is held for a random time, then echoed and released once written: later
      // reads land meanwhile, in the rest of its buffer and in others.
      const listener = await loop.listen({ port: 0 }, () => {
        let echoed = Promise.resolve();
        return {
          onRead(channel, lease) {
            echoed = echoed
              .then(() => sleep(Math.random() < 0.5 ? 0 : Math.floor(Math.random() * 3)))
              .then(() => {
                channel.write(lease.bytes, () => lease.release());
              });
          },
          onEnd: (channel) => {
            echoed = echoed.then(() => channel.shutdown());
          },
        };
      });
      const clients = await Promise.all(
        Array.from({ length: 24 }, async () => {
          const payload = randomBytes(128 * 1024 + Math.floor(Math.random() * 4096));
          const socket = await netConnect(listener.address.port);
          const echoed = readAll(socket);
          for (let off = 0; off < payload.length; ) {
            const n = 1 + Math.floor(Math.random() * 3000);
            socket.write(payload.subarray(off, off + n));
            off += n;
            if (Math.random() < 0.1) await sleep(1);
          }
          socket.end();
          return { sent: sha256(payload), echoed };
        }),
      );
      for (const c of clients) {
        expect(sha256(await watchdog(c.echoed, 30_000, 'LEASE-2 the echo', () => poolState(loop)))).toBe(c.sent);
      }
      expect(loop.stats().pool.pressureEvents).toBeGreaterThan(0);
      await poolAtRest(loop, 'POOL-5 at rest after the echo');
      await listener.close();
      await loop.close();
    },
  );
  it.skipIf(!kernelHasIncremental)(
    'DIAG-2 POOL-5 two leases of one buffer dropped unreleased: two reports, one buffer quarantined',
    async () => {
      const loop = createEventLoop({
        incrementalBuffers: true,
        diagnostics: { leakDetection: 'all' },
        sizeClasses: [{ size: 4096, count: 4 }],
      });
      try {
        const reports: number[] = [];
        loop.onLeak((r) => reports.push(r.leaseId));
        let reads = 0;
        const { channel, peer } = await connectToNetPeer(loop, {
          onRead: () => {
            reads++; // dropped: the lease is never released
          },
        });
        for (const word of ['first piece', 'second piece']) {
          peer.write(word);
          await until(() => reads === (word === 'first piece' ? 1 : 2), 5000, 'DIAG-2 a read');
        }
        const { runInNewContext } = await import('node:vm');
        const { setFlagsFromString } = await import('node:v8');
        setFlagsFromString('--expose-gc');
        const gc = runInNewContext('gc') as () => void;
        for (let i = 0; i < 50 && reports.length < 2; i++) {
          gc();
          await sleep(20);
        }
        expect(reports).toHaveLength(2);
        // Both pieces lie in the same buffer, which the kernel may still fill: it is quarantined
        // once, and never returns (POOL-5).
        const c = loop.stats().pool.classes[0];
        expect(c).toMatchObject({ quarantined: 1, leased: 0 });
        expect((c?.available ?? 0) + (c?.leased ?? 0) + (c?.returning ?? 0) + (c?.quarantined ?? 0)).toBe(4);
        channel.close();
        peer.destroy();
      } finally {
        await loop.close();
      }
    },
  );
});
