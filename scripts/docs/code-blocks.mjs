// The code blocks of the documentation, and what checks each: a block whose first line is
// `// file: <path>` must be a run of that file's lines (a file the type check and tests cover);
// any other TypeScript block is compiled on its own, and a JavaScript block parsed. So no
// snippet in a guide can drift from the code it shows.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The Markdown files whose code a reader copies: guides, READMEs, the spec. */
export function documentationFiles(root) {
  const files = ['README.md'];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      // Generated pages (the API reference, the benchmark and changelog pages) are not the docs' own.
      const skip = ['node_modules', 'dist', 'build', '.cache', 'api', 'generated'];
      if (entry.isDirectory() && !skip.includes(entry.name)) walk(path);
      else if (entry.name.endsWith('.md') && entry.name !== 'CHANGELOG.md') files.push(path);
    }
  };
  for (const dir of ['docs', 'spec', 'examples', 'packages', 'bench', 'website/content']) walk(dir);
  return files;
}

/** Every fenced ts/js block: the file, the line it starts on, its language and its lines. */
export function codeBlocks(root, file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript|js|mjs)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith('```')) end++;
    const lang = open[1] === 'typescript' ? 'ts' : open[1] === 'mjs' ? 'js' : open[1];
    blocks.push({ file, line: start + 1, lang, lines: lines.slice(start, end) });
    i = end;
  }
  return blocks;
}

/** For a `// file:` block: undefined when its lines are a run of the file's, else why not. */
export function quoteMismatch(root, block) {
  const path = /^\/\/ file: (\S+)$/.exec(block.lines[0] ?? '')?.[1];
  if (path === undefined) return 'not a quote';
  let text;
  try {
    text = readFileSync(join(root, path), 'utf8').split('\n');
  } catch {
    return `${path} does not exist`;
  }
  const quoted = block.lines.slice(1);
  for (let i = 0; i + quoted.length <= text.length; i++) {
    if (quoted.every((line, j) => line === text[i + j])) return undefined;
  }
  return `its lines are not in ${relative(root, join(root, path))} as they stand`;
}

/** Whether a block quotes a file. */
export function isQuote(block) {
  return /^\/\/ file: /.test(block.lines[0] ?? '');
}
