// Zero-copy sends (WRITE-8): which writes use them, when their completions run, and the option.
import { connectToNetPeer, randomBytes, readAll, sha256, sleep, until, watchdog } from '@iolease/conformance';
import { describe, expect, it } from 'vitest';
import { createEventLoop, type UringEventLoop } from '../src/index.ts';

/**
 * Echoes 16 MiB through leases to a peer that stops reading, and returns how many bytes of
 * writes had completed once the echo stood still; then lets the peer read everything and checks
 * it came back whole.
 */
async function completedWhilePeerStalls(loop: UringEventLoop): Promise<number> {
  let completed = 0;
  const { channel, peer } = await connectToNetPeer(loop, {
    onRead: (c, lease) => {
      c.write(lease.bytes, (error, written) => {
        if (error === undefined) completed += written;
        lease.release();
      });
    },
    onEnd: (c) => c.shutdown(),
  });
  peer.pause();
  const payload = randomBytes(16 * 1024 * 1024);
  peer.end(payload);
  // Let the echo fill every buffer on the way and stand still.
  let last = -1;
  while (completed !== last) {
    last = completed;
    await sleep(300);
  }
  const stalled = completed;
  const received = readAll(peer);
  peer.resume();
  expect(sha256(await watchdog(received, 20_000, 'WRITE-8 the echo after the peer reads'))).toBe(sha256(payload));
  await until(() => channel.pendingWriteBytes === 0, 5000, 'WRITE-8 the last completions');
  expect(completed).toBe(payload.length);
  channel.close();
  return stalled;
}

describe('zero-copy sends (WRITE-8)', () => {
  it('WRITE-8 a zero-copy write completes only when the kernel is done with its memory, not when the socket takes it', async () => {
    // With copies, a write completes once its bytes are in the socket's send queue; with zero
    // copy, the kernel still reads the lease there, and on loopback lets go of it only once the
    // peer's receive queue takes the bytes. A peer that stops reading shows the difference: the
    // send queue's worth of writes (megabytes on loopback) that have not completed.
    const copying = createEventLoop();
    const copied = await completedWhilePeerStalls(copying);
    await copying.close();
    const zeroCopy = createEventLoop({ zeroCopyThreshold: 1024 });
    const zeroCopied = await completedWhilePeerStalls(zeroCopy);
    expect(zeroCopy.stats().zeroCopyCopied).toBeGreaterThan(0);
    await zeroCopy.close();
    expect(zeroCopied).toBeLessThan(copied - 256 * 1024);
  });

  it('WRITE-8 LOOP-9 off unless asked: no capability and no zero-copy send by default; application memory is always copied', async () => {
    const loop = createEventLoop();
    expect(loop.capabilities.zeroCopySend).toBe(false);
    await loop.close();
    // Asked for, but a write of the application's own memory: it could be detached or
    // transferred while the kernel still read it (WRITE-12), so it is copied.
    const asked = createEventLoop({ zeroCopyThreshold: 1 });
    expect(asked.capabilities.zeroCopySend).toBe(true);
    const { channel, peer } = await connectToNetPeer(asked, {});
    const received = readAll(peer);
    const payload = randomBytes(4 * 1024 * 1024);
    channel.write(payload);
    channel.shutdown();
    expect(sha256(await watchdog(received, 10_000, 'WRITE-8 the write'))).toBe(sha256(payload));
    expect(asked.stats().zeroCopyCopied).toBe(0);
    channel.close();
    await asked.close();
  });

  it.each([0, -1, 1.5, 2 ** 31, '4096', Number.POSITIVE_INFINITY])(
    'ERR-1 zeroCopyThreshold %s is refused with a coded error, before the loop opens anything',
    (value) => {
      expect(() => createEventLoop({ zeroCopyThreshold: value as number })).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^ERR_IOLEASE_(OUT_OF_RANGE|INVALID_ARG_TYPE)$/) }),
      );
    },
  );
});
