// The iolease io_uring echo of examples/echo-server.mjs with zero-copy sends of leases from
// `threshold` bytes up (WRITE-8), for the suite's bulk scenario: usage
// `node bench/suite/zero-copy-echo.mjs <port> [threshold]`.
import { createEventLoop } from '@iolease/reference-uring';

const loop = createEventLoop({ zeroCopyThreshold: Number(process.argv[3] ?? 16384) });
const listener = await loop.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) }, () => ({
  onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
  onEnd: (channel) => channel.shutdown(),
}));
console.log(`listening on 127.0.0.1:${listener.address.port}`);
process.once('SIGTERM', () => loop.close());
