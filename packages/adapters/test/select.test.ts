import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@iolease/conformance';
import { describe, expect, it } from 'vitest';
import { openEventLoop } from '../src/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const uringFixture = join(packageDir, '../reference-uring/test/fixtures/deny-io-uring.c');

/** Runs a module script in a child Node (optionally under a launcher) and parses its JSON output. */
async function runChild(script: string, launcher: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const { code, stdout } = await runNode(script, { launcher, env, cwd: packageDir });
  if (code !== 0) throw new Error(`child exited ${code}; it printed ${JSON.stringify(stdout)}`);
  return JSON.parse(stdout);
}

/** Opens a loop as `options` asks, echoes a message through it, and reports the selection. */
const selectAndEcho = (options: string) => `
  import net from 'node:net';
  import { openEventLoop } from '@iolease/adapters';
  const report = {};
  try {
    const { loop, selection } = await openEventLoop(${options});
    report.backend = selection.backend;
    report.reason = selection.reason;
    report.cause = selection.cause?.code;
    const listener = await loop.listen({ port: 0 }, () => ({
      onRead: (c, lease) => c.write(lease.bytes, () => lease.release()),
      onEnd: (c) => c.shutdown(),
    }));
    const socket = net.connect(listener.address.port, '127.0.0.1');
    let echoed = '';
    socket.on('data', (d) => { echoed += d; });
    socket.end('ping');
    await new Promise((resolve) => socket.on('end', resolve));
    report.echoed = echoed;
    await loop.close();
  } catch (error) {
    report.error = error.code;
  }
  console.log(JSON.stringify(report));
`;

function denyIoUring(): string {
  const launcher = join(mkdtempSync(join(tmpdir(), 'iolease-seccomp-')), 'deny-io-uring');
  const { LD_PRELOAD: _preload, ...env } = process.env;
  execFileSync('cc', ['-O2', '-o', launcher, uringFixture], { env });
  return launcher;
}

describe('backend selection', () => {
  it('auto runs io_uring where it is available, and says so', async () => {
    const { loop, selection } = await openEventLoop();
    expect(selection).toMatchObject({ requested: 'auto', backend: 'io_uring' });
    expect(loop.backend).toBe('io_uring');
    await loop.close();
  });

  it('net runs node:net when asked, by option or by IOLEASE_BACKEND', async () => {
    const { loop, selection } = await openEventLoop({ backend: 'net' });
    expect(selection).toEqual({ requested: 'net', backend: 'node:net', reason: 'node:net was requested' });
    expect(loop.backend).toBe('node:net');
    await loop.close();
    expect(await runChild(selectAndEcho('{}'), [], { IOLEASE_BACKEND: 'net' })).toEqual({
      backend: 'node:net',
      reason: 'node:net was requested',
      echoed: 'ping',
    });
  });

  it('bad options fail with a coded error on auto too; they never cause a fallback', async () => {
    await expect(openEventLoop({ backend: 'carrier-pigeon' as 'net' })).rejects.toMatchObject({
      code: 'ERR_IOLEASE_INVALID_ARG_VALUE',
    });
    await expect(openEventLoop({ sizeClasses: [{ size: 0, count: 1 }] })).rejects.toMatchObject({
      code: 'ERR_IOLEASE_OUT_OF_RANGE',
    });
  });

  it('auto falls back to node:net when no build of the addon loads (no prebuild for this system, nothing compiled)', async () => {
    const missing = { IOLEASE_URING_ADDON: '/nonexistent/iolease_uring.node' };
    const report = (await runChild(selectAndEcho('{}'), [], missing)) as Record<string, string>;
    expect(report).toMatchObject({ backend: 'node:net', cause: 'ERR_IOLEASE_BACKEND_UNAVAILABLE', echoed: 'ping' });
    expect(report.reason).toMatch(/^The io_uring addon is not available here: no prebuild .*; running on node:net$/);
    expect(await runChild(selectAndEcho("{ backend: 'uring' }"), [], missing)).toEqual({
      error: 'ERR_IOLEASE_BACKEND_UNAVAILABLE',
    });
  });

  it.each(['EPERM', 'ENOSYS'])(
    'auto falls back to node:net when io_uring_setup fails with %s (seccomp)',
    async (errno) => {
      const launcher = denyIoUring();
      const report = (await runChild(selectAndEcho('{}'), [launcher, errno])) as Record<string, string>;
      expect(report).toMatchObject({ backend: 'node:net', cause: 'ERR_IOLEASE_BACKEND_UNAVAILABLE', echoed: 'ping' });
      expect(report.reason).toContain(errno);
      expect(report.reason).toContain('running on node:net');
      // Asked for by name, io_uring fails instead of falling back.
      expect(await runChild(selectAndEcho("{ backend: 'uring' }"), [launcher, errno])).toEqual({
        error: 'ERR_IOLEASE_BACKEND_UNAVAILABLE',
      });
    },
  );
});
