// `npm run bench`: every figure the project quotes, in one command of under ten minutes, each
// benchmark's JSON in reports/bench/. The suite (five echo servers under the C load, about six
// minutes), node:http plain and over both loops under wrk, the same over https (wrk) and HTTP/2
// with TLS (h2load), and memory per idle connection.
// `npm run bench:quick` runs the suite's quick form alone (under a minute).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}reports/bench/`;
mkdirSync(out, { recursive: true });
const has = (tool) => spawnSync(tool, ['--version']).error === undefined;
const http = (name, ...extra) => [
  name,
  ['bench/http/run.mjs', '--app', 'node', ...extra, '--json', `${out}${name}.json`],
];
const steps = [
  ['suite', ['bench/suite/run.mjs', '--json', `${out}suite.json`]],
  http('http', '--seconds', '3', '--rounds', '3'),
  http('https', '--tls', '--seconds', '2', '--rounds', '3'),
  http('http2', '--h2', '--seconds', '2', '--rounds', '3'),
  ['idle', ['bench/idle/run.mjs', '--connections', '5000', '--json', `${out}idle.json`]],
];
/** The load tool a step cannot run without (http falls back to a Node load generator). */
const needs = { https: 'wrk', http2: 'h2load' };
let failed = 0;
for (const [name, args] of steps) {
  if (needs[name] !== undefined && !has(needs[name])) {
    console.log(`\n### ${name}: skipped, ${needs[name]} is not installed (apt-get install wrk nghttp2-client)`);
    continue;
  }
  console.log(`\n### ${name}: node ${args.join(' ')}\n`);
  const started = Date.now();
  const { status } = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s${status === 0 ? '' : `, exit ${status}`})`);
  if (status !== 0) failed++;
}
console.log(`\nreports in ${out}`);
process.exitCode = failed === 0 ? 0 : 1;
