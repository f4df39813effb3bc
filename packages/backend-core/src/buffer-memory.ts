import { POISON_BYTE, type SizeClassConfig } from '@iolease/interfaces';
import type { WritePins } from './write-pins.js';

/**
 * What a {@link BufferMemory} needs.
 *
 * @since 0.2.0
 */
export interface BufferMemoryOptions {
  /** The pool's write pins: each buffer's memory is tracked there (LEASE-10). */
  readonly pins: WritePins;
  /** Whether a returned buffer is overwritten with `POISON_BYTE` (LEASE-5). */
  readonly poison: boolean;
  /**
   * Makes one buffer's memory; default `new ArrayBuffer(size)`. A Node backend marks it
   * untransferable (`markAsUntransferable`), so that writes may send it without a copy.
   */
  readonly create?: ((size: number) => ArrayBuffer) | undefined;
}

/**
 * The memory of a pool whose buffers are JavaScript memory filled by copying (a readiness
 * backend's, which reads into memory of its own first): one ArrayBuffer per buffer, so that a
 * lease's `bytes.buffer` holds that buffer and nothing else (LEASE-1), with nothing of an
 * earlier, longer lease left past the bytes (LEASE-11), poisoned on return in poison mode
 * (LEASE-5), and made anew when the application detached it.
 *
 * @since 0.2.0
 */
export class BufferMemory {
  readonly #sizes: readonly number[];
  readonly #buffers: ArrayBuffer[][];
  /** Per buffer: how many bytes its last lease had. */
  readonly #extents: Int32Array[];
  readonly #options: BufferMemoryOptions;

  /**
   * @param sizeClasses - the pool's classes; every buffer is allocated now (POOL-6)
   * @param options - the pins to track buffers in, poison mode, how to make memory
   */
  constructor(sizeClasses: readonly SizeClassConfig[], options: BufferMemoryOptions) {
    this.#options = options;
    this.#sizes = sizeClasses.map((c) => c.size);
    this.#extents = sizeClasses.map((c) => new Int32Array(c.count));
    this.#buffers = sizeClasses.map((c, i) => Array.from({ length: c.count }, (_, b) => this.#create(i, b)));
  }

  /** The memory of buffer `bufferId` of class `classIndex`: every lease of that buffer views it. */
  memoryOf(classIndex: number, bufferId: number): ArrayBuffer {
    return (this.#buffers[classIndex] as ArrayBuffer[])[bufferId] as ArrayBuffer;
  }

  /**
   * Copies `bytes` (at most the class's size) into the buffer and returns the lease's view of
   * them; bytes an earlier, longer lease left past them are wiped (LEASE-11).
   */
  fill(classIndex: number, bufferId: number, bytes: Uint8Array): Uint8Array {
    let memory = this.memoryOf(classIndex, bufferId);
    const extents = this.#extents[classIndex] as Int32Array;
    if (memory.detached) {
      // The application detached it (ArrayBuffer.transfer; Node 22's ignores
      // markAsUntransferable) and took its memory along: the buffer gets new memory.
      memory = this.#create(classIndex, bufferId);
      extents[bufferId] = 0;
    }
    const length = bytes.length;
    const extent = extents[bufferId] as number;
    if (extent > length) new Uint8Array(memory, length, extent - length).fill(0);
    extents[bufferId] = length;
    const view = new Uint8Array(memory, 0, length);
    view.set(bytes);
    return view;
  }

  /** The buffer came back to the pool: poisoned in poison mode (LEASE-5). */
  returned(classIndex: number, bufferId: number): void {
    const memory = this.memoryOf(classIndex, bufferId);
    if (!this.#options.poison || memory.detached) return;
    new Uint8Array(memory).fill(POISON_BYTE);
    // Nothing of the lease is left, and poison past the next one's bytes is allowed (LEASE-11).
    (this.#extents[classIndex] as Int32Array)[bufferId] = 0;
  }

  #create(classIndex: number, bufferId: number): ArrayBuffer {
    const size = this.#sizes[classIndex] as number;
    const memory = this.#options.create?.(size) ?? new ArrayBuffer(size);
    this.#options.pins.track(memory, classIndex, bufferId);
    const buffers = this.#buffers?.[classIndex];
    if (buffers !== undefined) buffers[bufferId] = memory;
    return memory;
  }
}
