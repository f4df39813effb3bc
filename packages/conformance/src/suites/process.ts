import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { netConnect, randomBytes, readAll, runNode, sha256, sleep, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

/** Registers the suite against one backend: what a loop does to its whole process. */
export function processSuite(kit: Kit): void {
  const child = kit.backend.inChildProcess;

  describe.skipIf(child === undefined)('the host process', () => {
    // Whether strace can trace a child here (installed, allowed to ptrace), for LIFE-18.
    const strace = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;
    const prelude = `${child?.import}\nconst loop = await (${child?.create});\n`;

    it('LOOP-6 an open listener keeps the process alive; a closed loop lets it exit', async () => {
      const lingering = await runNode(
        `${prelude}
         await loop.listen({ port: 0 }, () => undefined);
         setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();`,
      );
      expect(lingering.stdout).toContain('still alive');
      const exiting = await runNode(
        `${prelude}
         await loop.listen({ port: 0 }, () => undefined);
         await loop.close();
         process.on('exit', () => console.log('exited by itself'));
         setTimeout(() => { console.log('kept alive'); process.exit(1); }, 2000).unref();`,
      );
      expect(exiting).toEqual({ code: 0, signal: null, stdout: 'exited by itself\n' });
    });

    it('LOOP-6 LIFE-3 a connect in flight keeps the process alive until it settles', async () => {
      // The server is this process's, and answers late: in the child, only the connect, then
      // its channel, can keep the process alive that long.
      const server = net.createServer((socket) => setTimeout(() => socket.end('hello'), 100));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const result = await runNode(
          `${prelude}
           let got = '';
           await loop.connect({ host: '127.0.0.1', port: ${(server.address() as net.AddressInfo).port} }, {
             onRead(_c, lease) { got += Buffer.from(lease.bytes); lease.release(); },
             onEnd(c) { console.log('read', got); c.close(); },
           });`,
        );
        expect(result).toEqual({ code: 0, signal: null, stdout: 'read hello\n' });
      } finally {
        server.close();
      }
    });

    it('LOOP-6 the count behind ref: an accepted channel holds the process though its listener does not; closed ones hold nothing', async () => {
      const accepted = await runNode(
        `import net from 'node:net';
         ${prelude}
         const log = [];
         // A listener closed while unreferenced counts for nothing after.
         const gone = await loop.listen({ port: 0 }, () => undefined);
         gone.unref();
         await gone.close();
         const l = await loop.listen({ port: 0 }, (channel) => {
           clearTimeout(untilAccepted);
           if (log.length === 0) {
             // The first connection: unreferenced, closed, and then it counts for nothing either.
             log.push('first');
             channel.unref();
             channel.close();
             return {};
           }
           return { onRead(c, lease) { log.push(Buffer.from(lease.bytes).toString()); lease.release(); c.close(); } };
         });
         l.unref();
         let untilAccepted = setTimeout(() => {}, 5000);
         const first = net.connect(l.address.port, '127.0.0.1');
         first.on('error', () => {});
         first.on('close', () => {
           untilAccepted = setTimeout(() => {}, 5000);
           // Only the accepted channel can keep the process alive for 'late'; its close lets it go.
           const s = net.connect(l.address.port, '127.0.0.1', () => { setTimeout(() => s.write('late'), 100).unref(); });
           s.on('error', () => {});
           s.unref();
         });
         process.on('exit', () => console.log(JSON.stringify(log)));
         setTimeout(() => { console.log('kept alive'); process.exit(1); }, 3000).unref();`,
      );
      expect(accepted).toEqual({ code: 0, signal: null, stdout: '["first","late"]\n' });
      const listenerClosed = await runNode(
        `${prelude}
         const l = await loop.listen({ port: 0 }, () => undefined);
         await l.close();
         process.on('exit', () => console.log('exited by itself'));
         setTimeout(() => { console.log('kept alive'); process.exit(1); }, 2000).unref();`,
      );
      expect(listenerClosed).toEqual({ code: 0, signal: null, stdout: 'exited by itself\n' });
    });

    it('LOOP-6 unref(): an unreferenced listener and channels let the process exit while open; ref() holds it again', async () => {
      // Both ends of one connection on the loop: the listener, the accepted and the connected
      // channel, all unreferenced, with traffic having flowed.
      const setup = `${prelude}
         const l = await loop.listen({ port: 0 }, (accepted) => {
           accepted.unref();
           return { onRead(c, lease) { c.write(lease.bytes, () => lease.release()); }, onError() {} };
         });
         if (l.unref() !== l) throw new Error('unref() returns its listener');
         let echoed = '';
         const c = await loop.connect({ host: '127.0.0.1', port: l.address.port }, {
           onRead(_c, lease) { echoed += Buffer.from(lease.bytes); lease.release(); }, onError() {},
         });
         if (c.unref().unref() !== c) throw new Error('unref() returns its channel');
         c.write(Buffer.from('ping'));
         await new Promise((resolve) => { const t = setInterval(() => { if (echoed === 'ping') { clearInterval(t); resolve(); } }, 5); });`;
      const exiting = await runNode(
        `${setup}
         process.on('exit', () => console.log('exited by itself', l.closed, c.state));
         setTimeout(() => { console.log('kept alive'); process.exit(1); }, 2000).unref();`,
      );
      expect(exiting).toEqual({ code: 0, signal: null, stdout: 'exited by itself false open\n' });
      const held = await runNode(
        `${setup}
         c.ref();
         setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();`,
      );
      expect(held.stdout).toContain('still alive');
      const heldByListener = await runNode(
        `${setup}
         l.ref();
         setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();`,
      );
      expect(heldByListener.stdout).toContain('still alive');
    });

    it('LOOP-6 LIFE-19 unref() and ref() on a closed channel or listener change nothing: an open listener still keeps the process alive, and a closed channel given ref() does not', async () => {
      // A listener, and a channel to it closed long enough ago that the backend is done with
      // its socket too; the accepted channel closes at the client's end.
      const closedChannel = `${prelude}
         const l = await loop.listen({ port: 0 }, () => ({ onEnd: (ch) => ch.close(), onError() {} }));
         let closed;
         const gone = new Promise((resolve) => { closed = resolve; });
         const c = await loop.connect({ host: '127.0.0.1', port: l.address.port }, { onClose: () => closed() });
         c.close();
         await gone;
         await new Promise((resolve) => setTimeout(resolve, 100));`;
      const result = await runNode(
        `${closedChannel}
         if (c.unref() !== c || c.ref() !== c || c.unref() !== c) throw new Error('they return the channel');
         // A closed listener likewise.
         const gone2 = await loop.listen({ port: 0 }, () => undefined);
         await gone2.close();
         if (gone2.unref() !== gone2 || gone2.ref() !== gone2 || gone2.unref() !== gone2) throw new Error('they return the listener');
         setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();`,
      );
      // Only the listener is left open, and it holds the process.
      expect(result.stdout).toBe('still alive\n');
      // And ref() on a closed channel holds nothing: with the listener closed, the process exits.
      const exiting = await runNode(
        `${closedChannel}
         c.ref();
         await l.close();
         process.on('exit', () => console.log('exited by itself'));
         setTimeout(() => { console.log('kept alive'); process.exit(1); }, 2000).unref();`,
      );
      expect(exiting).toEqual({ code: 0, signal: null, stdout: 'exited by itself\n' });
    });

    it('LOOP-6 channels and listeners that were unreferenced and then closed hold nothing back: a referenced channel opened after them still keeps the process alive', async () => {
      // Every channel but the last is unreferenced, and the first pair closes, as does a second,
      // unreferenced listener; the loop must forget them, or their count would outweigh the
      // referenced channel that follows.
      const result = await runNode(
        `${prelude}
         const l = await loop.listen({ port: 0 }, (accepted) => {
           accepted.unref();
           return { onEnd: (ch) => ch.close(), onError() {} };
         });
         l.unref();
         let closed;
         const gone = new Promise((resolve) => { closed = resolve; });
         const first = await loop.connect({ host: '127.0.0.1', port: l.address.port }, { onClose: () => closed(), onError() {} });
         first.unref();
         first.close();
         await gone;
         const other = await loop.listen({ port: 0 }, () => undefined);
         other.unref();
         await other.close();
         await new Promise((resolve) => setTimeout(resolve, 100));
         const second = await loop.connect({ host: '127.0.0.1', port: l.address.port }, { onError() {} });
         let held = false;
         process.on('exit', () => { if (!held) console.log('exited by itself', second.state); });
         setTimeout(() => { held = true; console.log('still alive'); process.exit(0); }, 300).unref();`,
      );
      expect(result.stdout).toBe('still alive\n');
    });

    it('LIFE-15 with no file descriptor left (EMFILE) the listener stays open, and serves again once fds are free', async () => {
      // A child that fills its own fd table, keeping a handful free for the clients it opens.
      const result = await runNode(
        `import net from 'node:net';
         import fs from 'node:fs';
         ${prelude}
         let uncaught = 0;
         process.on('uncaughtException', () => uncaught++);
         const listener = await loop.listen({ port: 0 }, () => ({
           onRead: (c, lease) => c.write(lease.bytes, () => lease.release()),
         }));
         const filler = [];
         try { for (;;) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
         for (const fd of filler.splice(0, 6)) fs.closeSync(fd);
         // Five clients take five of the six free fds: the server runs out while accepting them.
         const clients = [];
         for (let i = 0; i < 5; i++) {
           await new Promise((resolve) => {
             const s = net.connect(listener.address.port, '127.0.0.1', resolve);
             s.on('error', resolve);
             clients.push(s);
           });
         }
         await new Promise((r) => setTimeout(r, 300));
         for (const s of clients) s.destroy();
         for (const fd of filler.splice(0, 50)) fs.closeSync(fd);
         // A new client once descriptors are free: served as if nothing happened.
         const echo = await new Promise((resolve) => {
           const s = net.connect(listener.address.port, '127.0.0.1', () => s.write('again'));
           let got = '';
           s.on('data', (d) => { got += d; if (got === 'again') { s.destroy(); resolve(got); } });
           s.on('error', () => resolve('error'));
           setTimeout(() => resolve('timeout ' + got), 5000);
         });
         console.log(JSON.stringify({ echo, open: !listener.closed, uncaught, counted: Number.isSafeInteger(listener.acceptErrors) }));
         for (const fd of filler) fs.closeSync(fd);
         await loop.close();`,
      );
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout), result.stdout).toEqual({
        echo: 'again',
        open: true,
        uncaught: 0,
        counted: true,
      });
    });

    it('LOOP-5 an exception in a handler is reported as uncaught and the loop keeps serving', async () => {
      const result = await runNode(
        `import net from 'node:net';
         ${prelude}
         let uncaught = 0;
         process.on('uncaughtException', () => uncaught++);
         let first = true;
         const l = await loop.listen({ port: 0 }, () => ({ onRead(c, lease) {
           c.write(lease.bytes, () => lease.release());
           if (first) { first = false; throw new Error('application bug'); }
         } }));
         const s = net.connect(l.address.port, '127.0.0.1');
         let got = '';
         s.on('data', (d) => { got += d; if (got === 'onetwo') { console.log('uncaught', uncaught, 'echo', got); process.exit(0); } });
         s.write('one');
         setTimeout(() => s.write('two'), 50);`,
      );
      expect(result.stdout.trim()).toBe('uncaught 1 echo onetwo');
    });

    it('LIFE-8 a failure with no onError is reported as uncaught; with onError it is not, and either way the channel closes', async () => {
      const result = await runNode(
        `import net from 'node:net';
         ${prelude}
         const uncaught = [];
         process.on('uncaughtException', (e) => uncaught.push(e.code));
         const watchdog = setTimeout(() => { console.log(JSON.stringify({ stalled: 'LIFE-8', uncaught })); process.exit(1); }, 10000);
         let handled = [], closed = 0, withOnError = false;
         const l = await loop.listen({ port: 0 }, () => {
           const handler = {
             onRead(c, lease) { lease.release(); c.write(Buffer.from('ready')); },
             onClose() { closed++; },
           };
           if (withOnError) handler.onError = (c, e) => { handled.push(e.code); };
           return handler;
         });
         // The peer resets while the channel has a receive armed, so the channel fails with
         // ECONNRESET; once for a handler without onError, once for one with it.
         const resetOnce = () => new Promise((resolve) => {
           const s = net.connect(l.address.port, '127.0.0.1');
           s.on('error', () => {});
           s.once('data', () => { s.resetAndDestroy(); setTimeout(resolve, 200); });
           s.write('hi');
         });
         await resetOnce();
         withOnError = true;
         await resetOnce();
         clearTimeout(watchdog);
         console.log(JSON.stringify({ uncaught, handled, closed, open: loop.stats().channelsOpen }));
         await loop.close();`,
      );
      expect(result.code, result.stdout).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        uncaught: ['ECONNRESET'],
        handled: ['ECONNRESET'],
        closed: 2,
        open: 0,
      });
    });

    it('LOOP-5 LIFE-2 handlers that throw everywhere (accept, read, end, completion, close): every other channel is still served', async () => {
      const result = await runNode(
        `import net from 'node:net';
         ${prelude}
         const uncaught = {};
         process.on('uncaughtException', (e) => { uncaught[e.message] = (uncaught[e.message] ?? 0) + 1; });
         let accepted = 0;
         const l = await loop.listen({ port: 0 }, () => {
           if (++accepted % 5 === 0) throw new Error('onAccept bug');
           let reads = 0;
           return {
             onRead(c, lease) {
               c.write(lease.bytes, () => { lease.release(); throw new Error('completion bug'); });
               if (++reads % 3 === 1) throw new Error('onRead bug');
             },
             onEnd(c) { c.shutdown(); throw new Error('onEnd bug'); },
             onClose() { throw new Error('onClose bug'); },
           };
         });
         const clients = 20;
         let echoed = 0, rejected = 0, done = 0;
         const watchdog = setTimeout(() => {
           console.log(JSON.stringify({ stalled: 'LOOP-5', echoed, rejected, done, uncaught, stats: loop.stats() }));
           process.exit(1);
         }, 20000);
         for (let i = 0; i < clients; i++) {
           const payload = Buffer.alloc(10000 + i * 1000, i);
           const s = net.connect(l.address.port, '127.0.0.1');
           const got = [];
           s.on('data', (d) => got.push(d));
           s.on('error', () => {});
           s.on('close', () => {
             if (Buffer.concat(got).equals(payload)) echoed++; else rejected++;
             if (++done === clients) {
               clearTimeout(watchdog);
               // Let the last onClose throw before counting.
               setTimeout(() => { console.log(JSON.stringify({ echoed, rejected, uncaught })); process.exit(0); }, 100);
             }
           });
           s.end(payload);
         }`,
      );
      expect(result.code, result.stdout).toBe(0);
      const { echoed, rejected, uncaught } = JSON.parse(result.stdout) as {
        echoed: number;
        rejected: number;
        uncaught: Record<string, number>;
      };
      expect({ echoed, rejected }).toEqual({ echoed: 16, rejected: 4 });
      // Each throw reported once: 4 accepts, one end and one close of each of the 16 served, and
      // at least one read and one completion of each.
      expect(uncaught).toMatchObject({ 'onAccept bug': 4, 'onEnd bug': 16, 'onClose bug': 16 });
      expect(uncaught['onRead bug']).toBeGreaterThanOrEqual(16);
      expect(uncaught['completion bug']).toBeGreaterThanOrEqual(16);
    });

    it('SIZER-3 LOOP-5 LIFE-2 a sizer factory that throws for an accepted connection: it is reset (a Unix one closed), the error reported, and the next one served', async () => {
      const unix = kit.has('unixSockets');
      const result = await runNode(
        `import net from 'node:net';
         import { tmpdir } from 'node:os';
         import { join } from 'node:path';
         ${prelude}
         const codes = [];
         process.on('uncaughtException', (e) => codes.push(e.code));
         // A connection nobody closes would keep its peer waiting: fail with the state instead.
         const stall = setTimeout(() => {
           console.log(JSON.stringify({ stalled: 'SIZER-3 LIFE-2', codes, open: loop.stats().channelsOpen }));
           process.exit(1);
         }, 10000);
         const firstThrows = () => {
           let made = 0;
           return () => {
             if (++made === 1) throw new Error('factory bug');
             return { nextReadSize: () => 2048, record() {} };
           };
         };
         const echo = () => ({ onRead(c, lease) { c.write(lease.bytes, () => lease.release()); }, onEnd(c) { c.shutdown(); } });
         const talk = (where, text) => new Promise((resolve) => {
           const s = net.connect(where);
           let got = '';
           let error;
           s.on('data', (d) => { got += d; });
           s.on('error', (e) => { error = e.code; });
           s.on('close', () => resolve({ got, error }));
           s.end(text);
         });
         const l = await loop.listen({ port: 0, sizer: firstThrows() }, echo);
         const tcp = { host: '127.0.0.1', port: l.address.port };
         // The first sends nothing: unread bytes would make any close a reset.
         const first = await talk(tcp, '');
         const second = await talk(tcp, 'second');
         let unix = null;
         if (${unix}) {
           const path = join(tmpdir(), 'iolease-sizer-' + process.pid + '.sock');
           const u = await loop.listen({ path, sizer: firstThrows() }, echo);
           // What the peer of a closed Unix socket sees when it ends its side (nothing, or EPIPE)
           // is a race: that it is closed at all, so that talk() ends, is what counts.
           unix = [(await talk({ path }, '')).got, (await talk({ path }, 'second')).got];
           await u.close();
         }
         clearTimeout(stall);
         console.log(JSON.stringify({ first, second, unix, codes, open: loop.stats().channelsOpen }));
         await loop.close();`,
      );
      expect(result.code, result.stdout).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        first: { got: '', error: 'ECONNRESET' },
        second: { got: 'second' },
        // A Unix socket has no abortive close: closed, so its peer sees the end.
        unix: unix ? ['', 'second'] : null,
        codes: unix ? ['ERR_IOLEASE_INVALID_SIZER', 'ERR_IOLEASE_INVALID_SIZER'] : ['ERR_IOLEASE_INVALID_SIZER'],
        open: 0,
      });
    });

    it.skipIf(process.platform !== 'linux')(
      'LOOP-3 LOOP-8 a peer that half-closes and stops reading: the server waits for room without spinning, and finishes once the peer reads',
      async () => {
        // The server copies what it reads and releases the lease, so it reads everything up to the
        // peer's FIN while its echo waits for room: its socket then reports POLLRDHUP, and a wait
        // that polls for room and takes any answer for room retries the send at once, forever.
        const server = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `${prelude}
             const l = await loop.listen({ port: 0 }, () => ({
               onRead(c, lease) { c.write(Buffer.from(lease.bytes)); lease.release(); },
               onEnd(c) { c.shutdown(); },
               onError() {},
             }));
             console.log(l.address.port);`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        try {
          const port = await watchdog(
            new Promise<number>((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim())))),
            10_000,
            'LOOP-3 the server in a child process listening',
          );
          const cpu = () => {
            const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
            return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
          };
          const peer = await netConnect(port);
          peer.pause();
          const payload = randomBytes(16 * 1024 * 1024);
          const sent = new Promise<void>((resolve) => peer.end(payload, resolve));
          await watchdog(sent, 20_000, 'LOOP-3 the server reading all 16 MiB and the FIN');
          await sleep(300);
          const before = cpu();
          await sleep(1000);
          const used = cpu() - before;
          expect(used, `LOOP-3: the server used ${used} of 100 CPU ticks in 1 s while waiting for room`).toBeLessThan(
            30,
          );
          peer.resume();
          const echoed = await watchdog(readAll(peer), 20_000, 'LOOP-8 the echo resuming once the peer reads');
          expect(sha256(echoed)).toBe(sha256(payload));
        } finally {
          server.kill();
        }
      },
    );

    it.skipIf(!strace)(
      'LIFE-18 noDelay: on for accepted and connected channels by default, off where asked, as the kernel is told (strace)',
      async () => {
        // Nagle's delay shows only by timing, so the test watches the setsockopt calls the
        // backend makes, whatever the process calls them from (the loop, libuv, a worker).
        const marks = traceSetsockopt(
          `${prelude}
           const accepted = [];
           const onAccept = (c) => { accepted.push(c); return {}; };
           const settle = async (n) => { while (accepted.length < n) await new Promise((r) => setTimeout(r, 5)); };
           const listener = await loop.listen({ port: 0 }, onAccept);
           const client = await loop.connect({ host: '127.0.0.1', port: listener.address.port });
           await settle(1);
           mark('off');
           accepted[0].setNoDelay(false);
           client.setNoDelay(false);
           mark('on');
           accepted[0].setNoDelay(true);
           mark('asked-off');
           const quiet = await loop.listen({ port: 0, noDelay: false }, onAccept);
           const quietClient = await loop.connect({ host: '127.0.0.1', port: quiet.address.port, noDelay: false });
           await settle(2);
           mark('end');
           for (const c of [client, quietClient, ...accepted]) c.close();
           await loop.close();`,
        );
        const on = (calls: string[]) => calls.filter((c) => /TCP_NODELAY, \[1\]/.test(c)).length;
        const off = (calls: string[]) => calls.filter((c) => /TCP_NODELAY, \[0\]/.test(c)).length;
        const start = marks.get('start') ?? [];
        expect(
          on(start),
          `LIFE-18 one accepted and one connected channel:\n${start.join('\n')}`,
        ).toBeGreaterThanOrEqual(2);
        expect(off(start), start.join('\n')).toBe(0);
        expect(off(marks.get('off') ?? []), 'setNoDelay(false) on both').toBe(2);
        expect(on(marks.get('off') ?? []), 'setNoDelay(false) on both').toBe(0);
        expect(on(marks.get('on') ?? []), 'setNoDelay(true) on one').toBe(1);
        const askedOff = marks.get('asked-off') ?? [];
        expect(on(askedOff), `noDelay: false on a listener and a connect:\n${askedOff.join('\n')}`).toBe(0);
      },
    );
  });
}

/**
 * Runs an ES module script in a child Node under strace, which records its setsockopt calls.
 * The script calls `mark(name)` between steps; returns the calls after each mark, those before
 * the first under 'start'.
 */
function traceSetsockopt(script: string): Map<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'iolease-strace-'));
  try {
    const log = join(dir, 'trace');
    const body = `import { writeSync as markWrite } from 'node:fs';\nconst mark = (name) => markWrite(2, \`IOLEASE-MARK \${name}\\n\`);\n${script}`;
    const result = spawnSync(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=setsockopt,write',
        '-e',
        'signal=none',
        '-o',
        log,
        process.execPath,
        '--input-type=module',
      ],
      { input: body, encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status, String(result.stderr)).toBe(0);
    const marks = new Map<string, string[]>([['start', []]]);
    let current = marks.get('start') as string[];
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const mark = /IOLEASE-MARK ([\w-]+)/.exec(line);
      if (mark?.[1] !== undefined && /write\(2,/.test(line)) {
        current = [];
        marks.set(mark[1], current);
      } else if (line.includes('setsockopt(')) current.push(line);
    }
    return marks;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
