// An echo client: usage `node examples/echo-client.mjs <port|path> [message]`. Sends the message,
// half-closes, prints what came back and exits non-zero if it differs.
import { createEventLoop } from '@iolease/adapters';

const where = process.argv[2] ?? '7000'; // a port on 127.0.0.1, or a Unix socket path
const message = process.argv[3] ?? 'hello, iolease';

const loop = await createEventLoop(); // io_uring where available, else node:net
const chunks = [];
const channel = await loop.connect(/^\d+$/.test(where) ? { host: '127.0.0.1', port: Number(where) } : { path: where }, {
  onRead(_channel, lease) {
    chunks.push(Buffer.from(lease.bytes)); // copy out: the lease goes back to the pool now
    lease.release();
  },
  async onEnd() {
    const echoed = Buffer.concat(chunks).toString();
    console.log(echoed);
    await loop.close();
    process.exitCode = echoed === message ? 0 : 1;
  },
  async onError(_channel, error) {
    console.error(`echo failed: ${error.code}`);
    await loop.close();
    process.exitCode = 1;
  },
});
channel.write(Buffer.from(message));
channel.shutdown();
