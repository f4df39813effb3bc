import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ChannelOptions, EventLoop } from '@iolease/interfaces';
import { validateFunction, validateObject } from '@iolease/interfaces';
import { ChannelDuplex, type ChannelDuplexOptions } from './duplex.js';

/**
 * Options of {@link connector}: those of each channel and its stream, and TLS options for the
 * connections made to `https:` targets (undici passes none of its own to a connect function).
 */
export type ConnectorOptions = ChannelOptions & ChannelDuplexOptions & { readonly tls?: tls.ConnectionOptions };

/**
 * Where to connect, as `http.request()`, `http.Agent` and undici describe it: `hostname` (or
 * `host`, which undici gives as `name:port`), `port`, `protocol` (`https:` makes it TLS) and
 * `servername`. The TLS options an `https.Agent` adds (`ca`, `rejectUnauthorized`,
 * `ALPNProtocols`, …) are passed on to `tls.connect()`.
 */
export interface ConnectTarget {
  readonly hostname?: string | null | undefined;
  readonly host?: string | null | undefined;
  readonly port?: number | string | null | undefined;
  readonly protocol?: string | null | undefined;
  readonly servername?: string | null | undefined;
}

/**
 * How a connector hands over the connection: `callback(null, socket)`, or `callback(error)`.
 * Typed loosely because Node's http and undici each declare the callback their own way.
 */
export type ConnectCallback = (error: never, socket: never) => void;

/**
 * A connect function that opens each connection as a channel of `loop`, wrapped in a
 * {@link ChannelDuplex} (and in TLS when the target's protocol is `https:`). It has the shape
 * all of Node's HTTP clients take for making their own connections: `http.request({
 * createConnection })`, an `http.Agent`'s `createConnection` (see {@link LoopAgent}) and undici's
 * `new Agent({ connect })`. It connects asynchronously and calls back once, with the socket or
 * the error; host names are resolved with `dns.lookup` first (a loop connects to addresses).
 *
 * @param loop - the loop whose channels carry the connections
 * @param options - channel and stream options for every connection
 *
 * @example
 * ```ts
 * import { Agent, request } from 'undici';
 * const dispatcher = new Agent({ connect: connector(loop) });
 * const { body } = await request('http://127.0.0.1:8080/', { dispatcher });
 * ```
 */
export function connector(
  loop: EventLoop,
  options: ConnectorOptions = {},
): (target: ConnectTarget, callback: ConnectCallback) => undefined {
  validateObject('options', options);
  return (target, callback) => {
    // A loop connects asynchronously: there is no socket to return at once.
    validateFunction('callback', callback);
    const done = callback as (error: Error | null, socket?: Duplex) => void;
    open(loop, target, options).then(
      (socket) => done(null, socket),
      (error: Error) => done(error),
    );
    return undefined;
  };
}

/**
 * An `http.Agent` whose connections are channels of an iolease loop: keep-alive, `maxSockets`
 * and every other agent option work as usual, and an idle pooled connection does not keep the
 * process alive (the agent unreferences it, LOOP-6).
 *
 * @example
 * ```ts
 * const agent = new LoopAgent(loop, { keepAlive: true });
 * http.get('http://127.0.0.1:8080/', { agent }, (res) => res.pipe(process.stdout));
 * ```
 */
export class LoopAgent extends http.Agent {
  readonly #connect: ReturnType<typeof connector>;

  constructor(loop: EventLoop, options: http.AgentOptions & ChannelOptions & ChannelDuplexOptions = {}) {
    const [agentOptions, connectorOptions] = splitAgentOptions(options);
    super(agentOptions);
    this.#connect = connector(loop, connectorOptions);
  }

  /** Opens a connection for the agent as a channel of the loop; calls back once connected. */
  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): undefined {
    return this.#connect(options, callback as ConnectCallback);
  }
}

/**
 * An `https.Agent` whose connections are TLS over channels of an iolease loop: the agent's TLS
 * options (`ca`, `rejectUnauthorized`, …) and TLS session reuse work as usual.
 */
export class LoopHttpsAgent extends https.Agent {
  readonly #connect: ReturnType<typeof connector>;

  constructor(loop: EventLoop, options: https.AgentOptions & ChannelOptions & ChannelDuplexOptions = {}) {
    const [agentOptions, connectorOptions] = splitAgentOptions(options);
    super(agentOptions);
    this.#connect = connector(loop, connectorOptions);
  }

  /** Opens a TLS connection for the agent over a channel of the loop; calls back once secure. */
  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): undefined {
    return this.#connect({ ...options, protocol: 'https:' }, callback as ConnectCallback);
  }
}

/** An agent's own options, and those of its channels and streams. */
function splitAgentOptions<A extends http.AgentOptions>(options: A & ChannelOptions & ChannelDuplexOptions) {
  const { allowHalfOpen, sizer, autoRead, noDelay, waterMarks, maxLeases, ...agentOptions } = options;
  return [agentOptions, pick({ allowHalfOpen, sizer, autoRead, noDelay, waterMarks, maxLeases })] as const;
}

/** A connection: resolve, connect the channel, wrap it, and add TLS when asked for. */
async function open(loop: EventLoop, target: ConnectTarget, options: ConnectorOptions): Promise<Duplex> {
  validateObject('target', target);
  const secure = target.protocol === 'https:';
  const name = hostName(target);
  const host = net.isIP(name) !== 0 ? name : name === 'localhost' ? '127.0.0.1' : (await lookup(name)).address;
  const port = Number(target.port ?? (secure ? 443 : 80));
  const { allowHalfOpen, tls: tlsDefaults, ...channelOptions } = options;
  const channel = await loop.connect({ ...channelOptions, host, port });
  const socket = new ChannelDuplex(channel, pick({ allowHalfOpen }));
  if (!secure) return socket;
  // What an https.Agent adds to the target beyond ConnectTarget is TLS options.
  const {
    hostname: _h,
    protocol: _p,
    host: _host,
    port: _port,
    servername: given,
    ...tlsOptions
  } = target as ConnectTarget & tls.ConnectionOptions;
  const servername = given ?? (net.isIP(name) === 0 ? name : undefined);
  const secured = tls.connect({ ...tlsDefaults, ...tlsOptions, ...pick({ servername }), socket });
  try {
    await once(secured, 'secureConnect');
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return secured;
}

/** The host name alone: undici's `host` carries the port, and IPv6 literals may be bracketed. */
function hostName(target: ConnectTarget): string {
  let name = target.hostname ?? target.host ?? 'localhost';
  if (target.hostname == null && target.port != null) name = name.replace(new RegExp(`:${target.port}$`), '');
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

/** `object` without its undefined members (the options are `exactOptionalPropertyTypes`). */
function pick<T extends object>(object: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as never;
}
