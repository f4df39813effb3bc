#!/usr/bin/env node
// A release, rehearsed without publishing: in a throwaway worktree of HEAD, `changeset version`
// consumes the pending changesets, then every package is checked (new version, a CHANGELOG.md
// entry for it, every @iolease/* dependency range admitting the version it will meet), built,
// and put through `npm publish --dry-run`, which runs the same prepack (the prebuilt addons) and
// packs the same files a release would. The repository itself is not touched.
//
// Cutting a real release is the same steps on main: `npx changeset version`, commit, then
// `npm publish --workspaces` (or `npx changeset publish`) from a machine that can build both
// prebuilds. See the README's "Releasing" section.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const semver = createRequire(join(root, 'package.json'))('semver');
const bin = (name) => join(root, 'node_modules/.bin', name);
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const manifests = (dir) =>
  readdirSync(join(dir, 'packages')).map((name) => ({
    dir: join(dir, 'packages', name),
    ...JSON.parse(readFileSync(join(dir, 'packages', name, 'package.json'), 'utf8')),
  }));

let failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed++;
};

const worktree = join(mkdtempSync(join(tmpdir(), 'iolease-release-')), 'repo');
run('git', ['worktree', 'add', '--detach', worktree, 'HEAD'], root);
try {
  symlinkSync(join(root, 'node_modules'), join(worktree, 'node_modules'));
  const before = new Map(manifests(worktree).map((m) => [m.name, m.version]));
  const pending = readdirSync(join(worktree, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  console.log(`::: changeset version (${pending.length} changesets)`);
  run(bin('changeset'), ['version'], worktree);

  const released = manifests(worktree).filter((m) => !m.private);
  const versions = new Map(released.map((m) => [m.name, m.version]));
  for (const m of released) {
    const bumped = semver.gt(m.version, before.get(m.name));
    check(bumped || pending.length === 0, `${m.name}: ${before.get(m.name)} -> ${m.version}`);
    const changelog = join(m.dir, 'CHANGELOG.md');
    check(
      existsSync(changelog) && readFileSync(changelog, 'utf8').includes(`## ${m.version}`),
      `${m.name}: CHANGELOG.md has ## ${m.version}`,
    );
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) {
      for (const [dep, range] of Object.entries(m[field] ?? {})) {
        if (!versions.has(dep)) continue;
        check(
          semver.satisfies(versions.get(dep), range),
          `${m.name}: ${field} ${dep}@${range} admits ${versions.get(dep)}`,
        );
      }
    }
  }
  const left = readdirSync(join(worktree, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  check(left.length === 0, 'every changeset was consumed');

  console.log('::: build and npm publish --dry-run');
  run(bin('tsc'), ['-b', 'tsconfig.build.json'], worktree);
  for (const m of released) {
    const { status, stdout, stderr } = spawnSync('npm', ['publish', '--dry-run'], { cwd: m.dir, encoding: 'utf8' });
    const log = stdout + stderr;
    const ok = status === 0 && log.includes(`+ ${m.name}@${m.version}`) && log.includes('public access');
    check(ok, `${m.name}@${m.version}: npm publish --dry-run, public access`);
    if (!ok) console.log(log);
  }
} finally {
  run('git', ['worktree', 'remove', '--force', worktree], root);
}
console.log(failed === 0 ? '\nok: the release rehearsal passed' : `\n${failed} checks failed`);
process.exit(failed === 0 ? 0 : 1);
