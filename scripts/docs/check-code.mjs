#!/usr/bin/env node
// npm run docs:code: checks every ts/js code block of the documentation (see code-blocks.mjs).
// TypeScript blocks are compiled together with the repository's own compiler options, against
// the built packages; JavaScript blocks are parsed as modules.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeBlocks, documentationFiles, isQuote, quoteMismatch } from './code-blocks.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, '.cache/doc-code');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const failures = [];
const compiled = new Map();
let quotes = 0;
let parsed = 0;
for (const file of documentationFiles(root)) {
  for (const block of codeBlocks(root, file)) {
    const where = `${file}:${block.line}`;
    if (isQuote(block)) {
      quotes++;
      const why = quoteMismatch(root, block);
      if (why !== undefined) failures.push(`${where}: the quoted block drifted: ${why}`);
      continue;
    }
    const name = `${where.replace(/[^\w]+/g, '_')}.${block.lang === 'ts' ? 'ts' : 'mjs'}`;
    // A module of its own, so that blocks do not see each other's names.
    writeFileSync(join(out, name), `${block.lines.join('\n')}\nexport {};\n`);
    if (block.lang === 'ts') compiled.set(name, where);
    else {
      parsed++;
      const check = spawnSync(process.execPath, ['--check', join(out, name)], { encoding: 'utf8' });
      if (check.status !== 0) failures.push(`${where}: does not parse:\n${check.stderr}`);
    }
  }
}

if (compiled.size > 0) {
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, types: ['node'], noUnusedLocals: false },
      include: ['*.ts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', out], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0) {
    // Name each error by the document and line it came from.
    const text = tsc.stdout.replace(/^(\S+?\.ts)\((\d+),(\d+)\)/gm, (m, path, line) => {
      const name = path.split('/').pop();
      const where = compiled.get(name);
      if (where === undefined) return m;
      const [doc, start] = where.split(/:(?=\d+$)/);
      return `${doc}:${Number(start) + Number(line) - 1}`;
    });
    failures.push(`TypeScript blocks do not compile:\n${text}`);
  }
}

if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(
  `docs code: ${quotes} quoted blocks match their files, ${compiled.size} TypeScript blocks compile, ${parsed} JavaScript blocks parse`,
);
