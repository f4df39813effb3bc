import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { fdsLeftOpenSince, openFdTable, watchdog } from '../helpers.js';
import type { Kit } from '../kit.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Registers the suite against one backend: loops in worker threads (LOOP-1, LOOP-7). */
export function workersSuite(kit: Kit): void {
  const child = kit.backend.inChildProcess;

  describe.skipIf(child === undefined || process.platform !== 'linux')('loops in worker threads', () => {
    /**
     * A worker module: its own loop, an echo listener on `port` (shared with reusePort where the
     * backend has it), counting in the worker what its callbacks saw (LOOP-1: they can only run
     * on the thread whose objects they use). It posts its port and thread, its counts when asked,
     * and closes its loop on 'close'. Evaluated, not written to a file, so its imports resolve
     * from the working directory, as in every other child script of the kit (`inChildProcess`).
     */
    const workerSource = `import { parentPort, threadId, workerData } from 'node:worker_threads';
      ${child?.import}
      const loop = await (${child?.create});
      let accepted = 0, closed = 0, completions = 0;
      const l = await loop.listen({ port: workerData.port, ...(workerData.reusePort ? { reusePort: true } : {}) }, () => {
        accepted++;
        return {
          onRead(c, lease) { c.write(lease.bytes, () => { completions++; lease.release(); }); },
          onEnd(c) { c.shutdown(); },
          onError() {},
          onClose() { closed++; },
        };
      });
      parentPort.postMessage({ port: l.address.port, threadId });
      parentPort.on('message', async (m) => {
        if (m === 'stats') parentPort.postMessage({ accepted, closed, completions, open: loop.stats().channelsOpen });
        if (m === 'close') { await loop.close(); parentPort.close(); }
      });`;

    const start = async (port: number) => {
      const worker = new Worker(workerSource, { eval: true, workerData: { port, reusePort: kit.has('reusePort') } });
      worker.on('error', () => undefined);
      const first = await watchdog(
        new Promise<{ port: number; threadId: number }>((resolve, reject) => {
          worker.once('message', resolve);
          // A worker that fails to start says why, rather than being reported as stalled.
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`LOOP-7 the worker exited (${code}) before it listened`)));
        }),
        10_000,
        'LOOP-7 a loop in a worker thread',
      );
      return { worker, ...first };
    };

    const ask = (worker: Worker) =>
      new Promise<{ accepted: number; closed: number; completions: number; open: number }>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('stats');
      });

    const echo = (port: number, payload: Buffer) =>
      new Promise<boolean>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (d: Buffer) => chunks.push(d));
        socket.on('error', reject);
        socket.on('end', () => resolve(sha256(Buffer.concat(chunks)) === sha256(payload)));
        socket.end(payload);
      });

    it('LOOP-1 LOOP-7 two workers, each with its own loop: callbacks on its thread, echo byte for byte, on one port where reusePort is offered', async () => {
      const before = openFdTable();
      const a = await start(0);
      const b = await start(kit.has('reusePort') ? a.port : 0);
      expect(a.threadId).not.toBe(b.threadId);
      const ports = [...new Set([a.port, b.port])];
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => echo(ports[i % ports.length] as number, randomBytes(2000 + i * 101))),
      );
      expect(results.every(Boolean)).toBe(true);
      let [sa, sb] = await Promise.all([ask(a.worker), ask(b.worker)]);
      for (let i = 0; i < 100 && sa.closed + sb.closed < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        [sa, sb] = await Promise.all([ask(a.worker), ask(b.worker)]);
      }
      // Every connection was accepted, echoed and closed by one worker's loop, in that worker.
      expect(sa.accepted + sb.accepted).toBe(100);
      expect(sa.closed + sb.closed).toBe(100);
      expect(sa.completions + sb.completions).toBeGreaterThanOrEqual(100);
      expect(sa.open + sb.open).toBe(0);
      if (kit.has('reusePort')) expect(Math.min(sa.accepted, sb.accepted)).toBeGreaterThan(0);
      for (const w of [a, b]) {
        const exited = new Promise((resolve) => w.worker.once('exit', resolve));
        w.worker.postMessage('close');
        await watchdog(exited, 10_000, 'LIFE-10 the worker ends once its loop closed');
      }
      expect(await fdsLeftOpenSince(before), 'LOOP-7 LIFE-10 no fd left').toEqual([]);
    });

    it('LOOP-7 LIFE-10 a worker terminated mid-traffic takes its loop with it: the process lives on, no fd left', async () => {
      const before = openFdTable();
      for (let round = 0; round < 5; round++) {
        const w = await start(0);
        const sockets = Array.from({ length: 5 }, () => {
          const s = net.connect(w.port, '127.0.0.1');
          s.on('error', () => undefined);
          s.on('data', () => undefined);
          s.write(randomBytes(100_000));
          return s;
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        await w.worker.terminate();
        for (const s of sockets) s.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await fdsLeftOpenSince(before)).toEqual([]);
    });
  });
}
