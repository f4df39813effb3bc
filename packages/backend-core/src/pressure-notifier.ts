import { type PoolPressureEvent, type Unsubscribe, validateFunction } from '@iolease/interfaces';
import { callEach } from './uncaught.js';

/**
 * The subscribers of a pool's pressure notifications (PRESS-4): `notify` delivers one event to
 * each, later, through `defer`, because pressure changes inside reads and `release()` calls
 * (LOOP-2).
 *
 * @since 0.1.0
 */
export class PressureNotifier {
  readonly #listeners = new Set<(event: PoolPressureEvent) => void>();
  readonly #defer: (task: () => void) => void;

  /** @param defer - how the backend runs callbacks later, e.g. a {@link DeferQueue}'s `defer` */
  constructor(defer: (task: () => void) => void) {
    this.#defer = defer;
  }

  /** Adds a subscriber, as `BufferPool.onPressureChange` does; returns its unsubscribe. */
  subscribe(listener: (event: PoolPressureEvent) => void): Unsubscribe {
    validateFunction('listener', listener);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Class `sizeClass` went into (`true`) or out of pressure. */
  notify(sizeClass: number, underPressure: boolean): void {
    const event: PoolPressureEvent = { sizeClass, underPressure };
    this.#defer(() => callEach(this.#listeners, event));
  }
}
