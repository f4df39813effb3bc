#!/usr/bin/env node
// Writes the site's generated pages before Docusaurus builds or serves it (npm run build/start
// in website/): the benchmark charts (SVG) and their page from bench/results, the changelog
// page from the packages' CHANGELOG.md and the changesets not released yet, and the diagrams of
// content/diagrams as SVG. One source: nothing
// here is edited by hand, and all of it is ignored by git.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDiagrams } from './diagrams.mjs';
import { barChart, formatValue } from './svg-bars.mjs';

const site = fileURLToPath(new URL('..', import.meta.url));
const root = join(site, '..');
const generated = join(site, 'content/generated');
const charts = join(site, 'static/charts');
const diagrams = join(site, 'static/diagrams');
for (const dir of [generated, charts, diagrams]) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

const repoUrl = (() => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return String(pkg.repository?.url ?? pkg.repository)
    .replace(/^git\+/, '')
    .replace(/\.git$/, '');
})();

// ---- Benchmarks --------------------------------------------------------------------------

const manifest = JSON.parse(readFileSync(join(root, 'bench/results/charts.json'), 'utf8'));
const page = [
  '---',
  'title: Benchmarks',
  'description: What the loops cost against plain node:net, measured in one run each.',
  'slug: /benchmarks',
  '---',
  '',
  '# Benchmarks',
  '',
  'Every figure is measured against a baseline in the same run, on the same machine, with',
  'alternating rounds and medians: the ratios carry from machine to machine, the absolute values',
  'do not. The charts are drawn when the site is built, from the JSON the benchmark wrote',
  `(\`bench/results/\`); [bench/README.md](${repoUrl}/blob/main/bench/README.md) says how each`,
  'benchmark works.',
  '',
  `Machine: ${manifest.machine}.`,
  '',
];
manifest.charts.forEach((chart, i) => {
  const data = JSON.parse(readFileSync(join(root, 'bench/results', chart.file), 'utf8'));
  // A dotted path reaches into the report: `summary`, or `scenarios.1.summary` for the suite's.
  const table = chart.path.split('.').reduce((node, key) => node?.[key], data);
  const bars = Object.entries(table).map(([name, entry]) => ({
    label: chart.labels?.[name] ?? name,
    value: chart.metric === undefined ? entry : entry[chart.metric],
  }));
  if (bars.some((b) => typeof b.value !== 'number' || !Number.isFinite(b.value))) {
    throw new Error(`bench/results/${chart.file}: ${chart.path}.*.${chart.metric} is not a number for every entry`);
  }
  const name = `${chart.file.replace(/\.json$/, '')}-${i}.svg`;
  writeFileSync(join(charts, name), barChart({ ...chart, bars }));
  const baseline = bars[0];
  // Colons escaped: `node:http` would read as a directive, which the table of contents and the
  // heading's anchor drop (two titles would both read "node hello world").
  page.push(`## ${chart.title.replace(/:/g, '\\:')}`, '');
  const alt = `${chart.title}: ${bars.map((b) => `${b.label} ${formatValue(b.value)}`).join(', ')}`;
  page.push(`![${alt.replace(/:/g, '\\:')}](/charts/${name})`, '');
  page.push(`| | ${chart.unit} | ratio to ${baseline.label} |`, '| --- | ---: | ---: |');
  for (const b of bars)
    page.push(`| ${b.label} | ${formatValue(b.value)} | ${(b.value / baseline.value).toFixed(2)}× |`);
  page.push(
    '',
    `Reproduce: \`${chart.command}\` · data: [${chart.file}](${repoUrl}/blob/main/bench/results/${chart.file})`,
    '',
  );
});
writeFileSync(join(generated, 'benchmarks.md'), `${page.join('\n')}\n`);

// The home page's figures: the first echo chart's file and the idle chart's, as ratios.
const ratio = (file, path, metric, a, b) => {
  const data = JSON.parse(readFileSync(join(root, 'bench/results', file), 'utf8'))[path];
  const value = (k) => (metric === undefined ? data[k] : data[k][metric]);
  return `${(value(a) / value(b)).toPrecision(2)}×`;
};
const echoFile = manifest.charts.find((c) => c.file.includes('echo')).file;
const idleFile = manifest.charts.find((c) => c.file.includes('idle')).file;
const headline = [
  {
    value: ratio(echoFile, 'summary', 'cpuMicrosPerMessage', 'iolease uring', 'node:net'),
    label: 'its CPU per echo message',
  },
  {
    value: ratio(echoFile, 'summary', 'messagesPerSecond', 'iolease uring', 'node:net'),
    label: 'its echo messages per second',
  },
  {
    value: ratio(echoFile, 'summary', 'syscallsPerMessage', 'iolease uring', 'node:net'),
    label: 'its system calls per message',
  },
  {
    value: ratio(idleFile, 'perConnection', undefined, 'iolease uring', 'node:net'),
    label: 'its memory per idle connection',
  },
];
mkdirSync(join(site, 'src/data'), { recursive: true });
writeFileSync(
  join(site, 'src/data/headline.js'),
  `// Generated by scripts/generate.mjs from bench/results.\nexport const headline = ${JSON.stringify(headline, null, 2)};\n`,
);

// ---- Changelog ---------------------------------------------------------------------------

const log = [
  '---',
  'title: Changelog',
  'description: What changed in each package, from its CHANGELOG.md and the changesets not released yet.',
  'slug: /changelog',
  '---',
  '',
  '# Changelog',
  '',
  'Each package records its changes with [changesets](https://github.com/changesets/changesets):',
  'a release turns them into the package’s `CHANGELOG.md`. Both are shown here as they are in the',
  'repository.',
  '',
];
const pending = readdirSync(join(root, '.changeset'))
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort()
  .map((f) => {
    const text = readFileSync(join(root, '.changeset', f), 'utf8');
    const [, front = '', body = ''] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
    const bumps = [...front.matchAll(/"([^"]+)":\s*(\w+)/g)].map((m) => `${m[1]} (${m[2]})`);
    return { bumps, body: body.trim() };
  });
log.push('## Not released yet', '');
for (const c of pending) {
  // Changeset bodies use headings sparingly; keep them below this page's own.
  const body = c.body.replace(/^#{1,3} /gm, '#### ');
  log.push(`- **${c.bumps.join(', ')}**`, '', body.replace(/^/gm, '  '), '');
}
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const file = join(root, 'packages', dir, 'CHANGELOG.md');
  if (!existsSync(file)) continue;
  const text = readFileSync(file, 'utf8')
    .replace(/^# .*\n/, '')
    .replace(/^(#+) /gm, '$1## ');
  log.push(`## ${JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).name}`, '', text, '');
}
writeFileSync(join(generated, 'changelog.md'), `${log.join('\n')}\n`);
const drawn = await renderDiagrams(join(site, 'content/diagrams'), diagrams);
console.log(`site: ${manifest.charts.length} charts, ${drawn.length} diagrams, ${pending.length} pending changesets`);
