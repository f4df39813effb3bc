import { markAsUntransferable } from 'node:worker_threads';
import { BufferMemory, type LeaseOwner, PoolLedger, reportUncaught, type WritePins } from '@iolease/backend-core';
import type { BufferPool, PoolPressureEvent, PoolStatistics, SizeClassConfig, Unsubscribe } from '@iolease/interfaces';

/** A channel as the pool sees it: something reading into a class, stopped and restarted by pressure. */
export interface PoolReader {
  /** Stop reading now: the class this reader reads into has no buffer left (PRESS-1). */
  stopForPressure(): void;
  /** Buffers of the class it waited on are back: read again (PRESS-3). */
  resumeAfterPressure(): void;
}

interface ClassState {
  readonly size: number;
  /** Where node:net reads into for this class (see NetBufferPool). */
  readonly landing: Uint8Array;
  /** Free buffer ids, a stack: the most recently released buffer is the warmest in cache. */
  readonly free: Int32Array;
  freeCount: number;
  /** Channels reading into this class right now. */
  readonly readers: Set<PoolReader>;
  /** Channels stopped by this class's pressure, in the order they stopped (PRESS-6). */
  readonly waiters: PoolReader[];
}

/**
 * The node:net backend's loop-owned pool (spec §3, §7).
 *
 * node:net's `onread` hands each socket one "next buffer" that it keeps until the socket's next
 * read, however long the socket stays idle. Handing every socket a pool buffer would let idle
 * connections pin the pool. Instead every socket reads into one shared landing area per class:
 * the read runs synchronously on this thread and its callback moves the bytes at once into a
 * free pool buffer, which becomes the lease. One copy per read buys receive memory bounded by
 * the pool, whatever the connection count.
 *
 * A read may only land when its class has a free buffer to move into, so the pool stops every
 * reader of a class the moment its last buffer is taken, and restarts them when one comes back.
 */
export class NetBufferPool implements BufferPool, LeaseOwner {
  readonly sizeClasses: readonly SizeClassConfig[];
  readonly #classes: ClassState[];
  readonly #ledger: PoolLedger;
  readonly #memory: BufferMemory;
  /**
   * The buffers pending writes send from (LEASE-10): channels pin a write's chunks in `write()`
   * and unpin them before its completion runs.
   *
   * @internal
   */
  readonly pins: WritePins;
  #closed = false;

  constructor(
    sizeClasses: readonly SizeClassConfig[],
    options: { poison: boolean; defer: (task: () => void) => void },
  ) {
    this.sizeClasses = sizeClasses;
    this.#ledger = new PoolLedger(sizeClasses, {
      defer: options.defer,
      give: (index, bufferId, length) => this.give(index, bufferId, length),
      onFirstDeferredRelease: options.poison ? warn : undefined,
    });
    this.pins = this.#ledger.pins;
    this.#memory = new BufferMemory(sizeClasses, { pins: this.pins, poison: options.poison, create: newBufferMemory });
    const landing = new ArrayBuffer(Math.max(...sizeClasses.map((c) => c.size)));
    this.#classes = sizeClasses.map((c) => {
      const free = new Int32Array(c.count);
      for (let i = 0; i < c.count; i++) free[i] = c.count - 1 - i;
      return {
        size: c.size,
        landing: new Uint8Array(landing, 0, c.size),
        free,
        freeCount: c.count,
        readers: new Set(),
        waiters: [],
      };
    });
  }

  get underPressure(): boolean {
    return this.#ledger.underPressure;
  }

  sizeClassFor(preferredSize: number): number {
    return this.#ledger.sizeClassFor(preferredSize);
  }

  /**
   * POOL-3, as an index.
   *
   * @internal
   */
  classIndexFor(preferredSize: number): number {
    return this.#ledger.classIndexFor(preferredSize);
  }

  /** @internal */
  classSize(index: number): number {
    return this.#ledger.classSize(index);
  }

  /**
   * The memory of buffer `bufferId` of class `index`: every lease of that buffer views it, and
   * it holds nothing else (LEASE-1). Allocated with the pool (POOL-6).
   */
  memoryOf(index: number, bufferId: number): ArrayBuffer {
    return this.#memory.memoryOf(index, bufferId);
  }

  /**
   * The buffer node:net reads into for class `index`.
   *
   * @internal
   */
  landing(index: number): Uint8Array {
    return (this.#classes[index] as ClassState).landing;
  }

  /**
   * Whether a read into class `index` could be moved into a pool buffer now.
   *
   * @internal
   */
  hasFree(index: number): boolean {
    return (this.#classes[index] as ClassState).freeCount > 0;
  }

  /**
   * The class a read landed for class `index` can move into: `index` itself when it has a free
   * buffer, else the next larger class that has one (POOL-4, PRESS-7), else -1. Every landing
   * view starts at the same memory, so a larger class's copy takes the same bytes.
   *
   * @internal
   */
  classWithFree(index: number): number {
    for (let i = index; i < this.#classes.length; i++) {
      if ((this.#classes[i] as ClassState).freeCount > 0) return i;
    }
    return -1;
  }

  /**
   * `reader` reads into class `index` from now on (or into none, with -1).
   *
   * @internal
   */
  setReading(reader: PoolReader, from: number, to: number): void {
    if (from === to) return;
    if (from >= 0) (this.#classes[from] as ClassState).readers.delete(reader);
    if (to >= 0) (this.#classes[to] as ClassState).readers.add(reader);
  }

  /**
   * `reader` waits for buffers of class `index`; it is resumed once one is given back.
   *
   * @internal
   */
  wait(reader: PoolReader, index: number): void {
    (this.#classes[index] as ClassState).waiters.push(reader);
  }

  /**
   * Forgets `reader` as a waiter of class `index` (it closed or paused).
   *
   * @internal
   */
  forget(reader: PoolReader, index: number): void {
    const waiters = (this.#classes[index] as ClassState).waiters;
    const i = waiters.indexOf(reader);
    if (i >= 0) waiters.splice(i, 1);
  }

  /**
   * Moves `length` landed bytes of class `index` into a free buffer and returns its id and view.
   * The caller made sure one is free (hasFree). Taking the last one stops every reader of the
   * class before any of them can read again.
   *
   * @internal
   */
  take(index: number, length: number): { bufferId: number; view: Uint8Array } {
    const c = this.#classes[index] as ClassState;
    const bufferId = c.free[--c.freeCount] as number;
    const view = this.#memory.fill(index, bufferId, length === c.size ? c.landing : c.landing.subarray(0, length));
    this.#ledger.taken(index, length);
    if (c.freeCount === 0) this.#enterPressure(index, c);
    return { bufferId, view };
  }

  /** A lease came back (LEASE-3): free its buffer and restart the class's waiters (PRESS-3). */
  give(index: number, bufferId: number, length: number): void {
    // Released while a write still sends it: the buffer returns when that write completes.
    if (this.pins.deferIfPinned(index, bufferId, length)) return;
    const c = this.#classes[index] as ClassState;
    this.#ledger.returned(index, length);
    this.#memory.returned(index, bufferId);
    c.free[c.freeCount++] = bufferId;
    if (this.#ledger.pressured(index) && !this.#closed) this.#leavePressure(index, c);
  }

  /**
   * A channel holds (`delta` 1) or stops holding (-1) a buffer of class `sizeClass` for later
   * delivery (READ-2).
   *
   * @internal
   */
  hold(sizeClass: number, delta: number): void {
    this.#ledger.hold(sizeClass, delta);
  }

  /**
   * Leak detection found a lease of class `sizeClass` holding `length` bytes collected unreleased:
   * its buffer is never reused (DIAG-2), and counts as quarantined from now on (POOL-5).
   *
   * @internal
   */
  quarantine(sizeClass: number, length: number): void {
    this.#ledger.quarantine(sizeClass, length);
  }

  stats(): PoolStatistics {
    return this.#ledger.stats();
  }

  onPressureChange(listener: (event: PoolPressureEvent) => void): Unsubscribe {
    return this.#ledger.onPressureChange(listener);
  }

  /**
   * The loop closed: nobody reads any more; released leases only update the counters (LEASE-6).
   *
   * @internal
   */
  close(): void {
    this.#closed = true;
    for (const c of this.#classes) {
      c.readers.clear();
      c.waiters.length = 0;
    }
  }

  #enterPressure(index: number, c: ClassState): void {
    // Every reader of the class stops now, synchronously, so none reads before a buffer is free.
    const readers = [...c.readers];
    c.readers.clear();
    for (const reader of readers) {
      c.waiters.push(reader);
      reader.stopForPressure();
    }
    this.#ledger.setPressure(index, true);
  }

  #leavePressure(index: number, c: ClassState): void {
    this.#ledger.setPressure(index, false);
    // All waiters restart: an idle one takes nothing, so resuming only as many as there are free
    // buffers could leave a busy one waiting behind an idle one for good.
    const waiters = c.waiters.splice(0);
    for (const reader of waiters) {
      try {
        reader.resumeAfterPressure();
      } catch (error) {
        reportUncaught(error); // a defect, but the other waiters still get their turn
      }
    }
  }
}

function warn(warning: { message: string; code: string }): void {
  process.emitWarning(warning.message, { code: warning.code });
}

/** One pool buffer's memory, which the application cannot transfer away (LEASE-11). */
function newBufferMemory(size: number): ArrayBuffer {
  const memory = new ArrayBuffer(size);
  markAsUntransferable(memory);
  return memory;
}
