#!/usr/bin/env node
// npm run spec:coverage — fails when a requirement ID is cited by no test and not listed as
// untestable (CONF-3); writes the ID → tests table to reports/spec-coverage.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { citingTitles, coverage, untestableList } from './coverage.mjs';
import { load, root, walk } from './files.mjs';
import { parseSpec } from './spec-ids.mjs';

const spec = load(walk('spec', (p) => p.endsWith('.md')));
const { requirements } = parseSpec(spec);
const isTest = (p) => /\.test\.(ts|mjs)$/.test(p) || /conformance\/src\/suites\/.*\.ts$/.test(p);
const tests = load([...walk('packages', isTest), ...walk('scripts', isTest)]);
const titles = tests.flatMap(citingTitles);
const conformance = spec.find((f) => f.file.endsWith('13-conformance.md'))?.text ?? '';
const { rows, problems } = coverage(
  requirements.map((r) => r.id),
  titles,
  untestableList(conformance),
);

mkdirSync(join(root, 'reports'), { recursive: true });
writeFileSync(join(root, 'reports/spec-coverage.json'), `${JSON.stringify(rows, null, 2)}\n`);
const md = ['| Requirement | Tests |', '| --- | --- |'];
for (const r of rows) {
  md.push(`| ${r.id} | ${r.tests.length > 0 ? r.tests.join('<br>') : `not testable: ${r.untestable ?? '—'}`} |`);
}
writeFileSync(join(root, 'reports/spec-coverage.md'), `${md.join('\n')}\n`);

const covered = rows.filter((r) => r.tests.length > 0).length;
const untestable = rows.filter((r) => r.tests.length === 0 && r.untestable !== undefined).length;
console.log(
  `spec coverage: ${covered} of ${rows.length} requirements cited by tests, ${untestable} untestable with a reason`,
);
if (problems.length > 0) {
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
