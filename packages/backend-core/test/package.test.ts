import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

describe('@iolease/backend-core as published', () => {
  it('depends on the contract only', () => {
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['@iolease/interfaces']);
    expect(pkg.peerDependencies ?? {}).toEqual({});
  });

  it('builds to ESM with declarations', async () => {
    expect(pkg.type).toBe('module');
    expect(existsSync(new URL('dist/index.js', root))).toBe(true);
    expect(existsSync(new URL('dist/index.d.ts', root))).toBe(true);
    const built = await import(new URL('dist/index.js', root).href);
    expect(typeof built.DeferQueue).toBe('function');
  });

  it('imports its own files and the contract only, and touches no Node-only global, so it loads in any runtime', () => {
    const dir = new URL('src/', root);
    for (const name of readdirSync(dir)) {
      const text = readFileSync(new URL(name, dir), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        expect(m[1], `${name} imports ${m[1]}`).toMatch(/^(\.\/|@iolease\/interfaces$)/);
      }
      expect(text, name).not.toMatch(/\b(process|Buffer|require|__dirname)\b[.(]/);
    }
  });
});
