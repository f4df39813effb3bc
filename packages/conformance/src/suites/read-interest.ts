import type { Channel, Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { connectToNetPeer, deferred, netConnect, randomBytes, sha256, sleep, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend. */
export function readInterestSuite(kit: Kit): void {
  const { withLoop } = kit;

  describe('read interest', () => {
    it('READ-1 READ-2 READ-5 pause stops onRead; resume delivers held data first, in order', async () => {
      await withLoop(undefined, async (loop) => {
        const chunks: Buffer[] = [];
        let paused = false;
        let readsWhilePaused = 0;
        const ended = deferred();
        const { channel, peer } = await connectToNetPeer(loop, {
          onRead(_c, lease) {
            if (paused) readsWhilePaused++;
            chunks.push(Buffer.from(lease.bytes));
            lease.release();
          },
          onEnd: () => ended.resolve(),
        });
        expect(channel.autoRead).toBe(true);
        const payload = randomBytes(2 * 1024 * 1024);
        peer.write(payload.subarray(0, 100_000));
        await until(() => chunks.length > 0, 5000, 'first read');
        channel.setAutoRead(false);
        paused = true;
        peer.end(payload.subarray(100_000));
        await sleep(100);
        expect(readsWhilePaused).toBe(0);
        expect(channel.inputEnded).toBe(false); // READ-6: the end waits too
        paused = false;
        channel.setAutoRead(true);
        await watchdog(ended.promise, 10_000, 'READ-1 READ-2 READ-5');
        expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
        channel.close();
      });
    });

    it('READ-3 a paused channel takes no more pool memory while data waits in the kernel', async () => {
      await withLoop({ sizeClasses: [{ size: 2048, count: 16 }] }, async (loop) => {
        const leases: Lease[] = [];
        const { channel, peer } = await connectToNetPeer(loop, { onRead: (_c, l) => leases.push(l) });
        channel.setAutoRead(false);
        await sleep(20); // the cancel reaches the kernel
        peer.write(randomBytes(512 * 1024));
        await sleep(100);
        expect(leases).toHaveLength(0);
        expect(loop.pool.stats().leasesOut).toBe(0);
        expect(loop.pool.stats().classes[0]?.available).toBe(16);
        channel.close();
        peer.destroy();
      });
    });

    it('READ-3 calls that change nothing while reading (setHandler, setAutoRead(true), read()) leave nothing armed once paused', async () => {
      await withLoop({ sizeClasses: [{ size: 2048, count: 16 }] }, async (loop) => {
        const leases: Lease[] = [];
        const handler = {
          onRead(_c: Channel, l: Lease) {
            leases.push(l);
            l.release();
          },
        };
        const { channel, peer } = await connectToNetPeer(loop, handler);
        peer.write('reading');
        await until(() => leases.length > 0, 5000, 'READ-3 the first read');
        // Each asks the backend to bring reading in line with what the application wants,
        // which it already is: a receive armed a second time would outlive the pause below.
        channel.setHandler(handler);
        channel.setAutoRead(true);
        channel.read();
        await sleep(20);
        channel.setHandler(handler);
        await sleep(20);
        const before = leases.length;
        channel.setAutoRead(false);
        await sleep(20); // the cancel reaches the kernel
        peer.write(randomBytes(512 * 1024));
        await sleep(100);
        expect(leases.length - before, 'READ-2 reads after the pause').toBe(0);
        expect(loop.pool.stats().leasesOut, 'READ-3 pool memory taken while paused').toBe(0);
        expect(loop.pool.stats().classes[0]?.available).toBe(16);
        channel.close();
        peer.destroy();
      });
    });

    it('READ-4 with auto-read off, read() yields exactly one onRead, and repeated calls do not add up', async () => {
      await withLoop(undefined, async (loop) => {
        const leases: Lease[] = [];
        const { channel, peer } = await connectToNetPeer(
          loop,
          { onRead: (_c, l) => leases.push(l) },
          { autoRead: false },
        );
        expect(channel.autoRead).toBe(false);
        const payload = randomBytes(64 * 1024);
        for (let off = 0; off < payload.length; off += 1024) peer.write(payload.subarray(off, off + 1024));
        await sleep(50);
        expect(leases).toHaveLength(0);
        channel.read();
        channel.read();
        channel.read();
        await until(() => leases.length === 1, 5000, 'one read');
        await sleep(50);
        expect(leases).toHaveLength(1);
        channel.read();
        await until(() => leases.length === 2, 5000, 'second read');
        await sleep(30);
        expect(leases).toHaveLength(2);
        // Then everything, in order.
        channel.setAutoRead(true);
        await until(() => leases.reduce((n, l) => n + l.length, 0) === payload.length, 5000, 'all data');
        expect(sha256(leases.map((l) => Buffer.from(l.bytes)))).toBe(sha256(payload));
        for (const l of leases) l.release();
        channel.close();
        peer.destroy();
      });
    });

    it('READ-4 read() called inside the onRead that satisfied the last one is a new request: a pull loop reads everything', async () => {
      await withLoop(undefined, async (loop) => {
        const received: Buffer[] = [];
        const ended = deferred();
        const { channel, peer } = await connectToNetPeer(
          loop,
          {
            onRead(c, lease) {
              received.push(Buffer.from(lease.bytes));
              lease.release();
              c.read(); // the next one, asked for from inside this delivery
            },
            onEnd: () => ended.resolve(),
          },
          { autoRead: false },
        );
        const payload = randomBytes(200_000);
        for (let off = 0; off < payload.length; off += 7000) peer.write(payload.subarray(off, off + 7000));
        peer.end();
        channel.read();
        await watchdog(ended.promise, 10_000, 'READ-4 pull loop', () => ({
          received: received.reduce((n, b) => n + b.length, 0),
        }));
        expect(sha256(received)).toBe(sha256(payload));
        channel.close();
      });
    });

    it('LIFE-2 POOL-5 a handler without onRead gets every lease released for it, and still hears the end', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 4 }] }, async (loop) => {
        const ended = deferred();
        let maxOut = 0;
        const listener = await loop.listen({ port: 0 }, () => ({
          onEnd: (channel) => {
            maxOut = Math.max(maxOut, loop.pool.stats().leasesOut);
            ended.resolve();
            channel.close();
          },
        }));
        const socket = await netConnect(listener.address.port);
        // Far more than four buffers: it only gets through if every lease goes back.
        socket.end(randomBytes(100_000));
        await watchdog(ended.promise, 10_000, 'LIFE-2 POOL-5', () => loop.pool.stats());
        expect(maxOut).toBe(0);
        expect(loop.pool.stats().leasesOut).toBe(0);
        socket.destroy();
      });
    });

    it('LIFE-2 reads start only once a handler is set, whatever else the application calls before', async () => {
      await withLoop(undefined, async (loop) => {
        const accepted = deferred<Channel>();
        const listener = await loop.listen({ port: 0 }, (channel) => {
          accepted.resolve(channel);
          return undefined;
        });
        const net = await import('node:net');
        const socket = net.connect(listener.address.port, '127.0.0.1');
        socket.write('waiting for a handler');
        const channel = await watchdog(accepted.promise, 10_000, 'LIFE-2');
        // Turning reading off and on again is no handler either.
        channel.setAutoRead(false);
        channel.setAutoRead(true);
        await sleep(50);
        // Not read at all: the bytes wait in the kernel, not held in pool memory (READ-2 holds
        // data only for a channel that was reading).
        const stats = loop.pool.stats();
        expect(stats.leasesOut).toBe(0);
        expect(stats.classes.map((c) => c.leased)).toEqual(stats.classes.map(() => 0));
        expect(await firstReadOnceHandled(channel)).toBe('waiting for a handler');
        socket.destroy();
      });
    });

    it('LIFE-2 a channel connected without a handler reads nothing either until it gets one', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, undefined);
        peer.write('waiting for a handler');
        await sleep(50);
        const stats = loop.pool.stats();
        expect(stats.leasesOut).toBe(0);
        expect(stats.classes.map((c) => c.leased + c.held)).toEqual(stats.classes.map(() => 0));
        expect(await firstReadOnceHandled(channel)).toBe('waiting for a handler');
        peer.destroy();
      });
    });

    it("READ-4 READ-6 LOOP-2 with auto-read off, each read() brings one delivery on the loop's turn, and onEnd only for a read() after the last lease", async () => {
      // Small buffers: a receive armed for one read() may bring several, which wait (READ-4).
      await withLoop({ sizeClasses: [{ size: 1024, count: 32 }] }, async (loop) => {
        const events: string[] = [];
        const { channel, peer } = await connectToNetPeer(
          loop,
          {
            onRead(_c, lease) {
              events.push(`read ${lease.length}`);
              lease.release();
            },
            onEnd: () => events.push('end'),
          },
          { autoRead: false },
        );
        const payload = randomBytes(6000);
        peer.end(payload); // data and FIN together: the backend may see both at once
        await sleep(50);
        expect(events).toEqual([]);
        for (let i = 0; i < 50 && !events.includes('end'); i++) {
          const before = events.length;
          channel.read();
          expect(events.length, 'LOOP-2 no delivery inside read()').toBe(before);
          await until(
            () => events.length > before,
            5000,
            'READ-4 a delivery for read()',
            () => events,
          );
          await sleep(20);
          expect(events.length, 'READ-4 one delivery per read()').toBe(before + 1);
        }
        expect(events.at(-1)).toBe('end');
        expect(events.filter((e) => e === 'end')).toHaveLength(1);
        const bytes = events.filter((e) => e.startsWith('read')).reduce((n, e) => n + Number(e.slice(5)), 0);
        expect(bytes).toBe(payload.length);
        peer.destroy();
      });
    });
  });
}

/** Gives `channel` a handler and resolves with the text of its first read (LIFE-2). */
function firstReadOnceHandled(channel: Channel): Promise<string> {
  const got = deferred<string>();
  channel.setHandler({
    onRead: (_c, lease) => {
      got.resolve(Buffer.from(lease.bytes).toString());
      lease.release();
    },
  });
  return watchdog(got.promise, 10_000, 'LIFE-2 the first read once a handler is set');
}
