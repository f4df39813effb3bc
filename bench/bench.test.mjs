// Benchmarks are not tests: nothing here asserts a speed. This only keeps each benchmark
// runnable, by running it briefly and checking that it measured every server it names.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

describe('benchmarks stay runnable', () => {
  it.each([
    ['uring', 'tcp'],
    ['net', 'tcp'],
    ['uring', 'unix'],
  ])('echo/run.mjs measures every server with the %s client over %s', async (client, transport) => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'echo.json');
    const args = ['--seconds', '0.5', '--warmup', '0.2', '--rounds', '1', '--connections', '8', '--client', client];
    if (transport === 'unix') args.push('--unix');
    const { stdout } = await run(process.execPath, [join(here, 'echo/run.mjs'), ...args, '--json', out]);
    expect(stdout).toContain('| iolease uring |');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.transport).toBe(transport);
    expect(Object.keys(report.summary)).toEqual(['node:net', 'iolease uring', 'uring Duplex', 'iolease node:net']);
    for (const server of Object.values(report.summary)) {
      expect(server.messagesPerSecond).toBeGreaterThan(0);
      expect(server.cpuMicrosPerMessage).toBeGreaterThan(0);
    }
  });

  it.each([
    ['node', 'node:http'],
    ['express', 'Express'],
    ['fastify', 'Fastify'],
  ])('http/run.mjs --app %s measures the three modes', async (app, stack) => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'http.json');
    const quick = '--seconds 0.3 --rounds 1 --connections 8 --load node'.split(' ');
    const args = ['--app', app, ...quick, '--json', out];
    const { stdout } = await run(process.execPath, [join(here, 'http/run.mjs'), ...args]);
    expect(stdout).toContain(`| ${stack} over iolease io_uring |`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(report.summary)).toEqual(['plain', 'net', 'uring']);
    for (const mode of Object.values(report.summary)) {
      expect(mode.requestsPerSecond).toBeGreaterThan(0);
      expect(mode.cpuMicrosPerRequest).toBeGreaterThan(0);
    }
    // Ratios pair servers within a round; with one round they are the ratios of the samples.
    expect(report.ratios.plain).toEqual({ requestsPerSecond: 1, cpuMicrosPerRequest: 1 });
    for (const mode of ['net', 'uring']) {
      const { summary } = report;
      expect(report.ratios[mode].requestsPerSecond).toBeCloseTo(
        summary[mode].requestsPerSecond / summary.plain.requestsPerSecond,
        9,
      );
      expect(report.ratios[mode].cpuMicrosPerRequest).toBeCloseTo(
        summary[mode].cpuMicrosPerRequest / summary.plain.cpuMicrosPerRequest,
        9,
      );
    }
  });

  // Debian's wrk and h2load (nghttp2-client) are the loads; CI installs both.
  const hasTool = (tool) => spawnSync(tool, ['--version']).error === undefined;
  const secure = async (flag, stack) => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'http.json');
    const args = [flag, '--seconds', '1', '--rounds', '1', '--connections', '8', '--json', out];
    const { stdout } = await run(process.execPath, [join(here, 'http/run.mjs'), ...args]);
    expect(stdout).toContain(`| ${stack} over iolease io_uring |`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.machine.kernel).toMatch(/^\d+\./);
    for (const mode of ['plain', 'net', 'uring']) {
      expect(report.summary[mode].requestsPerSecond).toBeGreaterThan(0);
      expect(report.summary[mode].cpuMicrosPerRequest).toBeGreaterThan(0);
    }
  };
  it.skipIf(!hasTool('wrk'))('http/run.mjs --tls measures https in the three modes under wrk', () =>
    secure('--tls', 'node:https'),
  );
  it.skipIf(!hasTool('h2load'))('http/run.mjs --h2 measures HTTP/2 with TLS in the three modes under h2load', () =>
    secure('--h2', 'node:http2'),
  );

  it('suite/run.mjs byte-checks and measures every server under the C load', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'suite.json');
    const args = ['--scenarios', 'echo-128-1,bulk-64k-8', '--seconds', '0.3', '--warmup', '0.1', '--rounds', '1'];
    const { stdout } = await run(process.execPath, [join(here, 'suite/run.mjs'), ...args, '--json', out]);
    expect(stdout).toContain('| iolease io_uring |');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.failedChecks).toEqual({});
    expect(report.machine.kernel).toMatch(/^\d+\./);
    expect(report.scenarios.map((s) => s.name)).toEqual(['echo-128-1', 'bulk-64k-8']);
    const servers = [
      'C io_uring',
      'C epoll',
      'iolease io_uring',
      'iolease io_uring incremental',
      'iolease node:net',
      'node:net',
    ];
    expect(Object.keys(report.scenarios[0].summary)).toEqual(servers);
    // Bulk also measures the uring loop with zero-copy sends of leases.
    const bulk = [...servers.slice(0, 4), 'iolease io_uring zero copy', ...servers.slice(4)];
    expect(Object.keys(report.scenarios[1].summary)).toEqual(bulk);
    for (const scenario of report.scenarios) {
      for (const server of Object.values(scenario.summary)) {
        expect(server.roundTripsPerSecond).toBeGreaterThan(0);
        expect(server.cpuMicrosPerRoundTrip).toBeGreaterThan(0);
        // The user/system split adds up to the CPU figure (one round: the medians are the samples).
        expect(server.userCpuMicrosPerRoundTrip).toBeGreaterThanOrEqual(0);
        expect(server.systemCpuMicrosPerRoundTrip).toBeGreaterThanOrEqual(0);
        expect(server.userCpuMicrosPerRoundTrip + server.systemCpuMicrosPerRoundTrip).toBeCloseTo(
          server.cpuMicrosPerRoundTrip,
          6,
        );
      }
    }
  });

  it('the C load generator fails a server that reorders or drops bytes (exit 3 or 4), and the suite reports it', async () => {
    // A deliberately broken echo: it writes each read back with its first two bytes swapped.
    const { startProgram } = await import('./lib/server.mjs');
    const { cProgram } = await import('./lib/c.mjs');
    const server = await startProgram(process.execPath, [join(here, 'suite/broken-echo.mjs')]);
    try {
      const failure = await run(cProgram('load'), [
        '--port',
        String(server.port),
        '--connections',
        '2',
        '--size',
        '64',
        '--warmup',
        '0',
        '--seconds',
        '0.2',
      ]).catch((e) => e);
      expect(failure.code).toBe(3);
      expect(failure.stderr).toMatch(/differs from what was sent/);
    } finally {
      await server.stop();
    }
  });

  it("LEASE-2 WRITE-7 suite/uring-echo.mjs releaseAtOnce=true passes the C load's byte check under pool pressure", async () => {
    // Each lease released right after its write: the pool's pins hold its buffer until the write
    // completes. With 8 × 512 B buffers in all, reads wait for those buffers constantly.
    const { startProgram } = await import('./lib/server.mjs');
    const { cProgram } = await import('./lib/c.mjs');
    const pool = 'sizeClasses=[{"size":512,"count":8}]';
    const server = await startProgram(process.execPath, [
      join(here, 'suite/uring-echo.mjs'),
      '0',
      pool,
      'releaseAtOnce=true',
    ]);
    try {
      const args = '--check --connections 16 --size 4096 --depth 4 --warmup 0 --seconds 1 --seed 3'.split(' ');
      const { stdout } = await run(cProgram('load'), ['--port', String(server.port), ...args]);
      expect(JSON.parse(stdout.trim().split('\n').at(-1)).roundTrips).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });

  it('multicore/run.mjs measures every server and how connections spread over two loops', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'multicore.json');
    const args = ['--seconds', '0.3', '--rounds', '1', '--connections', '8', '--json', out];
    const { stdout } = await run(process.execPath, [join(here, 'multicore/run.mjs'), ...args]);
    expect(stdout).toContain('| uring × 2 loops |');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(report.summary)).toEqual([
      'node:net',
      'cluster × 2 node:net',
      'uring × 1 loop',
      'uring × 2 loops',
    ]);
    for (const server of Object.values(report.summary)) expect(server.cpuMicrosPerMessage).toBeGreaterThan(0);
    expect(report.spread.perWorker.reduce((a, b) => a + b, 0)).toBe(500);
  });

  it('idle/run.mjs measures memory per idle connection for every server', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'idle.json');
    const { stdout } = await run(process.execPath, [join(here, 'idle/run.mjs'), '--connections', '200', '--json', out]);
    expect(stdout).toContain('| iolease uring |');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(report.perConnection)).toEqual(['node:net', 'iolease uring', 'iolease node:net']);
    for (const value of Object.values(report.perConnection)) expect(Number.isFinite(value)).toBe(true);
  });

  it('soak/run.mjs samples memory and fds of every server under churn, and every echo comes back', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'iolease-bench-')), 'soak.json');
    const args = ['--seconds', '1', '--round', '0.5', '--connections', '50', '--json', out];
    await run(process.execPath, [join(here, 'soak/run.mjs'), ...args]);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(report.results)).toEqual(['uring', 'net', 'plain']);
    for (const result of Object.values(report.results)) {
      expect(result.samples.length).toBeGreaterThan(0);
      expect(result.samples.every((s) => s.mismatch === 0 && s.ok > 0)).toBe(true);
      expect(result.fdsBack).toBe(true);
    }
  });
});
