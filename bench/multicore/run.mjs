// One loop per core, measured: server CPU per echo round trip with the io_uring echo on 1 and on
// 2 worker loops (startLoops, reusePort), against plain node:net in one process and in a
// `cluster` of 2, in the same run with alternating rounds. On a 2-core machine the servers share
// the cores with the load, so this reports efficiency (CPU per round trip), not speed-up.
// Also: how the kernel spread connections over 2 workers (spread.mjs).
// Usage: node bench/multicore/run.mjs [--connections 50] [--size 128] [--seconds 3] [--rounds 3]
//          [--client net|uring] [--json file]
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cpuSeconds } from '../lib/proc.mjs';
import { spawnNode, startServer } from '../lib/server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    size: { type: 'string', default: '128' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    client: { type: 'string', default: 'net' },
    json: { type: 'string' },
  },
});

const servers = [
  { name: 'node:net', args: (port) => [`${root}bench/echo/net-echo-server.mjs`, String(port)] },
  { name: 'cluster × 2 node:net', args: (port) => [`${root}bench/multicore/cluster-echo.mjs`, String(port), '2'] },
  { name: 'uring × 1 loop', args: (port) => [`${root}examples/multicore-echo.mjs`, String(port), '1'] },
  { name: 'uring × 2 loops', args: (port) => [`${root}examples/multicore-echo.mjs`, String(port), '2'] },
];

async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** CPU seconds of a process and every process below it (cluster workers). */
function treeCpuSeconds(pid) {
  let total = cpuSeconds(pid);
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
  } catch {
    // gone, or no children file: this process alone
  }
  for (const child of children) total += treeCpuSeconds(Number(child));
  return total;
}

async function measure(server) {
  const port = await freePort();
  const { pid, stop } = await startServer(server.args(port));
  const client = spawnNode(
    [`${root}bench/echo/client.mjs`, port, opts.connections, opts.size, '1', opts.seconds, opts.client].map(String),
    undefined,
    ['ignore', 'pipe', 'inherit'],
  );
  let buffered = '';
  let cpuStart = 0;
  let result;
  for await (const chunk of client.stdout) {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === 'warm') cpuStart = treeCpuSeconds(pid);
      else if (line.startsWith('{')) {
        const cpu = treeCpuSeconds(pid) - cpuStart;
        const { echoed, elapsed } = JSON.parse(line);
        result = { messagesPerSecond: echoed / elapsed, cpuMicrosPerMessage: (cpu * 1e6) / echoed };
      }
    }
  }
  await stop();
  if (!result) throw new Error(`the client for ${server.name} reported nothing`);
  return result;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const samples = new Map(servers.map((s) => [s.name, []]));
for (let round = 0; round < Number(opts.rounds); round++) {
  for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
    const r = await measure(server);
    samples.get(server.name).push(r);
    console.log(
      `round ${round + 1} ${server.name.padEnd(22)} ${r.messagesPerSecond.toFixed(0).padStart(8)} msg/s  ${r.cpuMicrosPerMessage.toFixed(2).padStart(6)} µs CPU/msg`,
    );
  }
}
const summary = Object.fromEntries(
  servers.map((s) => [
    s.name,
    {
      messagesPerSecond: median(samples.get(s.name).map((r) => r.messagesPerSecond)),
      cpuMicrosPerMessage: median(samples.get(s.name).map((r) => r.cpuMicrosPerMessage)),
    },
  ]),
);
const { stdout } = await promisify(execFile)(process.execPath, [`${root}bench/multicore/spread.mjs`, '500', '2']);
const spread = JSON.parse(stdout);
const base = summary['node:net'];
console.log(
  `\necho, ${opts.connections} connections × ${opts.size} B, ${opts.client} client, ${opts.seconds} s × ${opts.rounds} rounds (medians; ratios to node:net)`,
);
console.log('| server | msg/s | server CPU µs/msg | ratio |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, s] of Object.entries(summary)) {
  console.log(
    `| ${name} | ${s.messagesPerSecond.toFixed(0)} | ${s.cpuMicrosPerMessage.toFixed(2)} | ${(s.cpuMicrosPerMessage / base.cpuMicrosPerMessage).toFixed(2)}× |`,
  );
}
console.log(`\n500 connections over 2 io_uring worker loops (reusePort): ${spread.perWorker.join(' / ')}`);
if (opts.json) {
  writeFileSync(
    opts.json,
    `${JSON.stringify({ options: opts, summary, spread, samples: Object.fromEntries(samples) }, null, 2)}\n`,
  );
}
