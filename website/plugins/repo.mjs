// Where the site's sources live in the repository, and how a link to a repository file becomes
// a link on the site (a spec section, a guide) or to the file in the repository.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The repository's web address, from the root package.json (`repository`). */
export const repoUrl = (() => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return String(url)
    .replace(/^git\+/, '')
    .replace(/\.git$/, '');
})();

/** A file of the repository, at a line if given, on its web address. */
export function blobUrl(file, line) {
  return `${repoUrl}/blob/main/${file}${line === undefined ? '' : `#L${line}`}`;
}

/** Directories the site renders, and the route each has on the site. */
const mounted = [
  { dir: 'spec', route: '/spec' },
  { dir: 'docs/guides', route: '/guides' },
  { dir: 'website/content', route: '/docs' },
];

/** A Markdown file's route: its name without the order prefix and `.md`; README is the index. */
function routeOf(route, name) {
  if (/^README\.md$/i.test(name)) return `${route}/`;
  return `${route}/${name.replace(/^\d+-/, '').replace(/\.mdx?$/, '')}`;
}

/**
 * Rewrites a relative link in `file` (a repository path) to a site route when it points into a
 * rendered directory, and to the repository's web address for anything else: source files,
 * package READMEs, the examples. Absolute URLs and same-page anchors stay.
 */
export function siteLink(file, url) {
  if (/^[a-z]+:/i.test(url) || url.startsWith('#') || url.startsWith('/')) return url;
  const [path, hash] = url.split('#');
  const target = relative(root, resolve(root, dirname(file), path));
  for (const { dir, route } of mounted) {
    if (dirname(target) === dir && /\.mdx?$/.test(target)) {
      return `${routeOf(route, target.slice(dir.length + 1))}${hash === undefined ? '' : `#${hash}`}`;
    }
  }
  const tree = path.endsWith('/') || !/\.[a-z]+$/i.test(path) ? 'tree' : 'blob';
  return `${repoUrl}/${tree}/main/${target}${hash === undefined ? '' : `#${hash}`}`;
}
