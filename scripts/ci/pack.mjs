// Packs every workspace package as `npm publish` would (prepack included: the prebuilt addons of
// @iolease/reference-uring), for the scripts that check the packages from their tarballs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Packs into `destination`; returns the tarballs' paths. */
export function packWorkspaces(root, destination) {
  mkdirSync(destination, { recursive: true });
  execFileSync('npm', ['pack', '--workspaces', '--pack-destination', destination, '--silent'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readdirSync(destination).map((file) => join(destination, file));
}
