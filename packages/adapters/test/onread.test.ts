import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { deferred } from '@iolease/conformance';
import { AdaptiveRecvByteBufferSizer, type Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { createLeasePool, leaseOnread, type OnreadSocket, onreadHandler } from '../src/index.ts';
import { backends, withBackend } from './backends.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Sends `payload` from a node:net client to `port` and ends. */
async function sendFromClient(port: number, payload: Buffer): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end(payload);
  await once(socket, 'close');
}

describe.each(backends)('onread code on the %s loop (onreadHandler)', (_name, create) => {
  it('a static buffer gets every byte, in order, in buffer-sized pieces', async () => {
    await withBackend(create, async (loop) => {
      const buffer = Buffer.alloc(100);
      const pieces: Buffer[] = [];
      let largest = 0;
      const done = deferred();
      const listener = await loop.listen({ port: 0 }, () =>
        onreadHandler(
          {
            buffer,
            callback(bytesRead, buf) {
              expect(buf).toBe(buffer);
              largest = Math.max(largest, bytesRead);
              pieces.push(Buffer.from(buf.subarray(0, bytesRead)));
            },
          },
          {
            onEnd: (channel) => {
              channel.shutdown();
              done.resolve();
            },
          },
        ),
      );
      const payload = randomBytes(300_000);
      await sendFromClient(listener.address.port, payload);
      await done.promise;
      expect(largest).toBe(100);
      expect(sha256(Buffer.concat(pieces))).toBe(sha256(payload));
      expect(loop.stats().pool.leasesOut).toBe(0);
    });
  });

  it('a buffer function and pausing callbacks: this.resume() continues where the pause left off', async () => {
    await withBackend(create, async (loop) => {
      let calls = 0;
      const pieces: Buffer[] = [];
      const done = deferred();
      const listener = await loop.listen({ port: 0 }, () =>
        onreadHandler(
          {
            buffer: () => {
              calls++;
              return new Uint8Array(777);
            },
            callback(this: OnreadSocket, bytesRead, buf) {
              pieces.push(Buffer.from(buf.subarray(0, bytesRead)));
              if (pieces.length % 10 !== 0) return true;
              setTimeout(() => this.resume(), 1);
              return false;
            },
          },
          {
            onEnd: (channel) => {
              channel.shutdown();
              done.resolve();
            },
          },
        ),
      );
      const payload = randomBytes(200_000);
      await sendFromClient(listener.address.port, payload);
      await done.promise;
      expect(sha256(Buffer.concat(pieces))).toBe(sha256(payload));
      expect(calls).toBe(pieces.length);
      expect(loop.stats().pool.leasesOut).toBe(0);
    });
  });

  it('rejects a bad onread with coded errors', () => {
    expect(() => onreadHandler({ buffer: 'x' as unknown as Uint8Array, callback: () => true })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(() => onreadHandler({ buffer: new Uint8Array(1), callback: 5 as unknown as () => boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
  });
});

describe('leases for plain net.Sockets (leaseOnread)', () => {
  it('every read is a lease from the shared pool; held leases pause the socket, releasing resumes it', async () => {
    const pool = createLeasePool([
      { size: 512, count: 4 },
      { size: 4096, count: 4 },
    ]);
    const payload = randomBytes(2 * 1024 * 1024);
    const server = net.createServer((s) => s.end(payload));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const held: Lease[] = [];
    const received: Buffer[] = [];
    let maxOut = 0;
    const onread = leaseOnread({
      pool,
      sizer: new AdaptiveRecvByteBufferSizer({ minimum: 64, initial: 512, maximum: 4096 }),
      onRead(lease) {
        const index = pool.classIndexFor(lease.sizeClass);
        const buffers = Array.from({ length: 4 }, (_, bufferId) => pool.memoryOf(index, bufferId));
        expect(buffers).toContain(lease.bytes.buffer);
        expect([lease.bytes.byteOffset, lease.bytes.buffer.byteLength]).toEqual([0, lease.capacity]);
        received.push(Buffer.from(lease.bytes));
        held.push(lease);
        maxOut = Math.max(maxOut, pool.stats().leasesOut);
        // Keep leases for a while, so the pool runs dry and the socket has to wait: without the
        // pause, every read after that would overflow the pool.
        if (held.length >= 3) {
          setTimeout(() => {
            for (const l of held.splice(0)) l.release();
          }, 2);
        }
      },
    });
    const socket = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', onread });
    await once(socket, 'end');
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const l of held.splice(0)) l.release();
    expect(sha256(Buffer.concat(received))).toBe(sha256(payload));
    expect(maxOut).toBeLessThanOrEqual(8);
    expect(pool.stats().leasesOut).toBe(0);
    expect(pool.stats().pressureEvents).toBeGreaterThan(0);
    expect(onread.overflowReads()).toBeLessThanOrEqual(pool.stats().pressureEvents);
    server.close();
  });

  it('rejects a pool that is not a lease pool, and a missing onRead', () => {
    expect(() => leaseOnread({ pool: {} as never, onRead: () => {} })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(() => leaseOnread({ pool: createLeasePool(), onRead: undefined as never })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
  });
});
