import type { IoleaseError, RecvByteBufferSizer, SocketAddress, WaterMarks } from '@iolease/interfaces';
import type { ChannelCore } from './channel-core.js';
import type { LeakTracker } from './leak-tracker.js';
import type { LeaseOwner } from './pooled-lease.js';
import type { WritePins } from './write-pins.js';
import type { PendingWrite } from './write-queue.js';

/**
 * What a backend does for one connection, driven by a {@link ChannelCore}: the I/O itself. The
 * core decides when (spec §5–§10); the transport only does it, and reports back through the
 * core's transport-facing methods (`received`, `ended`, `sent`, `fail`, `finalize`).
 *
 * Every method is called from the loop's turn or from an API call; none may call an application
 * callback itself (LOOP-2): what the application must hear goes through the core.
 *
 * @since 0.2.0
 */
export interface ChannelTransport {
  /**
   * Receiving is wanted (READ-1): start it on the class {@link ChannelCore.preferredClass} names,
   * or wait for that class's buffers under pressure (PRESS-1). Called again while already
   * receiving or waiting; then nothing changes. The core calls it only on the loop's turn, never
   * inside an application's API call, so a transport with bytes at hand may report them
   * ({@link ChannelCore.received}, {@link ChannelCore.ended}) from inside it (LOOP-2).
   */
  receive(): void;
  /** Receiving is not wanted (READ-3, PRESS-9): stop it, or stop waiting for buffers. Idempotent. */
  stopReceiving(): void;
  /**
   * A write was queued (`write`); send it after the writes before it, and report the bytes taken
   * with {@link ChannelCore.sent}. A transport that sends from the core's queue
   * ({@link ChannelCore.writes}) may ignore the argument.
   */
  send(write: PendingWrite): void;
  /**
   * Output ends: send FIN (LIFE-4). Called once, after `shutdown()`, when every write before it
   * was taken. Returns the error when the system refused.
   */
  shutdown(): IoleaseError | undefined;
  /**
   * Close the connection, with a reset when `abortive` (LIFE-6): stop receiving and waiting for
   * buffers too. Call {@link ChannelCore.finalize} once nothing in the system refers to the
   * connection any more (LIFE-7), then forget the channel in the loop's books.
   */
  close(abortive: boolean): void;
  /** Sets `TCP_NODELAY`; called only while open. */
  setNoDelay(noDelay: boolean): void;
  /** Sets TCP keep-alive, the delay in whole seconds (LIFE-18); called only while open. */
  setKeepAlive(enable: boolean, delaySeconds: number): void;
  /** Whether the connection keeps the host process alive (LOOP-6); called only while open. */
  setReferenced(referenced: boolean): void;
  /** The local or (`peer`) remote address (LIFE-13); the core keeps it once read. */
  address(peer: boolean): SocketAddress;
}

/**
 * What a {@link ChannelCore} needs of the loop's pool.
 *
 * @since 0.2.0
 */
export interface ChannelCorePool extends LeaseOwner {
  /** The index of the class a read of `preferredSize` bytes lands in (POOL-3). */
  classIndexFor(preferredSize: number): number;
  /** The buffer size of class `classIndex`. */
  classSize(classIndex: number): number;
  /** Counts buffers of the class of `sizeClass` bytes held for a paused channel (POOL-5 `held`). */
  hold(sizeClass: number, delta: number): void;
  /** The pins of pool buffers that pending writes send (LEASE-2); none when writes are copied. */
  readonly pins: WritePins | undefined;
}

/**
 * What a {@link ChannelCore} needs of its loop.
 *
 * @since 0.2.0
 */
export interface ChannelCoreLoop {
  /** Runs a task later, in order with the loop's other deferred callbacks (LOOP-2). */
  defer(task: () => void): void;
  /** A new lease id, unique in the loop; counts a delivered lease (DIAG-4 `leasesDelivered`). */
  nextLeaseId(): number;
  /** A write completed having sent `bytes` (DIAG-4 `writesCompleted`, `bytesWritten`). */
  countWrite(bytes: number): void;
  /** The loop's leak tracker; none at level `off` (DIAG-5). */
  readonly leaks: LeakTracker | undefined;
}

/**
 * A new channel's settings, from its `listen()` or `connect()` (`ChannelTemplate`) and the
 * sizer made for it.
 *
 * @since 0.2.0
 */
export interface ChannelSettings {
  /** The channel's sizer (SIZER-1). */
  readonly sizer: RecvByteBufferSizer;
  /** Whether it reads as soon as it has a handler (READ-1). */
  readonly autoRead: boolean;
  /** Its water marks, validated (WATER-1). */
  readonly waterMarks: WaterMarks;
  /** The most buffers it holds before it stops receiving (PRESS-9); `Infinity` for no limit. */
  readonly maxLeases: number;
}

/**
 * What one {@link ChannelCore} is made of.
 *
 * @since 0.2.0
 */
export interface ChannelCoreInit extends ChannelSettings {
  /** Unique in the loop (LIFE-13). */
  readonly id: number;
  /** A client channel whose connect has not completed: no reading or sending until `connected()`. */
  readonly connecting: boolean;
  /** The loop's pool. */
  readonly pool: ChannelCorePool;
  /** The loop. */
  readonly loop: ChannelCoreLoop;
  /** Makes the transport, given the channel it serves. */
  readonly transport: (channel: ChannelCore) => ChannelTransport;
}
