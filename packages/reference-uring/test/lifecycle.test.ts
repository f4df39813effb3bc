import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Channel } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { Kind } from '../src/completion.ts';
import { createEventLoop } from '../src/index.ts';
import { loadBinding } from '../src/native.ts';
import { deferred, echoServer, netConnect, openFds, randomBytes, readAll, sha256, sleep, withLoop } from './helpers.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const entry = join(packageDir, 'dist/index.js');

/** Runs a Node script in a child (optionally under a launcher); returns its stdout. */
function runNode(script: string, launcher: string[] = []): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const argv = [...launcher, process.execPath, '--input-type=module', '-e', script];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

describe('loop lifecycle', () => {
  it('LIFE-10 close() closes every listener and channel and leaves no fd open', async () => {
    const baseline = openFds();
    const loop = createEventLoop();
    const afterCreate = openFds();
    expect(afterCreate - baseline).toBe(2); // the ring and its eventfd
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
    for (const c of clients) c.write('some traffic');
    await sleep(20);
    const closing = loop.close();
    expect(loop.close()).toBe(closing); // idempotent
    await closing;
    expect(closes).toHaveLength(25);
    expect(connected.every((c) => c.state === 'closed')).toBe(true);
    for (const c of clients) c.destroy();
    await sleep(20);
    expect(openFds()).toBe(baseline);
    expect(() => loop.listen({ port: 0 }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_LOOP_CLOSED' }),
    );
    expect(() => loop.connect({ port: 1 })).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_LOOP_CLOSED' }));
  });

  it('LIFE-10 a hundred loops opened and closed leak no fd', async () => {
    const baseline = openFds();
    for (let i = 0; i < 100; i++) {
      const loop = createEventLoop({ sizeClasses: [{ size: 4096, count: 64 }] });
      const listener = await echoServer(loop);
      const socket = await netConnect(listener.address.port);
      const echoed = readAll(socket);
      socket.end('x');
      await echoed;
      await loop.close();
    }
    expect(openFds()).toBe(baseline);
  });

  it('LOOP-3 timers keep firing while the loop is busy echoing', async () => {
    await withLoop(undefined, async (loop) => {
      const listener = await echoServer(loop);
      let ticks = 0;
      const interval = setInterval(() => ticks++, 1);
      const payload = randomBytes(4 * 1024 * 1024);
      const sockets = await Promise.all(Array.from({ length: 8 }, () => netConnect(listener.address.port)));
      const results = sockets.map((s) => readAll(s));
      for (const s of sockets) s.end(payload);
      const echoed = await Promise.all(results);
      clearInterval(interval);
      for (const e of echoed) expect(sha256(e)).toBe(sha256(payload));
      // 32 MiB each way took many event-loop turns; a loop that starved timers would show ~0.
      expect(ticks).toBeGreaterThan(5);
    });
  });

  it('LOOP-6 an open listener keeps the process alive; a closed loop lets it exit', async () => {
    const lingering = await runNode(
      `import { createEventLoop } from ${JSON.stringify(entry)};
       const loop = createEventLoop();
       await loop.listen({ port: 0 }, () => undefined);
       setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();`,
    );
    expect(lingering.stdout).toContain('still alive');
    const exiting = await runNode(
      `import { createEventLoop } from ${JSON.stringify(entry)};
       const loop = createEventLoop();
       const l = await loop.listen({ port: 0 }, () => undefined);
       await loop.close();
       process.on('exit', () => console.log('exited by itself'));
       setTimeout(() => { console.log('kept alive'); process.exit(1); }, 2000).unref();`,
    );
    expect(exiting).toEqual({ code: 0, stdout: 'exited by itself\n' });
  });

  it('LOOP-5 an exception in a handler is reported as uncaught and the loop keeps serving', async () => {
    const result = await runNode(
      `import { createEventLoop } from ${JSON.stringify(entry)};
       import net from 'node:net';
       let uncaught = 0;
       process.on('uncaughtException', () => uncaught++);
       const loop = createEventLoop();
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
});

describe('errors', () => {
  it('ERR-4 off Linux the loader reports ERR_IOLEASE_UNSUPPORTED_PLATFORM', () => {
    for (const platform of ['darwin', 'win32', 'freebsd']) {
      expect(() => loadBinding(platform)).toThrow(
        expect.objectContaining({ code: 'ERR_IOLEASE_UNSUPPORTED_PLATFORM' }),
      );
    }
  });

  it.each(['EPERM', 'ENOSYS'])(
    'ERR-4 io_uring_setup failing with %s (a seccomp profile) gives ERR_IOLEASE_BACKEND_UNAVAILABLE naming it',
    async (errno) => {
      const dir = mkdtempSync(join(tmpdir(), 'iolease-seccomp-'));
      const launcher = join(dir, 'deny-io-uring');
      // The compiler must not inherit a sanitizer runtime preloaded for the addon's tests.
      const { LD_PRELOAD: _preload, ...env } = process.env;
      execFileSync('cc', ['-O2', '-o', launcher, join(packageDir, 'test/fixtures/deny-io-uring.c')], { env });
      const result = await runNode(
        `import { createEventLoop } from ${JSON.stringify(entry)};
         try { createEventLoop(); console.log('created'); }
         catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, cause: e.cause?.code })); }`,
        [launcher, errno],
      );
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.code).toBe('ERR_IOLEASE_BACKEND_UNAVAILABLE');
      expect(report.cause).toBe(errno);
      expect(report.message).toContain(errno);
      expect(report.message).toContain('node:net');
    },
  );

  it('the batch record kinds agree with the native engine', () => {
    expect(loadBinding().kinds).toEqual(Kind);
  });
});

describe('bad input gets a coded error, never a crash', () => {
  const code = (c: string) => expect.objectContaining({ code: c });

  it.each([
    [{ sizeClasses: [] }, 'ERR_IOLEASE_INVALID_ARG_VALUE'],
    [{ sizeClasses: [{ size: 512, count: 0 }] }, 'ERR_IOLEASE_OUT_OF_RANGE'],
    [{ sizeClasses: 'big' }, 'ERR_IOLEASE_INVALID_ARG_TYPE'],
    [{ waterMarks: { low: 9, high: 1 } }, 'ERR_IOLEASE_INVALID_ARG_VALUE'],
    [{ sqEntries: 3 }, 'ERR_IOLEASE_OUT_OF_RANGE'],
    [{ cqEntries: 1 << 20 }, 'ERR_IOLEASE_OUT_OF_RANGE'],
    [{ diagnostics: { poison: 'yes' } }, 'ERR_IOLEASE_INVALID_ARG_TYPE'],
    [{ diagnostics: { leakDetection: 'all' } }, 'ERR_IOLEASE_FEATURE_UNSUPPORTED'],
    [42, 'ERR_IOLEASE_INVALID_ARG_TYPE'],
  ])('createEventLoop(%j) → %s', (options, c) => {
    const before = openFds();
    expect(() => createEventLoop(options as never)).toThrow(code(c));
    expect(openFds()).toBe(before);
  });

  it('listen, connect and channel methods reject bad arguments', async () => {
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

      const listener = await echoServer(loop);
      const channel = await loop.connect({ port: listener.address.port });
      expect(() => channel.setHandler(null as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
      expect(() => channel.setAutoRead('yes' as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
      expect(() => channel.setNoDelay(1 as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
      expect(() => channel.setKeepAlive('on' as never)).toThrow(code('ERR_IOLEASE_INVALID_ARG_TYPE'));
      expect(() => channel.setKeepAlive(true, -5)).toThrow(code('ERR_IOLEASE_OUT_OF_RANGE'));
      channel.setNoDelay(false);
      channel.setKeepAlive(true, 30_000);
      const closed = deferred();
      channel.setHandler({ onClose: () => closed.resolve() });
      channel.close();
      await closed.promise;
      expect(() => channel.setHandler({})).toThrow(code('ERR_IOLEASE_INVALID_STATE'));
      channel.setNoDelay(true); // on a closed channel: nothing to do, no crash
      channel.read();
      channel.shutdown();
      channel.reset();
    });
  });
});
