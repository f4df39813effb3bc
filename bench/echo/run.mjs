// Echo benchmark: the iolease uring echo server against a plain node:net echo server, measured
// in the same run with the same client, alternating rounds so drift hits both alike.
// Reports messages per second, server CPU per message (from /proc) and server syscalls per
// message (perf), each as a ratio to the node:net baseline. A third server runs the baseline's
// own stream code over the uring loop through ChannelDuplex: the cost of the stream contract.
// Usage: node bench/echo/run.mjs [--connections 50] [--size 128] [--seconds 5] [--warmup 1]
//          [--rounds 3] [--client uring|net] [--unix] [--json results.json]
// --unix runs every server and the client over a Unix domain socket instead of TCP on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pinning, spawnNode, startServer } from '../lib/server.mjs';
import { countsSyscalls, measureWindow } from '../lib/window.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    size: { type: 'string', default: '128' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    client: { type: 'string', default: 'uring' },
    unix: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const connections = Number(opts.connections);
const size = Number(opts.size);
const rounds = Number(opts.rounds);

// Each server listens on a free port, or with --unix on a socket path of its own.
const scratch = opts.unix ? mkdtempSync(join(tmpdir(), 'iolease-echo-')) : undefined;
const at = (name) => (scratch === undefined ? '0' : join(scratch, `${name}.sock`));
const servers = [
  { name: 'node:net', args: [`${root}bench/echo/net-echo-server.mjs`, at('net')] },
  { name: 'iolease uring', args: [`${root}examples/echo-server.mjs`, at('uring'), 'uring'] },
  { name: 'uring Duplex', args: [`${root}bench/echo/duplex-echo-server.mjs`, at('duplex')] },
  { name: 'iolease node:net', args: [`${root}examples/echo-server.mjs`, at('iolease-net'), 'net'] },
];
const pins = pinning();
console.log(
  pins ? `server pinned to CPU ${pins.server}, client to CPU ${pins.client}` : '(no pinning: one CPU or no taskset)',
);
const syscalls = countsSyscalls();
if (!syscalls) console.log('(perf cannot count syscalls here: syscall column left out)');

/** Runs the client against one server; samples the server between the client's two lines. */
async function measure(server) {
  const { pid, port, stop } = await startServer(server.args, pins?.server);
  try {
    const client = spawnNode(
      [`${root}bench/echo/client.mjs`, port, connections, size, opts.warmup, opts.seconds, opts.client].map(String),
      pins?.client,
      ['ignore', 'pipe', 'pipe'],
    );
    const { report, cpu, syscalls: calls } = await measureWindow(client, pid);
    const { echoed, elapsed } = report;
    return {
      messagesPerSecond: echoed / elapsed,
      cpuMicrosPerMessage: (cpu * 1e6) / echoed,
      serverCpuShare: cpu / elapsed,
      syscallsPerMessage: calls / echoed,
    };
  } finally {
    await stop();
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const samples = new Map(servers.map((s) => [s.name, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? servers : [...servers].reverse();
  for (const server of order) {
    const r = await measure(server);
    samples.get(server.name).push(r);
    console.log(
      `round ${round + 1} ${server.name.padEnd(14)} ${r.messagesPerSecond.toFixed(0).padStart(8)} msg/s` +
        `  ${r.cpuMicrosPerMessage.toFixed(2).padStart(6)} µs CPU/msg` +
        (syscalls ? `  ${r.syscallsPerMessage.toFixed(2).padStart(5)} syscalls/msg` : ''),
    );
  }
}

const metrics = ['messagesPerSecond', 'cpuMicrosPerMessage', 'serverCpuShare', 'syscallsPerMessage'];
const summary = Object.fromEntries(
  servers.map((s) => [
    s.name,
    Object.fromEntries(metrics.map((m) => [m, median(samples.get(s.name).map((r) => r[m]))])),
  ]),
);
const base = summary['node:net'];
/** Every server's figures over the node:net baseline's. */
const ratios = Object.fromEntries(
  Object.entries(summary).map(([name, s]) => [name, Object.fromEntries(metrics.map((m) => [m, s[m] / base[m]]))]),
);

console.log(
  `\necho over ${opts.unix ? 'a Unix socket' : 'TCP loopback'}, ${connections} connections × ${size} B, ${opts.client} client, ${opts.seconds} s × ${rounds} rounds (medians; ratios to node:net)`,
);
console.log('| server | msg/s | ratio | server CPU µs/msg | ratio | syscalls/msg | ratio |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, s] of Object.entries(summary)) {
  const r = ratios[name];
  console.log(
    `| ${name} | ${s.messagesPerSecond.toFixed(0)} | ${r.messagesPerSecond.toFixed(2)}× | ` +
      `${s.cpuMicrosPerMessage.toFixed(2)} | ${r.cpuMicrosPerMessage.toFixed(2)}× | ` +
      `${s.syscallsPerMessage.toFixed(3)} | ${r.syscallsPerMessage.toFixed(3)}× |`,
  );
}
if (opts.json) {
  writeFileSync(
    opts.json,
    `${JSON.stringify({ transport: opts.unix ? 'unix' : 'tcp', connections, size, rounds, summary, ratios, samples: Object.fromEntries(samples) }, null, 2)}\n`,
  );
}
if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
