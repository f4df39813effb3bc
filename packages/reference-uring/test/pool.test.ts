// The io_uring pool's own accounting (PRESS-3, PRESS-8), which the kit sees only through its
// effects: who waits in line, and the wakes in flight, at rest and after pauses and closes.
import {
  connectToNetPeer,
  deferred,
  netConnect,
  randomBytes,
  sleep,
  until,
  usingLoop,
  watchdog,
} from '@iolease/conformance';
import type { Channel, ChannelHandler, Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { createEventLoop } from '../src/index.ts';

describe('the io_uring pool', () => {
  it('READ-2 POOL-5 data held for a paused channel goes back to the pool when the channel closes, undelivered', async () => {
    // A completion loop holds what a receive in flight brings after a pause; a readiness backend
    // stops reading at once, so the kit cannot build this state for every backend.
    for (const end of ['close', 'reset'] as const) {
      await usingLoop(createEventLoop({ sizeClasses: [{ size: 2048, count: 64 }] }), async (loop) => {
        let reads = 0;
        const closed = deferred();
        const { channel, peer } = await connectToNetPeer(loop, {
          // Paused at the first read, with more of the burst arriving: that is held (READ-2).
          onRead: (c, lease) => {
            reads++;
            lease.release();
            c.setAutoRead(false);
          },
          onError: () => {},
          onClose: () => closed.resolve(),
        });
        peer.on('error', () => {});
        peer.write(randomBytes(256 * 1024));
        await until(
          () => (loop.pool.stats().classes[0]?.held ?? 0) > 0,
          5000,
          'READ-2 data held',
          () => loop.pool.stats(),
        );
        channel[end]();
        await watchdog(closed.promise, 10_000, `READ-2 ${end}`);
        // Nothing held is delivered after all, and none of it is lost to the pool.
        await until(
          () => loop.pool.stats().leasesOut === 0,
          5000,
          `POOL-5 held data back after ${end}`,
          () => loop.pool.stats(),
        );
        expect(reads).toBe(1);
        expect(loop.pool.stats().classes[0]).toMatchObject({ held: 0, leased: 0 });
        peer.destroy();
      });
    }
  });

  it('LIFE-14 READ-2 a channel closed in onRead while its held data is delivered gets no more of it', async () => {
    await usingLoop(createEventLoop({ sizeClasses: [{ size: 2048, count: 64 }] }), async (loop) => {
      let reads = 0;
      let afterResume = 0;
      let resumed = false;
      const closed = deferred();
      const { channel, peer } = await connectToNetPeer(loop, {
        onRead: (c, lease) => {
          lease.release();
          if (resumed) {
            afterResume++;
            c.close();
          } else if (++reads === 1) c.setAutoRead(false);
        },
        onError: () => {},
        onClose: () => closed.resolve(),
      });
      peer.on('error', () => {});
      peer.write(randomBytes(256 * 1024));
      await until(
        () => (loop.pool.stats().classes[0]?.held ?? 0) > 1,
        5000,
        'READ-2 more than one lease held',
        () => loop.pool.stats(),
      );
      resumed = true;
      channel.setAutoRead(true);
      await watchdog(closed.promise, 10_000, 'LIFE-14 closed');
      expect(afterResume, 'LIFE-14 onRead after close()').toBe(1);
      expect(loop.pool.stats().classes[0]).toMatchObject({ held: 0 });
      peer.destroy();
    });
  });

  it('PRESS-1 PRESS-3 a channel waiting for the only buffer waits without re-arming its receive until the buffer is back', async () => {
    await usingLoop(createEventLoop({ sizeClasses: [{ size: 4096, count: 1 }] }), async (loop) => {
      const leases: Lease[] = [];
      const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => leases.push(lease) }));
      const holder = await netConnect(listener.address.port);
      holder.write('takes the only buffer');
      await until(() => leases.length === 1, 5000, 'PRESS-1 the buffer taken');
      const waiter = await netConnect(listener.address.port);
      waiter.write('waits for it');
      await sleep(50);
      const before = loop.stats().submissions;
      await sleep(200);
      // A waiter woken with nothing free would find the ring empty and be woken again, over and
      // over: hundreds of receives armed in 200 ms instead of none.
      expect(loop.stats().submissions - before, 'PRESS-3 receives armed while waiting').toBeLessThan(5);
      expect(leases).toHaveLength(1);
      (leases.shift() as Lease).release();
      await until(() => leases.length === 1, 5000, 'PRESS-3 the waiter served once the buffer is back');
      expect(Buffer.from((leases[0] as Lease).bytes).toString()).toBe('waits for it');
      (leases.shift() as Lease).release();
      holder.destroy();
      waiter.destroy();
    });
  });

  it('PRESS-6 a waiting channel given its handler again keeps its place: it does not take a returning buffer from the one ahead', async () => {
    // setHandler() with the same handler changes nothing. Had the update it schedules armed a
    // receive while the channel waits, that receive would reach the kernel ahead of the one the
    // first waiter arms when the buffer comes back in the same turn, and take the buffer.
    await usingLoop(createEventLoop({ sizeClasses: [{ size: 4096, count: 1 }] }), async (loop) => {
      const order: string[] = [];
      const leases: Lease[] = [];
      const channels: Channel[] = [];
      const handlers: ChannelHandler[] = [];
      const names = ['holder', 'first', 'second'];
      const listener = await loop.listen({ port: 0 }, (channel) => {
        const name = names[channels.push(channel) - 1] as string;
        const handler: ChannelHandler = {
          onRead: (_c, lease) => {
            order.push(name);
            if (name === 'holder') leases.push(lease);
            else lease.release();
          },
        };
        handlers.push(handler);
        return handler;
      });
      const waiting = () => loop.pool.debugState()[0]?.waiters ?? 0;
      const holder = await netConnect(listener.address.port);
      holder.write('takes the only buffer');
      await until(() => leases.length === 1, 5000, 'PRESS-6 the buffer taken');
      const first = await netConnect(listener.address.port);
      first.write('first in line');
      await until(
        () => waiting() === 1,
        5000,
        'PRESS-6 the first waits',
        () => loop.pool.debugState(),
      );
      const second = await netConnect(listener.address.port);
      second.write('second in line');
      await until(
        () => waiting() === 2,
        5000,
        'PRESS-6 the second waits',
        () => loop.pool.debugState(),
      );
      // The second's update runs in the loop's deferred callbacks; the buffer comes back right
      // after, before the loop enters the kernel.
      (channels[2] as Channel).setHandler(handlers[2] as ChannelHandler);
      queueMicrotask(() => (leases.shift() as Lease).release());
      await until(
        () => order.length === 3,
        5000,
        'PRESS-6 both served',
        () => loop.pool.debugState(),
      );
      expect(order).toEqual(['holder', 'first', 'second']);
      for (const s of [holder, first, second]) s.destroy();
    });
  });

  it('PRESS-3 PRESS-8 a waiter that pauses or closes leaves the line; at rest no wake is in flight', async () => {
    await usingLoop(createEventLoop({ sizeClasses: [{ size: 4096, count: 1 }] }), async (loop) => {
      const channels: Channel[] = [];
      const leases: Lease[] = [];
      const listener = await loop.listen({ port: 0 }, (channel) => {
        channels.push(channel);
        return { onRead: (_c, lease) => leases.push(lease) };
      });
      const state = () => loop.pool.debugState()[0];
      const a = await netConnect(listener.address.port);
      a.write('a');
      await until(() => leases.length === 1, 5000, 'the first lease');
      const b = await netConnect(listener.address.port);
      const c = await netConnect(listener.address.port);
      b.write('b');
      c.write('c');
      // Two waiters, or three where injected faults ended the first channel's receive too.
      await until(() => (state()?.waiters ?? 0) >= 2, 5000, 'PRESS-1 two waiters', state);
      const waiting = state()?.waiters as number;
      (channels[1] as Channel).setAutoRead(false);
      expect(state()?.waiters).toBe(waiting - 1);
      (channels[2] as Channel).close();
      expect(state()?.waiters).toBe(waiting - 2);
      (leases.shift() as Lease).release();
      await until(() => state()?.wakes === 0 && state()?.ringFree === 1, 5000, 'PRESS-8 at rest', state);
      // The paused channel reads once it resumes.
      (channels[1] as Channel).setAutoRead(true);
      await until(() => leases.length === 1, 5000, 'PRESS-3 the paused channel reads again', state);
      (leases.shift() as Lease).release();
      await until(() => state()?.wakes === 0 && state()?.waiters === 0, 5000, 'PRESS-8 at rest again', state);
      for (const s of [a, b, c]) s.destroy();
    });
  });
});
