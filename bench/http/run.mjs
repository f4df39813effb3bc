// HTTP benchmark: one "hello" route of node:http, Express or Fastify (--app, bench/http/server.mjs)
// served three ways, measured in the same run with alternating rounds: plain (the baseline), and
// over the iolease node:net and io_uring loops through ChannelDuplex. Load from wrk where
// installed (apt-get install wrk), else from a small Node load generator (--load node).
// Reports requests per second and server CPU per request, as ratios to plain.
// Usage: node bench/http/run.mjs [--app node|express|fastify] [--connections 50] [--seconds 5]
//        [--rounds 3] [--load wrk|node] [--tls | --h2 [--streams 10]] [--json file]
// --tls: node:http over https (TLS 1.3, a self-signed P-256 certificate), load from wrk.
// wrk and h2load take whole seconds.
// --h2: the route over HTTP/2 with TLS (node:http2), load from h2load (apt-get install
// nghttp2-client), each connection keeping --streams requests in flight.
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { machineInfo } from '../lib/machine.mjs';
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
    h2: { type: 'boolean', default: false },
    streams: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const modes = ['plain', 'net', 'uring'];
if (opts.tls && (opts.load !== 'wrk' || opts.app !== 'node')) throw new Error('--tls needs --app node and wrk');
if (opts.h2 && (opts.tls || opts.app !== 'node')) throw new Error('--h2 needs --app node, without --tls');
if (opts.h2) opts.load = 'h2load';
if (opts.load !== 'node' && !/^[1-9]\d*$/.test(opts.seconds))
  throw new Error(`--seconds must be whole for ${opts.load}`);
const pins = pinning();
const taskset = (cpu, argv) => (cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv]);
console.log(`load: ${opts.load}; ${pins ? `server on CPU ${pins.server}, load on CPU ${pins.client}` : 'no pinning'}`);

/** Runs the load against `port`; resolves with requests per second. */
async function load(port) {
  if (opts.load === 'h2load') {
    const argv = taskset(pins?.client, [
      'h2load',
      `-c${opts.connections}`,
      `-m${opts.streams}`,
      `-D${opts.seconds}`,
      `https://127.0.0.1:${port}/`,
    ]);
    const { stdout } = await run(argv[0], argv.slice(1));
    const rate = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout);
    // Requests still in flight when the duration ends are started, not done. None may have failed,
    // errored or timed out, and none been answered 4xx or 5xx.
    const clean =
      /requests: .* 0 failed, 0 errored, 0 timeout/.test(stdout) && /status codes: .* 0 4xx, 0 5xx/.test(stdout);
    if (!rate || !clean || !/Application protocol: h2\b/.test(stdout))
      throw new Error(`h2load reported a problem:\n${stdout}`);
    return Number(rate[1]);
  }
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
  const secure = opts.h2 ? ['h2'] : opts.tls ? ['tls'] : [];
  const args = [`${root}bench/http/server.mjs`, '0', mode, opts.app, ...secure];
  const server = await startServer(args, pins?.server);
  try {
    await load(server.port); // warm-up: JIT, connection setup
    const cpuStart = cpuSeconds(server.pid);
    const started = process.hrtime.bigint();
    const rate = await load(server.port);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = cpuSeconds(server.pid) - cpuStart;
    return { requestsPerSecond: rate, cpuMicrosPerRequest: (cpu * 1e6) / (rate * elapsed) };
  } finally {
    // Also when the load fails: a server left running would keep this run's output open.
    await server.stop();
  }
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
// Ratios pair each server with plain node in the same round, then take the median over rounds,
// as the suite does: this machine drifts in phases longer than a round, moving every server's
// rate together by up to a third, and a ratio of medians taken in different phases shows that
// drift as a difference between servers.
const pairedMedian = (m, metric) => median(samples[m].map((r, i) => r[metric] / samples.plain[i][metric]));
const ratios = Object.fromEntries(
  modes.map((m) => [
    m,
    {
      requestsPerSecond: pairedMedian(m, 'requestsPerSecond'),
      cpuMicrosPerRequest: pairedMedian(m, 'cpuMicrosPerRequest'),
    },
  ]),
);
const stack = opts.h2
  ? 'node:http2'
  : opts.tls
    ? 'node:https'
    : ({ node: 'node:http', express: 'Express', fastify: 'Fastify' }[opts.app] ?? opts.app);
const names = {
  plain: `plain ${stack}`,
  net: `${stack} over iolease node:net`,
  uring: `${stack} over iolease io_uring`,
};
console.log(
  `\nGET /, ${opts.connections} keep-alive connections${opts.h2 ? ` × ${opts.streams} streams` : ''}, ${opts.seconds} s × ${opts.rounds} rounds (medians; ratios to plain, each round's own, median over rounds), load: ${opts.load}`,
);
console.log('| server | req/s | ratio | server CPU µs/req | ratio |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const m of modes) {
  const s = summary[m];
  const q = ratios[m];
  console.log(
    `| ${names[m]} | ${s.requestsPerSecond.toFixed(0)} | ${q.requestsPerSecond.toFixed(2)}× | ` +
      `${s.cpuMicrosPerRequest.toFixed(2)} | ${q.cpuMicrosPerRequest.toFixed(2)}× |`,
  );
}
if (opts.json)
  writeFileSync(
    opts.json,
    `${JSON.stringify({ machine: machineInfo(), options: opts, summary, ratios, samples }, null, 2)}\n`,
  );
