// One node:http handler on three transports: usage `node examples/http-server.mjs <port|path> [uring|net|plain]`
// (a path listens on a Unix domain socket: curl --unix-socket <path> http://localhost/).
// uring and net serve Node's own http.Server over an iolease loop through ChannelDuplex; plain is
// ordinary node:http, for comparison.
import http from 'node:http';
import { openEventLoop, serve } from '@iolease/adapters';

const where = process.argv[2] ?? '8080'; // a port (0 picks a free one), or a Unix socket path
const at = /^\d+$/.test(where) ? { host: '127.0.0.1', port: Number(where) } : { path: where };
const shown = (a) => (typeof a === 'string' ? a : `127.0.0.1:${a.port}`);
const mode = process.argv[3] ?? 'uring';
const body = 'hello from iolease\n';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});

if (mode === 'plain') {
  server.listen(at, () => {
    console.log(`http server (plain node:http) listening on ${shown(server.address())}`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  const { loop } = await openEventLoop({ backend: mode }).catch((error) => {
    console.error(`${error.code}: ${error.message}`);
    process.exit(2);
  });
  await serve(server, loop, at);
  console.log(`http server (${loop.backend}) listening on ${shown(server.address())}`);
  process.once('SIGTERM', () => loop.close().then(() => process.exit(0)));
}
