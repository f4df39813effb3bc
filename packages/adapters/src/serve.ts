import type { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Channel, EventLoop, Listener, ListenOptions } from '@iolease/interfaces';
import { ErrorCode, IoleaseError, validateFunction, validateObject } from '@iolease/interfaces';
import { ChannelDuplex, type ChannelDuplexOptions } from './duplex.js';

/**
 * The parts of `net.Server` that `serve()` drives, as Node's own `cluster` workers drive them:
 * `_handle` is what the server believes it listens on, `_connections` what it counts for
 * `close()` and `getConnections()`. Not public API, but what every Node release since 0.x keeps.
 */
interface NetServerInternals {
  _handle: unknown;
  _pipeName?: string;
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
  if (internals !== undefined) {
    internals._handle = listenerHandle(listener);
    // For a Unix socket, net.Server's address() answers with the path alone, from _pipeName.
    if (listener.address.family === 'Unix') internals._pipeName = listener.address.address;
  } else announceAddress(server, listener);
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
  const handle = {
    close: () => void listener.close(),
    ref: () => listener.ref(),
    unref: () => listener.unref(),
  };
  if (family === 'Unix') return handle; // address() reads _pipeName instead
  return {
    ...handle,
    getsockname: (out: Record<string, unknown>) => {
      Object.assign(out, { address, family, port });
      return 0;
    },
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

/**
 * Makes `server.listen()` listen on `loop`, through {@link serve}, for code that calls `listen()`
 * itself: a framework's own `listen()` (Fastify with `serverFactory`), or a server handed to a
 * library that starts it. `listen()` takes Node's arguments (`port`, `host`, `backlog`,
 * callback, or an options object with `port`, `host`, `backlog`, `ipv6Only`, `reusePort` and
 * `signal`), reports failures through the server's `'error'` event and success through
 * `'listening'`, as `net.Server` does. Without a host it binds all interfaces (`::`, or
 * `0.0.0.0` on a loop without IPv6), as Node does. A path (`listen('/run/app.sock')`) listens
 * on a Unix domain socket (LIFE-20); handles are not supported and fail with
 * `ERR_IOLEASE_FEATURE_UNSUPPORTED` through `'error'`.
 *
 * @param server - the server whose `listen()` is to use the loop
 * @param loop - the loop to listen on
 * @param options - channel and stream options for every connection
 * @returns `server`
 *
 * @example
 * ```ts
 * const app = fastify({ serverFactory: (handler) => useLoop(http.createServer(handler), loop) });
 * await app.listen({ port: 3000, host: '127.0.0.1' }); // over the loop; app.close() closes it
 * ```
 */
export function useLoop<S extends net.Server>(
  server: S,
  loop: EventLoop,
  options: Omit<ListenOptions, 'port' | 'host' | 'path' | 'backlog' | 'ipv6Only' | 'reusePort'> &
    ChannelDuplexOptions = {},
): S {
  validateObject('server', server);
  validateObject('options', options);
  const listen = (...args: unknown[]): S => {
    const { request, callback } = listenArguments(args, loop);
    if (callback !== undefined) server.once('listening', callback);
    const failed = (error: unknown) => {
      if (callback !== undefined) server.off('listening', callback);
      process.nextTick(() => server.emit('error', error));
    };
    if (request instanceof Error) {
      failed(request);
      return server;
    }
    const { signal, ...where } = request;
    serve(server, loop, { ...options, ...where }).then(() => {
      // As net.Server: an aborted signal closes the server.
      if (signal?.aborted) server.close();
      else signal?.addEventListener('abort', () => server.close(), { once: true });
    }, failed);
    return server;
  };
  Object.defineProperty(server, 'listen', { configurable: true, writable: true, value: listen });
  return server;
}

/** What `server.listen(...args)` asks for, in Node's argument forms. */
function listenArguments(
  args: unknown[],
  loop: EventLoop,
): {
  request:
    | (Pick<ListenOptions, 'port' | 'host' | 'path' | 'backlog' | 'ipv6Only' | 'reusePort'> & { signal?: AbortSignal })
    | Error;
  callback: (() => void) | undefined;
} {
  const last = args.at(-1);
  const callback = typeof last === 'function' ? (last as () => void) : undefined;
  if (callback !== undefined) args = args.slice(0, -1);
  const anyHost = loop.capabilities.ipv6 ? '::' : '0.0.0.0';
  const [first] = args;
  if (first === undefined || first === null || typeof first === 'number' || isPortString(first)) {
    // listen([port[, host[, backlog]]]) or listen(port, backlog)
    const rest = args.slice(1);
    const host = typeof rest[0] === 'string' ? (rest.shift() as string) : anyHost;
    const backlog = typeof rest[0] === 'number' ? { backlog: rest[0] } : {};
    return { request: { port: Number(first ?? 0), host, ...backlog }, callback };
  }
  if (typeof first === 'string') {
    // listen(path[, backlog])
    const backlog = typeof args[1] === 'number' ? { backlog: args[1] } : {};
    return { request: { path: first, ...backlog }, callback };
  }
  if (typeof first === 'object' && !isHandle(first)) {
    const o = first as Record<string, unknown>;
    if (o.path !== undefined) {
      const backlog = o.backlog !== undefined ? { backlog: o.backlog as number } : {};
      return { request: { path: o.path as string, ...backlog }, callback };
    }
    return {
      request: {
        port: typeof o.port === 'string' && isPortString(o.port) ? Number(o.port) : ((o.port ?? 0) as number),
        host: (o.host ?? anyHost) as string,
        ...(o.backlog !== undefined ? { backlog: o.backlog as number } : {}),
        ...(o.ipv6Only !== undefined ? { ipv6Only: o.ipv6Only as boolean } : {}),
        ...(o.reusePort !== undefined ? { reusePort: o.reusePort as boolean } : {}),
        ...(o.signal !== undefined ? { signal: o.signal as AbortSignal } : {}),
      },
      callback,
    };
  }
  return { request: unsupported('a handle'), callback };
}

function isPortString(value: unknown): boolean {
  return typeof value === 'string' && /^[0-9]+$/.test(value);
}

function isHandle(value: object): boolean {
  return '_handle' in value || 'fd' in value;
}

function unsupported(what: string): IoleaseError {
  return new IoleaseError(ErrorCode.FEATURE_UNSUPPORTED, `listen() over an iolease loop does not take ${what} yet`);
}
