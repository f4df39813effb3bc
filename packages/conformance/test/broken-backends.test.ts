// The kit must fail a backend that breaks the spec, and for the right reason: each toy backend
// below breaks one rule, and the kit's tests of that rule must be the ones that fail.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const vitest = fileURLToPath(new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url));

interface Result {
  readonly title: string;
  readonly status: string;
  readonly failureMessages: string[];
}

/** Runs the whole kit against one broken backend in a child Vitest; returns every test's result. */
function runKit(fault: string): Promise<Result[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'iolease-broken-')), 'report.json');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [vitest, 'run', '--config', join(fixtures, 'vitest.config.ts'), '--reporter=json', `--outputFile=${out}`],
      // Killed before this test's own timeout: a kit run that hangs fails with the fault's name,
      // and leaves no child behind to keep the runner from exiting.
      {
        cwd: fixtures,
        env: { ...process.env, IOLEASE_BROKEN: fault },
        maxBuffer: 64 << 20,
        timeout: 170_000,
        killSignal: 'SIGKILL',
      },
      (error) => {
        if (error?.killed) {
          reject(new Error(`the kit's run against the ${fault} backend was still running after 170 s`));
          return;
        }
        try {
          const report = JSON.parse(readFileSync(out, 'utf8'));
          resolve(report.testResults.flatMap((f: { assertionResults: Result[] }) => f.assertionResults));
        } catch (error) {
          reject(error);
        }
      },
    );
  });
}

/** Each fault's run, started once and shared by the tests that read it. */
const runs = new Map<string, Promise<Result[]>>();
const kitRun = (fault: string) => {
  let run = runs.get(fault);
  if (run === undefined) {
    run = runKit(fault);
    runs.set(fault, run);
  }
  return run;
};

const failedIds = (results: Result[]) =>
  new Set(results.filter((r) => r.status === 'failed').flatMap((r) => r.title.match(/\b[A-Z]{2,8}-\d+\b/g) ?? []));

describe('the kit fails broken backends for the right reasons', () => {
  it('a backend that reuses a buffer before release fails LEASE-2', async () => {
    const results = await kitRun('reuses-buffer');
    const failed = failedIds(results);
    expect(failed).toContain('LEASE-2');
    const lease2 = results.find((r) => r.title.startsWith('LEASE-2'));
    // The held leases show later messages: their memory was reused before release.
    expect(lease2?.failureMessages.join('\n')).toMatch(/message-\d+-/);
    // The fault is narrow: most of the kit still passes.
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThan(results.length / 2);
  });

  it('a backend that reorders write completions fails WRITE-4', async () => {
    const results = await kitRun('reorders-completions');
    expect(failedIds(results)).toContain('WRITE-4');
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThan(results.length / 2);
  });

  it('a backend that loses the tail of a stream under pool pressure fails PRESS-2', async () => {
    const results = await kitRun('loses-tail');
    const failed = failedIds(results);
    expect(failed).toContain('PRESS-2');
    // Without pressure the same backend is correct: the plain echo tests pass.
    const echo = results.find((r) => r.title.startsWith('LIFE-1 LIFE-2 echoes'));
    expect(echo?.status).toBe('passed');
  });

  it('CONF-2 a capability the backend does not declare is reported as skipped, never as passed', async () => {
    const results = await kitRun('reorders-completions');
    for (const id of ['WRITE-8']) {
      const test = results.find((r) => r.title.includes(id));
      expect(test?.status, id).toBe('skipped');
    }
  });
});
