// The io_uring listener's own bookkeeping (LIFE-11, LIFE-15), which the kit sees only through
// its effects: slots handed from a closed listener to new connections, close while accepting.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoHandler, netConnect, readAll, until, usingLoop, watchdog } from '@iolease/conformance';
import type { Channel } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { createEventLoop } from '../src/index.ts';
import type { UringListener } from '../src/listener.ts';

const { ECANCELED } = constants.errno;

describe('the io_uring listener', () => {
  it('LIFE-21 a Unix listener removes its socket file on close, but not a file or socket put at the path since', async () => {
    const loop = createEventLoop();
    const dir = mkdtempSync(join(tmpdir(), 'iolease-unix-'));
    try {
      const path = join(dir, 'a.sock');
      const own = await loop.listen({ path }, () => echoHandler());
      await own.close();
      expect(existsSync(path)).toBe(false);
      const replaced = await loop.listen({ path }, () => echoHandler());
      rmSync(path);
      writeFileSync(path, 'not a socket');
      await replaced.close();
      expect(readFileSync(path, 'utf8')).toBe('not a socket');
      // Nor another listener's socket put there since.
      rmSync(path);
      const first = await loop.listen({ path }, () => echoHandler());
      rmSync(path);
      const second = await loop.listen({ path }, () => echoHandler());
      await first.close();
      expect(existsSync(path), "the second listener's socket stays").toBe(true);
      await second.close();
      expect(existsSync(path)).toBe(false);
    } finally {
      await loop.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('LIFE-1 one multishot accept per listener however many it accepted: closing it cancels one', async () => {
    // The accept stays armed while the kernel says more will come (IORING_CQE_F_MORE); arming
    // another on each connection would leave one more kernel request per accepted connection
    // queued on the socket for the listener's whole life.
    await usingLoop(createEventLoop(), async (loop) => {
      const listener = (await loop.listen({ port: 0 }, () => echoHandler())) as UringListener;
      const results: number[] = [];
      const onAccept = listener.onAccept.bind(listener);
      listener.onAccept = (res, flags) => {
        results.push(res);
        onAccept(res, flags);
      };
      const clients = [];
      for (let i = 0; i < 20; i++) clients.push(await netConnect(listener.address.port));
      await until(() => results.length === 20, 5000, 'LIFE-1 twenty connections accepted');
      await watchdog(listener.close(), 10_000, 'LIFE-11 close');
      expect(results.filter((res) => res >= 0)).toHaveLength(20);
      expect(results.slice(20), 'the one armed accept, cancelled').toEqual([-ECANCELED]);
      for (const socket of clients) socket.destroy();
    });
  });

  it('LIFE-11 a closed listener gives its slot back, and the connection that gets it is served', async () => {
    await usingLoop(createEventLoop(), async (loop) => {
      // The first listener takes the first slot (0); once it is closed, the next connection the
      // second listener accepts gets that slot.
      const first = await loop.listen({ port: 0 }, () => echoHandler());
      const second = await loop.listen({ port: 0 }, () => echoHandler());
      await first.close();
      // Cancelling its accept at close is no failed accept (LIFE-15).
      expect(first.acceptErrors).toBe(0);
      const socket = await netConnect(second.address.port);
      const echo = readAll(socket);
      socket.end('served in a reused slot');
      expect((await watchdog(echo, 5000, 'LIFE-11 slot reuse', () => loop.stats())).toString()).toBe(
        'served in a reused slot',
      );
      expect(second.acceptErrors).toBe(0);
    });
  });

  it('LIFE-11 close() is idempotent, frees the port at once, and a connection racing it is closed, not handed over', async () => {
    await usingLoop(createEventLoop(), async (loop) => {
      let accepted = 0;
      const listener = await loop.listen({ port: 0 }, () => {
        accepted++;
        return echoHandler();
      });
      const port = listener.address.port;
      const racing = netConnect(port).catch(() => undefined);
      const closing = [listener.close(), listener.close()];
      await Promise.all(closing);
      await listener.close();
      expect(listener.closed).toBe(true);
      expect(loop.stats().listenersOpen).toBe(0);
      // The port is free again: the listening socket is gone, not lingering with an accept.
      const again = await loop.listen({ port }, () => echoHandler());
      await again.close();
      (await racing)?.destroy();
      expect(accepted).toBeLessThanOrEqual(1);
    });
  });

  it('LIFE-11 a listener closed from onAccept hands no later connection of the same batch to onAccept', async () => {
    await usingLoop(createEventLoop(), async (loop) => {
      let accepted = 0;
      const listener = await loop.listen({ port: 0 }, () => {
        accepted++;
        void listener.close();
        return echoHandler();
      });
      let clientsClosed = 0;
      const clients = Array.from({ length: 20 }, () => {
        const socket = net.connect(listener.address.port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.once('close', () => clientsClosed++);
        return socket;
      });
      // node:net connects on the next tick; then the thread blocks while the kernel completes
      // every handshake, so that one batch brings all the accepts.
      await new Promise((resolve) => process.nextTick(resolve));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      await until(() => accepted > 0, 5000, 'LIFE-11 the first accept');
      await watchdog(listener.close(), 5000, 'LIFE-11 closed');
      // Every other client is closed: accepted and closed by the listener, or reset by the kernel.
      await until(
        () => clientsClosed === 19,
        5000,
        'LIFE-11 the other clients closed',
        () => ({ clientsClosed, accepted, open: loop.stats().channelsOpen }),
      );
      expect(accepted).toBe(1);
      expect(loop.stats().channelsOpen).toBe(1);
      for (const socket of clients) socket.destroy();
    });
  });

  it('LIFE-2 ERR-6 onAccept may close the channel and still return a handler: nothing is thrown, nothing leaks', async () => {
    await usingLoop(createEventLoop(), async (loop) => {
      const closedEarly: Channel[] = [];
      const listener = await loop.listen({ port: 0 }, (channel) => {
        channel.close();
        closedEarly.push(channel);
        return echoHandler();
      });
      const socket = await netConnect(listener.address.port);
      socket.on('error', () => {});
      const ended = new Promise((resolve) => socket.once('close', resolve));
      await until(() => closedEarly.length === 1, 5000, 'accepted');
      await watchdog(ended, 5000, 'LIFE-7 closed by onAccept');
      await until(() => loop.stats().channelsOpen === 0, 5000, 'LIFE-7 closed');
      expect(closedEarly[0]?.state).toBe('closed');
    });
  });
});
