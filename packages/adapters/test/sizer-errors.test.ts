// What the shared channel core (backend-core) says when a sizer breaks SIZER-3, seen through the
// node:net backend: the message names the channel and what its sizer did, so a log line is
// enough to find the culprit. The kit checks the code and the cause; the wording is ours.
import { connectToNetPeer, deferred, usingLoop, watchdog } from '@iolease/conformance';
import type { IoleaseError, RecvByteBufferSizer } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { NetEventLoop } from '../src/index.ts';

async function sizerFailure(sizer: RecvByteBufferSizer): Promise<{ error: IoleaseError; channelId: number }> {
  return usingLoop(new NetEventLoop(), async (loop) => {
    const failed = deferred<IoleaseError>();
    const { channel, peer } = await connectToNetPeer(
      loop,
      { onRead: (_c, lease) => lease.release(), onError: (_c, e) => failed.resolve(e) },
      { sizer: () => sizer },
    );
    peer.on('error', () => {});
    peer.write('x');
    const error = await watchdog(failed.promise, 10_000, 'SIZER-3');
    peer.destroy();
    return { error, channelId: channel.id };
  });
}

describe('sizer errors (SIZER-3)', () => {
  it.each([
    [0, 'returned 0'],
    [Number.NaN, 'returned NaN'],
    [1.5, 'returned 1.5'],
  ])('SIZER-3 a sizer that returns %s: the message names the channel and the value', async (value, says) => {
    const { error, channelId } = await sizerFailure({ nextReadSize: () => value, record: () => {} });
    expect(error.message).toBe(
      `The sizer of channel ${channelId} ${says}; nextReadSize() must return a positive safe integer (SIZER-3)`,
    );
    expect('cause' in error).toBe(false);
  });

  it('SIZER-3 a sizer that throws, from nextReadSize() or record(): the message says so, the error is the cause', async () => {
    const bug = new Error('sizer bug');
    const thrower = () => {
      throw bug;
    };
    for (const sizer of [
      { nextReadSize: thrower, record: () => {} },
      { nextReadSize: () => 512, record: thrower },
    ]) {
      const { error, channelId } = await sizerFailure(sizer);
      expect(error.message).toBe(
        `The sizer of channel ${channelId} threw; nextReadSize() must return a positive safe integer (SIZER-3)`,
      );
      expect(error.cause).toBe(bug);
    }
  });
});
