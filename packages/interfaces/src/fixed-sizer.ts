import type { RecvByteBufferSizer } from './sizer.js';
import { validateInteger } from './validate.js';

/** The largest read size a sizer may ask for: 1 GiB, the top of the adaptive table (SIZER-5). */
export const MAX_READ_SIZE = 2 ** 30;

/**
 * Asks for the same size on every read (SIZER-4). Right for protocols with a known frame size,
 * and as the simplest baseline when measuring.
 *
 * @example
 * ```ts
 * const sizer = new FixedRecvByteBufferSizer(16 * 1024);
 * sizer.nextReadSize(); // 16384, always
 * ```
 * @since 0.1.0
 */
export class FixedRecvByteBufferSizer implements RecvByteBufferSizer {
  readonly #size: number;

  /**
   * @param size - the read size in bytes: an integer from 1 to {@link MAX_READ_SIZE}
   * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` or `ERR_IOLEASE_OUT_OF_RANGE` (SIZER-4)
   */
  constructor(size: number) {
    this.#size = validateInteger('size', size, 1, MAX_READ_SIZE);
  }

  /** The configured size. */
  get size(): number {
    return this.#size;
  }

  /** @returns the configured size, whatever came before (SIZER-4) */
  nextReadSize(): number {
    return this.#size;
  }

  /**
   * Checks the arguments as SIZER-11 requires; a fixed sizer learns nothing from them.
   *
   * @param bytesRead - bytes the read delivered
   * @param capacity - bytes the buffer could hold
   */
  record(bytesRead: number, capacity: number): void {
    validateRecord(bytesRead, capacity);
  }
}

/**
 * Checks {@link RecvByteBufferSizer.record}'s arguments (SIZER-11).
 *
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` / `ERR_IOLEASE_OUT_OF_RANGE`
 * @internal
 */
export function validateRecord(bytesRead: number, capacity: number): void {
  validateInteger('capacity', capacity, 1, Number.MAX_SAFE_INTEGER);
  validateInteger('bytesRead', bytesRead, 0, capacity);
}
