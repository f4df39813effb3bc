// An echo server on an iolease event loop: usage `node examples/echo-server.mjs <port|path> [auto|uring|net]`
// (a path listens on a Unix domain socket).
// Each received lease is written straight back and released when its write completes, so the
// bytes never leave loop-owned memory (no copy between receive and send).
import { openEventLoop } from '@iolease/adapters';

const where = process.argv[2] ?? '7000'; // a port (0 picks a free one), or a Unix socket path
const at = /^\d+$/.test(where) ? { host: '127.0.0.1', port: Number(where) } : { path: where };
const backend = process.argv[3] ?? 'auto'; // auto: io_uring where available, else node:net

const { loop, selection } = await openEventLoop({ backend }).catch((error) => {
  console.error(`${error.code}: ${error.message}`);
  process.exit(2);
});
const listener = await loop.listen(at, () => ({
  onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
  onEnd: (channel) => channel.shutdown(),
  onError: (channel, error) => console.error(`channel ${channel.id}: ${error.code}`),
}));
const { family, address, port: bound } = listener.address;
const unix = family === 'Unix';
console.log(
  `echo server (${loop.backend}) listening on ${unix ? address : `${address}:${bound}`}: ${selection.reason}`,
);
const nc = unix ? `nc -U ${address}` : `nc ${address} ${bound}`;
console.log(`talk to it: node examples/echo-client.mjs ${unix ? address : bound} 'hello'   (or: ${nc})`);

process.once('SIGINT', () => loop.close());
process.once('SIGTERM', () => loop.close());
