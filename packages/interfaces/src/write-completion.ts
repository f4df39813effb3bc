import { ErrorCode, IoleaseError } from './errors.js';

/**
 * What a channel accepts for one write (WRITE-1): one byte array, or several written back to
 * back as one write with one completion.
 *
 * @since 0.1.0
 */
export type WriteData = Uint8Array | readonly Uint8Array[];

/**
 * The WriteCompletion of one write (spec §8): called exactly once (WRITE-3), in submission order
 * per channel (WRITE-4), on the loop's thread and never from inside {@link Channel.write}.
 *
 * On success, `error` is `undefined`, `bytesWritten` is the write's whole length, and the memory
 * is free to reuse or mutate (WRITE-7). On failure, `error` says why (`ERR_IOLEASE_CHANNEL_CLOSED`,
 * `ERR_IOLEASE_WRITE_AFTER_END`, or a system error such as `ECONNRESET`) and `bytesWritten`
 * counts what the backend knows the kernel had accepted before it (0 where it cannot tell)
 * (WRITE-3). Either way the backend no longer references the
 * memory.
 *
 * @param error - `undefined` on success
 * @param bytesWritten - bytes handed to the kernel for this write
 * @since 0.1.0
 */
export type WriteCompletionCallback = (error: IoleaseError | undefined, bytesWritten: number) => void;

/**
 * The byte length of {@link WriteData}, or `undefined` when `data` is neither a `Uint8Array`
 * nor an array of them, which a backend's `write()` must reject (WRITE-1).
 *
 * @param data - what the application passed to `write()`
 * @since 0.1.0
 */
export function writeDataLength(data: unknown): number | undefined {
  if (data instanceof Uint8Array) return data.byteLength;
  if (!Array.isArray(data)) return undefined;
  let total = 0;
  for (const chunk of data) {
    if (!(chunk instanceof Uint8Array)) return undefined;
    total += chunk.byteLength;
  }
  return total;
}

/**
 * Checks the arguments of `write()` (WRITE-1, WRITE-12, ERR-2) and returns the data's byte length.
 *
 * @param data - what the application passed as the data
 * @param onComplete - what it passed as the completion callback
 * @throws {@link IoleaseError} `ERR_IOLEASE_INVALID_ARG_TYPE` for anything but a `Uint8Array` or
 *   an array of them, or a callback that is not a function; `ERR_IOLEASE_INVALID_ARG_VALUE` for a
 *   view of a detached ArrayBuffer (WRITE-12)
 * @since 0.1.0
 */
export function validateWrite(data: unknown, onComplete: unknown): number {
  const length = writeDataLength(data);
  if (length === undefined) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_TYPE,
      'The "data" argument must be a Uint8Array or an array of Uint8Array',
    );
  }
  if (onComplete !== undefined && typeof onComplete !== 'function') {
    throw new IoleaseError(ErrorCode.INVALID_ARG_TYPE, 'The "onComplete" argument must be a function');
  }
  if (data instanceof Uint8Array) checkNotDetached(data, -1);
  else {
    const chunks = data as readonly Uint8Array[];
    for (let i = 0; i < chunks.length; i++) checkNotDetached(chunks[i] as Uint8Array, i);
  }
  return length;
}

/** Throws WRITE-12's error for a view of a detached buffer: `index` is its place in an array, or -1. */
function checkNotDetached(chunk: Uint8Array, index: number): void {
  // A view of a detached buffer has length 0, so only an empty view needs its buffer looked at:
  // reading `.buffer` costs a call into the engine, and write() runs once per message. Property
  // checks, not instanceof: memory from another realm (a vm context) counts too.
  if (chunk.byteLength === 0 && (chunk.buffer as ArrayBuffer).detached === true) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_VALUE,
      `The "data" argument${index < 0 ? '' : `[${index}]`} views a detached ArrayBuffer, which holds no bytes to write (WRITE-12)`,
    );
  }
}
