#!/usr/bin/env node
// Lists the spec's requirement IDs and fails on malformed, duplicate or dangling ones.
// Usage: node scripts/spec/check-spec.mjs [--list]
import { load, walk } from './files.mjs';
import { checkCitations, parseSpec } from './spec-ids.mjs';

const specFiles = load(walk('spec', (p) => p.endsWith('.md')));
const sourceFiles = load(
  walk('packages', (p) => /\.(ts|mts|mjs|js|cc|h)$/.test(p)).concat(
    walk('scripts', (p) => /\.(ts|mjs)$/.test(p) && !p.includes('.test.')),
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
