import { reportUncaught } from './uncaught.js';

// A global of every JavaScript runtime iolease targets, though not of the ECMAScript library this
// package compiles against.
declare function queueMicrotask(callback: () => void): void;

/**
 * Callbacks a backend must not run inside the API call that caused them (LOOP-2), run soon, in
 * the order they were deferred, all in one microtask; an exception from one is reported
 * (LOOP-5) and the rest still run.
 *
 * @since 0.1.0
 */
export class DeferQueue {
  #tasks: (() => void)[] = [];
  #scheduled = false;

  /** Queues `task`. */
  defer(task: () => void): void {
    this.#tasks.push(task);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#run);
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    const tasks = this.#tasks;
    this.#tasks = [];
    for (const task of tasks) {
      try {
        task();
      } catch (error) {
        reportUncaught(error);
      }
    }
  };
}
