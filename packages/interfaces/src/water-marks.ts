import { ErrorCode, IoleaseError } from './errors.js';
import { validateInteger, validateObject } from './validate.js';

/**
 * A channel's writability thresholds on pending write bytes (spec §9).
 *
 * The channel turns unwritable when pending bytes exceed `high` and writable again when they
 * fall to `low` or below (WATER-3). The gap stops the notification from flapping.
 *
 * @since 0.1.0
 */
export interface WaterMarks {
  /** Pending bytes at or below which an unwritable channel turns writable. */
  readonly low: number;
  /** Pending bytes above which the channel turns unwritable. */
  readonly high: number;
}

/** The defaults of WATER-1: 32 KiB low, 64 KiB high. */
export const DEFAULT_WATER_MARKS: WaterMarks = Object.freeze({ low: 32 * 1024, high: 64 * 1024 });

/**
 * Checks water marks (WATER-5) and returns a frozen copy.
 *
 * @param marks - integers with `0 <= low <= high <= 2^53 - 1`
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE`, `ERR_IOLEASE_OUT_OF_RANGE`, or
 *   `ERR_IOLEASE_INVALID_ARG_VALUE` when `low > high`
 * @since 0.1.0
 */
export function validateWaterMarks(marks: unknown): WaterMarks {
  const m = validateObject('waterMarks', marks);
  const low = validateInteger('waterMarks.low', m.low, 0, Number.MAX_SAFE_INTEGER);
  const high = validateInteger('waterMarks.high', m.high, 0, Number.MAX_SAFE_INTEGER);
  if (low > high) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_VALUE,
      `waterMarks.low (${low}) must not exceed waterMarks.high (${high})`,
    );
  }
  return Object.freeze({ low, high });
}
