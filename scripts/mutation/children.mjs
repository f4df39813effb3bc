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
// It edits the working tree: run it in a clone of its own, not while you work in that tree.
import { spawnSync } from 'node:child_process';
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
const build = () => spawnSync('npm', ['run', 'build', '-w', `@iolease/${pkg}`], { cwd: root, env, encoding: 'utf8' });

try {
  for (const mutant of entry.mutants) {
    if (mutant.status !== status || results[mutant.id] !== undefined) continue;
    if (!onWantedLine(mutant.location.start.line)) continue;
    const { start, end } = mutant.location;
    writeFileSync(path, original.slice(0, offset(start)) + mutant.replacement + original.slice(offset(end)));
    let verdict = 'CompileError';
    let failed = [];
    if (build().status === 0) {
      const run = spawnSync('npx', ['vitest', 'run', ...tests, ...vitestArgs, '--reporter=dot'], {
        cwd: root,
        env,
        encoding: 'utf8',
        timeout: 300_000,
      });
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the reporter's colours
      const text = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      failed = [...new Set([...text.matchAll(/FAIL .*? > (.*)/g)].map((m) => m[1].slice(0, 160)))].slice(0, 4);
      verdict = run.signal !== null ? 'Timeout' : run.status === 0 ? 'Survived' : 'Killed';
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
