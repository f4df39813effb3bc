import type net from 'node:net';
import { Socket } from 'node:net';
import { isMarkedAsUntransferable } from 'node:worker_threads';
import { countOpenFds, deferred, echoHandler, netConnect, usingLoop, watchdog } from '@iolease/conformance';
import { describe, expect, it } from 'vitest';
import { NetEventLoop } from '../src/index.ts';
import { takeAcceptedHandle } from '../src/net/listener.ts';

describe('node:net loop lifecycle', () => {
  it('LIFE-10 close() closes listeners and channels and leaves no fd open', async () => {
    // Node and libuv open some descriptors lazily, once per process, on first use of the
    // network: a warm-up loop takes those first, so the count below is the loop's alone.
    const warmUp = new NetEventLoop();
    const warm = await warmUp.listen({ port: 0 }, () => echoHandler());
    (await netConnect(warm.address.port)).destroy();
    await warmUp.close();
    await new Promise((r) => setTimeout(r, 20));
    const before = countOpenFds();
    const loop = new NetEventLoop();
    const listener = await loop.listen({ port: 0 }, () => echoHandler());
    const peers: net.Socket[] = [];
    for (let i = 0; i < 20; i++) peers.push(await netConnect(listener.address.port));
    const client = await loop.connect({ port: listener.address.port }, echoHandler());
    while (loop.stats().channelsOpen < 22) await new Promise((r) => setTimeout(r, 5));
    await loop.close();
    expect(listener.closed).toBe(true);
    expect(client.state).toBe('closed');
    expect(loop.stats()).toMatchObject({ channelsOpen: 0, listenersOpen: 0 });
    for (const p of peers) p.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(countOpenFds()).toBe(before);
    expect(() => loop.listen({ port: 0 }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_LOOP_CLOSED' }),
    );
    expect(() => loop.connect({ port: 1 })).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_LOOP_CLOSED' }));
    await loop.close(); // idempotent
  });

  it('ERR-2 rejects bad options with coded errors before opening anything', async () => {
    expect(() => new NetEventLoop({ sizeClasses: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    expect(() => new NetEventLoop({ waterMarks: { low: 10, high: 5 } })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    expect(() => new NetEventLoop({ diagnostics: { leakDetection: 'sometimes' as 'all' } })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    const loop = new NetEventLoop();
    expect(() => loop.listen({ port: 70000 }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' }),
    );
    expect(() => loop.listen({ port: 0, host: 'example.com' }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_VALUE' }),
    );
    expect(() => loop.listen({ port: 0 }, 'nope' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(() => loop.connect({ port: 0 })).toThrow(expect.objectContaining({ code: 'ERR_IOLEASE_OUT_OF_RANGE' }));
    expect(() => loop.connect({ port: 80, sizer: 5 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_IOLEASE_INVALID_ARG_TYPE' }),
    );
    expect(loop.stats()).toMatchObject({ channelsOpen: 0, listenersOpen: 0 });
    await loop.close();
  });
});

describe('what the node:net backend relies on in Node', () => {
  it('a Node without the accepted socket handle the backend adopts gets FEATURE_UNSUPPORTED, not a TypeError', () => {
    // Node keeps `_handle` private; every supported version has it, so the check can only be
    // reached with sockets made to lack it.
    for (const handle of [null, undefined, 42, { readStart: 'not a function' }]) {
      const socket = new Socket();
      const carrier = socket as unknown as { _handle: unknown };
      carrier._handle = handle;
      expect(() => takeAcceptedHandle(socket), String(handle)).toThrow(
        expect.objectContaining({
          code: 'ERR_IOLEASE_FEATURE_UNSUPPORTED',
          message: expect.stringMatching(/does not expose the accepted socket handle/),
        }),
      );
      carrier._handle = null; // nothing of node:net's to close
      socket.destroy();
    }
  });

  it('pool memory is marked untransferable, so that writes of leases go to node:net without a copy', async () => {
    await usingLoop(new NetEventLoop(), async (loop) => {
      const read = deferred<Uint8Array>();
      const listener = await loop.listen({ port: 0 }, () => ({
        onRead: (_channel, lease) => read.resolve(lease.bytes),
      }));
      const peer = await netConnect(listener.address.port);
      peer.write('x');
      const bytes = await watchdog(read.promise, 5000, 'a read');
      expect(isMarkedAsUntransferable(bytes.buffer)).toBe(true);
      expect(() => structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] })).toThrow();
      peer.destroy();
    });
  });
});
