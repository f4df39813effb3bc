// Packs every package that is published (packages/*, not private) as `npm publish` would
// (prepack included: the prebuilt addons of @iolease/reference-uring), for the scripts that check
// the packages from their tarballs. The docs site and the examples are not packed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Packs into `destination`; returns the tarballs' paths. */
export function packWorkspaces(root, destination) {
  mkdirSync(destination, { recursive: true });
  const published = readdirSync(join(root, 'packages')).filter(
    (dir) => !JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).private,
  );
  const workspaces = published.flatMap((dir) => ['--workspace', `packages/${dir}`]);
  execFileSync('npm', ['pack', ...workspaces, '--pack-destination', destination, '--silent'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readdirSync(destination).map((file) => join(destination, file));
}
