// The io_uring loop's own liveness (spec LOOP-5, LOOP-8): the kernel states the kit cannot
// reach through the interfaces alone (a tiny CQ that overflows, a full SQ, the native pump's
// guard, a process out of file descriptors).

import { deferred, echoHandler, netConnect, randomBytes, sha256, until, watchdog } from '@iolease/conformance';
import type { Channel } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { COUNTER_OVERFLOW_FLUSHES, RECORD_WORDS } from '../src/completion.ts';
import { createEventLoop, type UringEventLoop } from '../src/index.ts';
import { loadBinding } from '../src/native.ts';
import { entry, openFds, runNode } from './helpers.ts';

/** What a stalled loop looks like from inside: the watchdog's report. */
function loopState(loop: UringEventLoop): unknown {
  return { stats: loop.stats(), pool: loop.pool.debugState(), counters: [...loop.native.counters] };
}

/** `count` clients that each send `bytes` and FIN and collect the echo; resolves with both sides. */
async function echoClients(port: number, count: number, bytes: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const payload = randomBytes(bytes);
      const socket = await netConnect(port);
      const chunks: Buffer[] = [];
      const echoed = new Promise<Buffer>((resolve, reject) => {
        socket.on('data', (d: Buffer) => chunks.push(d));
        socket.once('end', () => resolve(Buffer.concat(chunks)));
        socket.once('error', reject);
      });
      socket.end(payload);
      return { payload, echoed: await echoed, socket };
    }),
  );
}

describe('liveness of the io_uring loop', () => {
  it('LOOP-8 a 16-entry CQ that overflows under 64 echoing connections: every byte comes back, and close() resolves', async () => {
    const loop = createEventLoop({ sqEntries: 16, cqEntries: 16, sizeClasses: [{ size: 4096, count: 2 }] });
    const listener = await loop.listen({ port: 0 }, () => echoHandler());
    const results = await watchdog(echoClients(listener.address.port, 64, 20_000), 20_000, 'LOOP-8 echo', () =>
      loopState(loop),
    );
    for (const { payload, echoed } of results) expect(sha256(echoed)).toBe(sha256(payload));
    // The overflow list was really used: the test is about flushing it.
    expect(loop.native.counters[COUNTER_OVERFLOW_FLUSHES]).toBeGreaterThan(0);
    for (const { socket } of results) socket.destroy();
    await watchdog(loop.close(), 10_000, 'LOOP-8 close', () => loopState(loop));
  });

  it('LOOP-8 more operations than a 16-entry SQ holds at once: 300 connects, echoes and closes all complete', async () => {
    const before = openFds();
    const loop = createEventLoop({ sqEntries: 16, cqEntries: 64 });
    const accepted: Channel[] = [];
    const listener = await loop.listen({ port: 0 }, (channel) => {
      accepted.push(channel);
      return echoHandler();
    });
    const channels = await watchdog(
      Promise.all(Array.from({ length: 300 }, () => loop.connect({ port: listener.address.port }))),
      20_000,
      'LOOP-8 connects',
      () => loopState(loop),
    );
    // A write on each, echoed back, then every channel closed at once: two linked SQEs apiece.
    const echoes = channels.map((channel) => {
      const got = deferred<string>();
      let text = ''; // a partial send may split the message over two reads
      channel.setHandler({
        onRead(_c, lease) {
          text += Buffer.from(lease.bytes).toString();
          lease.release();
          if (text.length >= `hello ${channel.id}`.length) got.resolve(text);
        },
      });
      channel.write(Buffer.from(`hello ${channel.id}`));
      return got.promise.then((text) => expect(text).toBe(`hello ${channel.id}`));
    });
    await watchdog(Promise.all(echoes), 20_000, 'LOOP-8 echoes', () => loopState(loop));
    for (const channel of channels) channel.close();
    // The server's side sees the FIN, shuts down and closes too (LIFE-5).
    await until(
      () => loop.stats().channelsOpen === 0,
      10_000,
      'LOOP-8 closes',
      () => loopState(loop),
    );
    expect(accepted).toHaveLength(300);
    await watchdog(loop.close(), 10_000, 'LOOP-8 close', () => loopState(loop));
    expect(openFds()).toBe(before);
  });

  it('LOOP-5 LOOP-8 the native pump survives a batch callback that throws, and keeps pumping', async () => {
    // The binding's own guard, below the loop's per-record handling: a raw NativeLoop whose batch
    // callback throws once, in a child with an uncaughtException handler.
    const result = await runNode(
      `import net from 'node:net';
       import { createRequire } from 'node:module';
       const require = createRequire(${JSON.stringify(entry)});
       const binding = require('../build/Release/iolease_uring.node');
       let batches = 0, uncaught = 0, accepts = 0;
       process.on('uncaughtException', () => uncaught++);
       const native = new binding.NativeLoop({
         sqEntries: 16, cqEntries: 64, classes: [{ size: 512, count: 4 }],
         onBatch(n) {
           batches++;
           for (let i = 0; i < n; i++) if ((native.batch[i * ${RECORD_WORDS}] & 0xff) === binding.kinds.ACCEPT) accepts++;
           if (batches === 1) throw new Error('batch callback bug');
         },
       });
       native.ref();
       const slot = native.listen(4, '127.0.0.1', 0, 16, false, false, true);
       const port = native.address(slot, false)[2];
       native.armAccept(slot);
       native.pump();
       const a = net.connect(port, '127.0.0.1');
       a.on('connect', () => setTimeout(() => {
         const b = net.connect(port, '127.0.0.1');
         b.on('connect', () => setTimeout(() => {
           console.log(JSON.stringify({ batches: batches >= 2, uncaught, accepts }));
           native.destroy();
           process.exit(0);
         }, 100));
       }, 100));`,
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ batches: true, uncaught: 1, accepts: 2 });
  });

  it('LOOP-8 ERR-3 accepting with no file descriptor left (EMFILE): the listener stays open, retries, and accepts once fds are free', async () => {
    // A child that fills its own fd table, keeping a handful free for the clients it opens.
    const result = await runNode(
      `import net from 'node:net';
       import fs from 'node:fs';
       import os from 'node:os';
       const { createEventLoop } = await import(${JSON.stringify(entry)});
       const loop = createEventLoop();
       let accepted = 0;
       const listener = await loop.listen({ port: 0 }, () => { accepted++; return {}; });
       // When each accept failed: a resource error is retried after 100 ms at least, as it
       // cannot clear before something is closed.
       const failedAt = [];
       const onAccept = listener.onAccept.bind(listener);
       listener.onAccept = (res, flags) => {
         if (res < 0 && res !== -os.constants.errno.ECANCELED) failedAt.push(performance.now());
         onAccept(res, flags);
       };
       const filler = [];
       try { for (;;) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
       for (const fd of filler.splice(0, 6)) fs.closeSync(fd);
       // Five clients take five of the six free fds: the server accepts one, then finds none.
       const clients = [];
       let connected = 0;
       for (let i = 0; i < 5; i++) {
         await new Promise((resolve) => {
           const s = net.connect(listener.address.port, '127.0.0.1', () => { connected++; resolve(); });
           s.on('error', resolve);
           clients.push(s);
         });
       }
       await new Promise((r) => setTimeout(r, 300));
       const whileFull = { accepted, errors: listener.acceptErrors };
       // Nor can the loop open a socket of its own: refused with the errno, nothing left behind.
       const refusal = (e) => [e.code, e.syscall, e.address, e.port === listener.address.port].join(' ');
       const connect = await loop.connect({ host: '127.0.0.1', port: listener.address.port }).then(() => 'connected', refusal);
       const listen = await loop.listen({ host: '127.0.0.1', port: listener.address.port }, () => ({})).then(() => 'listening', refusal);
       const counts = loop.stats();
       const refused = { connect, listen, counted: counts.channelsOpen === accepted && counts.listenersOpen === 1 };
       for (const fd of filler.splice(0, 20)) fs.closeSync(fd);
       const deadline = Date.now() + 5000;
       while (accepted < connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
       console.log(JSON.stringify({ fullAccepted: whileFull.accepted < connected, errors: whileFull.errors > 0, paced: whileFull.errors < 20, firstRetry: failedAt.length >= 2 && failedAt[1] - failedAt[0] >= 95, all: accepted === connected && connected >= 2, open: !listener.closed, refused }));
       for (const s of clients) s.destroy();
       for (const fd of filler) fs.closeSync(fd);
       await loop.close();`,
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout), result.stdout).toEqual({
      fullAccepted: true,
      errors: true,
      // Retried after a pause, not at once: 300 ms of EMFILE is a few failures, not a spin.
      paced: true,
      firstRetry: true,
      all: true,
      open: true,
      // ERR-3: the errno, the call and where, as node:net reports them.
      refused: { connect: 'EMFILE connect 127.0.0.1 true', listen: 'EMFILE socket 127.0.0.1 true', counted: true },
    });
  });
  it('POOL-2 the engine itself refuses more size classes than it can encode, with an error, not a crash', () => {
    const { NativeLoop } = loadBinding();
    const classes = Array.from({ length: 300 }, (_, i) => ({ size: i + 1, count: 1 }));
    expect(() => new NativeLoop({ sqEntries: 16, cqEntries: 16, classes, onBatch: () => {} })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
