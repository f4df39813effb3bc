import {
  type PoolPressureEvent,
  type PoolStatistics,
  type SizeClassConfig,
  sizeClassIndexFor,
  type Unsubscribe,
} from '@iolease/interfaces';
import { poolStatistics } from './pool-statistics.js';
import type { LeaseOwner } from './pooled-lease.js';
import { PressureNotifier } from './pressure-notifier.js';
import { RELEASE_UNDER_WRITE_WARNING, WritePins } from './write-pins.js';

/** One class's books. */
interface ClassBooks {
  readonly size: number;
  readonly count: number;
  /** Buffers delivered and not given back (leases, and data held for paused channels). */
  leased: number;
  /** Leases out: as many as `leased`, unless buffers hold several leases (incremental buffers). */
  leases: number;
  /** Of those, held for paused channels (READ-2). */
  held: number;
  /** Buffers of leaked leases, never reused (DIAG-2). */
  quarantined: number;
  bytesLeased: number;
  underPressure: boolean;
  pressureEvents: number;
}

/**
 * What a {@link PoolLedger} needs of its pool.
 *
 * @since 0.2.0
 */
export interface PoolLedgerOptions {
  /** Runs a task later, as the loop runs its callbacks: pressure events (PRESS-4, LOOP-2). */
  readonly defer: (task: () => void) => void;
  /**
   * Takes back a buffer whose release waited for a write (LEASE-10): the pool's own `give`.
   * Default: the `give` of the class that extends the ledger.
   */
  readonly give?: ((classIndex: number, bufferId: number, length: number, bytes?: Uint8Array) => void) | undefined;
  /** Called once, at the first release that had to wait for a write, e.g. to warn in poison mode. */
  readonly onFirstDeferredRelease?: ((warning: typeof RELEASE_UNDER_WRITE_WARNING) => void) | undefined;
}

/**
 * The books every pool keeps the same way (spec §3, §7, POOL-5): its classes and their sizes,
 * what is leased, held and quarantined, pressure and its events, the write pins (LEASE-10). The
 * pool itself keeps what differs: where free buffers are (a free list, a kernel ring) and who
 * waits for them. It has `BufferPool`'s shared members (`sizeClasses`, `sizeClassFor`,
 * `underPressure`, `onPressureChange`, and `stats` given the figures only the pool knows), so a
 * pool may hold one or extend it. Only buffers a pool `track`s in {@link PoolLedger.pins} are
 * pinned; a pool whose backend copies every write tracks none.
 *
 * @since 0.2.0
 */
export class PoolLedger {
  /** The classes as configured (POOL-1). */
  readonly sizeClasses: readonly SizeClassConfig[];
  /** The buffers pending writes send from (LEASE-10). */
  readonly pins: WritePins;
  readonly #classes: ClassBooks[];
  readonly #sizes: readonly number[];
  readonly #pressure: PressureNotifier;
  #pressured = 0;
  #closed = false;

  /**
   * @param sizeClasses - the validated classes
   * @param options - deferral, the pool's `give`, and who hears of a release under a write
   */
  constructor(sizeClasses: readonly SizeClassConfig[], options: PoolLedgerOptions) {
    this.sizeClasses = sizeClasses;
    this.#sizes = sizeClasses.map((c) => c.size);
    this.#classes = sizeClasses.map((c) => ({
      size: c.size,
      count: c.count,
      leased: 0,
      leases: 0,
      held: 0,
      quarantined: 0,
      bytesLeased: 0,
      underPressure: false,
      pressureEvents: 0,
    }));
    this.#pressure = new PressureNotifier(options.defer);
    const warn = options.onFirstDeferredRelease;
    const give =
      options.give ??
      ((i: number, b: number, n: number, bytes?: Uint8Array) => (this as unknown as LeaseOwner).give(i, b, n, bytes));
    this.pins = new WritePins(
      sizeClasses.map((c) => c.count),
      { give, onFirstDeferredRelease: warn && (() => warn(RELEASE_UNDER_WRITE_WARNING)) },
    );
  }

  /** Whether any class is under pressure (PRESS-4). */
  get underPressure(): boolean {
    return this.#pressured > 0;
  }

  /** The buffer size a read of `preferredSize` bytes gets (POOL-3). */
  sizeClassFor(preferredSize: number): number {
    return this.#sizes[this.classIndexFor(preferredSize)] as number;
  }

  /** POOL-3, as the class's index. */
  classIndexFor(preferredSize: number): number {
    return sizeClassIndexFor(preferredSize, this.#sizes);
  }

  /** The buffer size of class `classIndex`. */
  classSize(classIndex: number): number {
    return this.#sizes[classIndex] as number;
  }

  /** Buffers of class `classIndex` delivered and not given back, quarantined ones not counted. */
  leased(classIndex: number): number {
    return (this.#classes[classIndex] as ClassBooks).leased;
  }

  /** Buffers of class `classIndex` that leaked and are never reused (DIAG-2). */
  quarantined(classIndex: number): number {
    return (this.#classes[classIndex] as ClassBooks).quarantined;
  }

  /**
   * A buffer of class `classIndex` was filled with `length` bytes for a channel.
   *
   * @param buffers - 0 when the lease is one more piece of a buffer already leased (incremental
   *   buffers, POOL-4): it counts as a lease, not as a buffer
   */
  taken(classIndex: number, length: number, buffers = 1): void {
    const c = this.#classes[classIndex] as ClassBooks;
    c.leased += buffers;
    c.leases++;
    c.bytesLeased += length;
  }

  /**
   * A lease of `length` bytes came back to class `classIndex` (LEASE-3).
   *
   * @param buffers - 0 when other leases of its buffer are still out (incremental buffers)
   */
  returned(classIndex: number, length: number, buffers = 1): void {
    const c = this.#classes[classIndex] as ClassBooks;
    c.leased -= buffers;
    c.leases--;
    c.bytesLeased -= length;
  }

  /** A channel holds (`delta` 1) or stops holding (-1) a buffer of `sizeClass` bytes (READ-2). */
  hold(sizeClass: number, delta: number): void {
    (this.#classes[this.classIndexFor(sizeClass)] as ClassBooks).held += delta;
  }

  /**
   * A lease of `sizeClass` bytes holding `length` bytes was collected unreleased: its buffer is
   * never reused (DIAG-2) and counts as quarantined (POOL-5). The shape a `LeakTracker`'s pool
   * takes (`leakTrackerFor`).
   */
  quarantine(sizeClass: number, length: number): void {
    this.leaked(this.classIndexFor(sizeClass), length, 1);
  }

  /**
   * A lease of class `classIndex` holding `length` bytes was collected unreleased (DIAG-2).
   *
   * @param buffers - buffers that become quarantined with it: 1, or 0 when its buffer already is,
   *   for another lease of it that leaked (incremental buffers, POOL-5)
   */
  leaked(classIndex: number, length: number, buffers: number): void {
    const c = this.#classes[classIndex] as ClassBooks;
    c.leased -= buffers;
    c.leases--;
    c.bytesLeased -= length;
    c.quarantined += buffers;
  }

  /** Whether class `classIndex` is under pressure now. */
  pressured(classIndex: number): boolean {
    return (this.#classes[classIndex] as ClassBooks).underPressure;
  }

  /**
   * Class `classIndex` went into (`true`) or out of pressure: counted (POOL-5) and told to the
   * subscribers once per transition, later (PRESS-4). A call that changes nothing does nothing,
   * and after {@link PoolLedger.close} no call does.
   */
  setPressure(classIndex: number, on: boolean): void {
    const c = this.#classes[classIndex] as ClassBooks;
    if (this.#closed || c.underPressure === on) return;
    c.underPressure = on;
    this.#pressured += on ? 1 : -1;
    if (on) c.pressureEvents++;
    this.#pressure.notify(c.size, on);
  }

  /**
   * The loop closed: nobody waits for a buffer any more, so no pressure transition is notified
   * from now on and the pressure state stays as it was, while the counts still change as leases
   * come back (PRESS-4, LEASE-6). A backend calls it once its loop has closed.
   *
   * @since 0.2.0
   */
  close(): void {
    this.#closed = true;
  }

  /** Adds a pressure subscriber, as `BufferPool.onPressureChange` does. */
  onPressureChange(listener: (event: PoolPressureEvent) => void): Unsubscribe {
    return this.#pressure.subscribe(listener);
  }

  /**
   * The pool's statistics (POOL-5), given per class the buffers given back and not yet usable
   * again (`returning`); every other buffer neither leased nor quarantined is available.
   */
  stats(returning: (classIndex: number) => number = () => 0): PoolStatistics {
    return poolStatistics(
      this.#classes.map((c, i) => {
        const back = returning(i);
        return {
          size: c.size,
          count: c.count,
          available: c.count - c.leased - c.quarantined - back,
          leased: c.leased,
          held: c.held,
          returning: back,
          quarantined: c.quarantined,
          leases: c.leases,
          bytesLeased: c.bytesLeased,
          pressureEvents: c.pressureEvents,
          underPressure: c.underPressure,
        };
      }),
    );
  }
}
