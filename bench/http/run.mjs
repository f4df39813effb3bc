// HTTP benchmark: one "hello" route of node:http, Express or Fastify (--app, bench/http/server.mjs)
// served three ways, measured in the same run with alternating rounds: plain (the baseline), and
// over the iolease node:net and io_uring loops through ChannelDuplex. Load from wrk where
// installed (apt-get install wrk), else from a small Node load generator (--load node).
// Reports requests per second and server CPU per request, as ratios to plain.
// Usage: node bench/http/run.mjs [--app node|express|fastify] [--connections 50] [--seconds 5]
//        [--rounds 3] [--load wrk|node] [--tls] [--json file]
// --tls: node:http over https (TLS 1.3, a self-signed P-256 certificate), load from wrk.
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cpuSeconds } from '../lib/proc.mjs';
import { pinning, startServer } from '../lib/server.mjs';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
const { values: opts } = parseArgs({
  options: {
    app: { type: 'string', default: 'node' },
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    load: { type: 'string', default: hasWrk ? 'wrk' : 'node' },
    tls: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const modes = ['plain', 'net', 'uring'];
if (opts.tls && (opts.load !== 'wrk' || opts.app !== 'node')) throw new Error('--tls needs --app node and wrk');
const pins = pinning();
const taskset = (cpu, argv) => (cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv]);
console.log(`load: ${opts.load}; ${pins ? `server on CPU ${pins.server}, load on CPU ${pins.client}` : 'no pinning'}`);

/** Runs the load against `port`; resolves with requests per second. */
async function load(port) {
  if (opts.load === 'wrk') {
    const argv = taskset(pins?.client, [
      'wrk',
      '-t1',
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    ]);
    const { stdout } = await run(argv[0], argv.slice(1));
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    if (!rate || /Non-2xx|Socket errors/.test(stdout)) throw new Error(`wrk reported a problem:\n${stdout}`);
    return Number(rate[1]);
  }
  const argv = taskset(pins?.client, [
    process.execPath,
    `${root}bench/http/node-load.mjs`,
    String(port),
    opts.connections,
    opts.seconds,
  ]);
  const { stdout } = await run(argv[0], argv.slice(1));
  const { requests, elapsed } = JSON.parse(stdout);
  return requests / elapsed;
}

async function measure(mode) {
  const args = [`${root}bench/http/server.mjs`, '0', mode, opts.app, ...(opts.tls ? ['tls'] : [])];
  const server = await startServer(args, pins?.server);
  await load(server.port); // warm-up: JIT, connection setup
  const cpuStart = cpuSeconds(server.pid);
  const started = process.hrtime.bigint();
  const rate = await load(server.port);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(server.pid) - cpuStart;
  await server.stop();
  return { requestsPerSecond: rate, cpuMicrosPerRequest: (cpu * 1e6) / (rate * elapsed) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const samples = Object.fromEntries(modes.map((m) => [m, []]));
for (let round = 0; round < Number(opts.rounds); round++) {
  const order = round % 2 === 0 ? modes : [...modes].reverse();
  for (const mode of order) {
    const r = await measure(mode);
    samples[mode].push(r);
    console.log(
      `round ${round + 1} ${mode.padEnd(6)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  ${r.cpuMicrosPerRequest.toFixed(2).padStart(6)} µs CPU/req`,
    );
  }
}
const summary = Object.fromEntries(
  modes.map((m) => [
    m,
    {
      requestsPerSecond: median(samples[m].map((r) => r.requestsPerSecond)),
      cpuMicrosPerRequest: median(samples[m].map((r) => r.cpuMicrosPerRequest)),
    },
  ]),
);
const stack = opts.tls
  ? 'node:https'
  : ({ node: 'node:http', express: 'Express', fastify: 'Fastify' }[opts.app] ?? opts.app);
const names = {
  plain: `plain ${stack}`,
  net: `${stack} over iolease node:net`,
  uring: `${stack} over iolease io_uring`,
};
console.log(
  `\nGET /, ${opts.connections} keep-alive connections, ${opts.seconds} s × ${opts.rounds} rounds (medians), load: ${opts.load}`,
);
console.log('| server | req/s | ratio | server CPU µs/req | ratio |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const m of modes) {
  const s = summary[m];
  const base = summary.plain;
  console.log(
    `| ${names[m]} | ${s.requestsPerSecond.toFixed(0)} | ${(s.requestsPerSecond / base.requestsPerSecond).toFixed(2)}× | ` +
      `${s.cpuMicrosPerRequest.toFixed(2)} | ${(s.cpuMicrosPerRequest / base.cpuMicrosPerRequest).toFixed(2)}× |`,
  );
}
if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ options: opts, summary, samples }, null, 2)}\n`);
