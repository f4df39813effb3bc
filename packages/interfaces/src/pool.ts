import type { SizeClassConfig } from './size-class.js';
import type { Unsubscribe } from './subscription.js';

/**
 * A snapshot of one size class (POOL-5, PRESS-5).
 *
 * @since 0.1.0
 */
export interface SizeClassStatistics {
  /** Bytes per buffer. */
  readonly size: number;
  /** Buffers in the class. */
  readonly count: number;
  /**
   * Buffers free for the kernel or backend to fill. On io_uring this includes buffers the kernel
   * has just filled for completions the loop has not seen yet.
   */
  readonly available: number;
  /**
   * Buffers delivered and not given back: leases the application holds (a lease released while a
   * write still sends it counts until that write completes, LEASE-10), and data held for a
   * paused channel (READ-2). With incremental buffers, a buffer holding several leases counts
   * once, until the last of them is released (POOL-5).
   */
  readonly leased: number;
  /** Of {@link SizeClassStatistics.leased}, buffers held for paused channels, not yet delivered (READ-2). */
  readonly held: number;
  /** Buffers given back and on their way to the kernel or free list (a return batch, not yet applied). */
  readonly returning: number;
  /** Buffers of leases found leaked (DIAG-2): never reused, since a view of them may live on. */
  readonly quarantined: number;
  /** Times the class ran out of buffers (PRESS-5). */
  readonly pressureEvents: number;
  /** Whether the class is exhausted now (PRESS-4). */
  readonly underPressure: boolean;
}

/**
 * A snapshot of the whole pool (POOL-5).
 *
 * @since 0.1.0
 */
export interface PoolStatistics {
  /** One entry per size class, smallest first. */
  readonly classes: readonly SizeClassStatistics[];
  /**
   * Leases delivered and not yet released (nor found leaked), across all classes: as many as the
   * buffers leased, or more with incremental buffers, where one buffer holds several (POOL-5).
   */
  readonly leasesOut: number;
  /** Bytes received into leases not yet released. */
  readonly bytesLeased: number;
  /** Total memory of the pool in bytes; fixed for the loop's life (POOL-6). */
  readonly capacityBytes: number;
  /** Sum of the classes' {@link SizeClassStatistics.pressureEvents}. */
  readonly pressureEvents: number;
}

/**
 * A change of a size class into or out of pressure (PRESS-4). Delivered on the loop's thread,
 * once per transition, in the order the transitions happened.
 *
 * @since 0.1.0
 */
export interface PoolPressureEvent {
  /** Buffer size of the class that changed. */
  readonly sizeClass: number;
  /** `true` when the class just ran out of buffers, `false` when buffers came back. */
  readonly underPressure: boolean;
}

/**
 * The loop-owned receive memory (spec §3 and §7). Read-only from the application's side:
 * memory enters it at loop creation and comes back through {@link Lease.release}.
 *
 * @since 0.1.0
 */
export interface BufferPool {
  /** The size classes, smallest first, as configured (POOL-2). */
  readonly sizeClasses: readonly SizeClassConfig[];

  /** Whether any size class is exhausted now (PRESS-4). */
  readonly underPressure: boolean;

  /**
   * The class a preferred read size maps to (POOL-3).
   *
   * @param preferredSize - bytes, as a sizer returns them
   * @returns the buffer size of the chosen class
   */
  sizeClassFor(preferredSize: number): number;

  /** A consistent snapshot of the pool's counters (POOL-5). */
  stats(): PoolStatistics;

  /**
   * Calls `listener` on each pressure transition of any class (PRESS-4). None follows the loop's
   * `close()`: the pressure state stays as it was then, while leases released later still count
   * as available.
   *
   * @param listener - called on the loop's thread, never synchronously from this call
   * @returns a function that stops the subscription
   */
  onPressureChange(listener: (event: PoolPressureEvent) => void): Unsubscribe;
}
