// The node:net baseline's exact echo code, run over the iolease io_uring loop through
// ChannelDuplex: what existing stream code gets, copy per read included.
// Usage: node bench/echo/duplex-echo-server.mjs <port>
import net from 'node:net';
import { openEventLoop, serve } from '@iolease/adapters';

const server = net.createServer((socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
const { loop } = await openEventLoop({ backend: 'uring' });
const listener = await serve(server, loop, { host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
console.log(`echo server (io_uring, ChannelDuplex) listening on 127.0.0.1:${listener.address.port}`);
process.once('SIGTERM', () => loop.close().then(() => process.exit(0)));
