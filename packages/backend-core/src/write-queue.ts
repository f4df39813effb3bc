import type { IoleaseError, WriteCompletionCallback } from '@iolease/interfaces';
import { writeIntact } from './write-snapshot.js';

/**
 * {@link WriteQueue.nextSend} found a write whose memory was detached or shrunk since `write()`
 * (WRITE-12).
 *
 * @since 0.2.0
 */
export const DETACHED: unique symbol = Symbol('detached');

/**
 * The most one send asks of the kernel per view; the rest of the view follows in the next send.
 *
 * @since 0.2.0
 */
export const MAX_SEND_CHUNK = 2 ** 30;

/**
 * One write from `write()` to its completion (spec §8).
 *
 * @since 0.2.0
 */
export interface PendingWrite {
  /** The views as `write()` took them (`snapshotWrite`). */
  readonly data: Uint8Array | readonly Uint8Array[];
  /** The write's length in bytes at `write()`. */
  readonly length: number;
  /** The application's completion callback, if it gave one. */
  readonly onComplete: WriteCompletionCallback | undefined;
  /** Bytes the system has taken so far (WRITE-3). */
  written: number;
  /** Set when the write fails: at `write()` (WRITE-10), or when the channel closes (WRITE-9). */
  error: IoleaseError | undefined;
  /** Whether its bytes count in `pendingWriteBytes` (WATER-2): a write refused at `write()` never does. */
  readonly counted: boolean;
  /** The pool buffers this write sends from, pinned until its completion (LEASE-2). */
  readonly pins: number[] | undefined;
}

/**
 * Whether a write is finished: every byte taken, or failed. It completes once every write before
 * it has (WRITE-4).
 *
 * @since 0.2.0
 */
export function writeDone(w: PendingWrite): boolean {
  return w.error !== undefined || w.written === w.length;
}

/**
 * A channel's pending writes, oldest first. Sends are built from the front: several writes go
 * out as one sendmsg, and a partial send resumes where the kernel stopped (WRITE-5, WRITE-6).
 *
 * @since 0.2.0
 */
export class WriteQueue {
  readonly #items: PendingWrite[] = [];
  #head = 0;

  /** How many writes are pending. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest pending write. */
  peek(): PendingWrite | undefined {
    return this.#items[this.#head];
  }

  /** Queues a write behind the others. */
  push(item: PendingWrite): void {
    this.#items.push(item);
  }

  /** Takes the oldest pending write off the queue. */
  shift(): PendingWrite | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#items[this.#head] = undefined as unknown as PendingWrite;
    this.#head++;
    // Compact once the dead prefix dominates, so a long-lived channel does not grow forever.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /**
   * Credits `bytes` the system took to the writes in order, skipping the finished ones (WRITE-5).
   *
   * @returns the bytes left over, which is 0 unless the system reported more than was asked
   */
  credit(bytes: number): number {
    let remaining = bytes;
    for (let i = this.#head; i < this.#items.length && remaining > 0; i++) {
      const w = this.#items[i] as PendingWrite;
      if (writeDone(w)) continue;
      const take = Math.min(remaining, w.length - w.written);
      w.written += take;
      remaining -= take;
    }
    return remaining;
  }

  /** Whether a write is still to be sent: one neither fully taken nor failed. */
  get unfinished(): boolean {
    for (let i = this.#head; i < this.#items.length; i++) if (!writeDone(this.#items[i] as PendingWrite)) return true;
    return false;
  }

  /** Fails every pending write not finished yet with `error` (WRITE-9). */
  failUnfinished(error: IoleaseError): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const w = this.#items[i] as PendingWrite;
      if (!writeDone(w)) w.error = error;
    }
  }

  /**
   * The chunks of the next send: unsent bytes of the leading writes that can be sent (no error,
   * not empty), at most `maxChunks` arrays of at most MAX_SEND_CHUNK bytes. Returns a single
   * array when one suffices, or {@link DETACHED} when a write's memory is no longer whole.
   *
   * @param maxChunks - the most views one send takes (`IOV_MAX`, say)
   */
  nextSend(maxChunks: number): Uint8Array | Uint8Array[] | typeof DETACHED | undefined {
    // A send is made per message, and most are one view: no array is made for it (a send of
    // several views collects them in `all` from the second on).
    let first: Uint8Array | undefined;
    let all: Uint8Array[] | undefined;
    let count = 0;
    for (let i = this.#head; i < this.#items.length && count < maxChunks; i++) {
      const w = this.#items[i] as PendingWrite;
      if (w.error !== undefined || w.length === 0) break;
      const data = w.data;
      if (!writeIntact(data, w.length)) return DETACHED;
      let skip = w.written;
      const single = data instanceof Uint8Array;
      const parts = single ? 1 : data.length;
      for (let j = 0; j < parts && count < maxChunks; j++) {
        const part = single ? data : (data[j] as Uint8Array);
        if (skip >= part.byteLength) {
          skip -= part.byteLength;
          continue;
        }
        const end = Math.min(part.byteLength, skip + MAX_SEND_CHUNK);
        const chunk = skip === 0 && end === part.byteLength ? part : part.subarray(skip, end);
        if (count === 0) first = chunk;
        else if (all === undefined) all = [first as Uint8Array, chunk];
        else all.push(chunk);
        count++;
        skip = 0;
        // A capped view is the end of this send: the kernel must take it whole before the next
        // bytes of the same write can follow.
        if (end < part.byteLength) return all ?? first;
      }
    }
    return all ?? first;
  }
}
