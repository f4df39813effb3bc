// An echo server on an iolease event loop: usage `node examples/echo-server.mjs <port> [auto|uring|net]`.
// Each received lease is written straight back and released when its write completes, so the
// bytes never leave loop-owned memory (no copy between receive and send).
import { openEventLoop } from '@iolease/adapters';

const port = Number(process.argv[2] ?? 7000); // 0 picks a free port
const backend = process.argv[3] ?? 'auto'; // auto: io_uring where available, else node:net

const { loop, selection } = await openEventLoop({ backend }).catch((error) => {
  console.error(`${error.code}: ${error.message}`);
  process.exit(2);
});
const listener = await loop.listen({ host: '127.0.0.1', port }, () => ({
  onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
  onEnd: (channel) => channel.shutdown(),
  onError: (channel, error) => console.error(`channel ${channel.id}: ${error.code}`),
}));
const { address, port: bound } = listener.address;
console.log(`echo server (${loop.backend}) listening on ${address}:${bound}: ${selection.reason}`);
console.log(`talk to it: node examples/echo-client.mjs ${bound} 'hello'   (or: nc ${address} ${bound})`);

process.once('SIGINT', () => loop.close());
process.once('SIGTERM', () => loop.close());
