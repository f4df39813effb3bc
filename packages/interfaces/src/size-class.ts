import { ErrorCode, IoleaseError } from './errors.js';
import { MAX_READ_SIZE } from './fixed-sizer.js';
import { validateInteger, validateObject } from './validate.js';

/**
 * One size class of a {@link BufferPool} (POOL-2): `count` buffers of `size` bytes each.
 *
 * @since 0.1.0
 */
export interface SizeClassConfig {
  /** Bytes per buffer: an integer from 1 to 2^30. */
  readonly size: number;
  /** Buffers in the class: an integer from 1 to 32768 (the kernel's largest buffer ring). */
  readonly count: number;
}

/** The most buffers one class may hold: 32768, the largest provided-buffer ring Linux accepts. */
export const MAX_BUFFERS_PER_CLASS = 32768;

/**
 * The most size classes one pool may have (POOL-2). A few classes cover every workload; the
 * limit lets a backend name a class in a few bits of a kernel operation's tag.
 *
 * @since 0.2.0
 */
export const MAX_SIZE_CLASSES = 64;

/**
 * A sensible default pool: small classes for chatty protocols, large ones for bulk transfer.
 * 4 MiB in all, whatever the number of connections (POOL-6).
 *
 * @since 0.1.0
 */
export const DEFAULT_SIZE_CLASSES: readonly SizeClassConfig[] = Object.freeze([
  Object.freeze({ size: 512, count: 2048 }),
  Object.freeze({ size: 2048, count: 512 }),
  Object.freeze({ size: 16384, count: 64 }),
  Object.freeze({ size: 65536, count: 16 }),
]);

/**
 * Checks a pool configuration (POOL-2) and returns a frozen copy.
 *
 * @param classes - the classes, sizes strictly increasing
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE`, `ERR_IOLEASE_OUT_OF_RANGE`, or
 *   `ERR_IOLEASE_INVALID_ARG_VALUE` when the list is empty, longer than {@link MAX_SIZE_CLASSES}, or
 *   sizes do not strictly increase
 * @since 0.1.0
 */
export function validateSizeClasses(classes: unknown): readonly SizeClassConfig[] {
  if (!Array.isArray(classes)) {
    throw new IoleaseError(ErrorCode.INVALID_ARG_TYPE, 'The "sizeClasses" argument must be an array');
  }
  if (classes.length === 0 || classes.length > MAX_SIZE_CLASSES) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_VALUE,
      `The "sizeClasses" argument must name 1 to ${MAX_SIZE_CLASSES} classes. Received ${classes.length}`,
    );
  }
  const out: SizeClassConfig[] = [];
  let previous = 0;
  classes.forEach((entry: unknown, i) => {
    const c = validateObject(`sizeClasses[${i}]`, entry);
    const size = validateInteger(`sizeClasses[${i}].size`, c.size, 1, MAX_READ_SIZE);
    const count = validateInteger(`sizeClasses[${i}].count`, c.count, 1, MAX_BUFFERS_PER_CLASS);
    if (size <= previous) {
      throw new IoleaseError(
        ErrorCode.INVALID_ARG_VALUE,
        `sizeClasses must have strictly increasing sizes: sizeClasses[${i}].size ${size} follows ${previous}`,
      );
    }
    previous = size;
    out.push(Object.freeze({ size, count }));
  });
  return Object.freeze(out);
}

/**
 * Maps a preferred read size to a size class (POOL-3): the index of the smallest class whose
 * size is at least `preferred`, or of the largest class when none is that large.
 *
 * @param preferred - a sizer's {@link RecvByteBufferSizer.nextReadSize}
 * @param classSizes - the pool's class sizes, strictly increasing
 * @returns an index into `classSizes`
 * @since 0.1.0
 */
export function sizeClassIndexFor(preferred: number, classSizes: readonly number[]): number {
  const last = classSizes.length - 1;
  for (let i = 0; i < last; i++) {
    if ((classSizes[i] as number) >= preferred) return i;
  }
  return last;
}
