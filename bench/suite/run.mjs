// The bench suite: five echo servers under one independent load generator (bench/c/load.c, C and
// epoll), scenario by scenario, rounds alternating, medians. The ceiling is a C io_uring server
// with the loop's design (bench/c/uring-echo.c); the readiness baseline a C epoll server
// (bench/c/epoll-echo.c); then the iolease io_uring loop (in bulk also with zero-copy sends), the
// iolease node:net backend and the plain node:net echo everyone writes.
//
// Before anything is timed, every server passes the load's --check run: random message sizes up
// to 64 KiB, 8 pipelined per connection, readers that stall; every byte must come back in order.
// Every timed run checks every byte too. A server that fails either is reported, not measured.
//
// Usage: node bench/suite/run.mjs [--quick] [--rounds 3] [--seconds 2] [--warmup 0.5]
//          [--scenarios echo-128-50,bulk-64k-8] [--json file]
// --quick: 128 B × 50 connections only, one short round (under a minute).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cProgram } from '../lib/c.mjs';
import { machineInfo } from '../lib/machine.mjs';
import { pinning, spawnPinned, startProgram } from '../lib/server.mjs';
import { countsSyscalls, measureWindow } from '../lib/window.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    scenarios: { type: 'string' },
    json: { type: 'string' },
  },
});
const quick = opts.quick;
const rounds = Number(opts.rounds ?? (quick ? 1 : 3));
const seconds = opts.seconds ?? (quick ? '1' : '2');
const warmup = opts.warmup ?? (quick ? '0.3' : '0.5');

const SCENARIOS = [
  { name: 'echo-128-1', size: 128, connections: 1 },
  { name: 'echo-128-50', size: 128, connections: 50 },
  { name: 'echo-128-500', size: 128, connections: 500 },
  { name: 'echo-1k-1', size: 1024, connections: 1 },
  { name: 'echo-1k-50', size: 1024, connections: 50 },
  { name: 'echo-1k-500', size: 1024, connections: 500 },
  { name: 'bulk-64k-8', size: 65536, connections: 8, bulk: true },
];
const wanted = opts.scenarios?.split(',') ?? (quick ? ['echo-128-50'] : SCENARIOS.map((s) => s.name));
const scenarios = wanted.map((name) => {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`no scenario ${name}; there are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return scenario;
});

const load = cProgram('load');
const CONTENDERS = [
  {
    name: 'C io_uring',
    file: cProgram('uring-echo'),
    // The ceiling gets the buffers that suit the scenario: 4 MiB of 2 KiB buffers for messages,
    // 16 MiB of 64 KiB ones for bulk.
    args: (s) => ['0', ...(s.bulk ? ['--buffers', '256', '--size', '65536'] : ['--buffers', '2048', '--size', '2048'])],
  },
  { name: 'C epoll', file: cProgram('epoll-echo'), args: () => ['0', '--size', '65536'] },
  { name: 'iolease io_uring', file: process.execPath, args: () => [`${root}examples/echo-server.mjs`, '0', 'uring'] },
  {
    // Incremental buffer consumption (POOL-4): reads share buffers, each lease its own
    // ArrayBuffer. Off by default in the loop; measured here to show what it costs.
    name: 'iolease io_uring incremental',
    file: process.execPath,
    args: () => [`${root}bench/suite/uring-echo.mjs`, '0', 'incrementalBuffers=true'],
  },
  {
    // Bulk only: zero copy applies to leases of 16 KiB and more (WRITE-8).
    name: 'iolease io_uring zero copy',
    file: process.execPath,
    args: () => [`${root}bench/suite/uring-echo.mjs`, '0', 'zeroCopyThreshold=16384'],
    only: (s) => s.bulk === true,
  },
  { name: 'iolease node:net', file: process.execPath, args: () => [`${root}examples/echo-server.mjs`, '0', 'net'] },
  { name: 'node:net', file: process.execPath, args: () => [`${root}bench/echo/net-echo-server.mjs`, '0'] },
];

const pins = pinning();
console.log(pins ? `servers on CPU ${pins.server}, load on CPU ${pins.client}` : '(no pinning: one CPU or no taskset)');
const syscalls = countsSyscalls();
if (!syscalls) console.log('(perf cannot count syscalls here: syscall figures left out)');

/** One run of the load against a fresh server; `loadArgs` after the port. */
async function runLoad(contender, scenario, loadArgs) {
  const server = await startProgram(contender.file, contender.args(scenario), pins?.server);
  try {
    const child = spawnPinned(load, ['--port', String(server.port), ...loadArgs], pins?.client, [
      'ignore',
      'pipe',
      'pipe',
    ]);
    return await measureWindow(child, server.pid);
  } finally {
    await server.stop();
  }
}

// The check: pressure and odd sizes, every byte compared. Bulk-sized buffers for the C ceiling,
// so that a 64 KiB message spans few of them and many wait for room.
const checkArgs = '--check --connections 32 --size 65536 --depth 8 --warmup 0 --seconds 1 --seed 7'.split(' ');
const failed = new Map();
for (const contender of CONTENDERS) {
  try {
    await runLoad(contender, SCENARIOS.at(-1), checkArgs);
    console.log(`check ${contender.name}: every byte came back in order`);
  } catch (error) {
    failed.set(contender.name, error.message);
    console.log(`check ${contender.name}: FAILED, not measured: ${error.message}`);
  }
}
const contenders = CONTENDERS.filter((c) => !failed.has(c.name));

function figures({ report, cpu, user, system, syscalls: calls }) {
  return {
    roundTripsPerSecond: report.roundTripsPerSecond,
    megabytesPerSecond: report.megabytesPerSecond,
    cpuMicrosPerRoundTrip: (cpu * 1e6) / report.roundTrips,
    // Where a server's CPU goes: its own code and libraries, or the kernel (TCP, io_uring, epoll).
    userCpuMicrosPerRoundTrip: (user * 1e6) / report.roundTrips,
    systemCpuMicrosPerRoundTrip: (system * 1e6) / report.roundTrips,
    cpuMillisPerMegabyte: (cpu * 1e3) / (report.bytes / 1e6),
    serverCpuShare: cpu / report.elapsed,
    syscallsPerThousandRoundTrips: (calls * 1000) / report.roundTrips,
    p50Micros: report.p50,
    p99Micros: report.p99,
    p999Micros: report.p999,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const METRICS = Object.keys(figures({ report: {}, cpu: 0, user: 0, system: 0, syscalls: 0 }));
const results = [];
for (const scenario of scenarios) {
  const args = [
    '--connections',
    scenario.connections,
    '--size',
    scenario.size,
    '--warmup',
    warmup,
    '--seconds',
    seconds,
  ];
  const here = contenders.filter((c) => c.only?.(scenario) ?? true);
  const samples = new Map(here.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? here : [...here].reverse();
    for (const contender of order) {
      const f = figures(await runLoad(contender, scenario, args.map(String)));
      samples.get(contender.name).push(f);
      console.log(
        `${scenario.name} round ${round + 1} ${contender.name.padEnd(26)} ${f.roundTripsPerSecond.toFixed(0).padStart(8)} rt/s` +
          `  ${f.cpuMicrosPerRoundTrip.toFixed(2).padStart(7)} µs CPU/rt` +
          (syscalls ? `  ${f.syscallsPerThousandRoundTrips.toFixed(0).padStart(5)} syscalls/1k rt` : ''),
      );
    }
  }
  const summary = Object.fromEntries(
    here.map((c) => [
      c.name,
      Object.fromEntries(METRICS.map((m) => [m, median(samples.get(c.name).map((s) => s[m]))])),
    ]),
  );
  // Ratios pair each server with the baseline in the same round, then take the median over
  // rounds. This machine drifts in phases longer than a round, during which every server's CPU
  // per round trip moves together by up to a third; a ratio of medians taken over different
  // phases would show that drift as a difference between servers.
  const ratiosTo = (baseName) => {
    const base = samples.get(baseName);
    if (base === undefined) return undefined;
    return Object.fromEntries(
      here.map((c) => [
        c.name,
        Object.fromEntries(METRICS.map((m) => [m, median(samples.get(c.name).map((s, i) => s[m] / base[i][m]))])),
      ]),
    );
  };
  results.push({
    ...scenario,
    summary,
    ratiosToUring: ratiosTo('C io_uring'),
    ratiosToEpoll: ratiosTo('C epoll'),
    samples: Object.fromEntries(samples),
  });
}

const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
for (const r of results) {
  const base = r.bulk ? 'C epoll' : 'C io_uring';
  const ratios = r.bulk ? r.ratiosToEpoll : r.ratiosToUring;
  console.log(
    `\n${r.name}: ${r.connections} connections × ${r.size} B, ${seconds} s × ${rounds} rounds (medians; ratios to ${base}, each round's own, median over rounds)`,
  );
  console.log(
    r.bulk
      ? '| server | MB/s | ratio | CPU ms/MB | ratio | user µs/rt | system µs/rt | syscalls/1k rt | p99 µs |'
      : '| server | round trips/s | ratio | CPU µs/rt | ratio | user µs/rt | system µs/rt | syscalls/1k rt | p99 µs |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, s] of Object.entries(r.summary)) {
    const q = ratios?.[name] ?? {};
    const [rate, cost] = r.bulk
      ? ['megabytesPerSecond', 'cpuMillisPerMegabyte']
      : ['roundTripsPerSecond', 'cpuMicrosPerRoundTrip'];
    console.log(
      `| ${name} | ${s[rate].toFixed(r.bulk ? 1 : 0)} | ${x(q[rate])} | ${s[cost].toFixed(r.bulk ? 3 : 2)} | ${x(q[cost])} | ` +
        `${s.userCpuMicrosPerRoundTrip.toFixed(2)} | ${s.systemCpuMicrosPerRoundTrip.toFixed(2)} | ` +
        `${syscalls ? s.syscallsPerThousandRoundTrips.toFixed(0) : '–'} | ${s.p99Micros.toFixed(0)} |`,
    );
  }
}
for (const [name, message] of failed) console.log(`\n${name} failed the byte check and was not measured: ${message}`);

if (opts.json) {
  mkdirSync(dirname(opts.json), { recursive: true });
  const settings = {
    rounds,
    seconds: Number(seconds),
    warmup: Number(warmup),
    pinned: pins ?? null,
    load: 'bench/c/load.c',
  };
  const report = { machine: machineInfo(), settings, failedChecks: Object.fromEntries(failed), scenarios: results };
  writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
}
if (failed.size > 0) process.exitCode = 1;
