/**
 * Pool buffers that pending writes still send (LEASE-2, WRITE-7). Echo code often writes a
 * lease's bytes and releases the lease at once, before the write completes; if the buffer went
 * back to the pool then, the next read could land in it while the kernel still sends it, and the
 * peer would receive another connection's bytes. A backend pins the buffers a write's chunks lie
 * in when `write()` is called, unpins them just before the write's completion runs, and defers
 * the return of a lease released meanwhile until the last write sending it has completed.
 *
 * @since 0.2.0
 */
export interface WritePinsOptions {
  /** Returns a buffer to the pool, as `LeaseOwner.give` does once nothing pins it. */
  readonly give: (classIndex: number, bufferId: number, length: number, bytes?: Uint8Array) => void;
  /** Called on the first release that had to wait for a write, e.g. to warn in poison mode (LEASE-10). */
  readonly onFirstDeferredRelease?: (() => void) | undefined;
}

/**
 * See the description above {@link WritePinsOptions}: the pins of one pool.
 *
 * @since 0.2.0
 */
export class WritePins {
  /** Each pool buffer's own memory (LEASE-1), as `(classIndex << 16) | bufferId`. */
  readonly #buffers = new WeakMap<ArrayBufferLike, number>();
  readonly #give: WritePinsOptions['give'];
  #onFirstDeferredRelease: (() => void) | undefined;
  /** Per class, per buffer: the pending writes that send from it. */
  readonly #pins: Int32Array[];
  /**
   * Per class, per buffer: the length + 1 of the release that waits for the buffer's pins, 0 for
   * none. Typed arrays, not a map of records: echo code that releases a lease right after writing
   * it defers one release per message, and a record and a map entry each time doubled the user
   * time of such a server, most of it in garbage collection.
   */
  readonly #waitingLength: Int32Array[];
  /** Per class, per buffer: the view of that waiting release, where the pool wants it back. */
  readonly #waitingBytes: (Uint8Array | undefined)[][];
  /**
   * Per buffer, as `(classIndex << 16) | bufferId`: the releases that wait behind the first, where a
   * buffer holds several leases (incremental buffers, POOL-4).
   */
  readonly #waitingMore = new Map<number, { length: number; bytes: Uint8Array | undefined }[]>();

  /**
   * @param counts - each class's buffer count
   * @param options - where buffers go back, and who hears of the first deferred release
   */
  constructor(counts: readonly number[], options: WritePinsOptions) {
    this.#give = options.give;
    this.#onFirstDeferredRelease = options.onFirstDeferredRelease;
    this.#pins = counts.map((n) => new Int32Array(n));
    this.#waitingLength = counts.map((n) => new Int32Array(n));
    this.#waitingBytes = counts.map((n) => new Array<Uint8Array | undefined>(n).fill(undefined));
  }

  /**
   * Makes a pool buffer known: `memory` is that buffer's own ArrayBuffer, which every lease of it
   * views (LEASE-1). A backend tracks each buffer once, when it creates its memory; with
   * incremental buffers, each lease's own piece of it (LEASE-11).
   *
   * @param memory - the buffer's memory, holding nothing else
   * @param classIndex - its size class
   * @param bufferId - its index within the class
   */
  track(memory: ArrayBufferLike, classIndex: number, bufferId: number): void {
    this.#buffers.set(memory, (classIndex << 16) | bufferId);
  }

  /**
   * Whether `memory` is a pool buffer's own memory (one {@link WritePins.track} made known). Only
   * such memory can go to the kernel with zero copy (WRITE-8): the loop decides when it is
   * reused, while the application's memory can be detached or transferred while the kernel
   * still reads it (WRITE-12).
   *
   * @param memory - a view's buffer
   * @since 0.2.0
   */
  owns(memory: ArrayBufferLike): boolean {
    return this.#buffers.has(memory);
  }

  /**
   * Pins every pool buffer the chunks of one write lie in.
   *
   * @param data - the write's chunks, as `write()` received them
   * @returns what to give {@link WritePins.unpin} at the write's completion, or `undefined` when
   *   no chunk is pool memory
   */
  pin(data: Uint8Array | readonly Uint8Array[]): number[] | undefined {
    if (data instanceof Uint8Array) return this.#pinChunk(data, undefined);
    let pins: number[] | undefined;
    for (const chunk of data) pins = this.#pinChunk(chunk, pins);
    return pins;
  }

  /**
   * A write completed: unpins its buffers. A buffer whose lease was released meanwhile and that no
   * other pending write sends goes back now, through the pool's `give`.
   *
   * @param pins - what {@link WritePins.pin} returned for the write
   */
  unpin(pins: readonly number[]): void {
    for (const pin of pins) {
      const cls = pin >>> 16;
      const bid = pin & 0xffff;
      const counts = this.#pins[cls] as Int32Array;
      const left = (counts[bid] as number) - 1;
      counts[bid] = left;
      if (left > 0) continue;
      const lengths = this.#waitingLength[cls] as Int32Array;
      const waiting = lengths[bid] as number;
      if (waiting === 0) continue;
      // Cleared before giving: a give may pin and defer on this buffer again.
      lengths[bid] = 0;
      const views = this.#waitingBytes[cls] as (Uint8Array | undefined)[];
      const bytes = views[bid];
      views[bid] = undefined;
      const more = this.#waitingMore.size === 0 ? undefined : this.#waitingMore.get(pin);
      if (more !== undefined) this.#waitingMore.delete(pin);
      this.#give(cls, bid, waiting - 1, bytes);
      if (more !== undefined) for (const r of more) this.#give(cls, bid, r.length, r.bytes);
    }
  }

  /**
   * Whether buffer `bufferId` of class `classIndex` is sent by a pending write; if so its release
   * of `length` bytes is remembered, and {@link WritePins.unpin} completes it later.
   *
   * @param bytes - the released lease's view, handed on to `give`
   */
  deferIfPinned(classIndex: number, bufferId: number, length: number, bytes?: Uint8Array): boolean {
    if (((this.#pins[classIndex] as Int32Array)[bufferId] as number) === 0) return false;
    const lengths = this.#waitingLength[classIndex] as Int32Array;
    if (lengths[bufferId] === 0) {
      lengths[bufferId] = length + 1;
      (this.#waitingBytes[classIndex] as (Uint8Array | undefined)[])[bufferId] = bytes;
    } else {
      const pin = (classIndex << 16) | bufferId;
      const releases = this.#waitingMore.get(pin);
      if (releases === undefined) this.#waitingMore.set(pin, [{ length, bytes }]);
      else releases.push({ length, bytes });
    }
    const report = this.#onFirstDeferredRelease;
    this.#onFirstDeferredRelease = undefined;
    report?.();
    return true;
  }

  #pinChunk(chunk: Uint8Array, pins: number[] | undefined): number[] | undefined {
    const pin = this.#buffers.get(chunk.buffer);
    if (pin === undefined || chunk.byteLength === 0) return pins;
    const counts = this.#pins[pin >>> 16] as Int32Array;
    const bid = pin & 0xffff;
    counts[bid] = (counts[bid] as number) + 1;
    // A literal, not [] then push: most writes pin one buffer, and an empty array grows on push.
    if (pins === undefined) return [pin];
    pins.push(pin);
    return pins;
  }
}

/**
 * The warning a backend in poison mode gives, once, when a lease was released while a write still
 * sent it (LEASE-10), in the shape Node's `emitWarning(message, { code })` takes.
 *
 * @since 0.2.0
 */
export const RELEASE_UNDER_WRITE_WARNING: {
  /** What went wrong and what to do instead. */
  readonly message: string;
  /** The warning's stable code. */
  readonly code: 'IOLEASE_RELEASE_UNDER_WRITE';
} = Object.freeze({
  message:
    'A lease was released while a pending write still sends its bytes; its buffer returns to the pool when the write completes. Release leases in the write completion instead.',
  code: 'IOLEASE_RELEASE_UNDER_WRITE',
});
