#!/usr/bin/env node
// A new user's install, checked: packs every package as it will be published, installs the
// tarballs into empty projects with no compiler on PATH (once with install scripts run, once
// with them ignored, as npm does for scripts left unapproved), imports every entry point there,
// and runs the README's echo server from that project on io_uring, checking a megabyte of
// random bytes comes back unchanged. Needs the packages built (npm run build).
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packWorkspaces } from './pack.mjs';
import { commandExists } from './tools.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'iolease-install-'));
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')))
  .filter((manifest) => !manifest.private)
  .map((manifest) => manifest.name);

step('pack every package');
const files = packWorkspaces(root, join(work, 'tarballs'));
check(files.length === packages.length, `${files.length} tarballs for ${packages.length} packages`);

const path = sandboxPath();
for (const scripts of ['run', 'ignored']) {
  step(`install the tarballs into an empty project, no compiler on PATH, install scripts ${scripts}`);
  const project = join(work, `project-scripts-${scripts}`);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }));
  const flags = scripts === 'ignored' ? ['--ignore-scripts'] : ['--foreground-scripts'];
  const output = execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...flags, ...files], {
    cwd: project,
    env: { ...withoutCompilers(process.env), PATH: path },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const said = /@iolease\/reference-uring: the prebuilt addon .* loads; nothing to compile/.test(output);
  check(
    said === (scripts === 'run'),
    `the install script ${scripts === 'run' ? 'ran and found the prebuild' : 'did not run'}`,
  );
  const installed = join(project, 'node_modules/@iolease/reference-uring');
  check(existsSync(join(installed, `prebuilds/linux-${process.arch}/iolease_uring.node`)), 'the prebuild is installed');
  check(!existsSync(join(installed, 'build')), 'nothing was compiled');

  step('import every entry point');
  for (const name of packages) {
    const keys = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `console.log(Object.keys(await import('${name}')).length)`],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );
    check(Number(keys) > 0, `${name}: ${keys.trim()} exports`);
  }

  step('the echo example, from the project, on io_uring');
  copyFileSync(join(root, 'examples/echo-server.mjs'), join(project, 'echo-server.mjs'));
  await echo(project);
}
rmSync(work, { recursive: true, force: true });
console.log('\nok: a fresh project installs the packed packages without a compiler and echoes over io_uring');

/** A PATH with node, npm and the shell npm runs scripts with, so any attempt to compile fails. */
function sandboxPath() {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  symlinkSync(npm, join(bin, 'npm'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python3', 'python']) {
    check(!commandExists(tool, bin), `no ${tool} on the sandbox PATH`);
  }
  return bin;
}

function withoutCompilers(env) {
  const { CC: _cc, CXX: _cxx, LINK: _link, ...rest } = env;
  return rest;
}

/** Starts the example on port 0 with backend "uring", echoes 1 MiB through it, stops it. */
async function echo(project) {
  const server = spawn(process.execPath, ['echo-server.mjs', '0', 'uring'], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const banner = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    server.once('exit', (code) => reject(new Error(`the echo server exited (${code}) before listening`)));
  });
  check(banner.includes('(io_uring)'), banner);
  const port = Number(/:(\d+):/.exec(banner)[1]);
  const sent = randomBytes(1 << 20);
  const received = await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.end(sent);
  });
  const digest = (bytes) => createHash('sha256').update(bytes).digest('hex');
  check(digest(received) === digest(sent), `1 MiB echoed byte for byte (${received.length} bytes)`);
  server.kill('SIGTERM');
  const code = await new Promise((resolve) => server.once('exit', resolve));
  check(code === 0, `the echo server exited ${code} on SIGTERM`);
}

function step(title) {
  console.log(`::: ${title}`);
}

function check(ok, what) {
  if (!ok) {
    console.error(`FAIL ${what}`);
    process.exit(1);
  }
  console.log(`ok   ${what}`);
}
