// Soak: an echo server under seeded churn for a set time, sampling its memory and open fds after
// every round; both must plateau. Each round opens `--connections` clients (at most 250 at a
// time) that pipeline random chunks; one in ten resets mid-stream, one in ten reads slowly, and
// every other one must get its bytes back exactly. The servers run one after the other in the
// same run: the iolease uring and node:net backends and plain node:net as the baseline.
//
// Usage: node bench/soak/run.mjs [--seconds 30] [--round 3] [--connections 1000] [--seed 1]
//          [--servers uring,net,plain] [--json file]
// Exit status 1 if any echo came back wrong, or fds did not return to their starting count.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from '../lib/machine.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    round: { type: 'string', default: '3' },
    connections: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    servers: { type: 'string', default: 'uring,net,plain' },
    json: { type: 'string' },
  },
});
const seconds = Number(opts.seconds);
const roundSeconds = Number(opts.round);
const connections = Number(opts.connections);

/** mulberry32: a small seeded PRNG, so a run's churn can be replayed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function startServer(mode) {
  const child = spawn(process.execPath, ['--expose-gc', `${here}server.mjs`, mode], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      const m = /listening on \S+:(\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`soak server ${mode} exited with ${code}: ${output}`)));
  });
  const ask = async (question) => {
    child.send(question);
    const [answer] = await once(child, 'message');
    return answer;
  };
  return {
    port,
    fds: () => readdirSync(`/proc/${child.pid}/fd`).length,
    async memory() {
      return { ...(await ask('memory')), fds: readdirSync(`/proc/${child.pid}/fd`).length };
    },
    gc: () => ask('gc'),
    async stop() {
      child.send('stop');
      await once(child, 'exit');
    },
  };
}

/** One client: pipelined random chunks; resets, reads slowly or checks its echo. */
function client(port, random) {
  const chunks = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
    const b = Buffer.allocUnsafe(1 + Math.floor(random() * 16384));
    for (let i = 0; i < b.length; i++) b[i] = (random() * 256) | 0;
    return b;
  });
  const payload = Buffer.concat(chunks);
  const kind = random();
  const slowFor = Math.floor(random() * 200);
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got = [];
    socket.on('error', () => resolve('error'));
    socket.on('data', (d) => got.push(d));
    socket.on('end', () => {
      socket.destroy();
      resolve(Buffer.concat(got).equals(payload) ? 'ok' : 'mismatch');
    });
    socket.on('connect', () => {
      if (kind < 0.1) {
        socket.write(chunks[0]);
        setImmediate(() => {
          socket.resetAndDestroy();
          resolve('reset');
        });
        return;
      }
      if (kind < 0.2) {
        socket.pause();
        setTimeout(() => socket.resume(), slowFor);
      }
      for (const c of chunks) socket.write(c);
      socket.end();
    });
  });
}

async function round(port, random) {
  const counts = { ok: 0, mismatch: 0, reset: 0, error: 0 };
  let next = 0;
  const worker = async () => {
    while (next < connections) {
      next++;
      counts[await client(port, random)]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(250, connections) }, worker));
  return counts;
}

const MB = 1024 * 1024;
const results = {};
let failed = false;
for (const mode of opts.servers.split(',')) {
  const random = prng(Number(opts.seed));
  const server = await startServer(mode);
  const start = await server.memory();
  const samples = [];
  const deadline = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < deadline) {
    const roundEnd = Date.now() + roundSeconds * 1000;
    const counts = { ok: 0, mismatch: 0, reset: 0, error: 0 };
    while (Date.now() < roundEnd) {
      const c = await round(server.port, random);
      for (const k of Object.keys(counts)) counts[k] += c[k];
    }
    await new Promise((r) => setTimeout(r, 200)); // let closes finish
    if (process.env.SOAK_DEBUG) console.error(`round ${n + 1}`, counts);
    const m = await server.memory();
    samples.push({ round: ++n, ...counts, ...m });
    if (counts.mismatch > 0) failed = true;
  }
  await server.gc();
  const afterGc = await server.memory();
  await server.stop();
  const rss = samples.map((s) => s.rss);
  const half = Math.floor(rss.length / 2);
  const secondHalfGrowth = rss.length >= 2 ? (rss.at(-1) - rss[half]) / rss[half] : 0;
  const fdsBack = afterGc.fds === start.fds;
  if (!fdsBack) failed = true;
  results[mode] = { start, samples, afterGc, secondHalfGrowth, fdsBack };
  console.log(`\n${mode}: ${samples.length} rounds of ${roundSeconds} s, ${connections} connections per wave`);
  console.log('| round | ok | reset | mismatch | RSS MB | heap used/total MB | external MB | anon MB | fds |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const row = (label, s) =>
    console.log(
      `| ${label} | ${s.ok ?? ''} | ${s.reset ?? ''} | ${s.mismatch ?? ''} | ${(s.rss / MB).toFixed(1)} | ${(s.heapUsed / MB).toFixed(1)}/${(s.heapTotal / MB).toFixed(1)} | ${(s.external / MB).toFixed(1)} | ${(s.anonymous / MB).toFixed(1)} | ${s.fds} |`,
    );
  row('start', start);
  for (const s of samples) row(String(s.round), s);
  row('after GC', afterGc);
  console.log(
    `RSS growth over the second half: ${(secondHalfGrowth * 100).toFixed(1)} %; fds back to start: ${fdsBack}`,
  );
}
if (opts.json)
  writeFileSync(opts.json, `${JSON.stringify({ machine: machineInfo(), options: opts, results }, null, 2)}\n`);
process.exit(failed ? 1 : 0);
