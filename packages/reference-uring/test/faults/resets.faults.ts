// Runs only in the fault-injection build (scripts/test-faults.sh): receives ended by an injected
// ECONNRESET, on top of the schedule's other faults. Every client gets its bytes echoed in order,
// or a prefix of them and a coded error on the server: never a wrong byte, never a stall, and
// afterwards nothing is left open or leased, and no lease shows bytes of another (LEASE-11).
// With whole buffers and with incremental ones, whose swallowed pieces the engine has to count
// back itself (a buffer done while earlier pieces are still leased: BUFFER_DONE).
import { netConnect, randomBytes, sha256, sleep, strayBytes, until, watchdog } from '@iolease/conformance';
import { describe, expect, it } from 'vitest';
import { createEventLoop } from '../../src/index.ts';
import { openFds } from '../helpers.ts';

describe('under injected faults', () => {
  it.each([false, true])(
    'LOOP-8 PRESS-2 ERR-3 echo with receives reset at random: each stream is a prefix of what was sent, errors are coded (incremental buffers: %s)',
    async (incrementalBuffers) => {
      const fdsBefore = openFds();
      const loop = createEventLoop({
        incrementalBuffers,
        sizeClasses: [
          { size: 1024, count: 8 },
          { size: 16384, count: 4 },
        ],
      });
      expect(loop.features.faultInjection).toBe(true);
      const codes = new Set<string>();
      // Bytes the kernel filled for receives the reset fault swallowed must not show in later leases.
      let stray = 0;
      // Leases are held a little before the echo, so that a swallowed receive often ends a
      // buffer whose earlier pieces are still out.
      const listener = await loop.listen({ port: 0 }, () => {
        let echoed = Promise.resolve();
        return {
          onRead(channel, lease) {
            stray += strayBytes(lease);
            echoed = echoed
              .then(() => sleep(Math.floor(Math.random() * 3)))
              .then(() => {
                channel.write(lease.bytes, () => lease.release());
              });
          },
          onEnd: (channel) => {
            echoed = echoed.then(() => channel.shutdown());
          },
          onError: (_c, error) => codes.add(String((error as { code?: string }).code)),
        };
      });
      const clients = await watchdog(
        Promise.all(
          Array.from({ length: 60 }, async () => {
            const payload = randomBytes(20_000 + Math.floor(Math.random() * 60_000));
            const socket = await netConnect(listener.address.port);
            const chunks: Buffer[] = [];
            const done = new Promise<Buffer>((resolve) => {
              socket.on('data', (d: Buffer) => chunks.push(d));
              socket.once('close', () => resolve(Buffer.concat(chunks)));
              socket.on('error', () => {});
            });
            // Chunks of random sizes: incremental buffers then hold several reads each.
            for (let off = 0; off < payload.length; ) {
              const n = 1 + Math.floor(Math.random() * 3000);
              socket.write(payload.subarray(off, off + n));
              off += n;
            }
            socket.end();
            return { payload, echoed: await done };
          }),
        ),
        30_000,
        'LOOP-8',
        () => ({ stats: loop.stats(), pool: loop.pool.debugState(), fired: loop.native.faultsFired() }),
      );
      let complete = 0;
      for (const { payload, echoed } of clients) {
        expect(sha256(echoed)).toBe(sha256(payload.subarray(0, echoed.length)));
        if (echoed.length === payload.length) complete++;
      }
      const fired = loop.native.faultsFired();
      if ((fired.reset ?? 0) > 0) expect([...codes]).toContain('ECONNRESET');
      for (const code of codes) expect(code).toMatch(/^E[A-Z]+$/);
      expect(complete).toBeGreaterThan(0);
      expect(stray).toBe(0); // LEASE-11
      await until(
        () => loop.stats().channelsOpen === 0,
        10_000,
        'LOOP-8 every channel closed',
        () => loop.stats(),
      );
      expect(loop.pool.stats().leasesOut).toBe(0);
      // Every buffer back with the kernel: none lost to a swallowed piece.
      await until(
        () => loop.pool.stats().classes.every((c) => c.available === c.count),
        5000,
        'POOL-5 every buffer back',
        () => loop.pool.debugState(),
      );
      await loop.close();
      expect(openFds()).toBe(fdsBefore);
      console.log(`faults fired: ${JSON.stringify(fired)}; ${complete} of ${clients.length} streams complete`);
    },
  );
});
