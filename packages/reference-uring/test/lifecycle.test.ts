import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netConnect, sleep, until, usingLoop, watchdog } from '@iolease/conformance';
import type { Channel, Lease } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { Kind } from '../src/completion.ts';
import { createEventLoop } from '../src/index.ts';
import { loadBinding } from '../src/native.ts';
import { entry, openFds, packageDir, runNode } from './helpers.ts';

describe('loop lifecycle', () => {
  it('LIFE-10 the loop holds two fds, the ring and its eventfd, and closes both', async () => {
    const baseline = openFds();
    const loop = createEventLoop();
    expect(openFds() - baseline).toBe(2);
    await loop.close();
    expect(openFds()).toBe(baseline);
  });

  it("LIFE-10 a closed loop gives its slot in the thread's registered-ring table back (16 slots): the 20th loop in a row registers too", async () => {
    // A registered ring is held by the table, not the fd table: a loop that left its slot
    // taken would keep its ring alive with no fd to show for it.
    for (let i = 1; i <= 20; i++) {
      const loop = createEventLoop();
      expect(loop.native.features().registeredRing, `loop ${i}`).toBe(true);
      await loop.close();
    }
  });

  it('LIFE-10 a lease released in onClose while the loop closes goes back to the pool without an error', async () => {
    const loop = createEventLoop();
    const listener = await loop.listen({ port: 0 }, () => {
      let held: Lease | undefined;
      return {
        onRead: (_c, lease) => {
          held = lease;
        },
        onClose: () => held?.release(),
      };
    });
    const socket = await netConnect(listener.address.port);
    socket.write('held until close');
    await until(() => loop.pool.stats().leasesOut === 1, 5000, 'LIFE-10 a lease out');
    await loop.close();
    // The release asks for a pump as the ring goes away: it must run before teardown or not at all.
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(20);
    expect(loop.pool.stats().leasesOut).toBe(0);
    socket.destroy();
  });

  it('LEASE-6 POOL-5 leases released after the loop closed count as available, not as on their way back to a ring that is gone', async () => {
    for (const incremental of [false, true]) {
      const loop = createEventLoop({ sizeClasses: [{ size: 4096, count: 8 }], incrementalBuffers: incremental });
      const held: Lease[] = [];
      const listener = await loop.listen({ port: 0 }, () => ({ onRead: (_c, lease) => void held.push(lease) }));
      const socket = await netConnect(listener.address.port);
      // Whole buffers' worth, so that an incremental buffer is done with too, not only a piece.
      socket.write(Buffer.alloc(16384, 7));
      await until(() => held.reduce((n, l) => n + l.length, 0) === 16384, 5000, 'LEASE-6 leases out');
      await loop.close();
      for (const lease of held) lease.release();
      const stats = loop.pool.stats();
      expect(stats.leasesOut, `incremental: ${incremental}`).toBe(0);
      expect(stats.classes[0], `incremental: ${incremental}`).toMatchObject({ available: 8, leased: 0, returning: 0 });
      socket.destroy();
    }
  });

  it("LIFE-4 ERR-3 LOOP-2 a shutdown the kernel refuses fails the channel with its errno, on the loop's turn, not later or never", async () => {
    // A paused channel has no receive to see the peer's reset; shutdown(2) on the reset socket
    // answers ENOTCONN. Ignored, the channel would stay open with its output "ended" for as long
    // as the application keeps it paused.
    await usingLoop(createEventLoop(), async (loop) => {
      const errors: unknown[] = [];
      let accepted: Channel | undefined;
      const listener = await loop.listen({ port: 0 }, (channel) => {
        accepted = channel;
        channel.setAutoRead(false);
        return { onError: (_c, error) => errors.push(error) };
      });
      const socket = await netConnect(listener.address.port);
      await until(() => accepted !== undefined, 5000, 'LIFE-4 accepted');
      const channel = accepted as Channel;
      socket.resetAndDestroy();
      await sleep(50); // the reset arrives
      expect(channel.state).toBe('open');
      channel.shutdown();
      // On the loop's turn, not inside the call (LOOP-2).
      expect(errors, 'LOOP-2 onError inside shutdown()').toHaveLength(0);
      await until(() => errors.length > 0, 5000, 'LIFE-4 the refused shutdown reported');
      expect(errors[0]).toMatchObject({ code: 'ENOTCONN', syscall: 'shutdown' });
      expect(channel.state).toBe('closed');
    });
  });

  it('ERR-3 a reset fails a reading channel from recv, and a paused one that writes from send', async () => {
    // The error names the call that met the reset, as node:net's "read ECONNRESET" does.
    await usingLoop(createEventLoop(), async (loop) => {
      const accepted: Channel[] = [];
      const errors: unknown[] = [];
      const listener = await loop.listen({ port: 0 }, (channel) => {
        const index = accepted.push(channel) - 1;
        if (index === 1) channel.setAutoRead(false);
        return { onError: (_c, error) => (errors[index] = error) };
      });
      const reader = await netConnect(listener.address.port);
      await until(() => accepted.length === 1, 5000, 'ERR-3 the reading channel accepted');
      const writer = await netConnect(listener.address.port);
      await until(() => accepted.length === 2, 5000, 'ERR-3 the paused channel accepted');
      reader.resetAndDestroy();
      writer.resetAndDestroy();
      await until(() => errors[0] !== undefined, 5000, 'ERR-3 the reading channel failed');
      await sleep(50); // the reset reaches the paused channel, which has no receive to see it
      expect(accepted[1]?.state).toBe('open');
      accepted[1]?.write(new Uint8Array(16));
      await until(() => errors[1] !== undefined, 5000, 'ERR-3 the writing channel failed');
      expect(errors[0]).toMatchObject({ code: 'ECONNRESET', syscall: 'recv' });
      expect(errors[1]).toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/), syscall: 'send' });
    });
  });

  it('LIFE-13 a connection reset before it was accepted reports an empty remote address, and its own local one', async () => {
    // The only way to accept a connection that is already reset: a server with no fd left holds
    // it in the kernel's queue (accept fails with EMFILE) until the client has reset it, then
    // frees its fds. The engine then finds no peer to name (getpeername answers ENOTCONN).
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import fs from 'node:fs';
         const { createEventLoop } = await import(${JSON.stringify(entry)});
         const loop = createEventLoop();
         let seen;
         const listener = await loop.listen({ host: '127.0.0.1', port: 0 }, (channel) => {
           seen = { remote: channel.remoteAddress, local: channel.localAddress };
           return { onError() {} };
         });
         const filler = [];
         process.stdin.once('data', async () => {
           const before = seen;
           for (const fd of filler) fs.closeSync(fd);
           const deadline = Date.now() + 5000;
           while (seen === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
           console.log(JSON.stringify({ before, seen, port: listener.address.port, errors: listener.acceptErrors > 0 }));
           await loop.close();
           process.exit(0);
         });
         try { for (;;) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
         console.log(listener.address.port);`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      await until(() => stdout.includes('\n'), 5000, 'LIFE-13 the server is listening, out of fds');
      const socket = await netConnect(Number(stdout.trim()));
      socket.resetAndDestroy();
      await sleep(50); // the reset reaches the connection waiting in the accept queue
      child.stdin.write('free\n');
      const code = await watchdog(
        new Promise((resolve) => child.once('exit', resolve)),
        10_000,
        'LIFE-13 the child to report the connection and exit',
        () => stdout,
      );
      expect(code).toBe(0);
      const { before, seen, port, errors } = JSON.parse(stdout.split('\n')[1] as string);
      expect({ before, errors }).toEqual({ before: undefined, errors: true });
      expect(seen.remote).toEqual({ family: 'IPv4', address: '', port: 0 });
      expect(seen.local).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
    } finally {
      child.kill('SIGKILL');
    }
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

  it.each([
    ['EPERM', 'ERR_IOLEASE_BACKEND_UNAVAILABLE', 'a seccomp profile'],
    ['ENOSYS', 'ERR_IOLEASE_BACKEND_UNAVAILABLE', 'the kernel has no io_uring'],
    ['EACCES', 'ERR_IOLEASE_BACKEND_UNAVAILABLE', 'kernel.io_uring_group'],
    ['ENOMEM', 'ERR_IOLEASE_BACKEND_UNAVAILABLE', 'memory limits'],
    ['EINVAL', 'ERR_IOLEASE_BACKEND_UNAVAILABLE', 'Linux 5.19+'],
    // Named ENOTSUP, as Node names errno 95 (ERR-3).
    ['EOPNOTSUPP', 'ERR_IOLEASE_FEATURE_UNSUPPORTED', 'lacks an io_uring operation', 'ENOTSUP'],
  ])(
    'ERR-4 io_uring_setup failing with %s (a seccomp filter answers for the kernel) gives %s naming the reason',
    async (errno, code, reason, name = errno) => {
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
      expect(report.code).toBe(code);
      expect(report.cause).toBe(name);
      expect(report.message).toContain(`io_uring_setup failed with ${name}: `);
      expect(report.message).toContain(reason);
      expect(report.message).toContain('node:net');
    },
  );

  it('the batch record kinds agree with the native engine', () => {
    expect(loadBinding().kinds).toEqual(Kind);
  });
});

describe('bad input gets a coded error, never a crash', () => {
  // Each message names the option at fault (ERR-1), as Node's validators do.
  it.each([
    [{ sizeClasses: [] }, 'ERR_IOLEASE_INVALID_ARG_VALUE', '"sizeClasses"'],
    [{ sizeClasses: [{ size: 512, count: 0 }] }, 'ERR_IOLEASE_OUT_OF_RANGE', '"sizeClasses[0].count"'],
    [{ sizeClasses: 'big' }, 'ERR_IOLEASE_INVALID_ARG_TYPE', '"sizeClasses"'],
    [{ waterMarks: { low: 9, high: 1 } }, 'ERR_IOLEASE_INVALID_ARG_VALUE', 'waterMarks.low (9)'],
    [{ sqEntries: 3 }, 'ERR_IOLEASE_OUT_OF_RANGE', '"options.sqEntries"'],
    [{ cqEntries: 1 << 20 }, 'ERR_IOLEASE_OUT_OF_RANGE', '"options.cqEntries"'],
    [
      { sqEntries: 64, cqEntries: 32 },
      'ERR_IOLEASE_OUT_OF_RANGE',
      '"options.cqEntries" is out of range. It must be an integer >= 64',
    ],
    [{ zeroCopyThreshold: 0 }, 'ERR_IOLEASE_OUT_OF_RANGE', '"options.zeroCopyThreshold"'],
    [{ diagnostics: { poison: 'yes' } }, 'ERR_IOLEASE_INVALID_ARG_TYPE', '"options.diagnostics.poison"'],
    [
      { diagnostics: { leakDetection: 'sometimes' } },
      'ERR_IOLEASE_INVALID_ARG_VALUE',
      '"options.diagnostics.leakDetection"',
    ],
    [42, 'ERR_IOLEASE_INVALID_ARG_TYPE', '"options"'],
  ])('createEventLoop(%j) → %s naming %s', (options, c, named) => {
    const before = openFds();
    expect(() => createEventLoop(options as never)).toThrow(
      expect.objectContaining({ code: c, message: expect.stringContaining(named) }),
    );
    expect(openFds()).toBe(before);
  });
});
