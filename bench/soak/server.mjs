// The soak's echo server: the example's handler on an iolease loop (uring or net), or the plain
// node:net echo, answering the soak driver's IPC question "where is your memory?" so a growing
// RSS can be attributed (V8 heap, ArrayBuffers, the rest: native and malloc).
// Usage (spawned by run.mjs with an IPC channel): node bench/soak/server.mjs uring|net|plain
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { openEventLoop } from '@iolease/adapters';

const mode = process.argv[2] ?? 'uring';
let loop;
let port;
if (mode === 'plain') {
  const server = net.createServer((socket) => {
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
} else {
  ({ loop } = await openEventLoop({ backend: mode }));
  const listener = await loop.listen({ host: '127.0.0.1', port: 0 }, () => ({
    onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
    onEnd: (channel) => channel.shutdown(),
    onError: () => undefined, // the churn resets connections on purpose
  }));
  port = listener.address.port;
}

/** smaps_rollup's anonymous and file-backed resident memory, in bytes. */
function smaps() {
  const text = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { anonymous: kb('Anonymous'), rss: kb('Rss') };
}

process.on('message', (message) => {
  if (message === 'memory') {
    const m = process.memoryUsage();
    const stats = loop?.stats();
    process.send({
      rss: m.rss,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      ...smaps(),
      fds: 0,
      channelsOpen: stats?.channelsOpen ?? null,
      leasesOut: stats?.pool.leasesOut ?? null,
    });
  } else if (message === 'gc' && typeof globalThis.gc === 'function') {
    globalThis.gc();
    process.send({ gc: true });
  } else if (message === 'stop') {
    process.exit(0);
  }
});
console.log(`listening on 127.0.0.1:${port}`);
