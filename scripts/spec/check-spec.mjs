#!/usr/bin/env node
// Lists the spec's requirement IDs and fails on malformed, duplicate or dangling ones.
// Usage: node scripts/spec/check-spec.mjs [--list]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCitations, parseSpec } from './spec-ids.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** @param {string} dir @param {(name: string) => boolean} keep @returns {string[]} */
function walk(dir, keep) {
  /** @type {string[]} */
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'build' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path, keep));
    else if (keep(name)) out.push(path);
  }
  return out;
}

/** @param {string[]} paths */
const load = (paths) => paths.map((p) => ({ file: relative(root, p), text: readFileSync(p, 'utf8') }));

const specFiles = load(walk(join(root, 'spec'), (n) => n.endsWith('.md')).sort());
const sourceFiles = load(
  walk(join(root, 'packages'), (n) => /\.(ts|mts|mjs|js|cc|h)$/.test(n)).concat(
    walk(join(root, 'scripts'), (n) => /\.(ts|mjs)$/.test(n) && !n.includes('.test.')),
  ),
);

const { requirements, problems } = parseSpec(specFiles);
problems.push(...checkCitations(requirements, [...specFiles, ...sourceFiles]));

if (process.argv.includes('--list')) {
  for (const r of requirements) console.log(`${r.id}\t${r.file}:${r.line}`);
}
/** @type {Map<string, number>} */
const perArea = new Map();
for (const r of requirements) {
  const area = r.id.split('-')[0];
  perArea.set(area, (perArea.get(area) ?? 0) + 1);
}
console.log(`spec: ${requirements.length} requirement IDs (${[...perArea].map(([a, n]) => `${a} ${n}`).join(', ')})`);
for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
if (problems.length > 0) {
  console.error(`spec: ${problems.length} problem(s)`);
  process.exit(1);
}
