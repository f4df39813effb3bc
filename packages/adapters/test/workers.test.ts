// startLoops(): one loop per worker thread, sharing a port (reusePort), on both backends.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { fdsLeftOpenSince, openFdTable, until, watchdog } from '@iolease/conformance';
import { describe, expect, it } from 'vitest';
import { startLoops } from '../src/index.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
/** A free port, found by binding 0 and letting go. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** One connection: the serving thread's id, and whether the payload came back intact. */
function talk(port: number, payload: Buffer): Promise<{ thread: number; intact: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const newline = all.indexOf(10);
      resolve({
        thread: Number(all.subarray(0, newline)),
        intact: sha256(all.subarray(newline + 1)) === sha256(payload),
      });
    });
    socket.end(payload);
  });
}

describe.each(['uring', 'net'] as const)('startLoops() with the %s backend', (backend) => {
  it('LOOP-7 two workers, one port: 200 checksummed connections served by both; close() ends them and leaves no fd', async () => {
    const before = openFdTable();
    const port = await freePort();
    const group = await startLoops(fixture('echo-worker.mjs'), { threads: 2, backend, data: { port } });
    expect(group.workers.map((w) => w.backend)).toEqual(
      backend === 'uring' ? ['io_uring', 'io_uring'] : ['node:net', 'node:net'],
    );
    const threads = new Set(group.workers.map((w) => w.threadId));
    expect(threads.size).toBe(2);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => talk(port, randomBytes(1000 + i * 37))));
    expect(results.every((r) => r.intact)).toBe(true);
    const perThread = new Map<number, number>();
    for (const r of results) perThread.set(r.thread, (perThread.get(r.thread) ?? 0) + 1);
    // The kernel spreads connections by hash: both workers serve, neither all of them.
    expect([...perThread.keys()].every((t) => threads.has(t))).toBe(true);
    expect(perThread.size).toBe(2);
    await group.close();
    expect(await fdsLeftOpenSince(before)).toEqual([]);
  });
});

describe('the multicore examples', () => {
  it('examples/multicore-http.mjs serves node:http from two worker loops and stops on SIGTERM', async () => {
    const port = await freePort();
    const example = fileURLToPath(new URL('../../../examples/multicore-http.mjs', import.meta.url));
    const child = spawn(process.execPath, [example, String(port), '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      await until(() => out.includes('listening on'), 10_000, 'the example to listen');
      expect(out.match(/: io_uring: /g)).toHaveLength(2);
      const answers = await Promise.all(
        Array.from({ length: 20 }, async () =>
          (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) })).text(),
        ),
      );
      expect(answers.every((a) => /^hello from thread \d+\n$/.test(a))).toBe(true);
      child.kill('SIGTERM');
      expect(await watchdog(exited, 10_000, 'LOOP-7 the example to exit on SIGTERM', () => out)).toBe(0);
    } finally {
      // A failed assertion must not leave the example serving: it would keep vitest from exiting.
      child.kill('SIGKILL');
    }
  });
});

describe('startLoops() failures', () => {
  it('a worker whose module throws makes startLoops reject, and no worker is left running', async () => {
    const before = openFdTable();
    await expect(startLoops(fixture('failing-worker.mjs'), { threads: 2, backend: 'net' })).rejects.toThrow(
      'this worker cannot start',
    );
    await expect(startLoops(fixture('no-such-module.mjs'), { threads: 1, backend: 'net' })).rejects.toThrow();
    await expect(startLoops(fixture('echo-worker.mjs'), { threads: 0 })).rejects.toMatchObject({
      code: 'ERR_IOLEASE_OUT_OF_RANGE',
    });
    expect(await fdsLeftOpenSince(before)).toEqual([]);
  });
});
