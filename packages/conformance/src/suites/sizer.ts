import {
  AdaptiveRecvByteBufferSizer,
  type EventLoop,
  FixedRecvByteBufferSizer,
  type IoleaseError,
  type RecvByteBufferSizer,
} from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { connectToNetPeer, deferred, randomBytes, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend. */
export function sizerSuite(kit: Kit): void {
  const { withLoop } = kit;

  const classes = [
    { size: 512, count: 64 },
    { size: 4096, count: 64 },
    { size: 65536, count: 16 },
  ];

  /**
   * The size classes a transfer of `bytes` reads into. A lease's capacity is its class's size, or,
   * with incremental buffers, what was left of a buffer others' reads had begun (POOL-4).
   */
  async function classesFor(sizer: () => RecvByteBufferSizer, bytes: number): Promise<Set<number>> {
    return withLoop({ sizeClasses: classes }, async (loop) => {
      const sizes = new Set<number>();
      const wrongCapacity: string[] = [];
      let total = 0;
      const { channel, peer } = await connectToNetPeer(
        loop,
        {
          onRead(_c, lease) {
            sizes.add(lease.sizeClass);
            const fits = kit.backend.incrementalBuffers
              ? lease.capacity <= lease.sizeClass && lease.capacity >= lease.length
              : lease.capacity === lease.sizeClass;
            if (!fits) wrongCapacity.push(`${lease.length}/${lease.capacity} in ${lease.sizeClass}`);
            total += lease.length;
            lease.release();
          },
        },
        { sizer },
      );
      peer.write(randomBytes(bytes));
      await until(() => total === bytes, 5000, 'all bytes');
      expect(wrongCapacity).toEqual([]);
      channel.close();
      peer.destroy();
      return sizes;
    });
  }

  describe('the sizer drives the size class', () => {
    it.each([
      [100, 512],
      [512, 512],
      [3000, 4096],
      [65536, 65536],
      [1 << 20, 65536],
    ])('POOL-3 POOL-4 SIZER-1 a fixed preference of %i reads into %i-byte buffers', async (size, sizeClass) => {
      expect(await classesFor(() => new FixedRecvByteBufferSizer(size), 200_000)).toEqual(new Set([sizeClass]));
    });

    it('SIZER-1 record() is called once per lease, before onRead, with its length and capacity', async () => {
      await withLoop({ sizeClasses: classes }, async (loop) => {
        const log: string[] = [];
        const sizer: RecvByteBufferSizer = {
          nextReadSize: () => 4096,
          record: (n, cap) => log.push(`record ${n}/${cap}`),
        };
        const { channel, peer } = await connectToNetPeer(
          loop,
          {
            onRead(_c, lease) {
              log.push(`read ${lease.length}/${lease.capacity}`);
              lease.release();
            },
          },
          { sizer: () => sizer },
        );
        peer.write(randomBytes(50_000));
        await until(
          () => log.filter((l) => l.startsWith('read')).reduce((n, l) => n + Number(l.split(/[ /]/)[1]), 0) === 50_000,
        );
        for (let i = 0; i < log.length; i += 2) {
          expect(log[i]?.replace('record', 'read')).toBe(log[i + 1]);
        }
        channel.close();
        peer.destroy();
      });
    });

    it('SIZER-1 the adaptive sizer moves a bulk transfer to the large class', async () => {
      const sizes = await classesFor(() => new AdaptiveRecvByteBufferSizer(), 4 << 20);
      expect(sizes.has(65536)).toBe(true);
    });

    const sizerBug = new Error('broken sizer');
    it.each([
      ['returns 0', () => 0],
      ['returns NaN', () => Number.NaN],
      ['returns 1.5', () => 1.5],
      [
        'throws',
        () => {
          throw sizerBug;
        },
      ],
    ])('SIZER-3 a sizer that %s fails the channel with ERR_IOLEASE_INVALID_SIZER', async (what, nextReadSize) => {
      await withLoop(undefined, async (loop) => {
        const { failed, closed, seen, peer } = await sizedChannel(loop, nextReadSize);
        // A completion backend asks the sizer when it arms a receive, a readiness backend before
        // the read it takes from the socket (SIZER-1): bytes to read make both ask.
        peer.write('x');
        const error = await watchdog(failed.promise, 10_000, 'SIZER-3');
        expect(error.code).toBe('ERR_IOLEASE_INVALID_SIZER');
        // What the sizer threw is the cause.
        expect((error as { cause?: unknown }).cause).toBe(what === 'throws' ? sizerBug : undefined);
        await watchdog(closed.promise, 10_000, 'SIZER-3');
        // The sizer is asked before each read (SIZER-1): with no size, nothing is read.
        expect(seen.reads, 'SIZER-3 no read without a size').toBe(0);
      });
    });

    it('SIZER-3 a sizer that fails only after a read fails the channel: the next read is not delivered', async () => {
      await withLoop(undefined, async (loop) => {
        let asked = 0;
        const { failed, closed, seen, peer } = await sizedChannel(loop, () => {
          if (++asked > 1) throw sizerBug;
          return 1024;
        });
        // The next read makes every backend ask again (SIZER-1), a completion backend perhaps
        // before the bytes are there, a readiness one once they are.
        peer.write('first');
        await until(() => seen.reads === 1, 10_000, 'SIZER-3 the first read');
        peer.write('second');
        const error = await watchdog(failed.promise, 10_000, 'SIZER-3 the second answer fails', () => ({
          asked,
          reads: seen.reads,
        }));
        expect(error).toMatchObject({ code: 'ERR_IOLEASE_INVALID_SIZER', cause: sizerBug });
        await watchdog(closed.promise, 10_000, 'SIZER-3 closed');
        expect(seen.reads).toBe(1);
      });
    });

    it("SIZER-3 LOOP-2 a sizer that fails when setHandler() lets reads start: onError comes on the loop's turn, not inside setHandler()", async () => {
      await withLoop(undefined, async (loop) => {
        const sizer = () => ({
          nextReadSize: (): number => {
            throw sizerBug;
          },
          record: () => {},
        });
        // No handler at connect: reads, and the sizer's first answer, wait for setHandler().
        const { channel, peer } = await connectToNetPeer(loop, undefined, { sizer });
        peer.on('error', () => {});
        peer.write('x');
        await new Promise((resolve) => setTimeout(resolve, 20));
        const failed = deferred<IoleaseError>();
        let inside = true;
        let calledInside: boolean | undefined;
        channel.setHandler({
          onError: (_c, e) => {
            calledInside = inside;
            failed.resolve(e);
          },
        });
        inside = false;
        const error = await watchdog(failed.promise, 10_000, 'SIZER-3 onError');
        expect(error).toMatchObject({ code: 'ERR_IOLEASE_INVALID_SIZER', cause: sizerBug });
        expect(calledInside, 'LOOP-2 onError inside setHandler()').toBe(false);
      });
    });

    it('SIZER-3 POOL-5 LIFE-8 a sizer whose record() throws fails the channel, the cause attached, its lease goes back, and the peer sees a close, not a reset', async () => {
      await withLoop(undefined, async (loop) => {
        const bug = new Error('record bug');
        const failed = deferred<IoleaseError>();
        const closed = deferred();
        let reads = 0;
        const { peer } = await connectToNetPeer(
          loop,
          {
            onRead: (_c, lease) => {
              reads++;
              lease.release();
            },
            onError: (_c, e) => failed.resolve(e),
            onClose: () => closed.resolve(),
          },
          {
            sizer: () => ({
              nextReadSize: () => 512,
              record: () => {
                throw bug;
              },
            }),
          },
        );
        // LIFE-8: a failed channel closes as close() does, so the peer, with nothing of its own
        // left unread, sees the end of the stream, not a reset.
        const ending = new Promise<string>((resolve) => {
          peer.on('end', () => resolve('end'));
          peer.on('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
        });
        peer.resume();
        peer.write('x');
        const error = await watchdog(failed.promise, 10_000, 'SIZER-3');
        expect(error).toMatchObject({ code: 'ERR_IOLEASE_INVALID_SIZER', cause: bug });
        await watchdog(closed.promise, 10_000, 'SIZER-3');
        expect(await watchdog(ending, 10_000, 'LIFE-8 the peer sees the close')).toBe('end');
        // The read whose record() threw is never delivered, and its buffer is not lost.
        expect(reads).toBe(0);
        expect(loop.pool.stats().leasesOut).toBe(0);
      });
    });

    it('SIZER-3 ERR-2 a sizer factory that throws: connect() rejects with ERR_IOLEASE_INVALID_SIZER, the cause attached, and opens nothing', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await loop.listen({ port: 0 }, () => ({}));
        const bug = new Error('factory bug');
        const before = loop.stats().channelsOpen;
        let error: unknown;
        try {
          await loop.connect({
            port: listener.address.port,
            sizer: () => {
              throw bug;
            },
          });
        } catch (e) {
          error = e;
        }
        expect(error).toMatchObject({ code: 'ERR_IOLEASE_INVALID_SIZER', cause: bug });
        expect(loop.stats().channelsOpen).toBe(before);
      });
    });
  });
}

/** A channel connected with a sizer that answers `nextReadSize`: what it hears, and its peer. */
async function sizedChannel(loop: EventLoop, nextReadSize: () => number) {
  const failed = deferred<IoleaseError>();
  const closed = deferred();
  const seen = { reads: 0 };
  const { peer } = await connectToNetPeer(
    loop,
    {
      onRead: (_c, lease) => {
        seen.reads++;
        lease.release();
      },
      onError: (_c, e) => failed.resolve(e),
      onClose: () => closed.resolve(),
    },
    { sizer: () => ({ nextReadSize, record: () => {} }) },
  );
  // A channel that fails with bytes unread may reset its peer.
  peer.on('error', () => {});
  return { failed, closed, seen, peer };
}
