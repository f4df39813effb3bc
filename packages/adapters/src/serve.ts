import type { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Channel, EventLoop, Listener, ListenOptions } from '@iolease/interfaces';
import { validateFunction, validateObject } from '@iolease/interfaces';
import { ChannelDuplex, type ChannelDuplexOptions } from './duplex.js';

/**
 * The parts of `net.Server` that `serve()` drives, as Node's own `cluster` workers drive them:
 * `_handle` is what the server believes it listens on, `_connections` what it counts for
 * `close()` and `getConnections()`. Not public API, but what every Node release since 0.x keeps.
 */
interface NetServerInternals {
  _handle: unknown;
  _connections: number;
  _emitCloseIfDrained(): void;
  maxConnections?: number | null;
}

/**
 * Serves a Node.js server over an iolease loop, as `server.listen()` would: listens with
 * `options`, hands every accepted channel, as a {@link ChannelDuplex}, to `server` through its
 * `'connection'` event, and emits `'listening'`.
 *
 * For a `net.Server` (and so `http`, `https`, `http2`, `tls` servers) the server then behaves as
 * if it listened itself: `address()`, `listening`, `ref()`/`unref()` answer for the listener;
 * `close()` stops accepting, closes idle keep-alive connections (http) and calls back once the
 * last connection closed; `getConnections()`, `closeIdleConnections()`,
 * `closeAllConnections()`, `maxConnections` and the http timeouts (`headersTimeout`,
 * `requestTimeout`) work. Any other `EventEmitter` gets `'connection'` and `'listening'`, and
 * its `'close'` closes the listener.
 *
 * @example
 * ```ts
 * const server = http.createServer((req, res) => res.end('hello'));
 * const listener = await serve(server, loop, { port: 8080 });
 * // later: server.close() stops accepting and finishes once every connection is gone
 * ```
 */
export async function serve(
  server: EventEmitter,
  loop: EventLoop,
  options: ListenOptions & ChannelDuplexOptions,
): Promise<Listener> {
  validateObject('server', server);
  validateFunction('server.emit', server.emit);
  const internals = server instanceof net.Server ? (server as unknown as NetServerInternals) : undefined;
  if (internals?._handle) throw alreadyListening();
  const { allowHalfOpen, ...listenOptions } = options;
  const listener = await loop.listen(listenOptions, (channel) => {
    if (internals !== undefined && full(internals)) {
      server.emit('drop', dropInfo(channel));
      channel.close();
      return undefined;
    }
    const socket = new ChannelDuplex(channel, { allowHalfOpen: allowHalfOpen ?? false });
    if (internals !== undefined) count(internals, socket);
    server.emit('connection', socket);
    return undefined;
  });
  if (internals !== undefined) internals._handle = listenerHandle(listener);
  else announceAddress(server, listener);
  // server.close() stops accepting, as it would for a server listening itself.
  server.once('close', () => void listener.close());
  // http.Server arms its headersTimeout and requestTimeout checks, and its connection list, on
  // 'listening': without it a client sending its headers a byte at a time is never cut off.
  server.emit('listening');
  return listener;
}

/** `server.listen()` on a server that already listens, in Node's words. */
function alreadyListening(): Error {
  return Object.assign(new Error('Listen method has been called more than once without closing.'), {
    code: 'ERR_SERVER_ALREADY_LISTEN',
  });
}

/** `maxConnections` reached: Node drops the connection and emits `'drop'`. */
function full(server: NetServerInternals): boolean {
  const max = server.maxConnections;
  return typeof max === 'number' && max >= 0 && server._connections >= max;
}

/** What Node's `'drop'` event carries. */
function dropInfo(channel: Channel) {
  const { localAddress: local, remoteAddress: remote } = channel;
  return {
    localAddress: local.address,
    localPort: local.port,
    localFamily: local.family,
    remoteAddress: remote.address,
    remotePort: remote.port,
    remoteFamily: remote.family,
  };
}

/** Counts `socket` in `server._connections` until it closes, as net.Server does for its own. */
function count(server: NetServerInternals, socket: ChannelDuplex): void {
  server._connections++;
  Object.assign(socket, { server, _server: server });
  socket.once('close', () => {
    server._connections--;
    server._emitCloseIfDrained();
  });
}

/**
 * The listener, shaped as the handle a `net.Server` listens on: `close()`, `getsockname()`,
 * `ref()` and `unref()` are all that `net.Server` calls on a handle it did not open itself.
 */
function listenerHandle(listener: Listener) {
  const { family, address, port } = listener.address;
  return {
    close: () => void listener.close(),
    getsockname: (out: Record<string, unknown>) => {
      Object.assign(out, { address, family, port });
      return 0;
    },
    ref: () => listener.ref(),
    unref: () => listener.unref(),
  };
}

/** For a server that is not a `net.Server`: `address()` and `listening` as a listening one's. */
function announceAddress(server: EventEmitter, listener: Listener): void {
  const { family, address, port } = listener.address;
  Object.defineProperty(server, 'address', {
    configurable: true,
    value: () => (listener.closed ? null : { address, family, port }),
  });
  Object.defineProperty(server, 'listening', { configurable: true, get: () => !listener.closed });
}
