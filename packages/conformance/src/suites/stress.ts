import type net from 'node:net';
import type { Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { deferred, netConnect, randomBytes, sha256, sleep, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** A small deterministic generator, so a failing run can be repeated with its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Registers the suite against one backend: everything at once, then nothing left behind. */
export function stressSuite(kit: Kit): void {
  const { withLoop } = kit;

  describe('stress', () => {
    it('PRESS-2 LEASE-3 LIFE-8 LIFE-10 80 clients, random chunks, pauses, held leases and resets: survivors get every byte back, nothing leaks', async () => {
      const seed = 0x10_1e_a5e;
      const random = prng(seed);
      await withLoop(
        {
          sizeClasses: [
            { size: 1024, count: 16 },
            { size: 16384, count: 8 },
          ],
        },
        async (loop) => {
          const held = new Set<Lease>();
          const errors: string[] = [];
          let closes = 0;
          const listener = await loop.listen({ port: 0 }, () => ({
            onRead(channel, lease) {
              // Hold some leases for a while, so the pool runs dry now and then.
              const keep = random() < 0.3;
              if (keep) held.add(lease);
              channel.write(lease.bytes, () => {
                if (keep) {
                  setTimeout(() => {
                    held.delete(lease);
                    lease.release();
                  }, random() * 5);
                } else {
                  lease.release();
                }
              });
              // And pause reading now and then, as a slow consumer would.
              if (random() < 0.05) {
                channel.setAutoRead(false);
                setTimeout(() => channel.state === 'open' && channel.setAutoRead(true), random() * 10);
              }
            },
            onEnd: (channel) => channel.shutdown(),
            onError: (_channel, error) => errors.push(error.code),
            onClose: () => closes++,
          }));

          const clients = 80;
          const outcomes = await Promise.all(
            Array.from({ length: clients }, async (_, i) => {
              const socket: net.Socket = await netConnect(listener.address.port);
              const resetAfter = i % 5 === 0 ? 1 + Math.floor(random() * 20) : -1;
              const sent: Buffer[] = [];
              const received: Buffer[] = [];
              socket.on('data', (d: Buffer) => received.push(d));
              const closed = deferred();
              socket.on('close', () => closed.resolve());
              socket.on('error', () => {});
              for (let chunk = 0; chunk < 30; chunk++) {
                if (chunk === resetAfter) {
                  socket.resetAndDestroy();
                  await watchdog(closed.promise, 10_000, 'PRESS-2 LEASE-3 LIFE-8 LIFE-10');
                  return 'reset';
                }
                const part = randomBytes(1 + Math.floor(random() * 40_000));
                sent.push(part);
                socket.write(part);
                if (random() < 0.3) await sleep(random() * 3);
              }
              socket.end();
              await watchdog(closed.promise, 10_000, 'PRESS-2 LEASE-3 LIFE-8 LIFE-10');
              expect(sha256(Buffer.concat(received)), `client ${i} (seed ${seed})`).toBe(sha256(Buffer.concat(sent)));
              return 'echoed';
            }),
          );
          expect(outcomes.filter((o) => o === 'reset')).toHaveLength(clients / 5);
          await until(() => closes === clients, 10_000, 'every server channel to close');
          await until(() => held.size === 0, 5000, 'held leases to be released');
          // Resets may reach the server as ECONNRESET (or as a plain end); nothing else may fail.
          expect(errors.filter((code) => code !== 'ECONNRESET' && code !== 'EPIPE')).toEqual([]);
          // A buffer released a moment ago may still be on its way back (`returning`, POOL-5).
          await until(
            () => loop.pool.stats().classes.every((c) => c.available === c.count),
            5000,
            'POOL-5 every buffer available again',
            () => loop.pool.stats().classes,
          );
          const stats = loop.stats();
          expect(stats.channelsOpen).toBe(0);
          expect(stats.pool.leasesOut).toBe(0);
          expect(stats.pool.bytesLeased).toBe(0);
        },
      );
    });
  });
}
