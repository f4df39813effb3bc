import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import { watchdog } from '@iolease/conformance';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChannelDuplex, serve } from '../src/index.ts';
import { backends, withBackend } from './backends.ts';
import { type Credentials, selfSigned } from './credentials.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let credentials: Credentials;
beforeAll(() => {
  credentials = selfSigned();
});

/** Sends `payload` over `socket`, half-closes, and resolves with everything that came back. */
async function roundTrip(socket: tls.TLSSocket, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  const ended = once(socket, 'end');
  socket.end(payload);
  await ended;
  return Buffer.concat(chunks);
}

describe.each(backends)('TLS over the %s loop through ChannelDuplex', (_name, create) => {
  it('a tls.Server served by the loop completes the handshake and echoes 2 MiB', async () => {
    await withBackend(create, async (loop) => {
      const server = tls.createServer({ ...credentials, allowHalfOpen: true }, (socket) => {
        socket.pipe(socket);
      });
      const listener = await serve(server, loop, { port: 0, allowHalfOpen: true });
      const client = tls.connect({
        host: '127.0.0.1',
        port: listener.address.port,
        ca: credentials.cert,
        servername: 'localhost',
      });
      await once(client, 'secureConnect');
      expect(client.authorized).toBe(true);
      const payload = randomBytes(2 * 1024 * 1024);
      expect(sha256(await roundTrip(client, payload))).toBe(sha256(payload));
    });
  });

  it('a client channel carries tls.connect to a plain node:tls server', async () => {
    await withBackend(create, async (loop) => {
      const server = tls.createServer({ ...credentials, allowHalfOpen: true }, (socket) => socket.pipe(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const channel = await watchdog(loop.connect({ port }), 10_000, 'a connect to the TLS server');
      const client = tls.connect({
        socket: new ChannelDuplex(channel, { allowHalfOpen: true }),
        ca: credentials.cert,
        servername: 'localhost',
      });
      await once(client, 'secureConnect');
      expect(client.authorized).toBe(true);
      expect(client.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      const payload = randomBytes(1024 * 1024 + 3);
      expect(sha256(await roundTrip(client, payload))).toBe(sha256(payload));
      client.destroy();
      server.close();
    });
  });
});
