import { type IoleaseError, type WriteCompletionCallback, writeIntact } from '@iolease/interfaces';

/** nextSend found a write whose memory was detached or shrunk since write() (WRITE-12). */
export const DETACHED = Symbol('detached');

/** The most one send asks of the kernel per view (the addon's cap too); the rest follows. */
export const MAX_SEND_CHUNK = 2 ** 30;

/** One write from write() to its completion (spec §8). */
export interface PendingWrite {
  /** The views as write() took them (snapshotWrite). */
  readonly data: Uint8Array | readonly Uint8Array[];
  readonly length: number;
  readonly onComplete: WriteCompletionCallback | undefined;
  /** Bytes the kernel has accepted so far. */
  written: number;
  /** Set when the write must fail without being sent (WRITE-10). */
  error: IoleaseError | undefined;
  /** The pool buffers this write sends from, pinned until its completion (LEASE-2). */
  readonly pins: number[] | undefined;
}

/**
 * A channel's pending writes, oldest first. Sends are built from the front: several writes go
 * out as one sendmsg, and a partial send resumes where the kernel stopped (WRITE-5, WRITE-6).
 */
export class WriteQueue {
  readonly #items: PendingWrite[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  peek(): PendingWrite | undefined {
    return this.#items[this.#head];
  }

  push(item: PendingWrite): void {
    this.#items.push(item);
  }

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
   * The chunks of the next send: unsent bytes of the leading writes that can be sent (no error,
   * not empty), at most `maxChunks` arrays of at most MAX_SEND_CHUNK bytes. Returns a single
   * array when one suffices, or DETACHED when a write's memory is no longer whole.
   */
  nextSend(maxChunks: number): Uint8Array | Uint8Array[] | typeof DETACHED | undefined {
    const chunks: Uint8Array[] = [];
    for (let i = this.#head; i < this.#items.length && chunks.length < maxChunks; i++) {
      const w = this.#items[i] as PendingWrite;
      if (w.error !== undefined || w.length === 0) break;
      if (!writeIntact(w.data, w.length)) return DETACHED;
      let skip = w.written;
      const parts = w.data instanceof Uint8Array ? [w.data] : w.data;
      for (const part of parts) {
        if (chunks.length >= maxChunks) break;
        if (skip >= part.byteLength) {
          skip -= part.byteLength;
          continue;
        }
        const end = Math.min(part.byteLength, skip + MAX_SEND_CHUNK);
        chunks.push(skip === 0 && end === part.byteLength ? part : part.subarray(skip, end));
        skip = 0;
        // A capped view is the end of this send: the kernel must take it whole before the next
        // bytes of the same write can follow.
        if (end < part.byteLength) return chunks.length === 1 ? (chunks[0] as Uint8Array) : chunks;
      }
    }
    if (chunks.length === 0) return undefined;
    return chunks.length === 1 ? chunks[0] : chunks;
  }
}
