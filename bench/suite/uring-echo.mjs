// The iolease io_uring echo of examples/echo-server.mjs with loop options the suite compares:
// usage `node bench/suite/uring-echo.mjs <port> [option=value ...]`, e.g.
// `zeroCopyThreshold=16384` (zero-copy sends of leases, WRITE-8) or `incrementalBuffers=true`
// (incremental buffer consumption, POOL-4). Values are JSON. `releaseAtOnce=true` is the echo's,
// not the loop's: each lease is released right after its write, not in the write's completion,
// so its buffer waits for the write in the pool's pins (LEASE-2, WRITE-7).
import { createEventLoop } from '@iolease/reference-uring';

const { releaseAtOnce = false, ...options } = Object.fromEntries(
  process.argv.slice(3).map((arg) => {
    const [name, value] = arg.split('=');
    return [name, JSON.parse(value ?? 'true')];
  }),
);
const loop = createEventLoop(options);
const onRead = releaseAtOnce
  ? (channel, lease) => {
      channel.write(lease.bytes);
      lease.release();
    }
  : (channel, lease) => channel.write(lease.bytes, () => lease.release());
const listener = await loop.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) }, () => ({
  onRead,
  onEnd: (channel) => channel.shutdown(),
}));
console.log(
  `listening on 127.0.0.1:${listener.address.port} with ${JSON.stringify(options)}${releaseAtOnce ? ', releasing at once' : ''}`,
);
process.once('SIGTERM', () => loop.close());
