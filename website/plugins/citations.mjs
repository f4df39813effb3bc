// For every requirement ID of the spec: the tests whose titles cite it and the source lines that
// cite it, each with its file and line, read from the repository at build time, as
// `npm run spec:coverage` reads them. So a rule on the site links to what checks and implements it.
import { citingTitles } from '../../scripts/spec/coverage.mjs';
import { load, walk } from '../../scripts/spec/files.mjs';
import { parseSpec } from '../../scripts/spec/spec-ids.mjs';

const ID = /\b[A-Z]{2,8}-[1-9][0-9]*\b/g;
const isTest = (p) => /\.test\.(ts|mjs)$/.test(p) || /conformance\/src\/suites\/.*\.ts$/.test(p);
const isSource = (p) => /\/src\/.*\.(ts|cc|h|mjs)$/.test(p) && !isTest(p);

/** The line (1-based) at which `index` of `text` lies. */
function lineAt(text, index) {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * @returns {Map<string, { tests: { file: string, line: number, title: string }[],
 *   sources: { file: string, line: number, text: string }[] }>}
 */
export function collectCitations() {
  const { requirements } = parseSpec(load(walk('spec', (p) => p.endsWith('.md'))));
  const byId = new Map(requirements.map((r) => [r.id, { tests: [], sources: [] }]));
  const testFiles = load([...walk('packages', isTest), ...walk('scripts', isTest), ...walk('examples', isTest)]);
  for (const source of testFiles) {
    for (const t of citingTitles(source)) {
      const line = lineAt(source.text, source.text.indexOf(t.title.split(' ').slice(0, 3).join(' ')));
      for (const id of t.ids) byId.get(id)?.tests.push({ file: source.file, line, title: t.title });
    }
  }
  for (const { file, text } of load([...walk('packages', isSource), ...walk('examples', isSource)])) {
    const lines = text.split('\n');
    lines.forEach((raw, i) => {
      for (const id of new Set(raw.match(ID) ?? [])) {
        byId.get(id)?.sources.push({ file, line: i + 1, text: raw.trim() });
      }
    });
  }
  return byId;
}
