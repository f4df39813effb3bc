import type { EventLoop, EventLoopOptions } from '@iolease/interfaces';

/**
 * A backend as the conformance kit runs it.
 *
 * @since 0.1.0
 */
export interface BackendUnderTest<L extends EventLoop = EventLoop> {
  /** Names the backend in test titles, e.g. `io_uring`. */
  readonly name: string;
  /** Creates a loop; called once per test, and the kit closes it. */
  createLoop(options?: EventLoopOptions): L | Promise<L>;
  /**
   * The memory behind size class `classIndex`, when the backend can show it: the kit then checks
   * that leases are views of it, not copies (LEASE-1).
   */
  poolMemory?(loop: L, classIndex: number): ArrayBufferLike | undefined;
}

/** What each suite gets: the backend, and a helper running a test body on a fresh loop. */
export interface Kit {
  readonly backend: BackendUnderTest;
  /** Runs `fn` with a fresh loop from the backend and always closes it. */
  withLoop<T>(options: EventLoopOptions | undefined, fn: (loop: EventLoop) => Promise<T>): Promise<T>;
}

export function makeKit(backend: BackendUnderTest): Kit {
  return {
    backend,
    async withLoop(options, fn) {
      const loop = await backend.createLoop(options);
      try {
        return await fn(loop);
      } finally {
        await loop.close();
      }
    },
  };
}
