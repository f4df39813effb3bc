// Zero-copy sends (WRITE-8): which writes use them, when their completions run, and the option.
import {
  connectToNetPeer,
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

  it('WRITE-8 LIFE-10 loop.close() waits for the notifications of zero-copy sends, and resolves once the kernel lets go', async () => {
    // A pool that holds the whole payload, so the channel reads all of it before echoing: with
    // unread bytes in its receive queue, closing would reset the connection (which ends the
    // wait at once), not close it gracefully.
    const payload = randomBytes(12 * 1024 * 1024);
    const loop = createEventLoop({ zeroCopyThreshold: 1024, sizeClasses: [{ size: 65536, count: 256 }] });
    const leases: Lease[] = [];
    let received = 0;
    const completions: (string | undefined)[] = [];
    const { channel, peer } = await connectToNetPeer(loop, {
      onRead: (_c, lease) => {
        leases.push(lease);
        received += lease.length;
      },
    });
    peer.pause();
    peer.write(payload);
    await until(() => received === payload.length, 10_000, 'the whole payload read');
    for (const lease of leases) {
      channel.write(lease.bytes, (error) => {
        completions.push(error?.code);
        lease.release();
      });
    }
    // The peer's receive queue fills, then ours to send, where zero-copy sends wait for the
    // peer to read.
    await sleep(300);
    let closed = false;
    const closing = loop.close().then(() => {
      closed = true;
    });
    await sleep(500);
    expect(closed, 'LIFE-10 the loop waits for the notifications').toBe(false);
    peer.on('data', () => undefined);
    peer.resume();
    await watchdog(closing, 20_000, 'LIFE-10 loop.close() after the peer read', () => ({
      pending: channel.pendingWriteBytes,
      completions: completions.length,
    }));
    expect(channel.state).toBe('closed');
    expect(completions).toHaveLength(leases.length);
    // What the kernel had taken succeeded; what it had not failed with the close (WRITE-9).
    expect(completions.filter((c) => c === undefined).length).toBeGreaterThan(0);
    expect(completions.filter((c) => c !== undefined).every((c) => c === 'ERR_IOLEASE_CHANNEL_CLOSED')).toBe(true);
    peer.destroy();
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

  it('WRITE-8 the threshold is inclusive: a write of exactly zeroCopyThreshold bytes of leases is sent with zero copy, one byte less is copied, and application memory never', async () => {
    // On loopback the kernel copies every zero-copy send and says so: zeroCopyCopied counts them.
    for (const [threshold, memory, zeroCopy] of [
      [4096, 'leases', true],
      [4097, 'leases', false],
      [4096, 'application', false],
    ] as const) {
      await usingLoop(
        createEventLoop({ zeroCopyThreshold: threshold, sizeClasses: [{ size: 1024, count: 16 }] }),
        async (loop) => {
          const leases: Lease[] = [];
          let completed = false;
          const { channel, peer } = await connectToNetPeer(loop, {
            onRead: (c, lease) => {
              leases.push(lease);
              // The whole message as one write of 4096 bytes, from the pool's memory.
              if (leases.reduce((n, l) => n + l.length, 0) < 4096) return;
              c.write(
                leases.map((l) => (memory === 'leases' ? l.bytes : Uint8Array.from(l.bytes))),
                () => {
                  completed = true;
                  for (const l of leases) l.release();
                },
              );
            },
          });
          const echoed = readAll(peer);
          const payload = randomBytes(4096);
          peer.end(payload);
          await until(() => completed, 5000, 'WRITE-8 the write');
          channel.close();
          expect(sha256(await echoed)).toBe(sha256(payload));
          expect(loop.stats().zeroCopyCopied > 0, `threshold ${threshold}, ${memory}`).toBe(zeroCopy);
        },
      );
    }
  });

  it('WRITE-8 a write of one lease, not an array, is sent with zero copy too', async () => {
    // One message that fits one buffer, echoed as the lease's own view: the single-chunk send.
    await usingLoop(
      createEventLoop({ zeroCopyThreshold: 1024, sizeClasses: [{ size: 1024, count: 16 }] }),
      async (loop) => {
        let completed = false;
        const { channel, peer } = await connectToNetPeer(loop, {
          onRead: (c, lease) =>
            c.write(lease.bytes, () => {
              completed = true;
              lease.release();
            }),
        });
        const echoed = readAll(peer);
        const payload = randomBytes(1024);
        peer.end(payload);
        await until(() => completed, 5000, 'WRITE-8 the write');
        channel.close();
        expect(sha256(await echoed)).toBe(sha256(payload));
        expect(loop.stats().zeroCopyCopied).toBe(1);
      },
    );
  });
});
