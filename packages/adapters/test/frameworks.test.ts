// Real frameworks over both loops, as their users run them: Express given a server, Fastify
// through its own listen() and close() (serverFactory + useLoop), ws on a served http.Server.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { countOpenFds, until, watchdog } from '@iolease/conformance';
import type { EventLoop } from '@iolease/interfaces';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serve, useLoop } from '../src/index.ts';
import { backends, withBackend } from './backends.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** What every framework app here serves, so each is checked the same way. */
const ONE_MB_JSON = { items: Array.from({ length: 16_384 }, (_, i) => ({ i, pad: 'x'.repeat(48) })) };
const STREAM_BYTES = 20 * 1024 * 1024;
const streamChunk = Buffer.alloc(64 * 1024, 7);

/** Writes STREAM_BYTES to `res` in chunks, respecting backpressure. */
function streamTo(res: NodeJS.WritableStream & { end(): void }): void {
  let left = STREAM_BYTES / streamChunk.length;
  const pump = () => {
    while (left > 0) {
      left--;
      if (!res.write(streamChunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** The checks every framework passes: routes, 1 MB JSON both ways, a 20 MB stream, errors. */
async function exercise(base: string): Promise<void> {
  expect(await (await fetch(`${base}/hello/iolease`)).text()).toBe('hello iolease');
  const body = JSON.stringify(ONE_MB_JSON);
  expect(body.length).toBeGreaterThan(1_000_000);
  const posted = await fetch(`${base}/json`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  expect(await posted.json()).toEqual({ items: ONE_MB_JSON.items.length, sha256: sha256(Buffer.from(body)) });
  const streamed = Buffer.from(await (await fetch(`${base}/stream`)).arrayBuffer());
  expect(streamed.length).toBe(STREAM_BYTES);
  expect(sha256(streamed)).toBe(sha256(Buffer.concat(Array(STREAM_BYTES / streamChunk.length).fill(streamChunk))));
  const thrown = await fetch(`${base}/throw`);
  expect(thrown.status).toBe(500);
  await thrown.arrayBuffer();
}

/** An Express app with the routes `exercise` visits. */
function expressApp() {
  const app = express();
  app.use(express.json({ limit: '4mb' }));
  app.get('/hello/:name', (req, res) => {
    res.send(`hello ${req.params.name}`);
  });
  app.post('/json', (req, res) => {
    res.json({ items: req.body.items.length, sha256: sha256(Buffer.from(JSON.stringify(req.body))) });
  });
  app.get('/stream', (_req, res) => streamTo(res));
  app.get('/throw', () => {
    throw new Error('route failed');
  });
  // Express's default error handler logs the stack; the test only needs the 500.
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).send('failed');
  });
  return app;
}

/** A Fastify app with the same routes, whose server listens on `loop` through useLoop. */
function fastifyApp(loop: EventLoop) {
  const app = Fastify({
    bodyLimit: 4 * 1024 * 1024,
    serverFactory: (handler) => useLoop(http.createServer(handler), loop),
  });
  app.get<{ Params: { name: string } }>('/hello/:name', async (req) => `hello ${req.params.name}`);
  app.post<{ Body: typeof ONE_MB_JSON }>('/json', async (req) => ({
    items: req.body.items.length,
    sha256: sha256(Buffer.from(JSON.stringify(req.body))),
  }));
  app.get('/stream', (_req, reply) => {
    streamTo(reply.raw);
    return reply;
  });
  app.get('/throw', async () => {
    throw new Error('route failed');
  });
  return app;
}

describe.each(backends)('frameworks over the %s loop', (_name, create) => {
  it('Express, given a served http.Server: routes, 1 MB JSON, a 20 MB stream, thrown errors, then close()', async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer(expressApp());
      const listener = await serve(server, loop, { port: 0 });
      await exercise(`http://127.0.0.1:${listener.address.port}`);
      await new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve(undefined))));
      expect(loop.stats().listenersOpen).toBe(0);
    });
  });

  it("Fastify through its own listen() and close(): serves, then close() closes the loop's listener", async () => {
    await withBackend(create, async (loop) => {
      const app = fastifyApp(loop);
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      expect(loop.stats().listenersOpen).toBe(1);
      const { port } = app.server.address() as net.AddressInfo;
      expect(address).toBe(`http://127.0.0.1:${port}`);
      await exercise(address);
      await app.close();
      expect(loop.stats().listenersOpen).toBe(0);
      await until(() => loop.stats().channelsOpen === 0, 5000, 'keep-alive connections to close');
      const refused = net.connect(port, '127.0.0.1');
      const [error] = await once(refused, 'error');
      expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    });
  });

  it('useLoop: listen() failures reach the server as an error event, as with net.Server', async () => {
    await withBackend(create, async (loop) => {
      const taken = useLoop(http.createServer(), loop);
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const { port } = taken.address() as net.AddressInfo;
      const second = useLoop(http.createServer(), loop);
      second.listen(port, '127.0.0.1', () => {
        throw new Error('must not be called');
      });
      const [inUse] = await once(second, 'error');
      expect((inUse as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      const handle = useLoop(http.createServer(), loop);
      handle.listen({ fd: 3 });
      const [unsupported] = await once(handle, 'error');
      expect((unsupported as NodeJS.ErrnoException).code).toBe('ERR_IOLEASE_FEATURE_UNSUPPORTED');
      await new Promise((resolve) => taken.close(resolve));
    });
  });

  it('ws on a served http.Server: 20 clients × 50 messages up to 64 KiB echo byte for byte', async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer();
      const wss = new WebSocketServer({ server });
      wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
      const listener = await serve(server, loop, { port: 0 });
      const clients = Array.from({ length: 20 }, async (_, c) => {
        const ws = new WebSocket(`ws://127.0.0.1:${listener.address.port}`);
        await once(ws, 'open');
        const sent: string[] = [];
        const got: string[] = [];
        ws.on('message', (data: Buffer) => got.push(sha256(data)));
        for (let i = 0; i < 50; i++) {
          const message = randomBytes(1 + ((c * 7919 + i * 104_729) % (64 * 1024)));
          sent.push(sha256(message));
          ws.send(message);
        }
        await until(() => got.length === sent.length, 20_000, `client ${c}'s echoes`);
        expect(got).toEqual(sent);
        ws.close();
        await once(ws, 'close');
      });
      await watchdog(Promise.all(clients), 30_000, 'ws echo');
      wss.close();
      await new Promise((resolve) => server.close(resolve));
    });
  });

  it('server-sent events: 50 streams aborted by their clients leave no channel or fd behind', async () => {
    await withBackend(create, async (loop) => {
      const baseline = countOpenFds();
      let open = 0;
      const server = http.createServer((req, res) => {
        open++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const tick = setInterval(() => res.write(`data: ${Date.now()}\n\n`), 10);
        req.on('close', () => {
          clearInterval(tick);
          open--;
        });
      });
      const listener = await serve(server, loop, { port: 0 });
      const streams = Array.from({ length: 50 }, async () => {
        const abort = new AbortController();
        const res = await fetch(`http://127.0.0.1:${listener.address.port}/events`, { signal: abort.signal });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        await reader.read();
        abort.abort();
        await reader.read().catch(() => undefined);
      });
      await watchdog(Promise.all(streams), 20_000, 'SSE streams');
      await until(() => open === 0 && loop.stats().channelsOpen === 0, 10_000, 'the aborted streams to close');
      await new Promise((resolve) => server.close(resolve));
      await until(
        () => countOpenFds() <= baseline,
        5000,
        'fds back to baseline',
        () => countOpenFds() - baseline,
      );
    });
  });

  it('http error answers arrive before the close: 400 for a bad header, 408 for a body too slow (requestTimeout)', async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer({ requestTimeout: 400, connectionsCheckingInterval: 50 }, (req, res) => {
        req.resume();
        req.on('end', () => res.end('complete'));
      });
      const listener = await serve(server, loop, { port: 0 });
      const talk = (request: string, drip?: string) =>
        new Promise<string>((resolve) => {
          const socket = net.connect(listener.address.port, '127.0.0.1');
          let answer = '';
          let timer: NodeJS.Timeout | undefined;
          socket.on('data', (d) => {
            answer += d;
          });
          socket.on('error', (e) => {
            answer += `<${(e as NodeJS.ErrnoException).code}>`;
          });
          socket.on('close', () => {
            clearInterval(timer);
            resolve(answer);
          });
          socket.write(request);
          if (drip !== undefined) timer = setInterval(() => socket.write(drip), 100);
        });
      const bad = await talk('GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n');
      expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\n$/);
      const slow = await talk('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', 'x');
      // The whole answer arrives; a reset may follow it, as with plain node:http, since the client
      // keeps sending after the server stopped reading.
      expect(slow).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*?\r\n\r\n(<ECONNRESET>)?$/);
      await new Promise((resolve) => server.close(resolve));
    });
  });
});
