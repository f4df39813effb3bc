// The client side: Node's http/https clients and undici making their connections as channels
// of a loop, against plain node servers (so the loop is only on the client's side here).
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { until } from '@iolease/conformance';
import { Agent, request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { connector, LoopAgent, LoopHttpsAgent } from '../src/index.ts';
import { backends, withBackend } from './backends.ts';
import { type Credentials, selfSigned } from './credentials.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let credentials: Credentials;
beforeAll(() => {
  credentials = selfSigned();
});

/** A plain node server (http or https) answering the sha256 of each request's body; counts connections. */
async function plainServer(secure: boolean) {
  const handler: http.RequestListener = (req, res) => {
    const hash = createHash('sha256');
    req.on('data', (d: Buffer) => hash.update(d));
    req.on('end', () => res.end(`${req.method} ${req.url} ${hash.digest('hex')}`));
  };
  const server = secure ? https.createServer(credentials, handler) : http.createServer(handler);
  let connections = 0;
  server.on(secure ? 'secureConnection' : 'connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { server, port, connections: () => connections };
}

/** One request through `options`; resolves with the status and body. */
function call(options: https.RequestOptions, body?: Buffer): Promise<{ status: number; text: string }> {
  const client = options.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // A plain timer that rejects itself: req.setTimeout() and req.destroy(error) both wait for a
    // socket, and a connect that never settles gives the request none.
    const deadline = setTimeout(() => {
      reject(new Error(`${options.method ?? 'GET'} ${options.path}: no answer in 10000 ms`));
      req.destroy();
    }, 10_000);
    const req = client.request(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => {
        clearTimeout(deadline);
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    req.end(body);
  });
}

describe.each(backends)('clients over the %s loop', (_name, create) => {
  it('LoopAgent: 20 keep-alive requests with bodies share one channel; the idle one closes with the agent', async () => {
    await withBackend(create, async (loop) => {
      const { server, port, connections } = await plainServer(false);
      const agent = new LoopAgent(loop, { keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 20; i++) {
        const body = randomBytes(1000 * i);
        const answer = await call({ host: '127.0.0.1', port, path: `/r${i}`, method: 'POST', agent }, body);
        expect(answer).toEqual({ status: 200, text: `POST /r${i} ${sha256(body)}` });
      }
      expect(connections()).toBe(1);
      expect(loop.stats().channelsOpen).toBe(1);
      agent.destroy();
      await until(() => loop.stats().channelsOpen === 0, 5000, 'the pooled channel to close');
      server.close();
    });
  });

  it('http.request({ createConnection: connector(loop) }) resolves localhost and reports a refused connection', async () => {
    await withBackend(create, async (loop) => {
      const { server, port } = await plainServer(false);
      const createConnection = connector(loop) as unknown as http.ClientRequestArgs['createConnection'];
      const answer = await call({ host: 'localhost', port, path: '/x', createConnection });
      expect(answer.text).toBe(`GET /x ${sha256(Buffer.alloc(0))}`);
      server.close();
      await once(server, 'close');
      await expect(call({ host: '127.0.0.1', port, path: '/', createConnection })).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
      await until(() => loop.stats().channelsOpen === 0, 5000, 'no channel left');
    });
  });

  it('LoopHttpsAgent: TLS with the agent’s CA verifies and reuses the connection; a wrong CA fails and leaks nothing', async () => {
    await withBackend(create, async (loop) => {
      const { server, port, connections } = await plainServer(true);
      const agent = new LoopHttpsAgent(loop, { keepAlive: true, maxSockets: 1, ca: credentials.cert });
      for (let i = 0; i < 5; i++) {
        const answer = await call({ protocol: 'https:', host: 'localhost', port, path: `/s${i}`, agent });
        expect(answer.text).toBe(`GET /s${i} ${sha256(Buffer.alloc(0))}`);
      }
      expect(connections()).toBe(1);
      agent.destroy();
      const strict = new LoopHttpsAgent(loop); // the system's CAs: the self-signed cert fails
      await expect(
        call({ protocol: 'https:', host: 'localhost', port, path: '/', agent: strict }),
      ).rejects.toMatchObject({
        code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      });
      await until(() => loop.stats().channelsOpen === 0, 5000, 'no channel left after the failed handshake');
      server.close();
    });
  });

  it('undici Agent({ connect: connector(loop) }): http and https requests, pipelined bodies, connections reused', async () => {
    await withBackend(create, async (loop) => {
      for (const secure of [false, true]) {
        const { server, port, connections } = await plainServer(secure);
        const origin = `${secure ? 'https' : 'http'}://localhost:${port}`;
        const run = async (dispatcher: Agent) => {
          const before = connections();
          for (let i = 0; i < 10; i++) {
            const body = randomBytes(50_000 + i);
            const res = await request(`${origin}/u${i}`, { method: 'PUT', body, dispatcher });
            expect(await res.body.text()).toBe(`PUT /u${i} ${sha256(body)}`);
          }
          await dispatcher.close();
          return connections() - before;
        };
        // undici's own sockets first: the loop's must be reused exactly as much.
        const plain = await run(new Agent({ connect: { ca: credentials.cert } }));
        const overLoop = await run(new Agent({ connect: connector(loop, { tls: { ca: credentials.cert } }) }));
        expect(overLoop).toBe(plain);
        expect(overLoop).toBeLessThan(10);
        await until(() => loop.stats().channelsOpen === 0, 5000, 'undici to close its channels');
        server.close();
      }
    });
  });
});
