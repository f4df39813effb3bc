// What each worker of multicore-http.mjs runs: an http.Server served over the worker's loop.
import http from 'node:http';
import { threadId } from 'node:worker_threads';
import { serve } from '@iolease/adapters';

export default async function start(loop, { data }) {
  const server = http.createServer((_req, res) => res.end(`hello from thread ${threadId}\n`));
  await serve(server, loop, { host: '127.0.0.1', port: data.port, reusePort: true });
}
