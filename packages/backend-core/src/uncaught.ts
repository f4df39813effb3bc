import type { Channel, ChannelHandler, IoleaseError } from '@iolease/interfaces';

// A global of every JavaScript runtime iolease targets (browsers, Node, Deno, Bun), though not of
// the ECMAScript library this package compiles against.
declare function queueMicrotask(callback: () => void): void;

/**
 * Reports an exception thrown by an application callback to the host as uncaught, after the
 * backend's own bookkeeping has finished (LOOP-5).
 *
 * @since 0.1.0
 */
export function reportUncaught(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Tells the application that `channel` failed (LIFE-8): calls the handler's `onError`, or, when
 * the handler has none, reports the error as uncaught, as Node does for an `'error'` event
 * nobody listens to: a failure is never dropped in silence. An exception `onError` throws is
 * reported the same way (LOOP-5). The caller closes the channel afterwards.
 *
 * @since 0.2.0
 */
export function reportChannelError(handler: ChannelHandler | undefined, channel: Channel, error: IoleaseError): void {
  if (typeof handler?.onError !== 'function') {
    reportUncaught(error);
    return;
  }
  try {
    handler.onError(channel, error);
  } catch (thrown) {
    reportUncaught(thrown);
  }
}

/**
 * Calls every listener with `event`; one that throws is reported as uncaught and the others are
 * still called (LOOP-5, PRESS-4: every subscriber hears of every transition).
 */
export function callEach<E>(listeners: Iterable<(event: E) => void>, event: E): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      reportUncaught(error);
    }
  }
}
