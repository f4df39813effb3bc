import { PoolLedger, reportUncaught, type WritePins } from '@iolease/backend-core';
import {
  type BufferPool,
  POISON_BYTE,
  type PoolPressureEvent,
  type PoolStatistics,
  type SizeClassConfig,
  type Unsubscribe,
} from '@iolease/interfaces';
import { CQE_F_BUF_MORE, RETURN_LAST_PIECE } from './completion.js';
import { PieceBooks } from './pieces.js';
import { WaiterLine } from './waiter-line.js';

/** What the pool asks of a channel waiting for buffers of an exhausted class. */
export interface PoolWaiter {
  /**
   * Buffers of class `index` are back and this channel holds a wake for them: it arms its
   * receive again, and hands the wake back with {@link UringBufferPool.wakeDone} once that
   * receive took a buffer or ended, at once if it does not arm on that class, and at the latest
   * one turn of the loop after arming, for a receive with nothing to read (PRESS-8).
   */
  resumeReceive(index: number): void;
}

interface ClassState {
  /**
   * Each buffer's own ArrayBuffer, made on its first delivery and kept: a lease's `bytes.buffer`
   * is its buffer and nothing else (LEASE-1), and reads create no memory objects.
   */
  readonly buffers: (ArrayBuffer | undefined)[];
  /**
   * Buffers the kernel can pick, as far as completions seen so far tell: count, minus buffers
   * filled, plus buffers given back (queued for the ring at the next pump).
   */
  ringFree: number;
  /** Channels whose receive ended with ENOBUFS, in the order they started waiting (PRESS-6). */
  readonly waiters: WaiterLine<PoolWaiter>;
  /**
   * Waiters woken and not yet done: each stands for one free buffer its re-armed receive is
   * expected to take. A waiter is woken only for a free buffer no other wake stands for, so one
   * returned buffer wakes one waiter; a wake handed back unused passes to the next (PRESS-8).
   */
  wakes: number;
  /** Set while #wake runs for this class, so a wake handed back inside it does not recurse. */
  waking: boolean;
  /** The class's books of pieces, with incremental buffers (POOL-4). */
  readonly pieces: PieceBooks | undefined;
}

/**
 * The JavaScript side of the loop-owned pool (spec §3, §7): memory views, accounting, and
 * the return of released buffers to the kernel through the shared release queue, which the
 * native pump moves into the buffer rings in one batch.
 */
export class UringBufferPool implements BufferPool {
  readonly sizeClasses: readonly SizeClassConfig[];
  readonly #classes: ClassState[];
  readonly #ledger: PoolLedger;
  readonly #returns: Int32Array;
  readonly #poison: boolean;
  readonly #requestPump: () => void;
  readonly #bufferMemory: (index: number, bid: number, offset?: number, length?: number) => ArrayBuffer;
  readonly #flushReturns: () => void;
  /**
   * Whether the kernel fills buffers a piece at a time (IOU_PBUF_RING_INC): each read is a lease
   * with an ArrayBuffer of its own bytes (LEASE-11), and a buffer returns once the kernel is done
   * with it and all its leases are back.
   *
   * @internal
   */
  readonly incremental: boolean;
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
    returns: Int32Array,
    options: {
      poison: boolean;
      defer: (task: () => void) => void;
      requestPump: () => void;
      /** The memory of one buffer, or a piece of it, as its own ArrayBuffer (the native bufferMemory). */
      bufferMemory: (index: number, bid: number, offset?: number, length?: number) => ArrayBuffer;
      /** Moves the queued returns into the buffer rings now (the native flushReturns). */
      flushReturns: () => void;
      /** Whether the kernel consumes buffers incrementally. */
      incremental: boolean;
    },
  ) {
    this.sizeClasses = sizeClasses;
    this.#classes = sizeClasses.map((c, index) => ({
      buffers: new Array<ArrayBuffer | undefined>(c.count).fill(undefined),
      ringFree: c.count,
      waiters: new WaiterLine<PoolWaiter>(),
      wakes: 0,
      waking: false,
      pieces: options.incremental
        ? new PieceBooks(c.count, c.size, (bid, offset, length) => this.#newPiece(index, bid, offset, length))
        : undefined,
    }));
    this.#returns = returns;
    this.#poison = options.poison;
    this.#requestPump = options.requestPump;
    this.#bufferMemory = options.bufferMemory;
    this.#flushReturns = options.flushReturns;
    this.incremental = options.incremental;
    this.#ledger = new PoolLedger(sizeClasses, {
      defer: options.defer,
      give: (index, bid, length, bytes) => this.give(index, bid, length, bytes),
      onFirstDeferredRelease: this.#poison ? warn : undefined,
    });
    this.pins = this.#ledger.pins;
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
   * A completion filled buffer `bid` of class `index` with `length` bytes, from `offset` on in
   * an incremental buffer whose completion `flags` say whether the kernel fills more of it:
   * view it, count it.
   *
   * @internal
   */
  take(index: number, bid: number, length: number, offset: number, flags: number): Uint8Array {
    const c = this.#classes[index] as ClassState;
    const pieces = c.pieces;
    if (pieces === undefined) {
      this.#ledger.taken(index, length);
      this.#leftRing(index, c);
      return new Uint8Array(this.#memoryOf(index, c, bid), 0, length);
    }
    const more = (flags & CQE_F_BUF_MORE) !== 0;
    this.#ledger.taken(index, length, pieces.taken(bid, more) ? 1 : 0);
    if (!more) this.#leftRing(index, c);
    // The kernel may still fill the rest of the buffer, and other leases hold its earlier bytes:
    // this read's ArrayBuffer holds its own bytes alone (LEASE-11).
    return new Uint8Array(pieces.memory(bid, offset, length));
  }

  #newPiece(index: number, bid: number, offset: number, length: number): ArrayBuffer {
    const memory = this.#bufferMemory(index, bid, offset, length);
    this.pins.track(memory, index, bid);
    return memory;
  }

  /** A buffer of class `index` left the ring: the kernel can pick one fewer. */
  #leftRing(index: number, c: ClassState): void {
    c.ringFree--;
    // Exhausted: a receive now finds the ring empty (PRESS-4), whoever is waiting or not.
    if (c.ringFree <= 0) this.#ledger.setPressure(index, true);
  }

  /**
   * The kernel finished incremental buffer `bid` of class `index` with a piece no one saw (a
   * stale completion): it has left the ring, and returns with the last of the pieces still out.
   *
   * @internal
   */
  bufferDone(index: number, bid: number): void {
    const c = this.#classes[index] as ClassState;
    if (c.pieces?.kernelDone(bid)) this.#leftRing(index, c);
  }

  #memoryOf(index: number, c: ClassState, bid: number): ArrayBuffer {
    let memory = c.buffers[bid];
    // Made on first use; made again if the application detached it (ArrayBuffer.transfer): the
    // memory stays the pool's either way. Not markAsUntransferable: Node's cleanup of external
    // ArrayBuffers at exit detaches them without a key and aborts on one that has a key.
    if (memory === undefined || memory.detached) {
      memory = this.#bufferMemory(index, bid);
      c.buffers[bid] = memory;
      this.pins.track(memory, index, bid);
    }
    return memory;
  }

  /** A lease came back (LEASE-3): queue its buffer for the kernel and wake a waiter (PRESS-3). */
  give(index: number, bid: number, length: number, bytes?: Uint8Array): void {
    const c = this.#classes[index] as ClassState;
    // Released while a write still sends it: the buffer returns when that write completes. Only
    // an incremental buffer's piece needs its view then; holding others' would only feed the GC.
    if (this.pins.deferIfPinned(index, bid, length, c.pieces === undefined ? undefined : bytes)) return;
    if (c.pieces !== undefined) {
      this.#givePiece(index, c, c.pieces, bid, length, bytes);
      return;
    }
    this.#ledger.returned(index, length);
    if (this.#closed) return;
    // Given back, so delivered before: its memory exists.
    if (this.#poison) new Uint8Array(this.#memoryOf(index, c, bid)).fill(POISON_BYTE);
    this.#queueReturn((index << 16) | bid);
    this.#backInRing(index, c);
  }

  #givePiece(
    index: number,
    c: ClassState,
    pieces: PieceBooks,
    bid: number,
    length: number,
    bytes: Uint8Array | undefined,
  ): void {
    const buffer = pieces.given(bid);
    this.#ledger.returned(index, length, buffer === 'others' ? 0 : 1);
    if (this.#closed) return;
    // Only this lease's bytes: the kernel may be filling the rest of the buffer.
    if (this.#poison) bytes?.fill(POISON_BYTE);
    // The engine counts every piece back; the buffer returns to the ring with the last one, once
    // the kernel is done with it.
    const back = buffer === 'last-back';
    this.#queueReturn((index << 16) | bid | (back ? RETURN_LAST_PIECE : 0));
    if (back) this.#backInRing(index, c);
  }

  #queueReturn(entry: number): void {
    const q = this.#returns;
    // Full only with incremental buffers, whose leases can outnumber the buffers: apply it now.
    if ((q[0] as number) + 1 >= q.length) this.#flushReturns();
    const n = (q[0] as number) + 1;
    q[n] = entry;
    q[0] = n;
  }

  /** A buffer of class `index` is the kernel's again, as of the next pump: wake a waiter for it. */
  #backInRing(index: number, c: ClassState): void {
    c.ringFree++;
    this.#ledger.setPressure(index, false);
    this.#requestPump();
    this.#wake(index, c);
  }

  /**
   * A channel's receive on class `index` found no buffer (PRESS-1). It re-arms at once when a
   * buffer is free that no wake stands for (given back since the kernel found the ring empty);
   * otherwise it waits: last in line, or first if this receive was a wake's, whose buffer
   * another receive took (PRESS-6). That wake is spent.
   *
   * @internal
   */
  exhausted(index: number, waiter: PoolWaiter, woken: boolean): void {
    const c = this.#classes[index] as ClassState;
    if (woken) c.wakes--;
    if (this.#closed) return;
    if (c.ringFree - c.wakes > 0) {
      c.wakes++;
      waiter.resumeReceive(index);
      return;
    }
    if (woken) c.waiters.unshift(waiter);
    else c.waiters.push(waiter);
  }

  /**
   * A woken waiter hands its wake back: its receive took a buffer, or ended or was never armed
   * on this class. Any buffer still free goes to the next waiter (PRESS-8).
   *
   * @internal
   */
  wakeDone(index: number): void {
    const c = this.#classes[index] as ClassState;
    c.wakes--;
    if (!this.#closed) this.#wake(index, c);
  }

  /**
   * Forgets a waiter (its channel closed or paused).
   *
   * @internal
   */
  forget(index: number, waiter: PoolWaiter): void {
    (this.#classes[index] as ClassState).waiters.remove(waiter);
  }

  /**
   * What a class looks like to a watchdog: buffers the kernel may pick, waiting channels, wakes
   * in flight. For tests and diagnostics of a stall.
   *
   * @internal
   */
  debugState(): { size: number; ringFree: number; leased: number; waiters: number; wakes: number }[] {
    return this.#classes.map((c, i) => ({
      size: this.#ledger.classSize(i),
      ringFree: c.ringFree,
      leased: this.#ledger.leased(i),
      waiters: c.waiters.length,
      wakes: c.wakes,
    }));
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
  quarantine(sizeClass: number, length: number, buffer: number): void {
    const pieces = (this.#classes[buffer >>> 16] as ClassState).pieces;
    if (pieces === undefined) this.#ledger.quarantine(sizeClass, length);
    // Its piece never comes back, so neither does the buffer; the buffer counts once.
    else this.#ledger.leaked(buffer >>> 16, length, pieces.quarantine(buffer & 0xffff) ? 1 : 0);
  }

  stats(): PoolStatistics {
    // Buffers given back since the last pump wait in the shared return queue (POOL-5).
    const returning = new Array<number>(this.#classes.length).fill(0);
    const q = this.#returns;
    for (let i = 1; i <= (q[0] as number); i++) {
      const entry = q[i] as number;
      // Incremental: only the entry of a buffer's last piece gives a buffer back.
      if (this.incremental && (entry & RETURN_LAST_PIECE) === 0) continue;
      const index = (entry & ~RETURN_LAST_PIECE) >>> 16;
      returning[index] = (returning[index] as number) + 1;
    }
    return this.#ledger.stats((i) => returning[i] as number);
  }

  onPressureChange(listener: (event: PoolPressureEvent) => void): Unsubscribe {
    return this.#ledger.onPressureChange(listener);
  }

  /**
   * The loop closed: buffers given back from now on only update the counters (LEASE-6).
   *
   * @internal
   */
  close(): void {
    this.#closed = true;
    for (const c of this.#classes) {
      c.waiters.clear();
      c.wakes = 0;
    }
  }

  /** Wakes waiters, oldest first, while free buffers outnumber the wakes in flight (PRESS-3, PRESS-6). */
  #wake(index: number, c: ClassState): void {
    if (c.waking) return; // the loop below, further up the stack, sees the change
    c.waking = true;
    while (c.ringFree - c.wakes > 0 && c.waiters.length > 0) {
      const waiter = c.waiters.shift() as PoolWaiter;
      c.wakes++;
      try {
        waiter.resumeReceive(index);
      } catch (error) {
        reportUncaught(error); // a defect, but the other waiters still get their turn
      }
    }
    c.waking = false;
  }
}

function warn(warning: { message: string; code: string }): void {
  process.emitWarning(warning.message, { code: warning.code });
}
