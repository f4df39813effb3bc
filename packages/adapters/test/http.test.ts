import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { watchdog } from '@iolease/conformance';
import type { EventLoop } from '@iolease/interfaces';
import { describe, expect, it } from 'vitest';
import { serve } from '../src/index.ts';
import { backends, withBackend } from './backends.ts';
import { get } from './http-get.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Node's own http.Server over the loop: GET echoes the path, POST answers the body's sha256. */
async function startServer(loop: EventLoop) {
  let connections = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end(`you asked for ${req.url}`);
  });
  server.on('connection', () => connections++);
  const listener = await serve(server, loop, { port: 0 });
  return { server, listener, port: listener.address.port, connections: () => connections };
}

describe.each(backends)('node:http over the %s loop through ChannelDuplex', (_name, create) => {
  it('cuts off a client that sends its headers a byte at a time (headersTimeout), and reports listening', async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer(
        { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 },
        (_req, res) => res.end('never'),
      );
      let heard: unknown;
      server.on('listening', () => {
        heard = server.address();
      });
      const listener = await serve(server, loop, { port: 0 });
      expect(server.listening).toBe(true);
      expect(heard).toEqual({ address: '127.0.0.1', family: 'IPv4', port: listener.address.port });
      const socket = net.connect(listener.address.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => {
        answer += d;
      });
      socket.on('error', () => {});
      const closed = new Promise((resolve) => socket.once('close', resolve));
      await once(socket, 'connect');
      const drip = setInterval(() => socket.write('X'), 100);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      const started = Date.now();
      await watchdog(closed, 5000, 'headersTimeout: the slow client is still connected');
      clearInterval(drip);
      // Cut off after headersTimeout (plus a check interval), as plain node:http does: never
      // later, and with Node's 408 answer delivered before the FIN, not lost to a reset.
      expect(Date.now() - started).toBeLessThan(3000);
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      server.close();
    });
  });

  it('serves keep-alive requests on one connection', async () => {
    await withBackend(create, async (loop) => {
      const { listener, port, connections } = await startServer(loop);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 20; i++) {
        expect(await get(port, `/item/${i}`, agent)).toEqual({ status: 200, body: `you asked for /item/${i}` });
      }
      expect(connections()).toBe(1);
      agent.destroy();
      await listener.close();
    });
  });

  it('answers pipelined requests in order', async () => {
    await withBackend(create, async (loop) => {
      const { port } = await startServer(loop);
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      const paths = ['/a', '/b', '/c', '/d'];
      const requests = paths.map(
        (p, i) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${i === 3 ? 'Connection: close\r\n' : ''}\r\n`,
      );
      socket.end(requests.join(''));
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      await once(socket, 'close');
      const text = Buffer.concat(chunks).toString();
      expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(4);
      const bodies = [...text.matchAll(/you asked for (\/\w)/g)].map((m) => m[1]);
      expect(bodies).toEqual(paths);
    });
  });

  it('receives a checksummed 8 MiB chunked upload from the http client', async () => {
    await withBackend(create, async (loop) => {
      const { port } = await startServer(loop);
      const body = randomBytes(8 * 1024 * 1024);
      const answer = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        // Uneven chunks, each its own chunk of the chunked encoding.
        for (let offset = 0; offset < body.length; ) {
          const size = 1 + ((offset * 7919) % 100_000);
          req.write(body.subarray(offset, offset + size));
          offset += size;
        }
        req.end();
      });
      expect(JSON.parse(answer)).toEqual({ bytes: body.length, sha256: sha256(body) });
    });
  });

  it('receives a checksummed streamed upload from fetch, and serves fetch GETs', async () => {
    await withBackend(create, async (loop) => {
      const { port } = await startServer(loop);
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < body.length; offset += 65_536)
            controller.enqueue(body.subarray(offset, offset + 65_536));
          controller.close();
        },
      });
      const res = await fetch(`http://127.0.0.1:${port}/upload`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(await res.json()).toEqual({ bytes: body.length, sha256: sha256(body) });
      const got = await fetch(`http://127.0.0.1:${port}/hello`);
      expect(await got.text()).toBe('you asked for /hello');
    });
  });

  it('server.close() closes the iolease listener too: new connections are refused', async () => {
    await withBackend(create, async (loop) => {
      const { server, listener, port } = await startServer(loop);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await get(port, '/before', agent)).body).toBe('you asked for /before');
      const closed = new Promise((resolve) => server.close(resolve));
      expect(listener.closed).toBe(true);
      await watchdog(listener.close(), 2000, 'the listening socket to close');
      await expect(get(port, '/new', new http.Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      agent.destroy();
      server.closeAllConnections();
      await closed;
    });
  });
});
