import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fromNodeError } from '../src/errors.ts';

/** The error a real node:net socket reports for `act`, through its write callback. */
function socketError(act: (socket: net.Socket) => void): Promise<Error> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.destroy());
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.on('error', () => {});
        act(socket);
        socket.write('x', (error) => {
          server.close();
          if (error) resolve(error);
          else reject(new Error('the write succeeded'));
        });
      });
    });
  });
}

describe('node:net errors as iolease errors', () => {
  it('ERR-3 an errno keeps its code, errno, syscall, address and port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const refused = await new Promise<Error>((resolve) => net.connect(port, '127.0.0.1').on('error', resolve));
    expect(fromNodeError(refused, 'connect')).toMatchObject({
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      address: '127.0.0.1',
      port,
    });
  });

  it('ERR-3 Node codes that are not errnos map to the iolease code that says what happened', async () => {
    const afterEnd = await socketError((s) => s.end());
    expect((afterEnd as { code?: string }).code).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(fromNodeError(afterEnd, 'write')).toMatchObject({ code: 'ERR_IOLEASE_WRITE_AFTER_END', cause: afterEnd });
    const destroyed = await socketError((s) => s.destroy());
    expect((destroyed as { code?: string }).code).toBe('ERR_STREAM_DESTROYED');
    expect(fromNodeError(destroyed, 'write')).toMatchObject({ code: 'ERR_IOLEASE_CHANNEL_CLOSED' });
    const timeout = Object.assign(new Error('timed out'), { code: 'ERR_SOCKET_CONNECTION_TIMEOUT' });
    expect(fromNodeError(timeout, 'connect')).toMatchObject({ code: 'ETIMEDOUT', errno: -110, syscall: 'connect' });
  });
});
