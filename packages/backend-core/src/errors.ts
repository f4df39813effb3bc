import { ErrorCode, IoleaseError } from '@iolease/interfaces';

// The errors every backend gives in the same words, so that applications can rely on them.

/**
 * The error of a write that could not complete because its channel closed (WRITE-9, WRITE-10).
 *
 * @since 0.1.0
 */
export function channelClosedError(): IoleaseError {
  return new IoleaseError(ErrorCode.CHANNEL_CLOSED, 'The channel was closed before the write completed');
}

/**
 * The error of a write made after `shutdown()` (WRITE-10).
 *
 * @since 0.1.0
 */
export function writeAfterEndError(): IoleaseError {
  return new IoleaseError(ErrorCode.WRITE_AFTER_END, 'write after shutdown(): the channel no longer sends');
}

/**
 * The error of `listen()` or `connect()` on a closed loop (LIFE-10).
 *
 * @since 0.1.0
 */
export function loopClosedError(): IoleaseError {
  return new IoleaseError(ErrorCode.LOOP_CLOSED, 'The event loop is closed');
}
