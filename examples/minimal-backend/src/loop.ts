import net from 'node:net';
import {
  type ChannelSettings,
  checkConnect,
  checkListen,
  guardConnect,
  LoopCore,
  loopClosedError,
  reportUncaught,
} from '@iolease/backend-core';
import type * as api from '@iolease/interfaces';
import { createSizer, IoleaseError, validateLoopOptions } from '@iolease/interfaces';
import { MinimalPool } from './pool.ts';
import { MinimalTransport, systemError } from './transport.ts';

/** An iolease EventLoop over plain node:net sockets, on IPv4 TCP: the smallest that passes the kit. */
export class MinimalEventLoop implements api.EventLoop {
  readonly backend = 'minimal';
  readonly capabilities: api.LoopCapabilities = {
    zeroCopySend: false,
    reusePort: false,
    ipv6: false,
    unixSockets: false,
  };
  readonly pool: MinimalPool;
  /** Deferred callbacks, ids, counters, leak detection: what every loop keeps the same way. */
  readonly core: LoopCore;
  /** New channels' water marks (WATER-1). */
  readonly waterMarks: api.WaterMarks;
  readonly #channels = new Set<MinimalTransport>();
  readonly #listeners = new Set<MinimalListener>();
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: api.EventLoopOptions = {}) {
    const { sizeClasses, waterMarks, poison, leakDetection } = validateLoopOptions(options);
    this.waterMarks = waterMarks;
    this.core = new LoopCore(leakDetection, () => this.pool);
    this.pool = new MinimalPool(sizeClasses, poison, (task) => this.core.defer(task));
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  listen(options: api.ListenOptions, onAccept: api.AcceptCallback): Promise<api.Listener> {
    const valid = checkListen(this, options, onAccept);
    if (valid instanceof IoleaseError) return Promise.reject(valid);
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.on('connection', (socket) => this.#accept(socket, valid.channel, onAccept));
    const listener = new MinimalListener(server, () => this.#listeners.delete(listener) && this.#checkDrained());
    this.#listeners.add(listener);
    return new Promise((resolve, reject) => {
      server.once('error', (error) => listener.close().then(() => reject(systemError(error, 'listen'))));
      server.listen({ host: valid.host.address, port: valid.port, backlog: valid.backlog }, () => {
        const { address, port } = server.address() as net.AddressInfo;
        listener.address = { family: 'IPv4', address, port };
        if (listener.closed) server.close(); // the loop closed while node:net bound it (LIFE-10)
        // Listening, node:net reports only failed accepts, and keeps listening (LIFE-15).
        server.removeAllListeners('error').on('error', () => listener.acceptErrors++);
        resolve(listener);
      });
    });
  }

  connect(options: api.ConnectOptions, handler?: api.ChannelHandler): Promise<api.Channel> {
    const valid = checkConnect(this, options, handler);
    if (valid instanceof IoleaseError) return Promise.reject(valid);
    const { host, port, timeout, signal, channel, settings } = valid;
    const socket = net.connect({ host: host.address, port, allowHalfOpen: true, noDelay: channel.noDelay });
    const transport = this.#adopt(socket, settings, true);
    if (handler !== undefined) transport.channel.setHandler(handler);
    return new Promise((resolve, reject) => {
      const done = guardConnect({ timeout, signal }, { address: host.address, port }, (error) => {
        reject(error);
        transport.channel.abort(undefined);
      });
      const failed = () => {
        done();
        reject(transport.channel.failure ?? loopClosedError());
      };
      socket.once('close', failed);
      socket.once('connect', () => {
        done();
        socket.off('close', failed);
        resolve(transport.channel);
        transport.connected();
      });
    });
  }

  stats(): api.LoopStatistics {
    const [channelsOpen, listenersOpen] = [this.#channels.size, this.#listeners.size];
    return this.core.stats({ pool: this.pool.stats(), channelsOpen, listenersOpen });
  }

  onLeak(listener: (report: api.LeakReport) => void): api.Unsubscribe {
    return this.core.onLeak(listener);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#drained = resolve;
      for (const listener of this.#listeners) void listener.close();
      for (const transport of this.#channels) transport.channel.abort(undefined);
      this.#checkDrained();
    }).then(() => new Promise((resolve) => setImmediate(() => resolve(this.pool.close())))); // PRESS-4, after the last onClose
    return this.#closing;
  }

  channelFinalized(transport: MinimalTransport): void {
    this.#channels.delete(transport);
    this.#checkDrained();
  }

  #adopt(socket: net.Socket, settings: ChannelSettings, connecting: boolean): MinimalTransport {
    const transport = new MinimalTransport(this, socket, settings, connecting);
    this.#channels.add(transport);
    return transport;
  }

  #accept(socket: net.Socket, template: api.ChannelTemplate, onAccept: api.AcceptCallback): void {
    const sizer = createSizer(template);
    if (this.closed || sizer instanceof IoleaseError) {
      socket.resetAndDestroy(); // nobody can read it
      if (sizer instanceof IoleaseError) reportUncaught(sizer);
      return;
    }
    socket.setNoDelay(template.noDelay);
    const { channel } = this.#adopt(socket, { ...template, sizer }, false);
    try {
      const handler = onAccept(channel);
      if (handler !== undefined && channel.state === 'open') channel.setHandler(handler);
    } catch (error) {
      channel.reset(); // nobody would ever close it
      reportUncaught(error);
    }
  }

  #checkDrained(): void {
    if (this.#channels.size === 0 && this.#listeners.size === 0) this.#drained?.();
  }
}

/** A listening `net.Server` (LIFE-1, LIFE-11). */
class MinimalListener implements api.Listener {
  /** Set once listening: node:net forgets it when the server closes. */
  address: api.SocketAddress = { family: 'IPv4', address: '', port: 0 };
  acceptErrors = 0;
  readonly #server: net.Server;
  readonly #onClosed: () => void;
  #closing: Promise<void> | undefined;

  constructor(server: net.Server, onClosed: () => void) {
    this.#server = server;
    this.#onClosed = onClosed;
  }
  get closed(): boolean {
    return this.#closing !== undefined;
  }
  /** Resolves once the listening socket is closed: node:net's callback would wait for every connection. */
  close(): Promise<void> {
    if (this.#server.listening) this.#server.close();
    this.#closing ??= new Promise((resolve) => setImmediate(() => resolve(this.#onClosed())));
    return this.#closing;
  }
  unref(): this {
    if (!this.closed) this.#server.unref();
    return this;
  }
  ref(): this {
    if (!this.closed) this.#server.ref();
    return this;
  }
}
