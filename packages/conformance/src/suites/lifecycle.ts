import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Channel, IoleaseError, Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import {
  connectToNetPeer,
  countOpenFds,
  deferred,
  echoServer,
  netConnect,
  randomBytes,
  readAll,
  sha256,
  sleep,
  until,
  watchdog,
} from '../helpers.js';
import type { Kit } from '../kit.js';

/** Open file descriptors of this process, where the platform shows them (Linux /proc). */
const canCountFds = existsSync('/proc/self/fd');
const code = (c: string) => expect.objectContaining({ code: c });
/** An argument error that names the argument, as Node's do (ERR-1). */
const naming = (c: string, argument: string) =>
  expect.objectContaining({ code: c, message: expect.stringContaining(`"${argument}"`) });

/** Registers the suite against one backend: loop lifecycle and bad input. */
export function lifecycleSuite(kit: Kit): void {
  const { withLoop, backend } = kit;

  describe('loop lifecycle', () => {
    it('LIFE-10 LIFE-7 close() closes every listener and channel as close() does (the peers see the end), once, and then refuses listen and connect', async () => {
      const loop = await backend.createLoop();
      const closes: number[] = [];
      const listener = await loop.listen({ port: 0 }, () => ({
        onRead: (c, l) => c.write(l.bytes, () => l.release()),
        onClose: (c) => closes.push(c.id),
      }));
      const clients = await Promise.all(Array.from({ length: 20 }, () => netConnect(listener.address.port)));
      const connected: Channel[] = [];
      for (let i = 0; i < 5; i++) connected.push(await loop.connect({ port: listener.address.port }, {}));
      await sleep(20);
      expect(loop.stats()).toMatchObject({ channelsOpen: 30, listenersOpen: 1 });
      // Each client hears its echo, so no server socket has unread bytes (those would make the
      // kernel reset the connection at close instead of ending it).
      const peerEnds = clients.map((c) => {
        let echoed = 0;
        c.on('data', (d: Buffer) => {
          echoed += d.length;
        });
        c.write('some traffic');
        return {
          echoed: () => echoed === 'some traffic'.length,
          ended: new Promise<string>((resolve) => {
            c.on('end', () => resolve('end'));
            c.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
          }),
        };
      });
      await until(() => peerEnds.every((p) => p.echoed()), 10_000, 'LIFE-10 echoes before close');
      const closing = loop.close();
      expect(loop.close()).toBe(closing); // idempotent
      await closing;
      expect(loop.closed).toBe(true);
      expect(listener.closed).toBe(true);
      expect(closes).toHaveLength(25);
      expect(connected.every((c) => c.state === 'closed')).toBe(true);
      expect(loop.stats()).toMatchObject({ channelsOpen: 0, listenersOpen: 0 });
      // Closed as close() closes (LIFE-7): the peers see the end of the stream, not a reset.
      const ends = await watchdog(Promise.all(peerEnds.map((p) => p.ended)), 10_000, 'LIFE-10 peers see the end');
      expect(new Set(ends)).toEqual(new Set(['end']));
      for (const c of clients) c.destroy();
      expect(() => loop.listen({ port: 0 }, () => undefined)).toThrow(code('ERR_IOLEASE_LOOP_CLOSED'));
      expect(() => loop.connect({ port: 1 })).toThrow(code('ERR_IOLEASE_LOOP_CLOSED'));
    });

    it("LIFE-10 LIFE-11 close() resolves only after every listener's own close() has", async () => {
      const loop = await backend.createLoop();
      const listeners = await Promise.all([0, 1].map(() => loop.listen({ port: 0 }, () => undefined)));
      const closing = loop.close();
      const order: string[] = [];
      const each = listeners.map((l, i) => l.close().then(() => order.push(`listener ${i}`)));
      await closing;
      order.push('loop');
      await Promise.all(each);
      expect(order).toEqual(['listener 0', 'listener 1', 'loop']);
    });

    it.skipIf(!canCountFds)('LIFE-10 fifty loops opened, used and closed leave no file descriptor open', async () => {
      const baseline = countOpenFds();
      for (let i = 0; i < 50; i++) {
        const loop = await backend.createLoop({ sizeClasses: [{ size: 4096, count: 64 }] });
        const listener = await echoServer(loop);
        const socket = await netConnect(listener.address.port);
        const echoed = readAll(socket);
        socket.end('x');
        await echoed;
        await loop.close();
      }
      await sleep(20);
      expect(countOpenFds()).toBe(baseline);
    });

    it('LOOP-3 timers keep firing while the loop is busy echoing', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        const payload = randomBytes(4 * 1024 * 1024);
        const sockets = await Promise.all(Array.from({ length: 8 }, () => netConnect(listener.address.port)));
        const results = sockets.map((s) => readAll(s));
        // Ticking starts with the traffic: making the payload and connecting are not the loop's time.
        const ticks: number[] = [performance.now()];
        const interval = setInterval(() => ticks.push(performance.now()), 1);
        for (const s of sockets) s.end(payload);
        const echoed = await Promise.all(results);
        clearInterval(interval);
        ticks.push(performance.now());
        for (const e of echoed) expect(sha256(e)).toBe(sha256(payload));
        // 32 MiB each way took many event-loop turns. A loop that blocked its thread, or starved
        // timers, would show one long gap between ticks, close to the whole transfer; the bound
        // scales with the machine, since an emulated CPU takes ten times longer for all of it.
        const longestGap = Math.max(...ticks.slice(1).map((t, i) => t - (ticks[i] as number)));
        const whole = (ticks.at(-1) as number) - (ticks[0] as number);
        expect(ticks.length).toBeGreaterThan(3);
        expect(longestGap).toBeLessThan(Math.max(250, whole / 4));
      });
    });
  });

  describe('connect and loop close', () => {
    it('LIFE-10 a listen() in flight when the loop closes resolves with a closed listener, or rejects as it would have; close() waits for both', async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        // A listen that fails, alone in flight: close() waits for its failure, not for good.
        const failing = await backend.createLoop();
        const refused = failing.listen({ port: (taken.address() as net.AddressInfo).port }, () => undefined);
        refused.catch(() => {}); // awaited below, after close()
        await watchdog(failing.close(), 5000, 'LIFE-10 close() with a failing listen in flight');
        await expect(refused).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'listen' });
        // A listen that succeeds: its listener is closed with the loop.
        const loop = await backend.createLoop();
        const listening = loop.listen({ port: 0 }, () => undefined);
        await watchdog(loop.close(), 5000, 'LIFE-10 close() with a listen in flight');
        const listener = await listening;
        expect(listener.closed).toBe(true);
        expect(loop.stats().listenersOpen).toBe(0);
        // Its socket is closed: nothing accepts on its port any more.
        const probe = net.connect(listener.address.port, '127.0.0.1');
        const outcome = await new Promise<string>((resolve) => {
          probe.once('connect', () => resolve('connected'));
          probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        probe.destroy();
        expect(outcome).toBe('ECONNREFUSED');
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });

    it('LIFE-3 LIFE-10 a connect in flight when the loop closes rejects with LOOP_CLOSED, with no handler callback', async () => {
      const server = net.createServer((s) => s.destroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const loop = await backend.createLoop();
      const calls: string[] = [];
      const record = (name: string) => () => calls.push(name);
      const pending = loop.connect(
        { port },
        {
          onRead: record('onRead'),
          onEnd: record('onEnd'),
          onError: record('onError'),
          onWritabilityChanged: record('onWritabilityChanged'),
          onClose: record('onClose'),
        },
      );
      const closing = loop.close();
      await expect(watchdog(pending, 10_000, 'LIFE-10 a connect in flight at close')).rejects.toMatchObject({
        code: 'ERR_IOLEASE_LOOP_CLOSED',
      });
      await watchdog(closing, 10_000, 'LIFE-10');
      expect(calls).toEqual([]);
      server.close();
    });
  });

  describe('connect timeout and abort', () => {
    /**
     * A port whose connects hang: a child process listens with a backlog of 1 and then blocks, so
     * its accept queue fills and the kernel drops further SYNs. The child exits by itself after
     * 20 s: a backend that never gives a connect up leaves the test stuck before its `stop()`,
     * and a child listening for good would keep the test runner from ever exiting.
     */
    async function hangingPort(): Promise<{ port: number; fillers: net.Socket[]; stop: () => void }> {
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const s = require('node:net').createServer();
           s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
             console.log(s.address().port);
             Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
             process.exit(0);
           });`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d)))));
      const fillers: net.Socket[] = [];
      for (let i = 0; i < 3; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        fillers.push(s);
      }
      await sleep(50);
      return {
        port,
        fillers,
        stop: () => {
          for (const s of fillers) s.destroy();
          child.kill('SIGKILL');
        },
      };
    }

    it('LIFE-16 a connect with a timeout that passes rejects with ETIMEDOUT and calls no handler callback', async () => {
      const hang = await hangingPort();
      try {
        await withLoop(undefined, async (loop) => {
          const calls: string[] = [];
          const started = Date.now();
          await expect(
            watchdog(
              loop.connect({ port: hang.port, timeout: 200 }, { onClose: () => calls.push('onClose') }),
              5000,
              'LIFE-16 a connect past its timeout given up',
            ),
          ).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect', address: '127.0.0.1', port: hang.port });
          expect(Date.now() - started).toBeGreaterThanOrEqual(150);
          await until(() => loop.stats().channelsOpen === 0, 5000, 'LIFE-16 abandoned');
          await sleep(20);
          expect(calls).toEqual([]);
        });
      } finally {
        hang.stop();
      }
    });

    it('LIFE-16 a connect that completes in time is done with its timeout and signal: neither closes the channel later', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await echoServer(loop);
        const controller = new AbortController();
        const received: Buffer[] = [];
        const channel = await loop.connect(
          { port: listener.address.port, timeout: 100, signal: controller.signal },
          {
            onRead: (_c, lease) => {
              received.push(Buffer.from(lease.bytes));
              lease.release();
            },
          },
        );
        await sleep(200); // past the timeout
        controller.abort();
        await sleep(20);
        expect(channel.state, 'LIFE-16 connected, then closed by its timeout or signal').toBe('open');
        channel.write(Buffer.from('still here'));
        await until(() => Buffer.concat(received).toString() === 'still here', 5000, 'LIFE-16 echo');
        channel.close();
      });
    });

    it('LIFE-16 LIFE-10 a connect given up, then the loop closed at once: close() resolves, no callback runs, nothing is reported', async () => {
      // The loop closes while the abandoned connect is still being cancelled: its last word
      // arrives for a channel nobody waits for any more.
      const hang = await hangingPort();
      const uncaught: unknown[] = [];
      const onUncaught = (error: unknown) => uncaught.push(error);
      process.prependListener('uncaughtException', onUncaught);
      try {
        for (const giveUp of ['timeout', 'signal'] as const) {
          await withLoop(undefined, async (loop) => {
            const calls: string[] = [];
            const controller = new AbortController();
            const pending = loop.connect(
              giveUp === 'timeout' ? { port: hang.port, timeout: 50 } : { port: hang.port, signal: controller.signal },
              { onClose: () => calls.push('onClose'), onError: () => calls.push('onError') },
            );
            if (giveUp === 'signal') setTimeout(() => controller.abort(), 50);
            await expect(
              watchdog(pending, 5000, `LIFE-16 a connect given up by its ${giveUp}`),
              giveUp,
            ).rejects.toMatchObject({
              code: giveUp === 'timeout' ? 'ETIMEDOUT' : 'ERR_IOLEASE_ABORTED',
            });
            await watchdog(loop.close(), 5000, `LIFE-10 close() after a connect given up by its ${giveUp}`);
            expect(calls, giveUp).toEqual([]);
          });
        }
        await sleep(20);
        expect(uncaught).toEqual([]);
      } finally {
        process.removeListener('uncaughtException', onUncaught);
        hang.stop();
      }
    });

    it('LIFE-16 a connect given up through its AbortSignal rejects with ERR_IOLEASE_ABORTED; an aborted one opens nothing', async () => {
      const hang = await hangingPort();
      try {
        await withLoop(undefined, async (loop) => {
          const controller = new AbortController();
          const pending = loop.connect({ port: hang.port, signal: controller.signal });
          setTimeout(() => controller.abort(new Error('changed my mind')), 50);
          const error = await watchdog(pending, 5000, 'LIFE-16 a connect given up by its signal').then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toMatchObject({ code: 'ERR_IOLEASE_ABORTED', cause: { message: 'changed my mind' } });
          await until(() => loop.stats().channelsOpen === 0, 5000, 'LIFE-16 abandoned');
          const already = loop.connect({ port: hang.port, signal: AbortSignal.abort() });
          expect(loop.stats().channelsOpen).toBe(0);
          await expect(watchdog(already, 5000, 'LIFE-16 a connect with an aborted signal')).rejects.toMatchObject({
            code: 'ERR_IOLEASE_ABORTED',
          });
          expect(() => loop.connect({ port: hang.port, signal: {} as never })).toThrow(
            expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
          );
          expect(() => loop.connect({ port: hang.port, timeout: 0 })).toThrow(
            expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' }),
          );
        });
      } finally {
        hang.stop();
      }
    });
  });

  describe('hosts', () => {
    it('LIFE-17 ERR-2 "localhost" is 127.0.0.1; names, scope ids and a backlog out of range are argument errors', async () => {
      await withLoop(undefined, async (loop) => {
        const listener = await loop.listen({ host: 'localhost', port: 0 }, () => ({}));
        expect(listener.address).toMatchObject({ family: 'IPv4', address: '127.0.0.1' });
        const invalid = expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' });
        expect(() => loop.listen({ host: 'example.com', port: 0 }, () => ({}))).toThrow(invalid);
        expect(() => loop.connect({ host: 'fe80::1%lo', port: 9 })).toThrow(invalid);
        const range = expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' });
        expect(() => loop.listen({ port: 0, backlog: 0 }, () => ({}))).toThrow(range);
        expect(() => loop.listen({ port: 0, backlog: 65536 }, () => ({}))).toThrow(range);
        expect(loop.stats().listenersOpen).toBe(1);
      });
    });

    it.skipIf(!kit.has('ipv6'))(
      'LIFE-17 a listener on "::" takes IPv4 clients as IPv4-mapped IPv6 peers, unless ipv6Only',
      async () => {
        await withLoop(undefined, async (loop) => {
          const peers: { family: string; address: string }[] = [];
          const dual = await loop.listen({ host: '::', port: 0 }, (channel) => {
            peers.push(channel.remoteAddress);
            return {};
          });
          const client = await netConnect(dual.address.port, '127.0.0.1');
          await until(() => peers.length === 1, 5000, 'LIFE-17 accepted');
          expect(peers[0]).toMatchObject({ family: 'IPv6', address: '::ffff:127.0.0.1' });
          client.destroy();
          const accepted: Channel[] = [];
          const only = await loop.listen({ host: '::', port: 0, ipv6Only: true }, (channel) => {
            accepted.push(channel);
            return {};
          });
          const outcome = await netConnect(only.address.port, '127.0.0.1').then(
            (socket) => {
              socket.destroy();
              return 'connected';
            },
            (error: NodeJS.ErrnoException) => error.code,
          );
          if (outcome === 'connected') {
            // Another process's IPv4 listener holds the port: a v6-only bind does not conflict
            // with it (a dual-stack one would have), so the client reached that listener. A
            // listener that wrongly took IPv4 would have accepted it by now.
            await sleep(200);
            expect(accepted, 'LIFE-17 an ipv6Only listener accepted an IPv4 client').toEqual([]);
          } else {
            expect(outcome).toBe('ECONNREFUSED');
          }
        });
      },
    );
  });

  describe('socket options', () => {
    // The kernel's view of a socket's keep-alive timer, through iproute2's ss, where there is one.
    const ss = spawnSync('ss', ['-V']).status === 0;

    /** What the kernel has left of a connection's keep-alive timer, in ms, through ss. */
    const keepAliveLeft = (channel: Channel): { left: number; line: string } => {
      // ss prints the time left as [Nmin][S.|Ssec][MMMms]: "1.892ms" is 1 s 892 ms, "788ms", "2sec".
      const line = spawnSync('ss', [
        '-tnoH',
        'state',
        'established',
        `( sport = :${channel.localAddress.port} and dport = :${channel.remoteAddress.port} )`,
      ]).stdout.toString();
      const m = /keepalive,(?:(\d+)min)?(?:(\d+)(?:\.|sec))?(?:(\d+)ms)?,/.exec(line);
      expect(m, line).not.toBeNull();
      return { left: Number(m?.[1] ?? 0) * 60_000 + Number(m?.[2] ?? 0) * 1000 + Number(m?.[3] ?? 0), line };
    };

    it.skipIf(!ss)(
      'LIFE-18 setKeepAlive(true, ms) starts probing after ms rounded up to whole seconds, on connected and accepted channels',
      async () => {
        await withLoop(undefined, async (loop) => {
          const { channel, peer } = await connectToNetPeer(loop, {});
          const accepted = deferred<Channel>();
          const listener = await loop.listen({ port: 0 }, (c) => {
            accepted.resolve(c);
            return {};
          });
          const client = await netConnect(listener.address.port);
          const server = await watchdog(accepted.promise, 5000, 'LIFE-18 accepted');
          channel.setKeepAlive(true, 1500);
          server.setKeepAlive(true, 1500);
          await sleep(100);
          for (const c of [channel, server]) {
            const { left, line } = keepAliveLeft(c);
            // 2 s from the call, 100 ms ago: rounded down (1 s), less than 1 s would be left.
            expect(left, line).toBeGreaterThan(1500);
            expect(left, line).toBeLessThanOrEqual(2000);
          }
          channel.close();
          server.close();
          peer.destroy();
          client.destroy();
        });
      },
    );
  });

  describe('accepting', () => {
    for (const how of ['close', 'reset'] as const) {
      it(`LIFE-2 LIFE-19 onAccept may ${how}() its channel and still return a handler: nothing is thrown or reported, the peer sees the ${how === 'close' ? 'end' : 'reset'}`, async () => {
        await withLoop(undefined, async (loop) => {
          const calls: string[] = [];
          const listener = await loop.listen({ port: 0 }, (channel) => {
            channel[how]();
            return {
              onRead: () => calls.push('onRead'),
              onEnd: () => calls.push('onEnd'),
              onError: () => calls.push('onError'),
              onClose: () => calls.push('onClose'),
            };
          });
          // Not netConnect(): the reset may come before the client sees its own connect.
          const peer = net.connect(listener.address.port, '127.0.0.1');
          const seen = await watchdog(
            new Promise<string>((resolve) => {
              peer.on('data', () => {});
              peer.once('end', () => resolve('end'));
              peer.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
            }),
            5000,
            `LIFE-2 the peer of a channel ${how}d in onAccept`,
          );
          expect(seen).toBe(how === 'close' ? 'end' : 'ECONNRESET');
          await until(() => loop.stats().channelsOpen === 0, 5000, 'LIFE-2 the channel closed');
          // The handler came after the channel closed: closed channels take none (LIFE-19).
          expect(calls).toEqual([]);
          peer.destroy();
        });
      });
    }
  });

  describe('addresses', () => {
    it('LIFE-13 a channel keeps its own addresses after close and after a reset, whoever connects next', async () => {
      await withLoop(undefined, async (loop) => {
        const closed = new Map<Channel, { remote: number; local: number }>();
        const errored = new Map<Channel, number>();
        const accepted: Channel[] = [];
        const listener = await loop.listen({ port: 0 }, (channel) => {
          accepted.push(channel);
          // Nothing is read while the connection lives: the first look is after it ended.
          return {
            onEnd: (c) => c.shutdown(),
            onError: (c) => errored.set(c, c.remoteAddress.port),
            onClose: (c) => closed.set(c, { remote: c.remoteAddress.port, local: c.localAddress.port }),
          };
        });
        const port = listener.address.port;
        const first = await netConnect(port);
        const firstPort = first.localPort as number;
        first.end();
        await until(() => closed.size === 1, 10_000, 'LIFE-13 first closed');
        // New connections, likely in the first one's place (a slot, a socket object).
        const later = await Promise.all([netConnect(port), netConnect(port)]);
        const reset = await netConnect(port);
        const resetPort = reset.localPort as number;
        await until(() => accepted.length === 4, 10_000, 'LIFE-13 accepted');
        reset.resetAndDestroy();
        await until(() => errored.size === 1, 10_000, 'LIFE-13 reset');
        const firstChannel = accepted[0] as Channel;
        expect(closed.get(firstChannel)).toEqual({ remote: firstPort, local: port });
        expect(firstChannel.remoteAddress).toMatchObject({ address: '127.0.0.1', port: firstPort });
        expect(firstChannel.localAddress).toMatchObject({ address: '127.0.0.1', port });
        expect([...errored.values()]).toEqual([resetPort]);
        const resetChannel = accepted[3] as Channel;
        expect(resetChannel.remoteAddress.port).toBe(resetPort);
        for (const s of later) s.destroy();
      });
    });

    it('LIFE-13 a connection reset before it was accepted reports its own address or an empty one, never another', async () => {
      await withLoop(undefined, async (loop) => {
        const accepted = deferred<Channel>();
        const listener = await loop.listen({ port: 0 }, (channel) => {
          accepted.resolve(channel);
          return { onError: () => {} };
        });
        // The client is a worker thread, and this thread waits for it: the connection is made
        // and reset before this thread can take it from the listener.
        const shared = new Int32Array(new SharedArrayBuffer(4));
        const worker = new Worker(
          `const { workerData } = require('node:worker_threads');
           const net = require('node:net');
           const s = net.connect(workerData.port, '127.0.0.1', () => {
             const port = s.localPort;
             s.resetAndDestroy();
             Atomics.store(workerData.shared, 0, port);
             Atomics.notify(workerData.shared, 0);
           });`,
          { eval: true, workerData: { port: listener.address.port, shared } },
        );
        try {
          expect(Atomics.wait(shared, 0, 0, 5000), 'the worker connected').not.toBe('timed-out');
          const clientPort = shared[0] as number;
          const channel = await watchdog(accepted.promise, 5000, 'LIFE-13 accepted');
          const { address, port } = channel.remoteAddress;
          // Which one depends on whether the backend learnt the address before the reset.
          expect([`127.0.0.1:${clientPort}`, ':0']).toContain(`${address}:${port}`);
        } finally {
          await worker.terminate();
        }
      });
    });

    it('LIFE-13 a connected channel keeps the addresses of its connection when first asked after the peer reset it', async () => {
      const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      try {
        await withLoop(undefined, async (loop) => {
          const closed = deferred();
          let failure: IoleaseError | undefined;
          const channel = await loop.connect(
            { host: '127.0.0.1', port },
            {
              onError: (_c, error) => {
                failure = error;
              },
              onClose: () => closed.resolve(),
            },
          );
          channel.write(Buffer.from('x'));
          await watchdog(closed.promise, 10_000, 'LIFE-13 closed by the reset');
          expect(failure?.code).toBe('ECONNRESET');
          // Not asked before: the backend took them when the connection was made (LIFE-13).
          expect(channel.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
          expect(channel.localAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' });
          expect(channel.localAddress.port).toBeGreaterThan(0);
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('after close', () => {
    for (const how of ['close', 'reset'] as const) {
      it(`LIFE-14 POOL-5 after ${how}() returns inside onRead, no onRead, onEnd, onError or writability change follows`, async () => {
        await withLoop({ sizeClasses: [{ size: 512, count: 64 }] }, async (loop) => {
          const after: string[] = [];
          let ended = false;
          const closed = deferred();
          const listener = await loop.listen({ port: 0 }, () => ({
            onRead(channel, lease) {
              lease.release();
              if (ended) {
                after.push('onRead');
                return;
              }
              // Unwritable first, so a writability change is pending when the channel ends.
              channel.setWaterMarks({ low: 0, high: 1 });
              channel.write(new Uint8Array(64 * 1024));
              ended = true;
              channel[how]();
            },
            onEnd: () => {
              if (ended) after.push('onEnd');
            },
            onError: () => {
              if (ended) after.push('onError');
            },
            onWritabilityChanged: () => {
              if (ended) after.push('onWritabilityChanged');
            },
            onClose: () => closed.resolve(),
          }));
          const socket = await netConnect(listener.address.port);
          socket.on('error', () => {});
          // Many small writes, so more data is on its way when the first read closes the channel.
          for (let i = 0; i < 50; i++) socket.write(randomBytes(300));
          socket.end();
          await watchdog(closed.promise, 10_000, 'LIFE-14');
          await sleep(50);
          expect(after).toEqual([]);
          expect(loop.pool.stats().leasesOut).toBe(0);
          socket.destroy();
        });
      });
    }

    it('LIFE-8 WRITE-9 LIFE-19 a connection that fails under pending writes: onError, then the writes fail with its error (a close() in onError changes nothing), then onClose', async () => {
      await withLoop(undefined, async (loop) => {
        const events: string[] = [];
        const closed = deferred();
        const { channel, peer } = await connectToNetPeer(loop, {
          onError: (c, error) => {
            events.push(`onError ${(error as { code?: string }).code}`);
            // As many applications do: the channel is closed already, so this changes nothing,
            // not even the error the writes fail with (LIFE-19).
            c.close();
          },
          onClose: () => {
            events.push('onClose');
            closed.resolve();
          },
        });
        peer.pause();
        // More than the socket takes, so writes are pending when the peer resets.
        for (let i = 0; i < 4; i++) {
          channel.write(new Uint8Array(8 * 1024 * 1024), (error) => events.push(`write ${error?.code}`));
        }
        await sleep(50);
        peer.resetAndDestroy();
        await watchdog(closed.promise, 10_000, 'LIFE-8', () => events);
        const failure = (events[0] as string).slice('onError '.length);
        expect(events[0]).toMatch(/^onError E[A-Z]+$/);
        expect(events.at(-1)).toBe('onClose');
        const writes = events.slice(1, -1);
        expect(writes.length).toBeGreaterThan(0);
        expect(
          writes.every((w) => w === `write ${failure}`),
          JSON.stringify(events),
        ).toBe(true);
      });
    });

    it('LIFE-14 LIFE-8 after onError, only onClose follows', async () => {
      await withLoop(undefined, async (loop) => {
        const events: string[] = [];
        const closed = deferred();
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead: (_c, lease) => {
            events.push('onRead');
            lease.release();
          },
          onEnd: () => events.push('onEnd'),
          onError: () => events.push('onError'),
          onWritabilityChanged: () => events.push('onWritabilityChanged'),
          onClose: () => {
            events.push('onClose');
            closed.resolve();
          },
        }));
        const socket = await netConnect(listener.address.port);
        socket.write('x');
        await until(() => events.length > 0, 10_000, 'LIFE-14 first read');
        socket.resetAndDestroy();
        await watchdog(closed.promise, 10_000, 'LIFE-14');
        await sleep(20);
        expect(events.slice(events.indexOf('onError'))).toEqual(['onError', 'onClose']);
      });
    });
  });

  describe('bad input gets a coded error, never a crash', () => {
    it.each([
      [{ sizeClasses: [] }, 'ERR_IOLEASE_INVALID_ARG_VALUE'],
      [{ sizeClasses: [{ size: 512, count: 0 }] }, 'ERR_IOLEASE_OUT_OF_RANGE'],
      [{ sizeClasses: [{ size: 0, count: 1 }] }, 'ERR_IOLEASE_OUT_OF_RANGE'],
      [
        {
          sizeClasses: [
            { size: 4096, count: 1 },
            { size: 512, count: 1 },
          ],
        },
        'ERR_IOLEASE_INVALID_ARG_VALUE',
      ],
      [{ sizeClasses: 'big' }, 'ERR_IOLEASE_INVALID_ARG_TYPE'],
      // More classes than POOL-2 allows: once a stack overflow in the io_uring loop's release path.
      [
        { sizeClasses: Array.from({ length: 300 }, (_, i) => ({ size: i + 1, count: 1 })) },
        'ERR_IOLEASE_INVALID_ARG_VALUE',
      ],
      [{ waterMarks: { low: 9, high: 1 } }, 'ERR_IOLEASE_INVALID_ARG_VALUE'],
      [{ diagnostics: { poison: 'yes' } }, 'ERR_IOLEASE_INVALID_ARG_TYPE'],
      [{ diagnostics: { leakDetection: 'sometimes' } }, 'ERR_IOLEASE_INVALID_ARG_VALUE'],
      [42, 'ERR_IOLEASE_INVALID_ARG_TYPE'],
    ])(
      'POOL-2 WATER-5 ERR-1 ERR-2 the loop factory rejects %j with %s, before opening anything',
      async (options, c) => {
        const before = canCountFds ? countOpenFds() : 0;
        let error: unknown;
        try {
          await backend.createLoop(options as never);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(Error);
        expect(error).toMatchObject({ code: c });
        if (canCountFds) expect(countOpenFds()).toBe(before);
      },
    );

    it('ERR-1 ERR-2 listen, connect and channel methods reject bad arguments synchronously', async () => {
      await withLoop(undefined, async (loop) => {
        const ok = () => undefined;
        expect(() => loop.listen(null as never, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.listen({ port: 0 }, 'no' as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.listen({ port: 70000 }, ok)).toThrow(code('ERR_IOLEASE_OUT_OF_RANGE'));
        expect(() => loop.listen({ port: -1 }, ok)).toThrow(code('ERR_IOLEASE_OUT_OF_RANGE'));
        expect(() => loop.listen({ port: '80' } as never, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.listen({ port: 0, host: 'example.com' }, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_VALUE'));
        expect(() => loop.listen({ port: 0, host: 7 } as never, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.listen({ port: 0, backlog: 0 }, ok)).toThrow(code('ERR_IOLEASE_OUT_OF_RANGE'));
        expect(() => loop.listen({ port: 0, reusePort: 1 } as never, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.listen({ port: 0, sizer: 5 } as never, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.listen({ port: 0, host: '999.1.1.1' }, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_VALUE'));
        expect(() => loop.listen({ port: 0, host: '::g' }, ok)).toThrow(code('ERR_IOLEASE_INVALID_ARG_VALUE'));
        expect(() => loop.connect({ port: 0 })).toThrow(code('ERR_IOLEASE_OUT_OF_RANGE'));
        expect(() => loop.connect({ port: 1 }, 'handler' as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.connect({ port: 1, autoRead: 'no' } as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.connect({ port: 1, host: '1.2.3' })).toThrow(code('ERR_IOLEASE_INVALID_ARG_VALUE'));
        expect(() => loop.pool.onPressureChange(null as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(() => loop.onLeak(null as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
        expect(loop.stats()).toMatchObject({ channelsOpen: 0, listenersOpen: 0 });

        const listener = await echoServer(loop);
        const channel = await loop.connect({ port: listener.address.port });
        expect(() => channel.setHandler(null as never)).toThrow(naming('ERR_IOLEASE_INVALID_ARG_TYPE', 'handler'));
        expect(() => channel.setAutoRead('yes' as never)).toThrow(naming('ERR_IOLEASE_INVALID_ARG_TYPE', 'autoRead'));
        expect(() => channel.setNoDelay(1 as never)).toThrow(naming('ERR_IOLEASE_INVALID_ARG_TYPE', 'noDelay'));
        expect(() => channel.setKeepAlive('on' as never)).toThrow(naming('ERR_IOLEASE_INVALID_ARG_TYPE', 'enable'));
        expect(() => channel.setKeepAlive(true, -5)).toThrow(naming('ERR_IOLEASE_OUT_OF_RANGE', 'initialDelayMs'));
        // The delay is a 32-bit count of milliseconds, as Node's setKeepAlive takes.
        expect(() => channel.setKeepAlive(true, 2 ** 31)).toThrow(naming('ERR_IOLEASE_OUT_OF_RANGE', 'initialDelayMs'));
        channel.setKeepAlive(true, 2 ** 31 - 1);
        expect(channel.state).toBe('open');
        channel.setNoDelay(false);
        channel.setKeepAlive(true, 30_000);
        channel.close();
      });
    });

    it('LIFE-19 ERR-6 a closed channel takes every call without throwing, setHandler() aside, and answers with nothing', async () => {
      await withLoop(undefined, async (loop) => {
        const calls: string[] = [];
        const record =
          (name: string) =>
          (..._args: unknown[]): void => {
            calls.push(name);
          };
        const handler = {
          onRead: (_c: Channel, lease: Lease) => {
            calls.push('onRead');
            lease.release();
          },
          onEnd: record('onEnd'),
          onError: record('onError'),
          onWritabilityChanged: record('onWritabilityChanged'),
          onClose: record('onClose'),
        };
        const { channel, peer } = await connectToNetPeer(loop, handler);
        const remote = channel.remoteAddress;
        channel.close();
        await until(() => calls.includes('onClose'), 10_000, 'LIFE-7 onClose');
        // The peer keeps talking to a channel that is gone: none of it may surface.
        peer.on('error', () => undefined);
        peer.write(randomBytes(1000));
        const ends = { inputEnded: channel.inputEnded, outputEnded: channel.outputEnded };
        const operations = [
          ['read', () => channel.read()],
          ['setAutoRead(false)', () => channel.setAutoRead(false)],
          ['setAutoRead(true)', () => channel.setAutoRead(true)],
          ['shutdown', () => channel.shutdown()],
          ['close', () => channel.close()],
          ['reset', () => channel.reset()],
          ['setWaterMarks', () => channel.setWaterMarks({ low: 1, high: 2 })],
          ['setNoDelay', () => channel.setNoDelay(true)],
          ['setKeepAlive', () => channel.setKeepAlive(true, 1000)],
          ['unref', () => channel.unref()],
          ['ref', () => channel.ref()],
        ] as const;
        for (const [name, call] of operations) expect(call, `LIFE-19 ${name} on a closed channel`).not.toThrow();
        const late = deferred<IoleaseError | undefined>();
        expect(channel.write(Buffer.from('late'), (e) => late.resolve(e))).toBe(false);
        expect((await watchdog(late.promise, 5000, 'WRITE-10'))?.code).toBe('ERR_IOLEASE_CHANNEL_CLOSED');
        expect(() => channel.setHandler({}), 'ERR-6').toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_STATE', message: expect.stringMatching(/\S/) }),
        );
        // Argument errors are still argument errors (ERR-1).
        expect(() => channel.setNoDelay(1 as never)).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
        );
        await sleep(100);
        expect(calls, 'LIFE-14 no handler call after onClose').toEqual(['onClose']);
        expect({
          state: channel.state,
          writable: channel.writable,
          remote: channel.remoteAddress,
          inputEnded: channel.inputEnded,
          outputEnded: channel.outputEnded,
        }).toEqual({ state: 'closed', writable: false, remote, ...ends });
        peer.destroy();
      });
    });

    it('ERR-2 a listen() refused for a bad argument leaves nothing behind: the port stays free, no socket open', async () => {
      await withLoop(undefined, async (loop) => {
        // A port known to be free a moment ago.
        const probe = net.createServer();
        await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
        const { port } = probe.address() as net.AddressInfo;
        await new Promise((resolve) => probe.close(resolve));
        const fds = canCountFds ? countOpenFds() : 0;
        expect(() => loop.listen({ port }, 'not a function' as never)).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
        );
        expect(() => loop.listen({ port, backlog: -1 }, () => undefined)).toThrow(
          expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' }),
        );
        expect(loop.stats().listenersOpen).toBe(0);
        if (canCountFds) expect(countOpenFds()).toBe(fds);
        const again = net.createServer();
        await new Promise<void>((resolve, reject) => {
          again.once('error', reject);
          again.listen(port, '127.0.0.1', resolve);
        });
        await new Promise((resolve) => again.close(resolve));
      });
    });
  });
}
