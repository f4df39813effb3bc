import { ErrorCode, IoleaseError } from './errors.js';
import { MAX_READ_SIZE, validateRecord } from './fixed-sizer.js';
import type { RecvByteBufferSizer } from './sizer.js';
import { validateInteger, validateObject } from './validate.js';

/**
 * The sizes an {@link AdaptiveRecvByteBufferSizer} moves between (SIZER-5): 16 to 496 in steps
 * of 16, then every power of two from 512 to 1 GiB. Fine steps where small messages live,
 * doubling where bulk transfers live: the table swift-nio and Netty use.
 *
 * @since 0.1.0
 */
export const ADAPTIVE_SIZE_TABLE: readonly number[] = Object.freeze(buildSizeTable());

function buildSizeTable(): number[] {
  const table: number[] = [];
  for (let size = 16; size < 512; size += 16) table.push(size);
  for (let size = 512; size <= MAX_READ_SIZE; size *= 2) table.push(size);
  return table;
}

/**
 * Table steps taken on a full read (SIZER-8): four steps is 16× above 512 B, so a bulk
 * transfer reaches 64 KiB from 2 KiB in two reads.
 */
const INDEX_INCREMENT = 4;
/** Table steps taken after two consecutive small reads (SIZER-9): halve, never crash down. */
const INDEX_DECREMENT = 1;

/**
 * Options of {@link AdaptiveRecvByteBufferSizer} (SIZER-6).
 *
 * @since 0.1.0
 */
export interface AdaptiveRecvByteBufferSizerOptions {
  /** Lower bound of the preference in bytes. Default 64. */
  readonly minimum?: number;
  /** The first preference in bytes. Default 2048. */
  readonly initial?: number;
  /** Upper bound of the preference in bytes. Default 65536. */
  readonly maximum?: number;
}

/** The defaults of SIZER-6. */
export const ADAPTIVE_DEFAULTS: Readonly<{
  /** The smallest preference, in bytes (SIZER-6). */
  minimum: number;
  /** The first preference, in bytes (SIZER-6). */
  initial: number;
  /** The largest preference, in bytes (SIZER-6). */
  maximum: number;
}> = Object.freeze({ minimum: 64, initial: 2048, maximum: 65536 });

/**
 * Grows fast when reads fill their buffers and shrinks slowly when they do not (spec §4,
 * SIZER-5 … SIZER-11).
 *
 * The preference is an entry of {@link ADAPTIVE_SIZE_TABLE}. A *full* read (one that filled its
 * buffer, whatever the preference) jumps four entries up at once; a *small* read
 * (one that would have fitted the entry below) arms a shrink, and only a second small read in a
 * row takes one entry down. Any other read disarms it. Bursty traffic therefore keeps its large
 * buffers, while a connection that turns quiet gives memory back one halving at a time.
 *
 * @example
 * ```ts
 * const sizer = new AdaptiveRecvByteBufferSizer(); // 64 … 2048 … 65536
 * sizer.record(2048, 2048); // full read
 * sizer.nextReadSize();     // 32768
 * ```
 * @since 0.1.0
 */
export class AdaptiveRecvByteBufferSizer implements RecvByteBufferSizer {
  readonly #minIndex: number;
  readonly #maxIndex: number;
  #index: number;
  #shrinkArmed = false;

  /**
   * @param options - bounds and start; each an integer, `1 <= minimum <= initial <= maximum <= 2^30`
   * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` for non-numbers,
   *   `ERR_IOLEASE_OUT_OF_RANGE` for values out of order or with no table entry between
   *   `minimum` and `maximum` (SIZER-6)
   */
  constructor(options: AdaptiveRecvByteBufferSizerOptions = {}) {
    validateObject('options', options);
    const minimum = validateInteger('options.minimum', options.minimum ?? ADAPTIVE_DEFAULTS.minimum, 1, MAX_READ_SIZE);
    const maximum = validateInteger(
      'options.maximum',
      options.maximum ?? ADAPTIVE_DEFAULTS.maximum,
      minimum,
      MAX_READ_SIZE,
    );
    const initial = validateInteger('options.initial', options.initial ?? ADAPTIVE_DEFAULTS.initial, minimum, maximum);
    const minIndex = firstIndexAtLeast(minimum);
    const maxIndex = lastIndexAtMost(maximum);
    if (minIndex > maxIndex) {
      throw new IoleaseError(
        ErrorCode.OUT_OF_RANGE,
        `No size in the adaptive table lies between minimum ${minimum} and maximum ${maximum}`,
      );
    }
    this.#minIndex = minIndex;
    this.#maxIndex = maxIndex;
    this.#index = Math.min(Math.max(firstIndexAtLeast(initial), minIndex), maxIndex);
  }

  /** The smallest preference this sizer will state: the first table entry `>= minimum`. */
  get minimum(): number {
    return tableAt(this.#minIndex);
  }

  /** The largest preference this sizer will state: the last table entry `<= maximum`. */
  get maximum(): number {
    return tableAt(this.#maxIndex);
  }

  /** @returns the current table entry (SIZER-7) */
  nextReadSize(): number {
    return tableAt(this.#index);
  }

  /**
   * Moves the preference as SIZER-8 … SIZER-10 define. Invalid arguments throw and leave the
   * state unchanged (SIZER-11).
   *
   * @param bytesRead - bytes the read delivered
   * @param capacity - bytes the buffer could hold
   */
  record(bytesRead: number, capacity: number): void {
    validateRecord(bytesRead, capacity);
    // Full means the read filled its buffer, so more may be waiting. A read that reaches the
    // preference but stops short of a larger buffer (a larger class) drained the socket, and is
    // no reason to grow: growing there sent exact 1 KiB messages to the 16 KiB class and pool
    // pressure. Full is tested first: a buffer smaller than the preference (the pool's largest
    // class) that came back full is a reason to grow, even though the read also looks small.
    if (bytesRead >= capacity) {
      this.#index = Math.min(this.#index + INDEX_INCREMENT, this.#maxIndex);
      this.#shrinkArmed = false;
    } else if (bytesRead <= tableAt(Math.max(0, this.#index - INDEX_DECREMENT))) {
      if (this.#shrinkArmed) {
        this.#index = Math.max(this.#index - INDEX_DECREMENT, this.#minIndex);
        this.#shrinkArmed = false;
      } else {
        this.#shrinkArmed = true;
      }
    } else {
      this.#shrinkArmed = false;
    }
  }
}

function tableAt(index: number): number {
  // Indexes are clamped to [0, table.length) by construction.
  return ADAPTIVE_SIZE_TABLE[index] as number;
}

/** The index of the first table entry `>= size` (size is at most the last entry). */
function firstIndexAtLeast(size: number): number {
  let low = 0;
  let high = ADAPTIVE_SIZE_TABLE.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (tableAt(mid) >= size) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The index of the last table entry `<= size`, or -1 when even the first is larger. */
function lastIndexAtMost(size: number): number {
  const first = firstIndexAtLeast(size);
  return tableAt(first) === size ? first : first - 1;
}
