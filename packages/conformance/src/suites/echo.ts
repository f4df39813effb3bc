import { describe, expect, it } from 'vitest';
import { closeListener, echoServer, netConnect, randomBytes, readAll, sha256, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend. */
export function echoSuite(kit: Kit): void {
  const { withLoop } = kit;

  describe('accept, connect and echo', () => {
    it('LIFE-1 LIFE-2 echoes a node:net client byte for byte on IPv4', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        expect(listener.address).toMatchObject({ family: 'IPv4', address: '127.0.0.1' });
        expect(listener.address.port).toBeGreaterThan(0);
        const socket = await netConnect(listener.address.port);
        const payload = randomBytes(300_000);
        const received = readAll(socket);
        socket.end(payload);
        expect(sha256(await received)).toBe(sha256(payload));
        await closeListener(listener);
      });
    });

    it.skipIf(!kit.has('ipv6'))('LIFE-1 listens and echoes on IPv6', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop, '::1');
        expect(listener.address).toMatchObject({ family: 'IPv6', address: '::1' });
        const socket = await netConnect(listener.address.port, '::1');
        const received = readAll(socket);
        socket.end('over IPv6');
        expect((await received).toString()).toBe('over IPv6');
      });
    });

    it('LIFE-3 connects a client channel to its own listener, with addresses on both ends', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        const chunks: Buffer[] = [];
        let ended!: () => void;
        const done = new Promise<void>((resolve) => {
          ended = resolve;
        });
        const client = await loop.connect(
          { port: listener.address.port },
          {
            onRead(_c, lease) {
              chunks.push(Buffer.from(lease.bytes));
              lease.release();
            },
            onEnd: () => ended(),
          },
        );
        expect(client.state).toBe('open');
        expect(client.remoteAddress).toEqual(listener.address);
        expect(client.localAddress.address).toBe('127.0.0.1');
        const parts = [Buffer.from('one '), Buffer.from('two '), Buffer.from('three')];
        client.write(parts);
        client.shutdown();
        await watchdog(done, 10_000, 'LIFE-3 the echo of a vectored write, then its end', () => ({
          received: Buffer.concat(chunks).toString(),
          pendingWriteBytes: client.pendingWriteBytes,
        }));
        expect(Buffer.concat(chunks).toString()).toBe('one two three');
        // A few buffers taken from a pool of thousands exhaust nothing (PRESS-4).
        expect(loop.pool.stats().pressureEvents, 'PRESS-4 no pressure without exhaustion').toBe(0);
        client.close();
      });
    });

    it('LIFE-3 ERR-3 rejects connect to a closed port with ECONNREFUSED', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        const port = listener.address.port;
        await closeListener(listener);
        // As Node's: the address and port the connect was for are properties (ERR-3).
        await expect(watchdog(loop.connect({ port }), 5000, 'LIFE-3 a refused connect')).rejects.toMatchObject({
          code: 'ECONNREFUSED',
          syscall: 'connect',
          errno: -111,
          address: '127.0.0.1',
          port,
          message: `connect ECONNREFUSED 127.0.0.1:${port}`,
        });
        expect(loop.stats().channelsOpen).toBe(0);
      });
    });

    it('LIFE-1 ERR-3 rejects a second listen on a busy port with EADDRINUSE', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        await expect(
          watchdog(
            loop.listen({ port: listener.address.port }, () => undefined),
            10_000,
            'LIFE-1 a listen refused',
          ),
        ).rejects.toMatchObject({
          code: 'EADDRINUSE',
          syscall: 'listen',
        });
      });
    });

    it.skipIf(!kit.has('reusePort'))('LIFE-1 shares a port between two listeners with reusePort', async () => {
      await withLoop(undefined, async (loop) => {
        const a = await loop.listen({ port: 0, reusePort: true }, () => undefined);
        const b = await loop.listen({ port: a.address.port, reusePort: true }, () => undefined);
        expect(b.address.port).toBe(a.address.port);
      });
    });

    it('LIFE-11 closing a listener keeps accepted channels open', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        const socket = await netConnect(listener.address.port);
        socket.write('before');
        await new Promise((resolve) => socket.once('data', resolve));
        await closeListener(listener);
        expect(listener.closed).toBe(true);
        const received = readAll(socket);
        socket.end('after');
        expect((await received).toString()).toBe('after');
        await expect(netConnect(listener.address.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      });
    });
  });
}
