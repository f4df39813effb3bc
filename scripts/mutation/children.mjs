#!/usr/bin/env node
// The second stage of a mutation run (npm run test:mutation:children). StrykerJS activates a
// mutant inside its test runner's process, so tests that run a child process (a process that
// must exit by itself, uncaught exceptions, a full fd table, worker threads) never see one: their
// mutants come out NoCoverage, or Survived when an in-process test covers the line too. This
// script takes such mutants from Stryker's report, writes each into the source, rebuilds the
// package's dist/ (what a child process loads) and runs the given tests, then puts the source
// back. Results go to reports/mutation/children-<package>-<file>.json and accumulate, so a run
// may be stopped and resumed.
//
//   node scripts/mutation/children.mjs <source file> <status> <test files…> [-- <vitest args…>]
//   node scripts/mutation/children.mjs packages/reference-uring/src/listener.ts NoCoverage \
//     packages/reference-uring/test/conformance.test.ts -- -t "the host process"
//
// MUTATION_LINES=120-180,300 takes only the mutants starting on those lines (source lines, not
// mutant ids): the child-process tests are slow, so point them at the code they exercise.
// MUTATION_REPORT=reports/mutation/net-incremental.json reads another report than Stryker's
// default incremental file.
//
// The test files `covering` run, for each mutant, only the tests Stryker found reaching it. With
// the status `Timeout` that checks Stryker's timeouts: a mutant that makes a loop stall should
// fail a watchdog's assertion naming the rule and the stuck state, and the verdict `BareTimeout`
// marks one that only vitest's own test timeout caught.
//
//   node scripts/mutation/children.mjs packages/reference-uring/src/pool.ts Timeout covering
//
// It edits the working tree: run it in a clone of its own, not while you work in that tree.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const [file, status, ...rest] = process.argv.slice(2);
if (file === undefined || status === undefined || rest.length === 0) {
  console.error('usage: children.mjs <source file> <status> <test files…> [-- <vitest args…>]');
  process.exit(2);
}
const split = rest.indexOf('--');
const tests = split < 0 ? rest : rest.slice(0, split);
const vitestArgs = split < 0 ? [] : rest.slice(split + 1);
const covering = tests.length === 1 && tests[0] === 'covering';

// MUTATION_REPORT names another report, such as one a run with --incrementalFile wrote.
const report = JSON.parse(
  readFileSync(process.env.MUTATION_REPORT ?? `${root}reports/mutation/stryker-incremental.json`, 'utf8'),
);
const entry = report.files[file];
if (entry === undefined) throw new Error(`${file} is not in the mutation report`);
const path = `${root}${file}`;
const original = readFileSync(path, 'utf8');
// Locations are only meaningful in the source the report was made from.
if (original !== entry.source) throw new Error(`${file} changed since the mutation report; run Stryker again first`);

const lines = original.split('\n');
/** The MUTATION_LINES ranges, or undefined for every line. */
const wanted = process.env.MUTATION_LINES?.split(',').map((r) => {
  const [from, to = from] = r.split('-').map(Number);
  return { from, to };
});
const onWantedLine = (line) => wanted === undefined || wanted.some((r) => line >= r.from && line <= r.to);
const offset = ({ line, column }) => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
const pkg = file.split('/')[1];
const out = `${root}reports/mutation/children-${pkg}-${file.split('/').pop().replace(/\.ts$/, '')}.json`;
const results = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
const env = { ...process.env, PATH: `${root}node_modules/.bin:${process.env.PATH}` };
/** Stryker's test ids, each with its file and its own title (the last part of its full name). */
const testsById = new Map(
  Object.entries(report.testFiles ?? {}).flatMap(([testFile, { tests: list }]) =>
    list.map((t) => [t.id, { file: testFile, title: t.name.split(' > ').pop() }]),
  ),
);
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The vitest arguments that run the tests covering `mutant`: their files and a title filter. */
const coveringArgs = (mutant) => {
  const known = (mutant.coveredBy ?? []).map((id) => testsById.get(id)).filter((t) => t !== undefined);
  const files = [...new Set(known.map((t) => t.file))];
  const titles = [...new Set(known.map((t) => escapeRegExp(t.title)))];
  // The first failing test settles the verdict; the rest would only take time (a mutant that
  // stops every buffer coming back fails every test, each after its watchdog).
  return files.length === 0 ? undefined : [...files, '-t', titles.join('|'), '--bail=1'];
};
/**
 * Runs vitest in a process group of its own, and kills the whole group after 5 minutes: a mutant
 * can spin a test worker in a loop that never yields, and killing only vitest's main process
 * would leave that worker burning a core for good.
 */
function runTests(args) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', ...args, '--reporter=dot'], { cwd: root, env, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    let signal = null;
    const timer = setTimeout(() => {
      signal = 'SIGKILL';
      process.kill(-child.pid, 'SIGKILL');
    }, 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      // Workers vitest left behind go with the group too.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      resolve({ status, signal, stdout, stderr });
    });
  });
}
const build = () => spawnSync('npm', ['run', 'build', '-w', `@iolease/${pkg}`], { cwd: root, env, encoding: 'utf8' });

try {
  for (const mutant of entry.mutants) {
    if (mutant.status !== status || results[mutant.id] !== undefined) continue;
    if (!onWantedLine(mutant.location.start.line)) continue;
    const { start, end } = mutant.location;
    writeFileSync(path, original.slice(0, offset(start)) + mutant.replacement + original.slice(offset(end)));
    let verdict = 'CompileError';
    let failed = [];
    const selection = covering ? coveringArgs(mutant) : tests;
    if (selection === undefined) verdict = 'NoCoveringTest';
    else if (build().status === 0) {
      const run = await runTests([...selection, ...vitestArgs]);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the reporter's colours
      const text = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      // Each failure's report starts with a FAIL line naming the test; its first line after that
      // is the error. A failure that is only vitest's "Test timed out" names no rule and no state.
      const failures = text
        .split(/^ *FAIL /m)
        .slice(1)
        .filter((block) => block.includes(' > '))
        .map((block) => {
          const [head, ...rest] = block.split('\n');
          const error = rest.find((l) => l.trim() !== '') ?? '';
          return {
            name: head.slice(head.indexOf(' > ') + 3).slice(0, 160),
            bare: /(Test|Hook) timed out in/.test(error),
          };
        });
      const unique = [...new Map(failures.map((f) => [f.name, f])).values()];
      failed = unique.slice(0, 4).map((f) => (f.bare ? `${f.name} [bare timeout]` : f.name));
      const bare = unique.length > 0 && unique.every((f) => f.bare);
      // A filter that matches nothing (a test renamed since the report) fails vitest too: that is
      // no verdict on the mutant.
      const ran = /Tests\s+\d+ (passed|failed)/.test(text) && !/No test (files )?found/.test(text);
      verdict =
        run.signal !== null
          ? 'Timeout'
          : !ran
            ? 'NoTestRan'
            : run.status === 0
              ? 'Survived'
              : bare
                ? 'BareTimeout'
                : 'Killed';
    }
    results[mutant.id] = {
      verdict,
      line: start.line,
      column: start.column,
      mutator: mutant.mutatorName,
      replacement: mutant.replacement.slice(0, 80),
      failed,
    };
    writeFileSync(out, `${JSON.stringify(results, null, 1)}\n`);
    console.log(`${mutant.id} ${file}:${start.line}:${start.column} ${mutant.mutatorName} ${verdict}`);
  }
} finally {
  writeFileSync(path, original);
  build();
}
