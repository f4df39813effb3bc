import { statSync } from 'node:fs';
import {
  type ChannelCore,
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
  type NumericHost,
  type SocketAddress,
  type Unsubscribe,
  validateBoolean,
  validateInteger,
  validateLoopOptions,
  type WaterMarks,
} from '@iolease/interfaces';
import {
  COUNTER_BATCHES,
  COUNTER_COMPLETIONS,
  COUNTER_SUBMISSIONS,
  COUNTER_SUBMIT_CALLS,
  CQE_BUFFER_SHIFT,
  FIELD_FLAGS,
  FIELD_KIND,
  FIELD_OFFSET,
  FIELD_RES,
  FIELD_SLOT,
  GROUP_SHIFT,
  KIND_MASK,
  Kind,
  RECORD_WORDS,
} from './completion.js';
import { systemError } from './errors.js';
import { type SocketFile, UringListener } from './listener.js';
import { loadBinding, type NativeFeatures, type NativeLoop } from './native.js';
import { UringBufferPool } from './pool.js';
import { type ChannelInit, UringTransport } from './transport.js';

/** Options of the io_uring loop: the common ones plus the ring's sizes. */
export interface UringEventLoopOptions extends EventLoopOptions {
  /** Submission queue entries (power of two, 16 … 32768). Default 2048. */
  readonly sqEntries?: number;
  /**
   * Completion queue entries (power of two, up to 65536). Default 65536: multishot receives
   * end when the CQ overflows, so it is sized far beyond what the pool can fill.
   */
  readonly cqEntries?: number;
  /**
   * Sends of leases of at least this many bytes go out with zero copy (`IORING_OP_SEND_ZC`,
   * Linux 6.0+): the kernel reads the lease's buffer itself, and the write completes only once
   * the kernel says it is done with it (WRITE-8). The application's own memory is always copied
   * (WRITE-12). Default: off. Worth it for large writes to a real NIC; over loopback the kernel
   * copies anyway, and the extra notification costs (see bench/).
   * A loop asked for it on a kernel without it throws `ERR_IOLEASE_FEATURE_UNSUPPORTED`.
   */
  readonly zeroCopyThreshold?: number;
  /**
   * Incremental buffer consumption (`IOU_PBUF_RING_INC`, Linux 6.12+): the kernel fills each
   * pool buffer a read at a time, so a 100-byte message takes 100 bytes of a buffer, not all of
   * it, and a buffer returns to the pool once the kernel is done with it and every lease carved
   * from it is released (POOL-4). The pool then holds many more small reads: worth it where
   * the application holds leases (parsers, slow consumers) and pool pressure is the limit. Each
   * lease gets an ArrayBuffer of its own bytes (LEASE-11), made once per place in a buffer and
   * reused, which costs CPU per read: off by default (see bench/ for the figures). On a kernel
   * without it the loop uses whole buffers; `loop.features.incrementalBuffers` says which.
   */
  readonly incrementalBuffers?: boolean;
}

type Socket = UringTransport | UringListener;

/**
 * The io_uring EventLoop (spec §2): one ring inside Node's own event loop.
 *
 * Completions arrive in batches: the native pump fills the shared batch and calls #onBatch
 * once per batch (LOOP-4); operations queued meanwhile are submitted by the same pump, and
 * those queued from elsewhere by one pump per tick (setImmediate).
 */
export class UringEventLoop implements EventLoop {
  readonly backend = 'io_uring';
  readonly pool: UringBufferPool;
  /** Zero-copy sends when the loop was given a `zeroCopyThreshold` (WRITE-8). */
  readonly capabilities: LoopCapabilities;
  /**
   * Sends this large or larger use zero copy; Infinity when off.
   *
   * @internal
   */
  readonly zeroCopyThreshold: number;
  #zeroCopyCopied = 0;
  /**
   * Deferred callbacks, ids, counters and leak detection, kept as every backend keeps them.
   *
   * @internal
   */
  readonly core: LoopCore;
  /** @internal */
  readonly native: NativeLoop;
  /** @internal */
  readonly maxIov: number;
  readonly features: NativeFeatures;
  readonly #sockets: (Socket | undefined)[] = [];
  /**
   * New channels' water marks (WATER-1).
   *
   * @internal
   */
  readonly waterMarks: WaterMarks;
  #openChannels = 0;
  #openListeners = 0;
  #referenced = false;
  /** Open listeners and channels that do not keep the host alive (LOOP-6, `unref()`). */
  readonly #unreferenced = new Set<object>();
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;
  #pumpScheduled = false;
  /** Channels with a send to build right before the next enter (WRITE-12). */
  #sendQueue: UringTransport[] = [];
  /** The other of the two queues #onFlush swaps, so that no pump allocates one. */
  #sendSpare: UringTransport[] = [];
  readonly #connects = new Map<
    UringTransport,
    { resolve: (c: Channel) => void; reject: (e: unknown) => void; where: { address: string; port?: number } }
  >();

  constructor(options: UringEventLoopOptions = {}) {
    const { sizeClasses, waterMarks, poison, leakDetection } = validateLoopOptions(options);
    const sqEntries = validateInteger('options.sqEntries', options.sqEntries ?? 2048, 16, 32768);
    const cqEntries = validateInteger('options.cqEntries', options.cqEntries ?? 65536, sqEntries, 65536);
    const zeroCopyThreshold =
      options.zeroCopyThreshold === undefined
        ? undefined
        : validateInteger('options.zeroCopyThreshold', options.zeroCopyThreshold, 1, 2 ** 31 - 1);
    const incremental = validateBoolean('options.incrementalBuffers', options.incrementalBuffers ?? false);
    this.core = new LoopCore(leakDetection, () => this.pool);
    const binding = loadBinding();
    this.maxIov = binding.maxIov;
    try {
      this.native = new binding.NativeLoop({
        sqEntries,
        cqEntries,
        classes: sizeClasses,
        incremental,
        onBatch: (count) => this.#onBatch(count),
        onFlush: () => this.#onFlush(),
      });
    } catch (cause) {
      throw unavailable(cause);
    }
    this.features = this.native.features();
    if (options.zeroCopyThreshold !== undefined && !this.features.sendZeroCopy) {
      this.native.destroy();
      throw new IoleaseError(
        ErrorCode.FEATURE_UNSUPPORTED,
        'options.zeroCopyThreshold: this kernel has no zero-copy send (IORING_OP_SEND_ZC, Linux 6.0+)',
      );
    }
    this.zeroCopyThreshold = zeroCopyThreshold ?? Number.POSITIVE_INFINITY;
    this.capabilities = Object.freeze({
      zeroCopySend: zeroCopyThreshold !== undefined,
      reusePort: true,
      ipv6: true,
      unixSockets: true,
    });
    this.pool = new UringBufferPool(sizeClasses, this.native.returns, {
      poison,
      defer: (task) => this.defer(task),
      requestPump: () => this.requestPump(),
      bufferMemory: (index, bid, offset, length) =>
        offset === undefined
          ? this.native.bufferMemory(index, bid)
          : this.native.bufferMemory(index, bid, offset, length),
      flushReturns: () => this.native.flushReturns(),
      incremental: this.features.incrementalBuffers,
    });
    this.waterMarks = waterMarks;
  }

  get closed(): boolean {
    return this.#closed;
  }

  listen(options: ListenOptions, onAccept: AcceptCallback): Promise<Listener> {
    const valid = checkListen(this, options, onAccept);
    if (valid instanceof IoleaseError) return Promise.reject(valid);
    const { path, host, port, backlog, reusePort, ipv6Only, channel: init } = valid;
    const { family, ip, where } = target(path, host, port);
    let slot: number;
    try {
      slot = this.native.listen(family, ip, port, backlog, reusePort, ipv6Only, path === undefined && init.noDelay);
    } catch (cause) {
      return Promise.reject(nativeError(cause, where));
    }
    const address = this.address(slot, false);
    const channelInit = () => this.#newChannelInit(init, path !== undefined);
    const listener = new UringListener(this, slot, address, onAccept, channelInit, socketFile(path));
    this.#sockets[slot] = listener;
    this.#openListeners++;
    this.#updateRef();
    return Promise.resolve(listener);
  }

  connect(options: ConnectOptions, handler?: ChannelHandler): Promise<Channel> {
    const valid = checkConnect(this, options, handler);
    if (valid instanceof IoleaseError) return Promise.reject(valid);
    const { path, host, port, timeout, signal, channel: init, settings } = valid;
    const { family, ip, where } = target(path, host, port);
    const channelInit = { ...settings, unix: path !== undefined };
    const slot = this.native.connect(family, ip, port, path === undefined && init.noDelay);
    if (slot < 0) return Promise.reject(systemError(slot, 'connect', where));
    const transport = new UringTransport(this, slot, this.core.nextChannelId(), channelInit, true);
    this.#sockets[slot] = transport;
    this.#openChannels++;
    this.#updateRef();
    if (handler !== undefined) transport.channel.setHandler(handler);
    this.requestPump();
    return new Promise((resolve, reject) => {
      // Given up (LIFE-16): the channel is abandoned without callbacks, the promise rejected.
      const done = guardConnect({ timeout, signal }, where, (error) => {
        this.#connects.delete(transport);
        reject(error);
        transport.channel.abort(undefined);
      });
      this.#connects.set(transport, {
        resolve: (c) => {
          done();
          resolve(c);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        where,
      });
    });
  }

  stats(): LoopStatistics {
    const c = this.native.counters;
    return this.core.stats({
      pool: this.pool.stats(),
      channelsOpen: this.#openChannels,
      listenersOpen: this.#openListeners,
      completions: c[COUNTER_COMPLETIONS] as number,
      completionBatches: c[COUNTER_BATCHES] as number,
      submissions: c[COUNTER_SUBMISSIONS] as number,
      submitCalls: c[COUNTER_SUBMIT_CALLS] as number,
      zeroCopyCopied: this.#zeroCopyCopied,
    });
  }

  onLeak(listener: (report: LeakReport) => void): Unsubscribe {
    return this.core.onLeak(listener);
  }

  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#closed = true;
    this.#closePromise = (async () => {
      const drained = new Promise<void>((resolve) => {
        this.#onDrained = resolve;
      });
      for (const socket of this.#sockets) {
        if (socket instanceof UringListener) void socket.close();
        else if (socket !== undefined) socket.channel.abort(undefined);
      }
      this.#checkDrained();
      await drained;
      // Callbacks deferred by the last completions (onClose among them) run before teardown.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.pool.close();
      this.native.destroy();
    })();
    return this.#closePromise;
  }

  // ---- For channels and listeners ----------------------------------------------------------

  /**
   * Queues a submission pump for this tick, unless a pump is running and will submit anyway:
   * the native pump goes on until nothing queued is left, returned buffers included, so a
   * release in a write completion's microtask costs no extra turn of the event loop.
   *
   * @internal
   */
  requestPump(): void {
    if (this.#pumpScheduled || this.native.pumping[0] === 1) return;
    this.#pumpScheduled = true;
    setImmediate(this.#pumpNow);
  }

  /**
   * A zero-copy send the kernel copied after all (WRITE-8, DIAG-4 `zeroCopyCopied`).
   *
   * @internal
   */
  countZeroCopyCopied(): void {
    this.#zeroCopyCopied++;
  }

  /**
   * Queues `channel`'s next send: the pump builds it right before it enters the kernel, so no
   * JavaScript runs between taking the memory's addresses and the kernel reading them.
   *
   * @internal
   */
  queueSend(transport: UringTransport): void {
    this.#sendQueue.push(transport);
    this.native.sendsQueued[0] = 1;
    this.requestPump();
  }

  /**
   * Runs `task` soon, in order with other deferred tasks, never inside the API call that asked
   * (LOOP-2). One microtask drains the whole queue.
   *
   * @internal
   */
  defer(task: () => void): void {
    this.core.defer(task);
  }

  /**
   * Throws a system error for a failed native preparation (-errno).
   *
   * @internal
   */
  checkErrno(ret: number, syscall: string): void {
    if (ret < 0) throw systemError(ret, syscall);
  }

  /** @internal */
  address(slot: number, peer: boolean): SocketAddress {
    const a = this.addressOrErrno(slot, peer);
    if (typeof a === 'number') throw systemError(a, peer ? 'getpeername' : 'getsockname');
    return a;
  }

  /**
   * A socket's address, or -errno when the engine has none for the slot.
   *
   * @internal
   */
  addressOrErrno(slot: number, peer: boolean): SocketAddress | number {
    const a = this.native.address(slot, peer);
    if (typeof a === 'number') return a;
    return { family: a[0] === 4 ? 'IPv4' : a[0] === 6 ? 'IPv6' : 'Unix', address: a[1], port: a[2] };
  }

  /** @internal */
  adoptChannel(slot: number, init: ChannelInit): ChannelCore {
    const transport = new UringTransport(this, slot, this.core.nextChannelId(), init, false);
    this.#sockets[slot] = transport;
    this.#openChannels++;
    this.#updateRef();
    return transport.channel;
  }

  /**
   * @internal Whether an open listener or channel keeps the host process alive (LOOP-6). Its
   * finalization forgets it.
   */
  setReferenced(socket: Socket, referenced: boolean): void {
    if (referenced) this.#unreferenced.delete(socket);
    else this.#unreferenced.add(socket);
    this.#updateRef();
  }

  /** @internal */
  channelFinalized(slot: number, transport: UringTransport): void {
    this.#sockets[slot] = undefined;
    this.native.freeSlot(slot);
    this.#openChannels--;
    this.#unreferenced.delete(transport);
    this.#updateRef();
    const pending = this.#connects.get(transport);
    if (pending !== undefined) {
      this.#connects.delete(transport);
      // Aborted by loop.close() (the only way a channel ends before its connect completes).
      pending.reject(this.#closed ? loopClosedError() : systemError(-125, 'connect', pending.where));
    }
    this.#checkDrained();
  }

  /** @internal */
  listenerFinalized(slot: number, listener: UringListener): void {
    this.#unreferenced.delete(listener);
    this.#sockets[slot] = undefined;
    this.native.freeSlot(slot);
    this.#openListeners--;
    this.#updateRef();
    this.#checkDrained();
  }

  // ---- Internals ---------------------------------------------------------------------------

  readonly #pumpNow = (): void => {
    this.#pumpScheduled = false;
    if (!this.native || this.#destroyed()) return;
    this.native.pump();
  };

  #destroyed(): boolean {
    return this.#closed && this.#onDrained === undefined && this.#closePromise !== undefined && this.#live() === 0;
  }

  #live(): number {
    return this.#openChannels + this.#openListeners;
  }

  /**
   * One batch of completions from the native pump (LOOP-4). The records are read once: an
   * exception from one record, the application's or the loop's own, must not cost the others
   * theirs (LOOP-5), so each is handled apart and whatever was thrown is reported afterwards.
   */
  #onBatch(count: number): void {
    const batch = this.native.batch;
    for (let i = 0; i < count; i++) {
      const base = i * RECORD_WORDS;
      try {
        this.#onCompletion(
          batch[base + FIELD_KIND] as number,
          batch[base + FIELD_SLOT] as number,
          batch[base + FIELD_RES] as number,
          batch[base + FIELD_FLAGS] as number,
          batch[base + FIELD_OFFSET] as number,
        );
      } catch (error) {
        reportUncaught(error);
      }
    }
  }

  /** The pump is about to enter: submit the queued sends; true if the SQ left some waiting. */
  #onFlush(): boolean {
    const queue = this.#sendQueue;
    this.#sendQueue = this.#sendSpare;
    this.#sendSpare = queue;
    this.native.sendsQueued[0] = 0;
    for (const transport of queue) {
      let submitted = true;
      try {
        submitted = transport.submitSend();
      } catch (error) {
        reportUncaught(error);
      }
      if (!submitted) this.#sendQueue.push(transport);
    }
    queue.length = 0;
    if (this.#sendQueue.length === 0) return false;
    this.native.sendsQueued[0] = 1;
    return true;
  }

  #onCompletion(kindWord: number, slot: number, res: number, flags: number, offset: number): void {
    const socket = this.#sockets[slot];
    switch (kindWord & KIND_MASK) {
      case Kind.RECV:
        (socket as UringTransport).onRecv(res, flags, kindWord >>> GROUP_SHIFT, offset);
        break;
      case Kind.BUFFER_DONE:
        this.pool.bufferDone(kindWord >>> GROUP_SHIFT, flags >>> CQE_BUFFER_SHIFT);
        break;
      case Kind.SEND:
        (socket as UringTransport).onSend(res, flags);
        break;
      case Kind.WRITABLE:
        (socket as UringTransport).onWritable(res);
        break;
      case Kind.ACCEPT:
        (socket as UringListener).onAccept(res, flags);
        break;
      case Kind.CONNECT:
        this.#onConnect(socket as UringTransport, res);
        break;
      case Kind.RECV_CANCEL:
        (socket as UringTransport).onRecvCancelled();
        break;
      case Kind.CLOSE_CANCEL:
      case Kind.CLOSE:
        (socket as Socket).onCloseStep();
        break;
    }
  }

  #onConnect(transport: UringTransport, res: number): void {
    const channel = transport.channel;
    const pending = this.#connects.get(transport);
    this.#connects.delete(transport);
    const error = res < 0 ? systemError(res, 'connect', pending?.where) : undefined;
    // Settle the promise first: once connected, whatever happens next (a failing sizer, say)
    // reaches the handler as the channel's own error, not as a failed connect.
    if (this.#closed && channel.state !== 'open')
      pending?.reject(loopClosedError()); // cancelled by close()
    else if (error !== undefined) pending?.reject(error);
    else if (channel.state === 'open') pending?.resolve(channel);
    else pending?.reject(new IoleaseError(ErrorCode.CHANNEL_CLOSED, 'The channel was closed while connecting'));
    transport.onConnect(error);
  }

  #updateRef(): void {
    const want = this.#live() > this.#unreferenced.size;
    if (want === this.#referenced) return;
    this.#referenced = want;
    if (want) this.native.ref();
    else this.native.unref();
  }

  #checkDrained(): void {
    if (this.#closed && this.#live() === 0 && this.#onDrained !== undefined) {
      const resolve = this.#onDrained;
      this.#onDrained = undefined;
      resolve();
    }
  }

  /** A new channel's settings, or the error of a sizer factory that threw (SIZER-3). */
  #newChannelInit(init: ChannelTemplate, unix: boolean): ChannelInit | IoleaseError {
    const sizer = createSizer(init);
    if (sizer instanceof IoleaseError) return sizer;
    return { sizer, autoRead: init.autoRead, waterMarks: init.waterMarks, maxLeases: init.maxLeases, unix };
  }
}

/** The native loop's family number of a Unix domain socket (kFamilyUnix); 4 and 6 are IP. */
const FAMILY_UNIX = 1;
type Family = 4 | 6 | typeof FAMILY_UNIX;

/** What the native listen and connect take: a family and an address, or a Unix socket path. */
function target(path: string | undefined, host: NumericHost, port: number) {
  return path === undefined
    ? { family: host.family, ip: host.address, where: { address: host.address, port } }
    : { family: FAMILY_UNIX as Family, ip: path, where: { address: path } };
}

/**
 * The socket file a Unix listener made, to remove when it closes (LIFE-20): its inode, so that a
 * file someone put at the path meanwhile is left alone. Abstract names have no file.
 */
function socketFile(path: string | undefined): SocketFile | undefined {
  if (path === undefined || path.startsWith('\0')) return undefined;
  try {
    const { dev, ino } = statSync(path);
    return { path, dev, ino };
  } catch {
    return undefined;
  }
}

function nativeError(cause: unknown, where: { address: string; port?: number }): unknown {
  const e = cause as { errno?: number; syscall?: string };
  if (typeof e?.errno === 'number' && typeof e.syscall === 'string') return systemError(e.errno, e.syscall, where);
  return cause;
}

/** io_uring could not be set up: a coded error naming the reason (ERR-4). */
function unavailable(cause: unknown): IoleaseError {
  const e = cause as { errno?: number; code?: string; syscall?: string };
  const code = e?.code ?? 'unknown';
  // Linux's EOPNOTSUPP is ENOTSUP by libuv's names, which the addon's errors carry (ERR-3).
  const unsupported = code === 'ENOTSUP' || code === 'EOPNOTSUPP';
  const reasons: Record<string, string> = {
    ENOSYS: 'the kernel has no io_uring (built without it, or too old)',
    EPERM:
      'io_uring is forbidden here (sysctl kernel.io_uring_disabled, or a seccomp profile such as a container runtime default)',
    EACCES: 'io_uring is restricted to a group this process is not in (kernel.io_uring_group)',
    ENOMEM: 'the kernel could not allocate the ring (memory limits)',
    EINVAL: 'the kernel rejected the ring or buffer-ring setup (provided-buffer rings need Linux 5.19+)',
  };
  const error = new IoleaseError(
    unsupported ? ErrorCode.FEATURE_UNSUPPORTED : ErrorCode.BACKEND_UNAVAILABLE,
    `io_uring is unavailable: ${e?.syscall ?? 'setup'} failed with ${code}: ${unsupported ? 'the kernel lacks an io_uring operation this loop needs' : (reasons[code] ?? 'see the cause')}. The node:net backend of @iolease/adapters runs everywhere.`,
    { cause },
  );
  return error;
}
