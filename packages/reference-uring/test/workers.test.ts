// Loops in worker threads (LOOP-7): each worker's loop is its own, and a worker that ends any way
// (terminated mid-traffic, thrown out of, or done) takes its ring, pool and fds with it. Run in a
// child process, because the failure this guards against is a crash of the whole process: a
// terminated worker used to call into the addon after Node had unloaded it.

import { fileURLToPath } from 'node:url';
import { runNode } from '@iolease/conformance';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('io_uring loops in worker threads', () => {
  it('LOOP-7 LIFE-10 60 workers ended mid-traffic (terminate, throw, or close and exit) crash nothing and leave no fd or pool behind', async () => {
    const result = await runNode(`
      import { Worker } from 'node:worker_threads';
      import net from 'node:net';
      import fs from 'node:fs';
      const fds = () => new Map(fs.readdirSync('/proc/self/fd').map((f) => {
        try { return [f, fs.readlinkSync('/proc/self/fd/' + f)]; } catch { return [f, '?']; }
      }));
      const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      const worker = (how) => \`
        import { parentPort } from 'node:worker_threads';
        import { createEventLoop } from ${JSON.stringify(entry)};
        // A pool of 16 MiB, so that one left behind per worker would show in the RSS.
        const loop = createEventLoop({ sizeClasses: [{ size: 65536, count: 256 }] });
        const l = await loop.listen({ port: 0 }, () => ({
          onRead(c, lease) { c.write(lease.bytes, () => lease.release()); },
          onError() {},
        }));
        parentPort.postMessage(l.address.port);
        parentPort.once('message', async () => {
          if ('\${how}' === 'throw') throw new Error('worker bug');
          await loop.close();
          process.exit(0);
        });\`;
      // Node's own per-process resources, made by the first worker, are not the loop's.
      await new Promise((r) => new Worker('1', { eval: true }).once('exit', r));
      const before = fds();
      const rssBefore = rss();
      const ways = ['terminate', 'throw', 'exit'];
      // Three at a time: the addon is loaded and unloaded by several threads at once.
      const one = async (i) => {
        const how = ways[i % 3];
        const w = new Worker(worker(how), { eval: true, type: 'module' });
        w.on('error', () => {});
        const port = await new Promise((r) => w.once('message', r));
        const sockets = Array.from({ length: 4 }, () => {
          const s = net.connect(port, '127.0.0.1');
          s.on('error', () => {});
          s.on('data', () => {});
          s.write(Buffer.alloc(200000, i));
          return s;
        });
        await new Promise((r) => setTimeout(r, 10));
        const exited = new Promise((r) => w.once('exit', r));
        if (how === 'terminate') await w.terminate();
        else w.postMessage('end');
        await exited;
        for (const s of sockets) s.destroy();
      };
      for (let i = 0; i < 60; i += 3) await Promise.all([one(i), one(i + 1), one(i + 2)]);
      await new Promise((r) => setTimeout(r, 200));
      const after = fds();
      const leaked = [...after].filter(([f, t]) => before.get(f) !== t).map(([, t]) => t);
      console.log(JSON.stringify({ leaked, rssGrowth: rss() - rssBefore }));`);
    expect({ code: result.code, signal: result.signal }, result.stdout).toEqual({ code: 0, signal: null });
    const { leaked, rssGrowth } = JSON.parse(result.stdout) as { leaked: string[]; rssGrowth: number };
    expect(leaked).toEqual([]);
    // 60 pools of 16 MiB: one in three kept would add 320 MiB. Worker heaps come and go around it.
    // (Not under AddressSanitizer, which keeps freed memory in quarantine on purpose; its leak
    // check covers the pools there.)
    if (!process.env.LD_PRELOAD?.includes('libasan')) expect(rssGrowth).toBeLessThan(128 * 1024 * 1024);
  });
});
