import type net from 'node:net';
import type {
  Channel,
  ChannelHandler,
  EventLoop,
  EventLoopOptions,
  Lease,
  RecvByteBufferSizer,
} from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { connectToNetPeer, deferred, netConnect, poolState, randomBytes, sha256, until, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** What the server saw of one connection. */
interface Seen {
  readonly chunks: Buffer[];
  ended: boolean;
  closed: boolean;
}

/**
 * A server on `loop` that records every connection's bytes; `handler(seen, done)` makes each
 * channel's handler, calling `done()` once the stream ended. Resolves once `expected` streams
 * ended, failing with the rule and the loop's state if that takes longer than `ms`.
 */
async function recordingServer(
  loop: EventLoop,
  handler: (seen: Seen, ended: () => void) => ChannelHandler,
  options: { sizer?: () => RecvByteBufferSizer } = {},
) {
  const seen = new Map<number, Seen>();
  let endedCount = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const listener = await loop.listen({ port: 0, ...options }, (channel) => {
    const s: Seen = { chunks: [], ended: false, closed: false };
    seen.set(channel.id, s);
    const h = handler(s, () => {
      s.ended = true;
      endedCount++;
      if (waiting !== undefined && endedCount >= waiting.count) waiting.resolve();
    });
    return {
      ...h,
      onClose(c) {
        s.closed = true;
        h.onClose?.(c);
      },
    };
  });
  return {
    port: listener.address.port,
    seen,
    /** Resolves once `count` streams ended. */
    ended(count: number): Promise<void> {
      const d = deferred();
      waiting = { count, resolve: () => d.resolve() };
      if (endedCount >= count) d.resolve();
      return d.promise;
    },
    /** The hashes of the streams that ended. */
    endedHashes(): Set<string> {
      return new Set([...seen.values()].filter((s) => s.ended).map((s) => sha256(s.chunks)));
    },
    /** The state a watchdog reports. */
    state(): unknown {
      const all = [...seen.values()];
      return {
        connections: all.length,
        ended: all.filter((s) => s.ended).length,
        closed: all.filter((s) => s.closed).length,
        bytesByOpenStream: all
          .filter((s) => !s.ended && !s.closed)
          .slice(0, 20)
          .map((s) => s.chunks.reduce((n, c) => n + c.length, 0)),
        pool: poolState(loop),
      };
    },
  };
}

/** `count` node:net clients that each send a random payload of `bytes` and then FIN. */
async function sendingClients(
  port: number,
  count: number,
  bytes: number,
): Promise<{ payloads: Buffer[]; sockets: net.Socket[] }> {
  const payloads = Array.from({ length: count }, () => randomBytes(bytes));
  const sockets = await Promise.all(
    payloads.map(async (payload) => {
      const socket = await netConnect(port);
      socket.on('error', () => {}); // the server may close a connection it rejected
      socket.end(payload);
      return socket;
    }),
  );
  return { payloads, sockets };
}

/** The pool is back to rest: nothing leased, no class under pressure (POOL-5, PRESS-4). */
async function poolAtRest(loop: EventLoop, rule: string): Promise<void> {
  await until(
    () => loop.pool.stats().leasesOut === 0 && !loop.pool.underPressure,
    5000,
    `${rule}: the pool to come to rest`,
    () => poolState(loop),
  );
}

/** A sizer that asks for a random one of `sizes` at every read (SIZER-1: it may change its mind). */
function flipFloppingSizer(sizes: readonly number[]): RecvByteBufferSizer {
  return {
    nextReadSize: () => sizes[Math.floor(Math.random() * sizes.length)] as number,
    record: () => {},
  };
}

/**
 * The usual server side of these tests: record each read, release its lease a turn later (so the
 * pool stays short), close at the end of stream.
 */
function recordLater(seen: Seen, ended: () => void): ChannelHandler {
  return {
    onRead(_c, lease) {
      seen.chunks.push(Buffer.from(lease.bytes));
      setImmediate(() => lease.release());
    },
    onEnd(channel) {
      ended();
      channel.close();
    },
    onError() {},
  };
}

/** Registers the suite against one backend: workloads built to stall or crash a loop. */
export function adversarialSuite(kit: Kit): void {
  const { withLoop } = kit;
  const oneBuffer: EventLoopOptions = { sizeClasses: [{ size: 4096, count: 1 }] };

  describe('adversarial workloads', () => {
    it('PRESS-3 PRESS-8 128 streams through one buffer, each ending with FIN, releases a turn later: every stream ends', async () => {
      await withLoop(oneBuffer, async (loop) => {
        const server = await recordingServer(loop, recordLater);
        const { payloads, sockets } = await sendingClients(server.port, 128, 50_000);
        await watchdog(server.ended(128), 30_000, 'PRESS-3 PRESS-8', () => server.state());
        const hashes = server.endedHashes();
        for (const p of payloads) expect(hashes.has(sha256(p))).toBe(true);
        await poolAtRest(loop, 'PRESS-8');
        for (const s of sockets) s.destroy();
      });
    });

    it.each([
      ['only the end of stream', 'fin'],
      ['a reset', 'reset'],
      ['data for another size class', 'switch'],
      ['nothing at all to read', 'idle'],
    ] as const)(
      'PRESS-8 the first waiters find %s when woken: the wake passes on and the rest are served',
      async (_, kind) => {
        const options: EventLoopOptions =
          kind === 'switch'
            ? {
                sizeClasses: [
                  { size: 512, count: 1 },
                  { size: 4096, count: 1 },
                ],
              }
            : oneBuffer;
        await withLoop(options, async (loop) => {
          // In 'switch', channels that are told to switch ask for the large class once woken.
          const switching = new Set<number>();
          let accepted = 0;
          let firstSeen: Seen | undefined;
          let heldLease: Lease | undefined;
          const server = await recordingServer(
            loop,
            (seen, ended) => ({
              onRead(_c, lease) {
                seen.chunks.push(Buffer.from(lease.bytes));
                firstSeen ??= seen;
                if (seen === firstSeen && heldLease === undefined) {
                  heldLease = lease; // the first client's lease is held until the line has formed
                  return;
                }
                setImmediate(() => lease.release());
              },
              onEnd(channel) {
                ended();
                channel.close();
              },
              onError() {},
            }),
            {
              sizer: () => {
                const id = ++accepted;
                return { nextReadSize: () => (switching.has(id) ? 3000 : 100), record: () => {} };
              },
            },
          );
          // The first client's bytes take the one small buffer, and the server holds that lease.
          const first = await netConnect(server.port);
          first.on('error', () => {});
          first.write('hold');
          await until(() => heldLease !== undefined, 5000, 'PRESS-1 the held lease');
          // Five clients then wait in line (a receive armed on an empty class waits at once), and
          // five more behind them with real data.
          const front: net.Socket[] = [];
          const back: net.Socket[] = [];
          for (let i = 0; i < 10; i++) {
            const socket = await netConnect(server.port);
            socket.on('error', () => {});
            (i < 5 ? front : back).push(socket);
            await until(() => server.seen.size === i + 2, 5000, 'the accept');
          }
          const payloads = back.map(() => randomBytes(10_000));
          if (kind === 'switch') for (let id = 2; id <= 6; id++) switching.add(id);
          for (const socket of front) {
            if (kind === 'fin') socket.end();
            else if (kind === 'reset') socket.resetAndDestroy();
            else if (kind === 'switch') socket.write(randomBytes(1000));
            // 'idle': a connection that arrived while the class was empty waits in line, idle.
          }
          for (const [i, socket] of back.entries()) socket.end(payloads[i] as Buffer);
          await new Promise((r) => setTimeout(r, 50));
          // Now the one buffer comes back: waiter 1 is woken and takes nothing of it.
          (heldLease as Lease).release();
          await watchdog(
            until(() => payloads.every((p) => server.endedHashes().has(sha256(p))), 20_000),
            20_000,
            'PRESS-8',
            () => server.state(),
          );
          for (const s of [first, ...front, ...back]) s.destroy();
        });
      },
    );

    it('PRESS-3 PRESS-8 streams that send then reset while others wait for the one buffer: the others all end', async () => {
      await withLoop(oneBuffer, async (loop) => {
        const server = await recordingServer(loop, recordLater);
        const resetting = await Promise.all(
          Array.from({ length: 64 }, async () => {
            const socket = await netConnect(server.port);
            socket.on('error', () => {});
            socket.write(randomBytes(20_000), () => socket.resetAndDestroy());
            return socket;
          }),
        );
        const { payloads, sockets } = await sendingClients(server.port, 32, 30_000);
        await watchdog(
          until(() => [...payloads].every((p) => server.endedHashes().has(sha256(p))), 30_000),
          30_000,
          'PRESS-3 PRESS-8',
          () => server.state(),
        );
        await until(
          () => loop.stats().channelsOpen === 0,
          10_000,
          'PRESS-8 every channel closed',
          () => server.state(),
        );
        await poolAtRest(loop, 'PRESS-8');
        for (const s of [...sockets, ...resetting]) s.destroy();
      });
    });

    it('PRESS-3 PRESS-8 READ-3 channels that pause and resume while waiting for the one buffer: every stream ends', async () => {
      await withLoop(oneBuffer, async (loop) => {
        const channels = new Set<Channel>();
        const server = await recordingServer(loop, (seen, ended) => ({
          onRead(channel, lease) {
            channels.add(channel);
            seen.chunks.push(Buffer.from(lease.bytes));
            channel.setAutoRead(false);
            setImmediate(() => {
              lease.release();
              if (channel.state === 'open') channel.setAutoRead(true);
            });
          },
          onEnd(channel) {
            ended();
            channels.delete(channel);
            channel.close();
          },
        }));
        // Meanwhile, pause and resume channels at random: many of them are waiting when they do.
        const toggler = setInterval(() => {
          for (const channel of channels) {
            if (Math.random() < 0.3 && channel.state === 'open' && channel.autoRead) {
              channel.setAutoRead(false);
              setTimeout(() => channel.state === 'open' && channel.setAutoRead(true), Math.random() * 3);
            }
          }
        }, 1);
        try {
          const { payloads, sockets } = await sendingClients(server.port, 64, 30_000);
          await watchdog(server.ended(64), 30_000, 'PRESS-3 PRESS-8 READ-3', () => server.state());
          const hashes = server.endedHashes();
          for (const p of payloads) expect(hashes.has(sha256(p))).toBe(true);
          for (const s of sockets) s.destroy();
        } finally {
          clearInterval(toggler);
        }
        await poolAtRest(loop, 'PRESS-8');
      });
    });

    it('PRESS-3 PRESS-8 SIZER-1 channels whose sizer switches class at every read, two classes of one buffer: every stream ends', async () => {
      const options: EventLoopOptions = {
        sizeClasses: [
          { size: 512, count: 1 },
          { size: 4096, count: 1 },
        ],
      };
      await withLoop(options, async (loop) => {
        const server = await recordingServer(loop, recordLater, { sizer: () => flipFloppingSizer([100, 3000]) });
        const { payloads, sockets } = await sendingClients(server.port, 64, 20_000);
        await watchdog(server.ended(64), 30_000, 'PRESS-3 PRESS-8 SIZER-1', () => server.state());
        const hashes = server.endedHashes();
        for (const p of payloads) expect(hashes.has(sha256(p))).toBe(true);
        await poolAtRest(loop, 'PRESS-8');
        for (const s of sockets) s.destroy();
      });
    });

    it('PRESS-3 PRESS-8 LIFE-7 channels closed by the server while others wait: the rest all end, nothing stays leased', async () => {
      await withLoop(oneBuffer, async (loop) => {
        let n = 0;
        const server = await recordingServer(loop, (seen, ended) => {
          const closeEarly = n++ % 2 === 1;
          return {
            onRead(channel, lease) {
              seen.chunks.push(Buffer.from(lease.bytes));
              setImmediate(() => lease.release());
              if (closeEarly && channel.state === 'open') channel.close();
            },
            onEnd(channel) {
              ended();
              channel.close();
            },
          };
        });
        const { payloads, sockets } = await sendingClients(server.port, 64, 40_000);
        // The channels closed early never end; the others must, all of them.
        const keep = await watchdog(
          (async () => {
            await until(() => server.seen.size === 64 && loop.stats().channelsOpen === 0, 30_000);
            return server.endedHashes();
          })(),
          30_000,
          'PRESS-3 PRESS-8 LIFE-7',
          () => server.state(),
        );
        const endedCount = [...server.seen.values()].filter((s) => s.ended).length;
        expect(endedCount, JSON.stringify(server.state())).toBeGreaterThanOrEqual(32);
        expect(payloads.filter((p) => keep.has(sha256(p))).length).toBe(endedCount);
        await poolAtRest(loop, 'PRESS-8');
        for (const s of sockets) s.destroy();
      });
    });

    it('PRESS-4 PRESS-5 PRESS-6 several waiters: each transition notified once, in order, counted; waiters resume in the order they waited', async () => {
      await withLoop({ sizeClasses: [{ size: 512, count: 1 }] }, async (loop) => {
        const events: boolean[] = [];
        loop.pool.onPressureChange((e) => events.push(e.underPressure));
        const order: number[] = [];
        const held: { release(): void }[] = [];
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            order.push(channel.id);
            held.push(lease);
          },
        }));
        // Client 0 takes the only buffer; clients 1..4 then wait in the order they send. Each
        // sends a whole buffer's worth, so that a backend with incremental buffers, which would
        // put several small messages into one buffer, runs out too.
        const sockets: net.Socket[] = [];
        for (let i = 0; i < 5; i++) {
          const socket = await netConnect(listener.address.port);
          sockets.push(socket);
          socket.write(Buffer.alloc(512, i));
          if (i === 0) await until(() => held.length === 1, 5000, 'PRESS-1 the first read');
          // Let this client's receive find the class empty before the next one sends.
          await new Promise((r) => setTimeout(r, 30));
        }
        expect(loop.pool.underPressure).toBe(true);
        const firstId = order[0] as number;
        for (let i = 1; i < 5; i++) {
          (held.shift() as { release(): void }).release();
          await until(
            () => order.length === i + 1,
            5000,
            `PRESS-3 waiter ${i} resumed`,
            () => ({
              order,
              pool: poolState(loop),
            }),
          );
        }
        // Channel ids follow accept order, which is the order the clients connected and waited.
        expect(order).toEqual([firstId, firstId + 1, firstId + 2, firstId + 3, firstId + 4]);
        (held.shift() as { release(): void }).release();
        await until(
          () => !loop.pool.underPressure && events.at(-1) === false,
          5000,
          'PRESS-4 the end of pressure',
          () => ({
            events,
            pool: poolState(loop),
          }),
        );
        // Every transition once, alternating, starting into pressure; each entry counted.
        expect(events.length % 2).toBe(0);
        expect(events).toEqual(events.map((_, i) => i % 2 === 0));
        expect(loop.pool.stats().classes[0]?.pressureEvents).toBe(events.length / 2);
        for (const s of sockets) s.destroy();
      });
    });

    it("LEASE-2 WRITE-7 a lease released while a write still sends it: the write sends its own bytes, never another connection's", async () => {
      await withLoop({ sizeClasses: [{ size: 2048, count: 16 }] }, async (loop) => {
        // The careless echo: release at once, not when the write completes.
        const listener = await loop.listen({ port: 0 }, () => ({
          onRead(channel, lease) {
            channel.write(lease.bytes);
            lease.release();
          },
          onEnd: (channel) => channel.shutdown(),
        }));
        let ended = 0;
        let echoedBytes = 0;
        const all = Promise.all(
          Array.from({ length: 100 }, async () => {
            const payload = randomBytes(50_000);
            const socket = await netConnect(listener.address.port);
            const chunks: Buffer[] = [];
            const echoed = new Promise<Buffer>((resolve, reject) => {
              socket.on('data', (d: Buffer) => {
                chunks.push(d);
                echoedBytes += d.length;
              });
              socket.once('end', () => {
                ended++;
                resolve(Buffer.concat(chunks));
              });
              socket.once('error', reject);
            });
            for (let off = 0; off < payload.length; off += 5000) socket.write(payload.subarray(off, off + 5000));
            socket.end();
            return { payload, echoed: await echoed, socket };
          }),
        );
        // Deferred releases that never come back would stall every stream: say so, with the pool.
        const clients = await watchdog(all, 20_000, 'LEASE-2 WRITE-7 every stream echoed and ended', () => ({
          ended,
          echoedBytes,
          pool: poolState(loop),
        }));
        const wrong = clients.filter(({ payload, echoed }) => !payload.equals(echoed)).length;
        expect(wrong, 'streams that came back with other bytes').toBe(0);
        await poolAtRest(loop, 'LEASE-2');
        for (const c of clients) c.socket.destroy();
      });
    });

    it('WRITE-1 WRITE-5 an array of chunks changed after write() is sent as it was at the call', async () => {
      await withLoop(undefined, async (loop) => {
        const { channel, peer } = await connectToNetPeer(loop, {});
        const received: Buffer[] = [];
        peer.on('data', (d: Buffer) => received.push(d));
        // More chunks than one sendmsg carries, so the backend goes back to the list for more.
        const chunks = Array.from({ length: 300 }, (_, i) => Buffer.alloc(1000, i % 251));
        const expected = sha256(chunks);
        const completed = deferred<[unknown, number]>();
        channel.write(chunks, (error, bytesWritten) => completed.resolve([error, bytesWritten]));
        chunks.push(Buffer.alloc(5000, 7));
        chunks.splice(0, 150);
        chunks.reverse();
        const [error, bytesWritten] = await watchdog(completed.promise, 10_000, 'WRITE-1', () => ({
          received: received.length,
        }));
        expect(error).toBeUndefined();
        expect(bytesWritten).toBe(300_000);
        await until(() => received.reduce((n, d) => n + d.length, 0) >= 300_000, 5000, 'WRITE-5 all bytes');
        expect(sha256(received)).toBe(expected);
        peer.destroy();
      });
    });
  });
}
