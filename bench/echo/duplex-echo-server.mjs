// The node:net baseline's exact echo code, run over the iolease io_uring loop through
// ChannelDuplex: what existing stream code gets, copy per read included.
// Usage: node bench/echo/duplex-echo-server.mjs <port|path>
import net from 'node:net';
import { openEventLoop, serve } from '@iolease/adapters';

const server = net.createServer((socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
const { loop } = await openEventLoop({ backend: 'uring' });
const where = process.argv[2] ?? '0';
const at = /^\d+$/.test(where) ? { host: '127.0.0.1', port: Number(where) } : { path: where };
const { address } = await serve(server, loop, at);
const shown = address.family === 'Unix' ? address.address : `127.0.0.1:${address.port}`;
console.log(`echo server (io_uring, ChannelDuplex) listening on ${shown}`);
process.once('SIGTERM', () => loop.close().then(() => process.exit(0)));
