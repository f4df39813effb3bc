// One node:http handler on three transports: usage `node examples/http-server.mjs <port> [uring|net|plain]`.
// uring and net serve Node's own http.Server over an iolease loop through ChannelDuplex; plain is
// ordinary node:http, for comparison.
import http from 'node:http';
import { openEventLoop, serve } from '@iolease/adapters';

const port = Number(process.argv[2] ?? 8080); // 0 picks a free port
const mode = process.argv[3] ?? 'uring';
const body = 'hello from iolease\n';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});

if (mode === 'plain') {
  server.listen(port, '127.0.0.1', () => {
    console.log(`http server (plain node:http) listening on 127.0.0.1:${server.address().port}`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  const { loop } = await openEventLoop({ backend: mode }).catch((error) => {
    console.error(`${error.code}: ${error.message}`);
    process.exit(2);
  });
  const listener = await serve(server, loop, { host: '127.0.0.1', port });
  console.log(`http server (${loop.backend}) listening on 127.0.0.1:${listener.address.port}`);
  process.once('SIGTERM', () => loop.close().then(() => process.exit(0)));
}
