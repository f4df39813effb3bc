import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codeBlocks, quoteMismatch } from './code-blocks.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('documentation code blocks', () => {
  it('every quoted block matches its file, every TypeScript block compiles, every JavaScript block parses', () => {
    const run = spawnSync(process.execPath, ['scripts/docs/check-code.mjs'], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/[1-9]\d* quoted blocks match/);
  });

  it('finds a quote that drifted from its file, and names the document and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doc-code-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/a.ts'), 'export const a = 1;\nexport const b = 2;\n');
    const md = ['# x', '```ts', '// file: src/a.ts', 'export const a = 1;', 'export const b = 3;', '```', ''];
    writeFileSync(join(dir, 'doc.md'), md.join('\n'));
    const [block] = codeBlocks(dir, 'doc.md');
    expect(block).toMatchObject({ file: 'doc.md', line: 3, lang: 'ts' });
    expect(quoteMismatch(dir, block)).toMatch(/not in src\/a.ts/);
    const fixed = { ...block, lines: ['// file: src/a.ts', 'export const b = 2;'] };
    expect(quoteMismatch(dir, fixed)).toBeUndefined();
    expect(quoteMismatch(dir, { ...block, lines: ['// file: src/none.ts'] })).toMatch(/does not exist/);
  });
});
