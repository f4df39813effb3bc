import { markAsUntransferable } from 'node:worker_threads';
import { BufferMemory, type ChannelCorePool, PoolLedger, reportUncaught } from '@iolease/backend-core';
import type { BufferPool, SizeClassConfig } from '@iolease/interfaces';

/** A connection waiting for a buffer of a class that had none (PRESS-1). */
export interface Waiter {
  /** A buffer of the class came back: try again (PRESS-3). */
  resume(): void;
}

/**
 * The loop-owned pool: a free list per size class. The books (leased, held, pressure, stats) are
 * the `PoolLedger`'s it extends, the buffers' memory a `BufferMemory`'s; this pool only knows
 * which buffers are free and who waits for them.
 */
export class MinimalPool extends PoolLedger implements BufferPool, ChannelCorePool {
  readonly #memory: BufferMemory;
  readonly #free: number[][];
  readonly #waiters: Set<Waiter>[];

  constructor(sizeClasses: readonly SizeClassConfig[], poison: boolean, defer: (task: () => void) => void) {
    // In poison mode, a lease released under a pending write is reported (LEASE-10).
    const warn = (w: { message: string; code: string }) => process.emitWarning(w.message, { code: w.code });
    super(sizeClasses, { defer, onFirstDeferredRelease: poison ? warn : undefined });
    this.#memory = new BufferMemory(sizeClasses, { pins: this.pins, poison, create: untransferable });
    this.#free = sizeClasses.map((c) => Array.from({ length: c.count }, (_, b) => c.count - 1 - b));
    this.#waiters = sizeClasses.map(() => new Set());
  }

  /**
   * Copies `bytes` into a free buffer of class `classIndex` and returns its id and view, or
   * `undefined` when the class has none: then `waiter` is resumed once one comes back (PRESS-1).
   */
  fill(classIndex: number, bytes: Uint8Array, waiter: Waiter): { bufferId: number; view: Uint8Array } | undefined {
    const free = this.#free[classIndex] as number[];
    const bufferId = free.pop();
    if (bufferId === undefined) {
      this.#waiters[classIndex]?.add(waiter);
      return undefined;
    }
    this.taken(classIndex, bytes.length);
    if (free.length === 0) this.setPressure(classIndex, true);
    return { bufferId, view: this.#memory.fill(classIndex, bufferId, bytes) };
  }

  /** Stops waiting: the connection closed or no longer reads. */
  forget(waiter: Waiter): void {
    for (const waiters of this.#waiters) waiters.delete(waiter);
  }

  /** A lease came back (LEASE-3): the buffer is free, and every waiter of its class tries again. */
  give(classIndex: number, bufferId: number, length: number): void {
    if (this.pins.deferIfPinned(classIndex, bufferId, length)) return; // a write still sends it
    this.returned(classIndex, length);
    this.#memory.returned(classIndex, bufferId);
    this.#free[classIndex]?.push(bufferId);
    this.setPressure(classIndex, false);
    // All of them: one that takes nothing (it closed, or has nothing to read) must not leave
    // the next waiting for good (PRESS-8).
    const waiters = [...(this.#waiters[classIndex] as Set<Waiter>)];
    this.#waiters[classIndex]?.clear();
    for (const waiter of waiters) {
      try {
        waiter.resume();
      } catch (error) {
        reportUncaught(error); // a defect, but the other waiters still get their turn
      }
    }
  }
}

/** Memory the application cannot transfer away, so writes may send a lease's bytes without a copy. */
function untransferable(size: number): ArrayBuffer {
  const memory = new ArrayBuffer(size);
  markAsUntransferable(memory);
  return memory;
}
