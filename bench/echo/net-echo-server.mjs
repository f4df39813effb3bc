// The baseline: a plain node:net echo server, written the way Node code usually is.
// Usage: node bench/echo/net-echo-server.mjs <port>
import net from 'node:net';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`echo server (node:net) listening on ${address}:${port}`);
});
process.once('SIGTERM', () => process.exit(0));
