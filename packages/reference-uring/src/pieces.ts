/**
 * Piece ArrayBuffers a buffer keeps for reuse: one per 64 bytes, at most 256 (reads past the
 * 256th of a round make their memory each time). Bounded by the pool, not by traffic (POOL-6).
 */
const slotsPer = (size: number) => Math.min(Math.ceil(size / 64), 256);

/**
 * What {@link PieceBooks.given} says of a returned piece's buffer: other pieces of it are still
 * out; it was the last, but the kernel may still fill the rest of the buffer, so the buffer
 * stays in the ring; or it was the last and the kernel is done, so the buffer goes back.
 */
export type PieceReturn = 'others' | 'last-in-ring' | 'last-back';

/**
 * The books of one size class whose buffers the kernel fills a piece at a time (incremental
 * buffers, `IOU_PBUF_RING_INC`, POOL-4): per buffer, the pieces (leases) out, whether the kernel
 * is done with it, whether a leaked piece quarantined it, and the ArrayBuffers of its pieces.
 * The native engine keeps the same count and puts a buffer back in the ring with the last
 * piece once the kernel is done with it; these books tell the pool when that is, for waking
 * waiters and the statistics (POOL-5).
 */
export class PieceBooks {
  readonly #pieces: Int32Array;
  readonly #done: Uint8Array;
  readonly #quarantined: Uint8Array;
  /**
   * The ArrayBuffers of pieces, kept for the buffer's later rounds as whole buffers keep theirs:
   * a stream of like messages puts the k-th read of every round of a buffer at the same offset,
   * and so finds the k-th piece's memory again. `#slots` per buffer, the k-th at
   * `bid * #slots + k`, with the offset it covers; `#next` per buffer is the k of its next piece.
   */
  readonly #memory: (ArrayBuffer | undefined)[];
  readonly #offsets: Int32Array;
  readonly #next: Int32Array;
  readonly #slots: number;
  readonly #make: (bid: number, offset: number, length: number) => ArrayBuffer;

  /**
   * @param count - the class's buffers
   * @param size - their size
   * @param make - makes the ArrayBuffer of a piece (the pool's, which also tracks it for pins)
   */
  constructor(count: number, size: number, make: (bid: number, offset: number, length: number) => ArrayBuffer) {
    this.#make = make;
    this.#pieces = new Int32Array(count);
    this.#done = new Uint8Array(count);
    this.#quarantined = new Uint8Array(count);
    this.#slots = slotsPer(size);
    this.#memory = new Array<ArrayBuffer | undefined>(count * this.#slots).fill(undefined);
    this.#offsets = new Int32Array(count * this.#slots);
    this.#next = new Int32Array(count);
  }

  /**
   * A read landed in buffer `bid`; the kernel is done with the buffer unless `more`. Returns
   * whether this is the buffer's first piece out (it becomes leased, POOL-5).
   */
  taken(bid: number, more: boolean): boolean {
    const out = this.#pieces[bid] as number;
    this.#pieces[bid] = out + 1;
    if (!more) this.#done[bid] = 1;
    return out === 0;
  }

  /**
   * The kernel finished buffer `bid` with a piece no one saw (a stale completion). Returns whether
   * that took the buffer out of the ring for the pool: false when no piece of it is out, since
   * the engine then put it straight back.
   */
  kernelDone(bid: number): boolean {
    if ((this.#pieces[bid] as number) === 0) return false;
    this.#done[bid] = 1;
    return true;
  }

  /** A piece of buffer `bid` came back. */
  given(bid: number): PieceReturn {
    const left = (this.#pieces[bid] as number) - 1;
    this.#pieces[bid] = left;
    if (left > 0) return 'others';
    if (this.#done[bid] === 0) return 'last-in-ring';
    this.#done[bid] = 0;
    return 'last-back';
  }

  /**
   * A piece of buffer `bid` leaked (DIAG-2): it never comes back, so neither does the buffer.
   * Returns whether the buffer became quarantined now (the first of its pieces to leak).
   */
  quarantine(bid: number): boolean {
    const first = this.#quarantined[bid] === 0;
    this.#quarantined[bid] = 1;
    return first;
  }

  /**
   * The memory of the piece of buffer `bid` at `offset`, `length` bytes: the one kept for that
   * place, or a new one (kept when there is a slot for it). A piece is read again only after
   * every lease of its buffer came back, so reuse never shows a held lease another's bytes.
   */
  memory(bid: number, offset: number, length: number): ArrayBuffer {
    // Offsets only grow within a round, which starts at 0 (the buffer back in the ring).
    const k = offset === 0 ? 0 : (this.#next[bid] as number);
    this.#next[bid] = k + 1;
    if (k >= this.#slots) return this.#make(bid, offset, length);
    const slot = bid * this.#slots + k;
    let memory = this.#memory[slot];
    if (memory === undefined || this.#offsets[slot] !== offset || memory.byteLength !== length || memory.detached) {
      memory = this.#make(bid, offset, length);
      this.#memory[slot] = memory;
      this.#offsets[slot] = offset;
    }
    return memory;
  }
}
