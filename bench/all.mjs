// `npm run bench`: every figure the project quotes, in one command of under ten minutes, each
// benchmark's JSON in reports/bench/. The suite (five echo servers under the C load, about six
// minutes), node:http plain and over both loops under wrk, and memory per idle connection.
// `npm run bench:quick` runs the suite's quick form alone (under a minute).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}reports/bench/`;
mkdirSync(out, { recursive: true });
const steps = [
  ['suite', ['bench/suite/run.mjs', '--json', `${out}suite.json`]],
  ['http', ['bench/http/run.mjs', '--app', 'node', '--seconds', '3', '--rounds', '3', '--json', `${out}http.json`]],
  ['idle', ['bench/idle/run.mjs', '--connections', '5000', '--json', `${out}idle.json`]],
];
let failed = 0;
for (const [name, args] of steps) {
  console.log(`\n### ${name}: node ${args.join(' ')}\n`);
  const started = Date.now();
  const { status } = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s${status === 0 ? '' : `, exit ${status}`})`);
  if (status !== 0) failed++;
}
console.log(`\nreports in ${out}`);
process.exitCode = failed === 0 ? 0 : 1;
