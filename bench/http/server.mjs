// One "hello" route in each of three stacks (node:http, Express, Fastify), served plain or over an
// iolease loop: usage `node bench/http/server.mjs <port> <plain|net|uring> <node|express|fastify> [tls|h2]`
// (tls: node:http's route over https; h2: the same route over HTTP/2 with TLS, through node:http2's
// compatibility API; both with a self-signed certificate).
// Over a loop, node:http and Express go through serve(), Fastify through its own listen() with
// useLoop, as the servers and frameworks guide shows.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { openEventLoop, serve, useLoop } from '@iolease/adapters';
import express from 'express';
import Fastify from 'fastify';
import { selfSigned } from '../lib/tls.mjs';

const port = Number(process.argv[2] ?? 0);
const mode = process.argv[3] ?? 'uring';
const app = process.argv[4] ?? 'node';
const body = 'hello from iolease\n';
const secure = process.argv[5]; // undefined, 'tls' or 'h2'

const loop =
  mode === 'plain'
    ? undefined
    : (
        await openEventLoop({ backend: mode }).catch((error) => {
          console.error(`${error.code}: ${error.message}`);
          process.exit(2);
        })
      ).loop;
const announce = (p) =>
  console.log(`${app} server (${loop?.backend ?? 'plain node:http'}) listening on 127.0.0.1:${p}`);

if (app === 'fastify') {
  const fastify = Fastify(
    loop === undefined ? {} : { serverFactory: (handler) => useLoop(http.createServer(handler), loop) },
  );
  fastify.get('/', async (_req, reply) => reply.type('text/plain').send(body));
  await fastify.listen({ port, host: '127.0.0.1' });
  announce(fastify.server.address().port);
  process.once('SIGTERM', () => fastify.close().then(() => process.exit(0)));
} else {
  let handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (app === 'express') {
    const expressApp = express();
    expressApp.get('/', (_req, res) => res.type('text/plain').send(body));
    handler = expressApp;
  } else if (app !== 'node') {
    console.error(`unknown app ${app}: node, express or fastify`);
    process.exit(2);
  }
  const server =
    secure === 'h2'
      ? http2.createSecureServer({ ...selfSigned(), allowHTTP1: false }, handler)
      : secure === 'tls'
        ? https.createServer(selfSigned(), handler)
        : http.createServer(handler);
  if (loop === undefined) await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  else await serve(server, loop, { host: '127.0.0.1', port });
  announce(server.address().port);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}
