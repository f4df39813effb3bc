// Runs on the arm64 machine (qemu), from a project where the packed packages are installed, and
// prints one JSON report. `--expect io_uring` (a whole arm64 kernel) requires the io_uring loop to
// serve; `--expect unavailable` (qemu-user, which has no io_uring system calls) requires the
// prebuild to load and report ENOSYS as ERR_IOLEASE_BACKEND_UNAVAILABLE, and `auto` to fall back.
// Both then check the loop that runs: checksummed echo over TCP through a pool small enough to
// run dry, a Unix socket, a gathered write, and a close that gives back every fd.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { arch, release } from 'node:os';
import { openEventLoop } from '@iolease/adapters';

const expect = process.argv[process.argv.indexOf('--expect') + 1];
const report = { arch: process.arch, kernel: release(), node: process.version, checks: [] };
const fail = (what) => {
  report.failed = what;
  console.log(JSON.stringify(report));
  process.exit(1);
};
const check = (ok, what) => (ok ? report.checks.push(what) : fail(what));

check(arch() === 'arm64', 'Node runs on arm64');
const binding = createRequire(import.meta.url)(
  './node_modules/@iolease/reference-uring/prebuilds/linux-arm64/iolease_uring.node',
);
check(binding.kinds?.RECV === 2 && binding.maxIov > 0, 'the arm64 prebuild loads');

const fds = () => readdirSync('/proc/self/fd').length;
const before = fds();
const { loop, selection } = await openEventLoop({ sizeClasses: [{ size: 2048, count: 4 }] });
report.backend = selection.backend;
report.reason = selection.reason;
if (expect === 'io_uring') {
  check(selection.backend === 'io_uring', 'auto runs the io_uring loop');
  report.features = loop.features;
} else {
  check(
    selection.backend === 'node:net' && /ENOSYS/.test(selection.reason),
    'io_uring_setup is ENOSYS; auto runs node:net',
  );
}

const handler = {
  onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
  onEnd: (channel) => channel.shutdown(),
  onError: () => {},
};
const tcp = await loop.listen({ host: '127.0.0.1', port: 0 }, () => handler);
const echoes = await Promise.all(
  Array.from({ length: 8 }, () => echo({ port: tcp.address.port, host: '127.0.0.1' }, 256 * 1024)),
);
check(echoes.every(Boolean), '8 connections × 256 KiB echoed byte for byte through a pool of 4 × 2 KiB buffers');

const path = `/tmp/iolease-arm64-${process.pid}.sock`;
await loop.listen({ path }, () => handler);
check(await echo({ path }, 64 * 1024), 'a Unix socket echoes 64 KiB');

const gathered = await new Promise((resolve, reject) => {
  const server = net.createServer((socket) => {
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => {
      resolve(Buffer.concat(chunks).toString());
      server.close();
    });
  });
  server.listen(0, '127.0.0.1', async () => {
    const channel = await loop.connect(
      { host: '127.0.0.1', port: server.address().port },
      { onRead: (_c, l) => l.release(), onError: reject },
    );
    const parts = ['gathered ', 'write ', 'on ', 'arm64'].map((s) => new TextEncoder().encode(s));
    channel.write(parts, (error) => (error ? reject(error) : channel.close()));
  });
});
check(gathered === 'gathered write on arm64', 'a gathered write arrives whole and completes');

await loop.close();
check(fds() === before, `loop.close() gives back every fd (${fds()} open, ${before} before)`);
console.log(JSON.stringify(report));

/** Sends `size` random bytes on a plain node:net socket, half-closes, compares what comes back. */
function echo(at, size) {
  const sent = randomBytes(size);
  return new Promise((resolve, reject) => {
    const socket = net.connect(at);
    const hash = createHash('sha256');
    let received = 0;
    socket.on('data', (chunk) => {
      hash.update(chunk);
      received += chunk.length;
    });
    socket.once('end', () =>
      resolve(received === size && hash.digest('hex') === createHash('sha256').update(sent).digest('hex')),
    );
    socket.once('error', reject);
    socket.end(sent);
  });
}
