import { ErrorCode, IoleaseError } from './errors.js';

// Argument checks shared by the sizers and by backends, so every package reports a bad
// argument with the same code and wording (ERR-2).

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return `number ${String(value)}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value;
}

/**
 * Returns `value` when it is an integer in `[min, max]`; throws otherwise.
 *
 * @param name - the argument's name, for the message
 * @param value - the value to check
 * @param min - the smallest accepted value
 * @param max - the largest accepted value
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` when `value` is not a number,
 *   `ERR_IOLEASE_OUT_OF_RANGE` when it is not an integer within the range (ERR-2)
 * @since 0.1.0
 */
export function validateInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_TYPE,
      `The "${name}" argument must be of type number. Received ${describe(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IoleaseError(
      ErrorCode.OUT_OF_RANGE,
      `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${String(value)}`,
    );
  }
  return value;
}

/**
 * Returns `value` when it is a boolean; throws `ERR_IOLEASE_INVALID_ARG_TYPE` otherwise (ERR-2).
 *
 * @param name - the argument's name, for the message
 * @param value - the value to check
 * @since 0.1.0
 */
export function validateBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_TYPE,
      `The "${name}" argument must be of type boolean. Received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Returns `value` when it is a non-null object (or `undefined` when allowed); throws otherwise.
 *
 * @param name - the argument's name, for the message
 * @param value - the value to check
 * @since 0.1.0
 */
export function validateObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_TYPE,
      `The "${name}" argument must be of type object. Received ${describe(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Returns `value` when it is a function; throws `ERR_IOLEASE_INVALID_ARG_TYPE` otherwise (ERR-2).
 *
 * @typeParam F - the function type the caller expects
 * @param name - the argument's name, for the message
 * @param value - the value to check
 * @since 0.1.0
 */
export function validateFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F {
  if (typeof value !== 'function') {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_TYPE,
      `The "${name}" argument must be of type function. Received ${describe(value)}`,
    );
  }
  return value as F;
}
