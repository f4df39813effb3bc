// Reading the repository's files for the spec checks: a walk that skips what is built or installed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Paths under `dir` (repository-relative, e.g. 'spec') that `keep` accepts, skipping
 * node_modules, dist, build and dot folders.
 *
 * @param {string} dir @param {(path: string) => boolean} keep @returns {string[]}
 */
export function walk(dir, keep) {
  /** @type {string[]} */
  const out = [];
  const abs = join(root, dir);
  for (const name of readdirSync(abs)) {
    if (name === 'node_modules' || name === 'dist' || name === 'build' || name.startsWith('.')) continue;
    const path = join(abs, name);
    if (statSync(path).isDirectory()) out.push(...walk(relative(root, path), keep));
    else if (keep(path)) out.push(path);
  }
  return out;
}

/** The files at `paths`, sorted, as { file (repository-relative), text }. @param {string[]} paths */
export const load = (paths) =>
  [...paths].sort().map((p) => ({ file: relative(root, p), text: readFileSync(p, 'utf8') }));
