// Runs only in the fault-injection build (scripts/test-faults.sh), with a schedule of its own:
// every multishot receive's first data ends in ECONNRESET, nothing else fails.
//
// An incremental buffer can be finished by a completion no one sees: another channel's read
// takes the rest of the buffer and is swallowed by the reset, while an earlier piece of the same
// buffer is still leased. The engine then reports the buffer done (BUFFER_DONE): it has left the
// ring, so the class is exhausted (PRESS-4), and it comes back with that last piece.
import { netConnect, sleep, until } from '@iolease/conformance';
import type { Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { createEventLoop } from '../../src/index.ts';

describe('a buffer finished by a swallowed completion', () => {
  it('PRESS-4 POOL-4 POOL-5 exhausts its class while an earlier piece is leased, and comes back with that piece', async () => {
    const schedule = process.env.IOLEASE_FAULTS;
    process.env.IOLEASE_FAULTS = 'seed=1,rate=0,reset=1';
    const loop = createEventLoop({ incrementalBuffers: true, sizeClasses: [{ size: 1024, count: 1 }] });
    if (schedule === undefined) delete process.env.IOLEASE_FAULTS;
    else process.env.IOLEASE_FAULTS = schedule;
    try {
      expect(loop.features.incrementalBuffers).toBe(true);
      const pressure: boolean[] = [];
      loop.pool.onPressureChange((e) => pressure.push(e.underPressure));
      // A receives one buffer per receive (maxLeases), so no reset fault reaches it: its piece
      // is delivered and held.
      let held: Lease | undefined;
      const holder = await loop.listen({ port: 0, maxLeases: 1 }, () => ({
        onRead: (_c, lease) => {
          held = lease;
        },
      }));
      const errors: string[] = [];
      const other = await loop.listen({ port: 0 }, () => ({
        onRead: (_c, lease) => lease.release(),
        onError: (_c, error) => errors.push(String((error as { code?: string }).code)),
      }));
      const a = await netConnect(holder.address.port);
      a.write(Buffer.alloc(100, 1));
      await until(() => held !== undefined, 5000, 'POOL-4 the first piece');
      expect(held?.length).toBe(100);
      expect(pressure, 'the buffer is still in the ring, with 924 bytes left').toEqual([]);
      // B's multishot receive takes the other 924 bytes, the whole rest of the buffer, and is reset.
      const b = await netConnect(other.address.port);
      b.on('error', () => {});
      b.write(Buffer.alloc(2000, 2));
      await until(() => errors.length > 0, 5000, 'the reset of the receive that finished the buffer');
      expect(errors).toEqual(['ECONNRESET']);
      expect(loop.native.faultsFired().reset).toBe(1);
      expect(pressure, 'PRESS-4 the only buffer left the ring with the swallowed completion').toEqual([true]);
      expect(loop.pool.debugState()[0]).toMatchObject({ ringFree: 0, leased: 1 });
      held?.release();
      await sleep(20);
      expect(pressure, 'PRESS-4 back with the last piece').toEqual([true, false]);
      expect(loop.pool.debugState()[0]).toMatchObject({ ringFree: 1, leased: 0 });
      expect(loop.pool.stats().classes[0]).toMatchObject({ available: 1, leased: 0 });
      a.destroy();
      b.destroy();
    } finally {
      await loop.close();
    }
  });
});
