#!/usr/bin/env node
// npm's install script. The package does not need it to run: where a shipped prebuild loads
// (linux-x64 and linux-arm64 with glibc), there is nothing to do, and the loader finds the
// prebuild whether or not npm ran this (--ignore-scripts, or install scripts left unapproved).
// Elsewhere (musl, another CPU, a checkout of the repository) it compiles the addon with
// node-gyp. A failed compile is a warning, not a failed install: the package then reports
// ERR_IOLEASE_BACKEND_UNAVAILABLE when a loop is created, and `auto` backend choice runs node:net.
//
// IOLEASE_BUILD_FROM_SOURCE=1 (or npm's --build-from-source) compiles even where a prebuild loads.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const prebuild = join(packageDir, 'prebuilds', `linux-${process.arch}`, 'iolease_uring.node');
const fromSource = process.env.IOLEASE_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';

if (process.platform !== 'linux') {
  console.log(`@iolease/reference-uring: io_uring needs Linux; nothing to build on ${process.platform}`);
  process.exit(0);
}
if (!fromSource && prebuildLoads()) {
  console.log(`@iolease/reference-uring: the prebuilt addon for linux-${process.arch} loads; nothing to compile`);
  process.exit(0);
}

const nodeGyp = process.env.npm_config_node_gyp;
const [command, ...args] = nodeGyp ? [process.execPath, nodeGyp] : ['node-gyp'];
try {
  execFileSync(command, [...args, 'rebuild'], { cwd: packageDir, stdio: 'inherit' });
} catch (error) {
  console.warn(
    '@iolease/reference-uring: the io_uring addon could not be compiled ' +
      `(${error.code ?? `exit status ${error.status}`}), and no prebuild loads on linux-${process.arch}. ` +
      'Compiling needs python3, make and a C++ compiler. Until it is built, creating an io_uring loop ' +
      'fails with ERR_IOLEASE_BACKEND_UNAVAILABLE and backend "auto" runs node:net.',
  );
}

function prebuildLoads() {
  if (!existsSync(prebuild)) return false;
  try {
    createRequire(import.meta.url)(prebuild);
    return true;
  } catch (error) {
    console.log(`@iolease/reference-uring: the prebuild does not load here (${error.message}); compiling instead`);
    return false;
  }
}
