// The iolease io_uring echo of examples/echo-server.mjs with loop options the suite compares:
// usage `node bench/suite/uring-echo.mjs <port> [option=value ...]`, e.g.
// `zeroCopyThreshold=16384` (zero-copy sends of leases, WRITE-8) or `incrementalBuffers=true`
// (incremental buffer consumption, POOL-4). Values are JSON.
import { createEventLoop } from '@iolease/reference-uring';

const options = Object.fromEntries(
  process.argv.slice(3).map((arg) => {
    const [name, value] = arg.split('=');
    return [name, JSON.parse(value ?? 'true')];
  }),
);
const loop = createEventLoop(options);
const listener = await loop.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) }, () => ({
  onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
  onEnd: (channel) => channel.shutdown(),
}));
console.log(`listening on 127.0.0.1:${listener.address.port} with ${JSON.stringify(options)}`);
process.once('SIGTERM', () => loop.close());
