import {
  type AcceptCallback,
  type ChannelHandler,
  type ConnectOptions,
  createSizer,
  IoleaseError,
  type ListenOptions,
  type LoopCapabilities,
  unsupportedRequest,
  type ValidConnectOptions,
  type ValidListenOptions,
  validateConnectOptions,
  validateFunction,
  validateListenOptions,
  validateObject,
  type WaterMarks,
} from '@iolease/interfaces';
import type { ChannelSettings } from './channel-transport.js';
import { abortedError } from './connect-guard.js';
import { loopClosedError } from './errors.js';

/**
 * What a loop tells {@link checkListen} and {@link checkConnect} about itself.
 *
 * @since 0.2.0
 */
export interface CheckedLoop {
  /** Whether `close()` was called (LIFE-10). */
  readonly closed: boolean;
  /** What the loop provides (LOOP-9). */
  readonly capabilities: LoopCapabilities;
  /** The loop's water marks, new channels' default (WATER-1). */
  readonly waterMarks: WaterMarks;
}

/**
 * What {@link checkConnect} returns when the connect may go ahead.
 *
 * @since 0.2.0
 */
export interface CheckedConnect extends ValidConnectOptions {
  /** The new channel's settings, its sizer made (SIZER-1). */
  readonly settings: ChannelSettings;
}

/**
 * Everything `listen()` checks before it acquires anything. Throws what a caller's mistake
 * deserves synchronously: `ERR_IOLEASE_LOOP_CLOSED` on a closed loop (LIFE-10), the ERR-2 codes
 * for bad options or a bad `onAccept`. Returns the error to reject the promise with when the
 * loop lacks what the options ask for (LOOP-9), else the options validated.
 *
 * @since 0.2.0
 */
export function checkListen(
  loop: CheckedLoop,
  options: ListenOptions,
  onAccept: AcceptCallback,
): ValidListenOptions | IoleaseError {
  if (loop.closed) throw loopClosedError();
  const valid = validateListenOptions(options, loop.waterMarks);
  validateFunction('onAccept', onAccept);
  return unsupportedRequest(loop.capabilities, valid) ?? valid;
}

/**
 * Everything `connect()` checks before it opens anything, as {@link checkListen} does, and then:
 * a signal aborted already (LIFE-16), and the sizer factory, which runs now so that one that
 * throws rejects the connect (SIZER-3). Returns the error to reject with, or the options
 * validated with the new channel's settings.
 *
 * @since 0.2.0
 */
export function checkConnect(
  loop: CheckedLoop,
  options: ConnectOptions,
  handler: ChannelHandler | undefined,
): CheckedConnect | IoleaseError {
  if (loop.closed) throw loopClosedError();
  const valid = validateConnectOptions(options, loop.waterMarks);
  if (handler !== undefined) validateObject('handler', handler);
  const unsupported = unsupportedRequest(loop.capabilities, valid);
  if (unsupported !== undefined) return unsupported;
  if (valid.signal?.aborted) return abortedError(valid.signal);
  const sizer = createSizer(valid.channel);
  if (sizer instanceof IoleaseError) return sizer;
  return { ...valid, settings: { ...valid.channel, sizer } };
}
