import type { SocketAddress } from './address.js';
import type { IoleaseError } from './errors.js';
import type { Lease } from './lease.js';
import type { RecvByteBufferSizer } from './sizer.js';
import type { WaterMarks } from './water-marks.js';
import type { WriteCompletionCallback, WriteData } from './write-completion.js';

/**
 * Where a channel is in its life (LIFE-9). `open` covers half-closed states too; see
 * {@link Channel.inputEnded} and {@link Channel.outputEnded}.
 *
 * @since 0.1.0
 */
export type ChannelState = 'open' | 'closed';

/**
 * The callbacks of one channel (LIFE-2). Every member is optional; all run on the loop's thread.
 * For one channel, {@link ChannelHandler.onClose} is always the last call (LIFE-12).
 *
 * @since 0.1.0
 */
export interface ChannelHandler {
  /**
   * Bytes arrived. The application owns `lease` from here and must release it (LEASE-2).
   *
   * @param channel - the channel the bytes came from
   * @param lease - the filled buffer, at least one byte
   */
  onRead?(channel: Channel, lease: Lease): void;

  /**
   * The peer finished sending (EOF), after every byte it sent was delivered (LIFE-5, READ-6).
   * The channel stays open for writing until closed.
   *
   * @param channel - the channel whose input ended
   */
  onEnd?(channel: Channel): void;

  /**
   * {@link Channel.writable} changed (WATER-4).
   *
   * @param channel - the channel
   * @param writable - the new value
   */
  onWritabilityChanged?(channel: Channel, writable: boolean): void;

  /**
   * The channel failed (LIFE-8); {@link ChannelHandler.onClose} follows. Without this member a
   * failure is reported to the host as an uncaught exception, as an `'error'` event with no
   * listener is in Node: give every handler that can see a peer reset an `onError`.
   *
   * @param channel - the channel
   * @param error - a system error (`ECONNRESET`, …) or an iolease error
   */
  onError?(channel: Channel, error: IoleaseError): void;

  /**
   * The channel is closed, every write pending at close has completed, and no other handler call
   * will come; only completions of writes made after close may follow (LIFE-12, WRITE-10).
   *
   * @param channel - the channel
   */
  onClose?(channel: Channel): void;
}

/**
 * Options shared by accepted and connected channels.
 *
 * @since 0.1.0
 */
export interface ChannelOptions {
  /**
   * Makes the sizer for each new channel (SIZER-1). Default: a new
   * {@link AdaptiveRecvByteBufferSizer} with its defaults.
   */
  readonly sizer?: () => RecvByteBufferSizer;
  /** Whether reads start as soon as a handler is set (READ-1). Default `true`. */
  readonly autoRead?: boolean;
  /** Writability thresholds (WATER-1). Default {@link DEFAULT_WATER_MARKS}. */
  readonly waterMarks?: WaterMarks;
  /** Disables Nagle's algorithm (`TCP_NODELAY`). Default `true`: latency first, as for servers. */
  readonly noDelay?: boolean;
  /**
   * The most pool buffers the channel may hold at once: leases delivered and not released, and
   * data held for it (READ-2). At the limit it stops receiving until one is released, so one
   * channel that does not release cannot take a whole size class from the others (PRESS-9).
   * An integer from 1; default: no limit.
   */
  readonly maxLeases?: number;
}

/**
 * One connection (spec §5, §6, §8, §9, §10).
 *
 * Reads arrive as {@link Lease}s through the {@link ChannelHandler}; writes pin their memory
 * until their {@link WriteCompletionCallback} runs.
 *
 * @since 0.1.0
 */
export interface Channel {
  /** Unique among the channels of one loop. */
  readonly id: number;
  /** `open` until closed by either side, reset or loop close (LIFE-9). */
  readonly state: ChannelState;
  /** The local end's address. */
  readonly localAddress: SocketAddress;
  /** The peer's address. */
  readonly remoteAddress: SocketAddress;
  /** The sizer that chooses this channel's read sizes (SIZER-1). */
  readonly sizer: RecvByteBufferSizer;
  /** Whether the peer's EOF has been delivered through {@link ChannelHandler.onEnd}. */
  readonly inputEnded: boolean;
  /** Whether {@link Channel.shutdown} was called. */
  readonly outputEnded: boolean;
  /** Whether pending write bytes are within the water marks (WATER-3). */
  readonly writable: boolean;
  /** Bytes of writes submitted and not yet completed (WATER-2). */
  readonly pendingWriteBytes: number;
  /** Whether reads are requested continuously (READ-1). */
  readonly autoRead: boolean;

  /**
   * Installs the callbacks; reads start once a handler is set and auto-read is on (LIFE-2).
   *
   * @param handler - the callbacks
   * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` for a non-object
   */
  setHandler(handler: ChannelHandler): void;

  /**
   * Pauses (`false`) or resumes (`true`) reading (READ-2, READ-5). While paused, the channel
   * holds no receive armed and its data waits in the kernel (READ-3).
   *
   * @param autoRead - whether to read continuously
   */
  setAutoRead(autoRead: boolean): void;

  /**
   * With auto-read off, asks for exactly one more {@link ChannelHandler.onRead} (READ-4).
   * Does nothing while auto-read is on or a requested read is still outstanding.
   */
  read(): void;

  /**
   * Writes bytes; the memory is pinned until `onComplete` runs (WRITE-2). Do not mutate, detach
   * or shrink it meanwhile: a backend never sends what such memory holds afterwards, and fails
   * the channel with `ERR_IOLEASE_INVALID_STATE` if it finds the memory gone (WRITE-12). The
   * views and their lengths are taken now; the array may be reused at once. Any length and any
   * number of views are accepted.
   *
   * @param data - one byte array or several, written as one unit (WRITE-1)
   * @param onComplete - the write's completion, called exactly once (WRITE-3)
   * @returns {@link Channel.writable} after queueing this write (WRITE-11)
   * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` for anything but the types above,
   *   `ERR_IOLEASE_INVALID_ARG_VALUE` for a view of a detached ArrayBuffer (WRITE-12); a write
   *   on a closed or shut-down channel does not throw but completes with an error (WRITE-10)
   */
  write(data: WriteData, onComplete?: WriteCompletionCallback): boolean;

  /**
   * Half-closes: sends FIN once every pending write has completed; reading goes on (LIFE-4).
   * Idempotent.
   */
  shutdown(): void;

  /**
   * Closes now: cancels receives, completes pending writes with `ERR_IOLEASE_CHANNEL_CLOSED`,
   * then calls {@link ChannelHandler.onClose} (LIFE-7). Idempotent. Outstanding leases stay
   * valid (LEASE-5).
   */
  close(): void;

  /** Closes abortively: the peer sees a reset (RST) instead of FIN (LIFE-6). Otherwise as close(). */
  reset(): void;

  /**
   * Changes the water marks (WATER-5); a transition they cause is notified as any other.
   *
   * @param marks - new thresholds
   */
  setWaterMarks(marks: WaterMarks): void;

  /**
   * Sets `TCP_NODELAY`.
   *
   * @param noDelay - `true` disables Nagle's algorithm
   */
  setNoDelay(noDelay: boolean): void;

  /**
   * Sets `SO_KEEPALIVE` and, when given, the idle time before the first probe.
   *
   * @param enable - whether to send keep-alive probes
   * @param initialDelayMs - idle milliseconds before the first probe, an integer from 0 to
   *   2³¹ − 1 (LIFE-18); 0 keeps the system's
   */
  setKeepAlive(enable: boolean, initialDelayMs?: number): void;

  /**
   * Lets the host process exit while this channel is open, as `net.Socket.unref()` does
   * (LOOP-6). A channel starts referenced. Idempotent; does nothing once closed.
   *
   * @returns this channel
   * @since 0.2.0
   */
  unref(): this;

  /**
   * Makes this channel keep the host process alive again while it is open (LOOP-6).
   * Idempotent; does nothing once closed.
   *
   * @returns this channel
   * @since 0.2.0
   */
  ref(): this;
}
