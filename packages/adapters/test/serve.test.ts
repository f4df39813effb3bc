// serve() as server.listen(): the server's own lifecycle (close, connection counts, limits,
// ref/unref) on both loops, checked against what plain node:http does.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, sleep, until, watchdog } from '@iolease/conformance';
import { beforeAll, describe, expect, it } from 'vitest';
import { serve, useLoop } from '../src/index.ts';
import { backends, withBackend } from './backends.ts';
import { type Credentials, selfSigned } from './credentials.ts';
import { get } from './http-get.ts';

let credentials: Credentials;
beforeAll(() => {
  credentials = selfSigned();
});

/** A raw request on a fresh socket; resolves with everything the server sent before closing. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(request);
  });
}

describe.each(backends)('serve() on the %s loop behaves as server.listen()', (name, create) => {
  it('server.close() stops accepting, closes idle keep-alive connections and calls back once the last one closed', async () => {
    await withBackend(create, async (loop) => {
      let release: (() => void) | undefined;
      const server = http.createServer((req, res) => {
        if (req.url === '/slow') release = () => res.end('slow done');
        else res.end('ok');
      });
      const listener = await serve(server, loop, { port: 0 });
      const { port } = listener.address;
      const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const busyAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await get(port, '/', idleAgent)).body).toBe('ok'); // now idle, kept alive
      const slow = get(port, '/slow', busyAgent);
      await until(() => release !== undefined, 5000, 'the slow request to arrive');
      const count = await new Promise((resolve) => server.getConnections((_e, n) => resolve(n)));
      expect(count).toBe(2);

      let closeError: unknown = 'not yet';
      server.close((error) => {
        closeError = error;
      });
      expect(server.listening).toBe(false);
      expect(server.address()).toBeNull();
      await until(() => listener.closed, 2000, 'the listener to close');
      // The idle connection is closed at once (Node ≥ 19's closeIdleConnections); the busy one
      // finishes its request and stays open, kept alive, as with plain node:http, until its
      // keep-alive times out or the client closes it; only then does close() call back.
      await until(() => loop.stats().channelsOpen === 1, 5000, 'the idle connection to close');
      release?.();
      expect((await slow).body).toBe('slow done');
      await sleep(100);
      expect(closeError).toBe('not yet');
      busyAgent.destroy();
      await until(() => closeError !== 'not yet', 5000, 'server.close() to call back');
      expect(closeError).toBeUndefined();
      expect(loop.stats()).toMatchObject({ channelsOpen: 0, listenersOpen: 0 });
      idleAgent.destroy();
      busyAgent.destroy();
    });
  });

  it('closeAllConnections() closes busy connections too; getConnections() counts down to 0', async () => {
    await withBackend(create, async (loop) => {
      let requests = 0;
      const server = http.createServer(() => {
        requests++; // and never answers
      });
      const listener = await serve(server, loop, { port: 0 });
      const sockets = [0, 1, 2].map(() => net.connect(listener.address.port, '127.0.0.1'));
      // 'close' whatever came before it: a reset is fine here, a hang is not.
      const closed = sockets.map((s) => new Promise((resolve) => s.once('close', resolve)));
      for (const s of sockets) {
        s.on('error', () => undefined);
        s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      }
      const connections = () => new Promise((resolve) => server.getConnections((_e, n) => resolve(n)));
      await until(() => requests === 3, 5000, 'three requests in progress');
      expect(await connections()).toBe(3);
      const done = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await watchdog(Promise.all(closed), 5000, 'closeAllConnections');
      await watchdog(done, 5000, 'server.close() after closeAllConnections()');
      expect(await connections()).toBe(0);
    });
  });

  it('res.write() callbacks get an error once the client reset, as on plain node:http', async () => {
    await withBackend(create, async (loop) => {
      const outcomes: string[] = [];
      const server = http.createServer((_req, res) => {
        res.writeHead(200);
        const tick = setInterval(() => {
          res.write('x'.repeat(1000), (error) => {
            outcomes.push(error === undefined || error === null ? 'ok' : String((error as NodeJS.ErrnoException).code));
            if (error) clearInterval(tick);
          });
        }, 10);
      });
      const listener = await serve(server, loop, { port: 0 });
      const client = net.connect(listener.address.port, '127.0.0.1');
      client.on('error', () => undefined);
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await once(client, 'data');
      await until(() => outcomes.length >= 3, 5000, 'a few writes to succeed');
      client.resetAndDestroy();
      await until(() => outcomes.some((o) => o !== 'ok'), 5000, 'a write callback to see the reset');
      expect(outcomes.filter((o) => o !== 'ok')).toHaveLength(1); // and none after it
      await new Promise((resolve) => server.close(resolve));
    });
  });

  it('https and h2c (http2) servers: served, answered, and close() calls back once their clients are gone', async () => {
    await withBackend(create, async (loop) => {
      const secure = https.createServer(credentials, (_req, res) => res.end('secure hello'));
      const secureListener = await serve(secure, loop, { port: 0 });
      const agent = new https.Agent({ ca: credentials.cert, keepAlive: true });
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: 'localhost', port: secureListener.address.port, agent }, (res) => {
            res.setEncoding('utf8');
            let text = '';
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).toBe('secure hello');
      const secureClosed = new Promise((resolve) => secure.close(resolve));
      agent.destroy();
      await watchdog(secureClosed, 5000, 'https server.close()');

      const h2 = http2.createServer();
      h2.on('stream', (stream) => {
        stream.respond({ ':status': 200 });
        stream.end('h2c hello');
      });
      const h2Listener = await serve(h2, loop, { port: 0 });
      const session = http2.connect(`http://127.0.0.1:${h2Listener.address.port}`);
      const answers = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<string>((resolve, reject) => {
              const req = session.request({ ':path': '/' });
              let text = '';
              req.setEncoding('utf8');
              req.on('data', (d) => {
                text += d;
              });
              req.on('end', () => resolve(text));
              req.on('error', reject);
              req.end();
            }),
        ),
      );
      expect(answers).toEqual(['h2c hello', 'h2c hello', 'h2c hello']);
      const h2Closed = new Promise((resolve) => h2.close(resolve));
      session.close();
      await watchdog(h2Closed, 5000, 'http2 server.close()');
      expect(loop.stats()).toMatchObject({ listenersOpen: 0, channelsOpen: 0 });
    });
  });

  it('server.timeout closes a connection idle for that long, as on plain node:http', async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer({}, (_req, res) => res.end('ok'));
      server.timeout = 300;
      const listener = await serve(server, loop, { port: 0 });
      const silent = net.connect(listener.address.port, '127.0.0.1');
      silent.on('error', () => undefined);
      await once(silent, 'connect');
      const started = Date.now();
      await watchdog(once(silent, 'close'), 5000, 'server.timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      await new Promise((resolve) => server.close(resolve));
    });
  });

  it('LIFE-20 over a Unix socket: serve({ path }) and useLoop(server).listen(path) answer curl --unix-socket', async () => {
    await withBackend(create, async (loop) => {
      const dir = mkdtempSync(join(tmpdir(), 'iolease-http-'));
      try {
        const curl = (path: string) =>
          new Promise<string>((resolve, reject) =>
            execFile(
              'curl',
              ['-sS', '--max-time', '10', '--unix-socket', path, 'http://localhost/over-unix'],
              (error, stdout) => (error ? reject(error) : resolve(stdout)),
            ),
          );
        const served = http.createServer((req, res) => res.end(`served ${req.url}`));
        const path = join(dir, 'served.sock');
        await serve(served, loop, { path });
        expect(served.address()).toBe(path); // as node:net reports a pipe: the path alone
        expect(await curl(path)).toBe('served /over-unix');
        const listening = useLoop(
          http.createServer((req, res) => res.end(`listening ${req.url}`)),
          loop,
        );
        const other = join(dir, 'listen.sock');
        await new Promise<void>((resolve) => listening.listen(other, resolve));
        expect(await curl(other)).toBe('listening /over-unix');
        await new Promise((resolve) => served.close(resolve));
        await new Promise((resolve) => listening.close(resolve));
        expect(existsSync(path) || existsSync(other)).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("maxConnections: a connection over the limit is closed and reported as 'drop'", async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer((_req, res) => res.end('ok'));
      server.maxConnections = 1;
      const drops: unknown[] = [];
      server.on('drop', (data) => drops.push(data));
      const listener = await serve(server, loop, { port: 0 });
      const first = net.connect(listener.address.port, '127.0.0.1');
      await once(first, 'connect');
      await until(() => loop.stats().channelsOpen === 1, 5000, 'the first connection');
      const answer = await rawRequest(listener.address.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(answer).toBe('');
      expect(drops).toEqual([
        expect.objectContaining({ localPort: listener.address.port, remoteAddress: '127.0.0.1' }),
      ]);
      first.destroy();
      server.close();
    });
  });

  it('a server already serving refuses listen() and another serve() as Node does', async () => {
    await withBackend(create, async (loop) => {
      const server = http.createServer((_req, res) => res.end('ok'));
      await serve(server, loop, { port: 0 });
      expect(() => server.listen(0)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
      await expect(serve(server, loop, { port: 0 })).rejects.toMatchObject({ code: 'ERR_SERVER_ALREADY_LISTEN' });
      await new Promise((resolve) => server.close(resolve));
    });
  });

  it('server.unref() lets the process exit while serving; a connection made unreferenced does too', async () => {
    const which = name === 'io_uring' ? 'createEventLoop' : 'NetEventLoop';
    const from = name === 'io_uring' ? '@iolease/reference-uring' : '@iolease/adapters';
    const make = name === 'io_uring' ? 'createEventLoop()' : 'new NetEventLoop()';
    const script = `
      import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
      import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
      import { serve } from '@iolease/adapters';
      import { ${which} } from '${from}';
      const loop = ${make};
      const server = http.createServer((req, res) => { req.socket.unref(); res.end('ok'); });
      await serve(server, loop, { port: 0 });
      server.unref();
      // The client holds the process until its answer came; then only the server's side of
      // the connection, unreferenced by the handler, is left open.
      const client = net.connect(server.address().port, '127.0.0.1');
      client.on('data', () => client.unref());
      client.write('GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n');
      process.on('exit', () => console.log('exited by itself'));
      setTimeout(() => { console.log('kept alive'); process.exit(1); }, 3000).unref();`;
    const { code, stdout } = await runNode(script, { cwd: new URL('..', import.meta.url) });
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'exited by itself\n' });
  });
});
