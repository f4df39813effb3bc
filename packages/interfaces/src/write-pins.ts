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
export class WritePins {
  readonly #memories: readonly ArrayBufferLike[];
  readonly #sizes: readonly number[];
  /** Per class, per buffer: the pending writes that send from it. */
  readonly #pins: Int32Array[];
  /** Per class, per buffer: 1 + the length of a release that waits for the pins, or 0. */
  readonly #waiting: Int32Array[];

  /**
   * @param memories - the pool's memory, one ArrayBuffer per size class
   * @param sizes - each class's buffer size
   * @param counts - each class's buffer count
   */
  constructor(memories: readonly ArrayBufferLike[], sizes: readonly number[], counts: readonly number[]) {
    this.#memories = memories;
    this.#sizes = sizes;
    this.#pins = counts.map((n) => new Int32Array(n));
    this.#waiting = counts.map((n) => new Int32Array(n));
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
   * other pending write sends goes back now, through `give`.
   *
   * @param pins - what {@link WritePins.pin} returned for the write
   * @param give - returns a buffer to the pool, as `LeaseOwner.give` would have
   */
  unpin(pins: readonly number[], give: (classIndex: number, bufferId: number, length: number) => void): void {
    for (const pin of pins) {
      const cls = pin >>> 16;
      const bid = pin & 0xffff;
      const counts = this.#pins[cls] as Int32Array;
      const left = (counts[bid] as number) - 1;
      counts[bid] = left;
      const waiting = this.#waiting[cls] as Int32Array;
      const length = waiting[bid] as number;
      if (left === 0 && length > 0) {
        waiting[bid] = 0;
        give(cls, bid, length - 1);
      }
    }
  }

  /**
   * Whether buffer `bufferId` of class `classIndex` is sent by a pending write; if so its release
   * of `length` bytes is remembered, and {@link WritePins.unpin} completes it later.
   */
  deferIfPinned(classIndex: number, bufferId: number, length: number): boolean {
    if (((this.#pins[classIndex] as Int32Array)[bufferId] as number) === 0) return false;
    (this.#waiting[classIndex] as Int32Array)[bufferId] = length + 1;
    return true;
  }

  #pinChunk(chunk: Uint8Array, pins: number[] | undefined): number[] | undefined {
    const cls = this.#memories.indexOf(chunk.buffer);
    if (cls < 0 || chunk.byteLength === 0) return pins;
    const size = this.#sizes[cls] as number;
    const first = Math.floor(chunk.byteOffset / size);
    const last = Math.floor((chunk.byteOffset + chunk.byteLength - 1) / size);
    const counts = this.#pins[cls] as Int32Array;
    const out = pins ?? [];
    for (let bid = first; bid <= last; bid++) {
      counts[bid] = (counts[bid] as number) + 1;
      out.push((cls << 16) | bid);
    }
    return out;
  }
}
