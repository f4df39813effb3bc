import { statSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import {
  type ChannelSettings,
  checkConnect,
  checkListen,
  guardConnect,
  LoopCore,
  loopClosedError,
  reportUncaught,
} from '@iolease/backend-core';
import {
  type AcceptCallback,
  type Channel,
  type ChannelHandler,
  type ChannelTemplate,
  type ConnectOptions,
  createSizer,
  ErrorCode,
  type EventLoop,
  type EventLoopOptions,
  IoleaseError,
  type LeakReport,
  type Listener,
  type ListenOptions,
  type LoopCapabilities,
  type LoopStatistics,
  type Unsubscribe,
  validateLoopOptions,
  type WaterMarks,
} from '@iolease/interfaces';
import { fromNodeError } from '../errors.js';
import { NetListener, takeAcceptedHandle } from './listener.js';
import { NetBufferPool } from './pool.js';
import { NetTransport } from './transport.js';

/** Options of the node:net loop: those of every EventLoop (spec §2). */
export type NetEventLoopOptions = EventLoopOptions;

/**
 * The node:net EventLoop: the iolease contract on libuv's readiness-based sockets, on every
 * platform Node runs on. Receive memory is a loop-owned pool, as on io_uring; each node:net
 * callback is one completion, so `completionBatches` equals `completions`.
 */
export class NetEventLoop implements EventLoop {
  readonly backend = 'node:net';
  /** Zero-copy sends are not something node:net offers (WRITE-8). */
  readonly capabilities: LoopCapabilities = Object.freeze({
    zeroCopySend: false,
    reusePort: true,
    ipv6: true,
    unixSockets: true,
  });
  readonly pool: NetBufferPool;
  /**
   * Deferred callbacks, ids, counters and leak detection, kept as every backend keeps them.
   *
   * @internal
   */
  readonly core: LoopCore;
  /**
   * New channels' water marks (WATER-1).
   *
   * @internal
   */
  readonly waterMarks: WaterMarks;
  readonly #channels = new Set<NetTransport>();
  readonly #listeners = new Set<NetListener>();
  readonly #servers = new Set<net.Server>();
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;

  constructor(options: NetEventLoopOptions = {}) {
    const { sizeClasses, waterMarks, poison, leakDetection } = validateLoopOptions(options);
    this.waterMarks = waterMarks;
    this.core = new LoopCore(leakDetection, () => this.pool);
    this.pool = new NetBufferPool(sizeClasses, { poison, defer: (task) => this.defer(task) });
  }

  get closed(): boolean {
    return this.#closed;
  }

  listen(options: ListenOptions, onAccept: AcceptCallback): Promise<Listener> {
    const valid = checkListen(this, options, onAccept);
    if (valid instanceof IoleaseError) return Promise.reject(valid);
    const { path, host, port, backlog, reusePort, ipv6Only, channel: template } = valid;
    // Paused: the accepted socket only carries its handle to a socket of ours (#adopt), so it
    // need not start reading. Half-open is the adopting socket's option, not this one's.
    const server = net.createServer({ pauseOnConnect: true });
    server.on('connection', (accepted) => this.#adopt(accepted, template, onAccept, path));
    this.#servers.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', (error) => {
        this.#servers.delete(server);
        this.#checkDrained(); // the loop may be closing, waiting for this server
        reject(fromNodeError(path === undefined ? error : unmangled(error, path), 'listen'));
      });
      const where = path === undefined ? { host: host.address, port, ipv6Only, reusePort } : { path };
      server.listen({ ...where, backlog }, () => {
        server.removeAllListeners('error');
        const listener = new NetListener(server, () => {
          this.#servers.delete(server);
          this.#listeners.delete(listener);
          this.#checkDrained();
        });
        // Once listening, node:net reports only failed accepts (EMFILE when libuv's spare
        // descriptor trick cannot help, say), and keeps listening: count them (LIFE-15).
        server.on('error', () => {
          listener.acceptErrors++;
        });
        this.#listeners.add(listener);
        // The loop began closing while node:net bound the socket: close() could not close a
        // listener that did not exist yet, and waits for this server (LIFE-10).
        if (this.#closed) void listener.close();
        resolve(listener);
      });
    });
  }

  connect(options: ConnectOptions, handler?: ChannelHandler): Promise<Channel> {
    const valid = checkConnect(this, options, handler);
    if (valid instanceof IoleaseError) return Promise.reject(valid);
    const { path, host, port, timeout, signal, channel: template, settings } = valid;
    const transport = this.#newChannel(settings, true);
    const channel = transport.channel;
    const socket = net.connect({
      ...(path === undefined ? { host: host.address, port } : { path }),
      allowHalfOpen: true,
      noDelay: template.noDelay,
      onread: transport.onread,
    });
    socket.pause(); // no reading before connect and a handler (LIFE-2)
    transport.attach(socket, path === undefined ? undefined : { local: '', remote: path });
    if (handler !== undefined) channel.setHandler(handler);
    return new Promise((resolve, reject) => {
      // Given up (LIFE-16): the channel is abandoned without callbacks, the promise rejected.
      const where = path === undefined ? { address: host.address, port } : { address: path };
      const done = guardConnect({ timeout, signal }, where, (error) => {
        reject(error);
        channel.abort(undefined);
      });
      // The channel fails itself on a connect error; the promise settles once its socket is
      // closed, so a rejected connect leaves nothing open behind it.
      const onClose = () =>
        reject(
          channel.failure ??
            // Aborted by loop.close(): the only way a channel ends before its connect completes.
            (this.#closed
              ? loopClosedError()
              : new IoleaseError(ErrorCode.CHANNEL_CLOSED, 'The channel was closed while connecting')),
        );
      const onCloseFirst = () => {
        done();
        onClose();
      };
      socket.once('close', onCloseFirst);
      socket.once('connect', () => {
        done();
        socket.off('close', onCloseFirst);
        resolve(channel);
        transport.onConnected();
      });
    });
  }

  stats(): LoopStatistics {
    return this.core.stats({
      pool: this.pool.stats(),
      channelsOpen: this.#channels.size,
      listenersOpen: this.#listeners.size,
    });
  }

  onLeak(listener: (report: LeakReport) => void): Unsubscribe {
    return this.core.onLeak(listener);
  }

  close(): Promise<void> {
    this.#closePromise ??= (async () => {
      this.#closed = true;
      const drained = new Promise<void>((resolve) => {
        this.#onDrained = resolve;
      });
      for (const listener of this.#listeners) void listener.close();
      for (const transport of this.#channels) transport.channel.abort(undefined);
      this.#checkDrained();
      await drained;
      // Callbacks deferred by the last closes (onClose among them) run before the promise settles.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.pool.close();
    })();
    return this.#closePromise;
  }

  // ---- For channels ----------------------------------------------------------------------

  /**
   * Runs `task` soon, in order with other deferred tasks, never inside the API call that asked
   * (LOOP-2). One microtask drains the whole queue.
   *
   * @internal
   */
  defer(task: () => void): void {
    this.core.defer(task);
  }

  /** @internal */
  channelFinalized(transport: NetTransport): void {
    this.#channels.delete(transport);
    this.#checkDrained();
  }

  // ---- Internals ---------------------------------------------------------------------------

  #adopt(accepted: net.Socket, template: ChannelTemplate, onAccept: AcceptCallback, path: string | undefined): void {
    if (this.#closed) {
      accepted.destroy();
      return;
    }
    const sizer = createSizer(template);
    if (sizer instanceof IoleaseError) {
      // Nobody can read this connection: reset it, and report the factory's error.
      if (path === undefined) accepted.resetAndDestroy();
      else accepted.destroy(); // a Unix socket has no abortive close
      reportUncaught(sizer);
      return;
    }
    const transport = this.#newChannel({ ...template, sizer }, false);
    const channel = transport.channel;
    const socket = new net.Socket({
      handle: takeAcceptedHandle(accepted),
      allowHalfOpen: true,
      readable: true,
      writable: true,
      pauseOnCreate: true,
      onread: transport.onread,
    } as net.SocketConstructorOpts);
    socket.setNoDelay(template.noDelay);
    transport.attach(socket, path === undefined ? undefined : { local: path, remote: '' });
    try {
      const handler = onAccept(channel);
      if (handler !== undefined && channel.state === 'open') channel.setHandler(handler);
    } catch (error) {
      // Nobody will ever read or close this channel: reset it rather than leak its socket.
      channel.reset();
      reportUncaught(error);
    }
  }

  #newChannel(settings: ChannelSettings, connecting: boolean): NetTransport {
    const transport = new NetTransport(this, this.core.nextChannelId(), settings, connecting);
    this.#channels.add(transport);
    return transport;
  }

  #checkDrained(): void {
    if (this.#closed && this.#channels.size === 0 && this.#servers.size === 0 && this.#onDrained !== undefined) {
      const resolve = this.#onDrained;
      this.#onDrained = undefined;
      resolve();
    }
  }
}

/**
 * libuv reports a Unix socket path in a missing directory as EACCES (for Windows' sake); the
 * kernel said ENOENT, and LIFE-20 asks for it.
 */
function unmangled(error: Error, path: string): Error {
  if ((error as NodeJS.ErrnoException).code !== 'EACCES' || path.startsWith('\0')) return error;
  try {
    statSync(dirname(path));
    return error; // the directory is there: EACCES is the real answer
  } catch (cause) {
    // Only a directory that is not there makes it ENOENT; one we may not look into stays EACCES.
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  }
  const where = { code: 'ENOENT', errno: -2, syscall: 'listen', address: path };
  return Object.assign(new Error(`listen ENOENT ${path}`), where);
}
