#!/usr/bin/env node
// Builds the prebuilt addons that ship inside the package, so installing it needs no compiler:
// prebuilds/linux-<arch>/iolease_uring.node for each target. Node-API makes one build serve
// every supported Node. Each build runs in a staging copy, so the package's own build/ (the
// one the tests load) is left alone. The result must ask no newer glibc and libstdc++ than
// the oldest distributions Node 22 runs on provide (glibc 2.28 and GCC 8's libstdc++, as on
// RHEL 8), or their slim images could not load it: src/native/portable_libstdcxx.cc keeps
// GCC 11+'s one new libstdc++ symbol out, and this script checks every symbol version.
//
//   node scripts/prebuild.mjs [--out DIR] [TARGET...]     TARGET: linux-x64, linux-arm64
//
// Without TARGETs it builds $IOLEASE_PREBUILD_TARGETS (comma-separated) or both.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** The newest symbol version of each library a prebuild may ask for: RHEL 8 (glibc 2.28, GCC 8). */
const CEILINGS = { GLIBC: [2, 28], GLIBCXX: [3, 4, 25], CXXABI: [1, 3, 11] };

/** How to compile for each target from this machine (x86-64 or arm64 Debian). */
const TOOLCHAINS = {
  'linux-x64': { arch: 'x64', gnu: 'x86_64-linux-gnu' },
  'linux-arm64': { arch: 'arm64', gnu: 'aarch64-linux-gnu' },
};

const args = process.argv.slice(2);
let out = join(packageDir, 'prebuilds');
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = resolve(args[++i]);
  else targets.push(args[i]);
}
if (targets.length === 0) {
  const fromEnv = process.env.IOLEASE_PREBUILD_TARGETS;
  targets.push(...(fromEnv ? fromEnv.split(',').map((t) => t.trim()) : Object.keys(TOOLCHAINS)));
}

for (const target of targets) {
  const toolchain = TOOLCHAINS[target];
  if (toolchain === undefined) fail(`unknown target "${target}"; known: ${Object.keys(TOOLCHAINS).join(', ')}`);
  const file = build(target, toolchain);
  const needs = newestVersions(file, toolchain);
  for (const [library, version] of Object.entries(needs)) {
    const ceiling = CEILINGS[library];
    if (ceiling !== undefined && compareVersions(version, ceiling) > 0) {
      fail(`${target}: the addon needs ${library}_${version.join('.')}, newer than ${ceiling.join('.')}`);
    }
  }
  const destination = join(out, target, 'iolease_uring.node');
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(file, destination);
  const summary = Object.entries(needs).map(([library, version]) => `${library}_${version.join('.')}`);
  console.log(`prebuild ${target}: ${destination} (needs ${summary.join(', ')})`);
}

function build(target, { arch, gnu }) {
  const staging = mkdtempSync(join(tmpdir(), `iolease-prebuild-${target}-`));
  process.on('exit', () => rmSync(staging, { recursive: true, force: true }));
  cpSync(join(packageDir, 'binding.gyp'), join(staging, 'binding.gyp'));
  cpSync(join(packageDir, 'src', 'native'), join(staging, 'src', 'native'), { recursive: true });
  // binding.gyp asks node-addon-api for its headers from the build's own directory.
  const addonApi = dirname(require.resolve('node-addon-api/package.json'));
  mkdirSync(join(staging, 'node_modules'));
  symlinkSync(addonApi, join(staging, 'node_modules', 'node-addon-api'));

  const native = process.arch === arch;
  const tool = (name) => (native ? name : `${gnu}-${name}`);
  const env = {
    ...process.env,
    IOLEASE_PORTABLE: '1',
    IOLEASE_SANITIZE: '',
    IOLEASE_FAULTS_BUILD: '',
    CC: tool('gcc'),
    CXX: tool('g++'),
    LINK: tool('g++'),
    AR: tool('ar'),
  };
  if (!commandExists(env.CXX)) {
    fail(
      `${target}: no ${env.CXX} here. On Debian: apt-get install g++-${gnu.replace('_', '-')}; ` +
        'or build fewer targets with IOLEASE_PREBUILD_TARGETS=linux-x64',
    );
  }
  const gyp = nodeGyp();
  execFileSync(gyp[0], [...gyp.slice(1), 'rebuild', `--arch=${arch}`, '--jobs=max', '--loglevel=error'], {
    cwd: staging,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return join(staging, 'build', 'Release', 'iolease_uring.node');
}

/** node-gyp as npm runs it for install scripts, or from PATH. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  return fromNpm ? [process.execPath, fromNpm] : ['node-gyp'];
}

function commandExists(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The newest version the shared object asks of each library: { GLIBC: [2, 14], … }. */
function newestVersions(file, { gnu }) {
  const objdump = commandExists(`${gnu}-objdump`) ? `${gnu}-objdump` : 'objdump';
  const symbols = execFileSync(objdump, ['-T', file], { encoding: 'utf8' });
  const newest = {};
  for (const [, library, version] of symbols.matchAll(/\b(GLIBC|GLIBCXX|CXXABI)_([\d.]+)/g)) {
    const parts = version.split('.').map(Number);
    if (newest[library] === undefined || compareVersions(parts, newest[library]) > 0) newest[library] = parts;
  }
  return newest;
}

function compareVersions(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}
