import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Channel, IoleaseError, Lease, Listener } from '@iolease/interfaces';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeListener,
  collectingHandler,
  deferred,
  echoHandler,
  randomBytes,
  readAll,
  sha256,
  sleep,
  until,
  watchdog,
} from '../helpers.js';
import type { Kit } from '../kit.js';

/** A node:net client on the Unix socket at `path`; resolves once connected. */
function unixConnect(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Whether a user with no rights of its own (`nobody`) can run this Node here: the binary
 * executable by others and every directory on the way to it searchable by them, and the same for
 * the working directory, where the child resolves the backend's package from. An npx-cached Node
 * under `/root`, or a mutation run's private sandbox, is not, so the test that needs it is skipped
 * there.
 */
function nodeRunnableByOthers(): boolean {
  return reachableByOthers(process.execPath) && reachableByOthers(process.cwd());
}

function reachableByOthers(start: string): boolean {
  let path = start;
  if ((statSync(path).mode & 0o001) === 0) return false;
  while (path !== dirname(path)) {
    path = dirname(path);
    if ((statSync(path).mode & 0o001) === 0) return false;
  }
  return true;
}

/** Registers the suite against one backend: LIFE-20, the echo, pressure, read-interest and lifecycle rules over Unix sockets. */
export function unixSuite(kit: Kit): void {
  const { withLoop } = kit;

  describe.skipIf(!kit.has('unixSockets'))('Unix domain sockets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iolease-unix-'));
    let n = 0;
    const socketPath = () => join(dir, `s${n++}.sock`);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('LIFE-20 LIFE-1 WRITE-5 echo: 20 node:net clients × 256 KiB come back byte for byte; addresses are the path', async () => {
      await withLoop(undefined, async (loop) => {
        const path = socketPath();
        const accepted: Channel[] = [];
        const listener = await loop.listen({ path }, (channel) => {
          accepted.push(channel);
          return echoHandler({ onError: () => undefined });
        });
        expect(listener.address).toEqual({ family: 'Unix', address: path, port: 0 });
        expect(statSync(path).isSocket()).toBe(true);
        const results = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const payload = randomBytes(256 * 1024);
            const socket = await unixConnect(path);
            const echoed = readAll(socket);
            socket.end(payload);
            return sha256(await echoed) === sha256(payload);
          }),
        );
        expect(results.every(Boolean)).toBe(true);
        expect(accepted[0]?.localAddress).toEqual({ family: 'Unix', address: path, port: 0 });
        expect(accepted[0]?.remoteAddress).toEqual({ family: 'Unix', address: '', port: 0 });
        await closeListener(listener);
      });
    });

    it('LIFE-20 LIFE-3 LIFE-4 LIFE-5 a loop channel connects by path: addresses, half-close both ways, then it closes', async () => {
      await withLoop(undefined, async (loop) => {
        const path = socketPath();
        const server = net.createServer({ allowHalfOpen: true });
        await new Promise<void>((resolve) => server.listen({ path }, resolve));
        const peerSocket = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
        const handler = collectingHandler();
        const channel = await loop.connect({ path }, handler);
        const peer = await peerSocket;
        expect(channel.remoteAddress).toEqual({ family: 'Unix', address: path, port: 0 });
        expect(channel.localAddress).toEqual({ family: 'Unix', address: '', port: 0 });
        const toPeer = readAll(peer);
        const payload = randomBytes(300_000);
        channel.write(payload);
        channel.shutdown();
        expect(sha256(await watchdog(toPeer, 10_000, 'LIFE-4 FIN after the data'))).toBe(sha256(payload));
        const back = randomBytes(100_000);
        peer.end(back);
        expect(sha256(await watchdog(handler.ended.promise, 10_000, 'LIFE-5 onEnd'))).toBe(sha256(back));
        await watchdog(handler.closed.promise, 10_000, 'LIFE-5 closes once both ended');
        server.close();
      });
    });

    it('LIFE-20 PRESS-1 PRESS-2 pool pressure: 20 clients through 4 × 512 B buffers, every byte in order', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 4 }] }, async (loop) => {
        const path = socketPath();
        await loop.listen({ path }, () => echoHandler({ onError: () => undefined }));
        const ok = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const payload = randomBytes(20_000 + i * 997);
            const socket = await unixConnect(path);
            const echoed = readAll(socket);
            socket.end(payload);
            return (await echoed).equals(payload);
          }),
        );
        expect(ok.every(Boolean)).toBe(true);
        expect(loop.pool.stats().classes[0]?.available).toBe(4);
      });
    });

    it('LIFE-20 READ-1 READ-4 read interest: with autoRead off nothing is delivered until read(), then one delivery', async () => {
      await withLoop(undefined, async (loop) => {
        const path = socketPath();
        const reads: number[] = [];
        const accepted = deferred<Channel>();
        await loop.listen({ path, autoRead: false }, (channel) => {
          accepted.resolve(channel);
          return {
            onRead(_c: Channel, lease: Lease) {
              reads.push(lease.length);
              lease.release();
            },
            onError: () => undefined,
          };
        });
        const socket = await unixConnect(path);
        socket.write(randomBytes(1000));
        const channel = await watchdog(accepted.promise, 5000, 'LIFE-1 accept');
        await sleep(100);
        expect(reads, 'READ-1 nothing without read()').toEqual([]);
        channel.read();
        await until(() => reads.length === 1, 5000, 'READ-4 one delivery');
        await sleep(50);
        expect(reads).toHaveLength(1);
        socket.destroy();
      });
    });

    it('LIFE-21 LIFE-6 reset() closes (a Unix socket has no RST); setNoDelay and setKeepAlive do nothing', async () => {
      await withLoop(undefined, async (loop) => {
        const path = socketPath();
        const accepted = deferred<Channel>();
        await loop.listen({ path }, (channel) => {
          accepted.resolve(channel);
          return { onError: () => undefined };
        });
        const socket = await unixConnect(path);
        const ended = new Promise((resolve) => {
          socket.on('end', () => resolve('end'));
          socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code));
        });
        socket.resume();
        const channel = await accepted.promise;
        expect(() => channel.setNoDelay(true)).not.toThrow();
        expect(() => channel.setKeepAlive(true, 1000)).not.toThrow();
        channel.reset();
        expect(await watchdog(ended, 5000, 'LIFE-6 the peer sees the close')).toBe('end');
        // The connecting side too.
        const ours = await loop.connect({ path }, { onError: () => undefined });
        expect(() => ours.setNoDelay(true)).not.toThrow();
        expect(() => ours.setKeepAlive(true, 1000)).not.toThrow();
        ours.reset();
        await until(() => ours.state === 'closed', 5000, 'LIFE-6 closed');
      });
    });

    it('LIFE-21 LIFE-10 LIFE-11 the listener removes its socket file on close', async () => {
      await withLoop(undefined, async (loop) => {
        const path = socketPath();
        const listener = await loop.listen({ path }, () => echoHandler());
        expect(existsSync(path)).toBe(true);
        await closeListener(listener);
        expect(existsSync(path), 'its own socket file is removed').toBe(false);
        // And the path is free again for the next listener.
        await (await loop.listen({ path }, () => echoHandler())).close();
      });
    });

    it('LIFE-21 LIFE-20 ERR-3 an existing path is EADDRINUSE and never removed; a missing directory is ENOENT', async () => {
      await withLoop(undefined, async (loop) => {
        const file = socketPath();
        writeFileSync(file, 'keep me');
        await expect(loop.listen({ path: file }, () => ({}))).rejects.toMatchObject({
          code: 'EADDRINUSE',
          syscall: 'listen',
          address: file,
        });
        expect(readFileSync(file, 'utf8')).toBe('keep me');
        const busy = socketPath();
        const first = await loop.listen({ path: busy }, () => ({}));
        await expect(loop.listen({ path: busy }, () => ({}))).rejects.toMatchObject({ code: 'EADDRINUSE' });
        await first.close();
        const missing = join(dir, 'no-such-dir', 'x.sock');
        await expect(loop.listen({ path: missing }, () => ({}))).rejects.toMatchObject({
          code: 'ENOENT',
          errno: -2,
          syscall: 'listen',
          address: missing,
          message: `listen ENOENT ${missing}`,
        });
        const error = (await loop.connect({ path: missing }).catch((e: IoleaseError) => e)) as IoleaseError & {
          port?: number;
        };
        // As node:net words it: the path alone, no port (LIFE-20).
        expect(error).toMatchObject({
          code: 'ENOENT',
          syscall: 'connect',
          address: missing,
          message: `connect ENOENT ${missing}`,
        });
        expect(error.port).toBeUndefined();
        expect(loop.stats()).toMatchObject({ listenersOpen: 0, channelsOpen: 0 });
      });
    });

    it('LIFE-20 ERR-1 ERR-2 bad paths are argument errors before anything is opened', async () => {
      await withLoop(undefined, async (loop) => {
        const invalid = expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' });
        const tooLong = join(dir, 'x'.repeat(120));
        expect(() => loop.listen({ path: tooLong }, () => ({}))).toThrow(invalid);
        expect(() => loop.connect({ path: tooLong })).toThrow(invalid);
        expect(() => loop.listen({ path: '' }, () => ({}))).toThrow(invalid);
        expect(() => loop.listen({ path: socketPath(), port: 0 }, () => ({}))).toThrow(invalid);
        expect(() => loop.listen({ path: socketPath(), host: '127.0.0.1' }, () => ({}))).toThrow(invalid);
        expect(() => loop.connect({ path: socketPath(), port: 80 })).toThrow(invalid);
        expect(() => loop.listen({ path: 5 } as never, () => ({}))).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
        );
        expect(existsSync(tooLong)).toBe(false);
        expect(loop.stats()).toMatchObject({ listenersOpen: 0, channelsOpen: 0 });
      });
    });

    it.skipIf(process.platform !== 'linux')(
      'LIFE-20 abstract names (Linux): listen and connect by a name starting with \\0, no file made',
      async () => {
        await withLoop(undefined, async (loop) => {
          const name = `\0iolease-${process.pid}-${n++}`;
          const listener: Listener = await loop.listen({ path: name }, () => echoHandler());
          expect(listener.address).toEqual({ family: 'Unix', address: name, port: 0 });
          const handler = collectingHandler();
          const channel = await loop.connect({ path: name }, handler);
          channel.write(Buffer.from('abstract'));
          channel.shutdown();
          expect((await watchdog(handler.ended.promise, 5000, 'echo')).toString()).toBe('abstract');
          await closeListener(listener);
        });
      },
    );

    it.skipIf(kit.backend.inChildProcess === undefined || process.getuid?.() !== 0 || !nodeRunnableByOthers())(
      'LIFE-20 ERR-3 no permission to the directory, or to a port below the unprivileged ones: EACCES (run as an unprivileged user)',
      async () => {
        // Root passes every permission check, so a child that drops to `nobody` tries it.
        const locked = join(dir, 'locked');
        mkdirSync(locked, { mode: 0o700 });
        // Port 1 needs privilege unless the system lets anyone bind every port.
        const privileged = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) > 1;
        const child = kit.backend.inChildProcess as { import: string; create: string };
        const script = `${child.import}
          const loop = await (${child.create});
          const path = ${JSON.stringify(join(locked, 'x.sock'))};
          const codes = [];
          await loop.listen({ path }, () => ({})).catch((e) => codes.push(e.code + ' ' + e.syscall));
          await loop.connect({ path }).catch((e) => codes.push(e.code + ' ' + e.syscall));
          // Below the locked directory: whether its subdirectory exists cannot be known.
          const deeper = ${JSON.stringify(join(locked, 'sub', 'x.sock'))};
          await loop.listen({ path: deeper }, () => ({})).catch((e) => codes.push(e.code + ' ' + e.syscall));
          if (${privileged}) await loop.listen({ port: 1 }, () => ({})).catch((e) => codes.push(e.code + ' ' + e.syscall));
          console.log(JSON.stringify(codes));
          await loop.close();`;
        const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
          stdio: ['ignore', 'pipe', 'inherit'],
          uid: 65534,
          gid: 65534,
        });
        let out = '';
        proc.stdout.on('data', (d) => {
          out += d;
        });
        const code = await new Promise((resolve, reject) => {
          proc.once('exit', resolve);
          proc.once('error', reject);
        });
        expect(code).toBe(0);
        expect(JSON.parse(out)).toEqual([
          'EACCES listen',
          'EACCES connect',
          'EACCES listen',
          ...(privileged ? ['EACCES listen'] : []),
        ]);
      },
    );
  });
}
