import { validateWaterMarks, type WaterMarks } from '@iolease/interfaces';

/**
 * What a {@link Writability} needs from its channel.
 *
 * @since 0.2.0
 */
export interface WritabilityInit {
  /** The channel's water marks, already validated. */
  readonly marks: WaterMarks;
  /** Runs a task on a later turn, as the loop runs its other callbacks (LOOP-2). */
  readonly defer: (task: () => void) => void;
  /**
   * Whether the channel is still open when a change comes to be delivered: a change that closing
   * caused (by failing the pending writes), or that was still queued when the channel closed, is
   * not delivered (WATER-4).
   */
  readonly isOpen: () => boolean;
  /**
   * Tells the application: calls the handler's `onWritabilityChanged`, reporting what it throws
   * as the backend reports any handler's exception (LOOP-5).
   */
  readonly notify: (writable: boolean) => void;
}

/**
 * A channel's pending write bytes against its water marks (spec §9): `writable` turns false
 * when the bytes exceed `high` and true again at `low` or below, and each change is delivered
 * once, on a later turn (LOOP-2), while the channel is open (WATER-3, WATER-4). The backend calls
 * {@link Writability.add} in `write()`, {@link Writability.remove} before a write's completion
 * runs (WATER-2) and {@link Writability.settle} after it, so that a change back to writable
 * follows the completion that caused it.
 *
 * @since 0.1.0
 */
export class Writability {
  #pending = 0;
  #writable = true;
  #ended = false;
  #marks: WaterMarks;
  readonly #init: WritabilityInit;

  /** @since 0.2.0 (one init object, and the deferral and WATER-4 suppression built in) */
  constructor(init: WritabilityInit) {
    this.#marks = init.marks;
    this.#init = init;
  }

  /**
   * Whether the channel takes writes: pending bytes within the marks' hysteresis (WATER-3), and
   * output not ended (WATER-6).
   */
  get writable(): boolean {
    return this.#writable && !this.#ended;
  }

  /**
   * Output ended (`shutdown()`, close, failure): not writable from now on, whatever the pending
   * bytes, and no further change is notified (WATER-6). Idempotent.
   */
  end(): void {
    this.#ended = true;
  }

  /** The total byte length of the pending writes (WATER-2). */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** A write of `bytes` was queued. */
  add(bytes: number): void {
    this.#pending += bytes;
    if (this.#writable && this.#pending > this.#marks.high) this.#set(false);
  }

  /** A write of `bytes` is about to complete; call {@link Writability.settle} after its callback. */
  remove(bytes: number): void {
    this.#pending -= bytes;
  }

  /** Turns writable again once pending bytes fell to the low mark. */
  settle(): void {
    if (!this.#writable && this.#pending <= this.#marks.low) this.#set(true);
  }

  /** New water marks (WATER-5: validates them), applied at once in either direction. */
  setMarks(marks: WaterMarks): void {
    this.#marks = validateWaterMarks(marks);
    if (this.#writable && this.#pending > this.#marks.high) this.#set(false);
    else this.settle();
  }

  #set(writable: boolean): void {
    this.#writable = writable;
    if (this.#ended) return;
    this.#init.defer(() => {
      if (this.#init.isOpen()) this.#init.notify(writable);
    });
  }
}
