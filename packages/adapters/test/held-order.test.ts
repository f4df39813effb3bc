// The shared channel state machine (`@iolease/backend-core`'s ChannelCore) on its own, over the
// node:net backend's real pool, with a transport this test scripts: it plays the part of a
// completion backend whose receives report in batches, which neither real transport can be made
// to place on demand (docs/mutation-testing.md).
import { type ChannelCore, type ChannelTransport, ChannelCore as Core } from '@iolease/backend-core';
import { usingLoop } from '@iolease/conformance';
import { FixedRecvByteBufferSizer } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { NetEventLoop } from '../src/index.ts';

/** A transport that does no I/O: the test reports receives to the core itself. */
const scripted: ChannelTransport = {
  receive() {},
  stopReceiving() {},
  send() {},
  shutdown: () => undefined,
  close() {},
  setNoDelay() {},
  setKeepAlive() {},
  setReferenced() {},
  address: () => ({ family: 'IPv4', address: '', port: 0 }),
};

describe('ChannelCore, scripted', () => {
  it('READ-2 a lease received while held data waits for its scheduled delivery goes behind it', async () => {
    await usingLoop(new NetEventLoop({ sizeClasses: [{ size: 512, count: 8 }] }), async (loop) => {
      const core: ChannelCore = new Core({
        id: 1,
        connecting: false,
        pool: loop.pool,
        loop: loop.core,
        transport: () => scripted,
        sizer: new FixedRecvByteBufferSizer(512),
        autoRead: true,
        waterMarks: loop.waterMarks,
        maxLeases: Number.POSITIVE_INFINITY,
      });
      const order: string[] = [];
      core.setHandler({
        onRead: (_c, lease) => {
          order.push(Buffer.from(lease.bytes).toString());
          lease.release();
        },
      });
      const receive = (text: string) => {
        const { bufferId, view } = loop.pool.take(0, text.length);
        view.set(Buffer.from(text));
        core.received(0, bufferId, view);
      };
      // Paused: the first read is held (READ-2). Resumed from some other callback: the held
      // lease's delivery is scheduled for the loop's turn. The batch goes on with the next read.
      core.setAutoRead(false);
      receive('first');
      core.setAutoRead(true);
      receive('second');
      expect(order, 'nothing delivered inside the batch ahead of the held lease').toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(order).toEqual(['first', 'second']);
      core.close();
      core.finalize();
    });
  });
});
