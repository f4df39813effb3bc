// The baseline: a plain node:net echo server, written the way Node code usually is.
// Usage: node bench/echo/net-echo-server.mjs <port|path>
import net from 'node:net';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
const where = process.argv[2] ?? '0';
const at = /^\d+$/.test(where) ? { port: Number(where), host: '127.0.0.1' } : { path: where };
server.listen(at, () => {
  const a = server.address();
  console.log(`echo server (node:net) listening on ${typeof a === 'string' ? a : `${a.address}:${a.port}`}`);
});
// Closed first, so that a Unix socket's file goes with it.
process.once('SIGTERM', () => server.close(() => process.exit(0)));
