import type { AbortSignalLike } from './abort-signal.js';
import type { LoopCapabilities } from './capabilities.js';
import type { Channel, ChannelHandler, ChannelOptions } from './channel.js';
import type { DiagnosticsOptions, LeakReport } from './diagnostics.js';
import type { AcceptCallback, Listener, ListenOptions } from './listener.js';
import type { BufferPool, PoolStatistics } from './pool.js';
import type { SizeClassConfig } from './size-class.js';
import type { Unsubscribe } from './subscription.js';
import type { WaterMarks } from './water-marks.js';

/**
 * Where to connect (LIFE-3).
 *
 * @since 0.1.0
 */
export interface ConnectOptions extends ChannelOptions {
  /** A numeric IPv4 or IPv6 address. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port. Required unless `path` is given (optional in the type since 0.2.0). */
  readonly port?: number;
  /**
   * Connect to the Unix domain socket at this path instead of TCP (LIFE-20), where the loop
   * provides `unixSockets` (LOOP-9). Not with `host` or `port`.
   *
   * @since 0.2.0
   */
  readonly path?: string;
  /**
   * Gives up after this many milliseconds without a connection: the promise rejects with
   * `ETIMEDOUT` (LIFE-16). Default: none (the kernel's own timeout).
   */
  readonly timeout?: number;
  /** Gives up when aborted: the promise rejects with `ERR_IOLEASE_ABORTED` (LIFE-16). */
  readonly signal?: AbortSignalLike;
}

/**
 * Options common to every backend's loop factory.
 *
 * @since 0.1.0
 */
export interface EventLoopOptions {
  /** The pool's size classes (POOL-2). Default {@link DEFAULT_SIZE_CLASSES}. */
  readonly sizeClasses?: readonly SizeClassConfig[];
  /** Default water marks for new channels (WATER-1). */
  readonly waterMarks?: WaterMarks;
  /** Debugging aids (spec §11). */
  readonly diagnostics?: DiagnosticsOptions;
}

/**
 * The loop's counters (DIAG-4). Monotonic counters only grow over the loop's life.
 *
 * @since 0.1.0
 */
export interface LoopStatistics {
  /** The pool's snapshot (POOL-5). */
  readonly pool: PoolStatistics;
  /** Channels open now. */
  readonly channelsOpen: number;
  /** Listeners open now. */
  readonly listenersOpen: number;
  /** Leases delivered over the loop's life. */
  readonly leasesDelivered: number;
  /** Completions the backend processed (kernel completions, or their equivalent). */
  readonly completions: number;
  /** Batches those completions crossed into JavaScript in (LOOP-4). */
  readonly completionBatches: number;
  /** Operations submitted to the kernel, or their equivalent. */
  readonly submissions: number;
  /** System calls made to submit them (LOOP-4). */
  readonly submitCalls: number;
  /** Writes completed, successfully or not. */
  readonly writesCompleted: number;
  /** Bytes written successfully. */
  readonly bytesWritten: number;
  /** Zero-copy sends the kernel reported as copied after all (WRITE-8). */
  readonly zeroCopyCopied: number;
  /** Leases reported by leak detection (DIAG-2). */
  readonly leaksDetected: number;
}

/**
 * One thread's I/O loop: it owns the buffer pool and runs every callback (spec §2).
 *
 * A backend package exports a factory for it (an {@link EventLoopFactory}).
 *
 * @example
 * ```ts
 * const listener = await loop.listen({ port: 8080 }, () => ({
 *   onRead(channel, lease) {
 *     channel.write(lease.bytes, () => lease.release()); // echo, then return the buffer
 *   },
 * }));
 * ```
 * @since 0.1.0
 */
export interface EventLoop {
  /** The backend's name, e.g. `io_uring` or `node:net`. */
  readonly backend: string;
  /** Whether {@link EventLoop.close} was called. */
  readonly closed: boolean;
  /** The loop's receive memory (spec §3). */
  readonly pool: BufferPool;
  /**
   * The optional features it provides (LOOP-9, CONF-2). A request for one it lacks rejects with
   * `ERR_IOLEASE_FEATURE_UNSUPPORTED`.
   */
  readonly capabilities: LoopCapabilities;

  /**
   * Opens a listener (LIFE-1).
   *
   * @param options - address and options for accepted channels
   * @param onAccept - called once per accepted channel (LIFE-2)
   * @returns resolves once the socket listens; rejects with a system error such as `EADDRINUSE`
   * @throws {@link IoleaseError} `ERR_IOLEASE_LOOP_CLOSED`, or an argument error (ERR-2)
   */
  listen(options: ListenOptions, onAccept: AcceptCallback): Promise<Listener>;

  /**
   * Opens a connection (LIFE-3).
   *
   * @param options - where to, and options for the channel
   * @param handler - installed before any read is delivered
   * @returns resolves to the open channel; rejects with a system error such as `ECONNREFUSED`
   * @throws {@link IoleaseError} `ERR_IOLEASE_LOOP_CLOSED`, or an argument error (ERR-2)
   */
  connect(options: ConnectOptions, handler?: ChannelHandler): Promise<Channel>;

  /** A consistent snapshot of the loop's counters (DIAG-4). */
  stats(): LoopStatistics;

  /**
   * Calls `listener` for each leaked lease found (DIAG-2).
   *
   * @param listener - called on the loop's thread
   * @returns a function that stops the subscription
   */
  onLeak(listener: (report: LeakReport) => void): Unsubscribe;

  /**
   * Closes every listener and channel, waits for the kernel to finish with all memory,
   * releases every kernel resource and file descriptor (LIFE-10). Idempotent. A `listen()` still
   * in flight settles first: with a listener already closed, or with its own error.
   *
   * @returns resolves when nothing of the loop remains but outstanding leases (LEASE-6)
   */
  close(): Promise<void>;
}

/**
 * Creates a loop; what a backend package exports and the conformance kit receives.
 *
 * @since 0.1.0
 */
export type EventLoopFactory<O extends EventLoopOptions = EventLoopOptions> = (
  options?: O,
) => EventLoop | Promise<EventLoop>;
