import type { EventLoop, EventLoopOptions, LoopCapabilities } from '@iolease/interfaces';
import { usingLoop } from './helpers.js';

/**
 * The optional features of CONF-2 a backend declares (TERM-2), as its loops report them in
 * `loop.capabilities` (LOOP-9). A test of an undeclared feature is reported as skipped, never as
 * passed.
 *
 * @since 0.1.0
 */
export type Capabilities = Partial<LoopCapabilities>;

/** The capability names of CONF-2. */
export const CAPABILITIES: readonly (keyof Capabilities)[] = ['zeroCopySend', 'reusePort', 'ipv6', 'unixSockets'];

/**
 * A backend as the conformance kit runs it.
 *
 * @since 0.1.0
 */
export interface BackendUnderTest<L extends EventLoop = EventLoop> {
  /** Names the backend in test titles, e.g. `io_uring`. */
  readonly name: string;
  /** The optional features it provides (CONF-2); none by default. */
  readonly capabilities?: Capabilities;
  /**
   * Whether its loops fill a buffer with several reads (incremental buffers, POOL-4): a read may
   * then get the rest of a buffer rather than a whole one, and each lease has an ArrayBuffer of
   * its own bytes (LEASE-11), so leases show more ArrayBuffers than the pool has buffers. The kit
   * checks those rules in that form, and builds pool pressure out of reads that use up whole
   * buffers. Default `false`.
   *
   * @since 0.3.0
   */
  readonly incrementalBuffers?: boolean;
  /** Creates a loop; called once per test, and the kit closes it. */
  createLoop(options?: EventLoopOptions): L | Promise<L>;
  /**
   * How a child Node process or a worker thread creates a loop of this backend, for the tests
   * that watch a whole process or thread (LOOP-5, LOOP-6, LOOP-7, LIFE-8): an ES module `import`
   * statement, and an expression using it that evaluates to a loop (or a promise of one). The
   * statement runs as evaluated code, so a package name resolves from the working directory and
   * a path must be absolute. It runs outside Vitest, so it must name built JavaScript, not
   * TypeScript sources. Without it those tests are skipped.
   *
   * @example
   * ```ts
   * { import: `import { createEventLoop } from '${distEntry}';`, create: 'createEventLoop()' }
   * ```
   */
  readonly inChildProcess?: { readonly import: string; readonly create: string };
  /**
   * How long one kit test may run, in milliseconds; the host's `testTimeout` does not apply.
   * Default 120,000: well above what a passing test takes, and above every watchdog the kit sets
   * plus the loop's close after it, so a stuck backend fails with the rule and the state a
   * watchdog names. A shorter limit suits a quick run that only asks which tests fail; a stuck
   * test then ends on the runner's bare timeout.
   *
   * @since 0.3.0
   */
  readonly testTimeoutMs?: number;
}

/** What each suite gets: the backend, and a helper running a test body on a fresh loop. */
export interface Kit {
  readonly backend: BackendUnderTest;
  /** Whether the backend declared `capability`; tests of undeclared ones are skipped. */
  has(capability: keyof Capabilities): boolean;
  /** Runs `fn` with a fresh loop from the backend and always closes it. */
  withLoop<T>(options: EventLoopOptions | undefined, fn: (loop: EventLoop) => Promise<T>): Promise<T>;
}

export function makeKit(backend: BackendUnderTest): Kit {
  return {
    backend,
    has: (capability) => backend.capabilities?.[capability] === true,
    async withLoop(options, fn) {
      return usingLoop(await backend.createLoop(options), fn);
    },
  };
}
