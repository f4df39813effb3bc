import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

describe('@iolease/interfaces as published', () => {
  it('has no runtime dependencies', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
  });

  it('builds to ESM with declarations', async () => {
    expect(pkg.type).toBe('module');
    expect(existsSync(new URL('dist/index.js', root))).toBe(true);
    expect(existsSync(new URL('dist/index.d.ts', root))).toBe(true);
    const built = await import(new URL('dist/index.js', root).href);
    expect(new built.AdaptiveRecvByteBufferSizer().nextReadSize()).toBe(2048);
  });

  it('imports nothing but its own files, and touches no Node-only global, so it loads in any runtime', () => {
    const dir = new URL('src/', root);
    for (const name of readdirSync(dir)) {
      const text = readFileSync(new URL(name, dir), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) expect(m[1], `${name} imports ${m[1]}`).toMatch(/^\.\//);
      expect(text, name).not.toMatch(/\b(process|Buffer|require|__dirname)\b[.(]/);
    }
  });
});
