/**
 * How hard a backend looks for leases that were garbage-collected unreleased (DIAG-1).
 *
 * - `off`: no tracking, no cost (DIAG-5). The default.
 * - `sampled`: about one lease in {@link LEAK_SAMPLING_INTERVAL} is tracked, with its
 *   acquisition site; cheap enough for production.
 * - `all`: every lease is tracked with its acquisition site; for tests.
 *
 * @since 0.1.0
 */
export type LeakDetectionLevel = 'off' | 'sampled' | 'all';

/** One lease in this many is tracked at level `sampled` (DIAG-1). */
export const LEAK_SAMPLING_INTERVAL = 128;

/**
 * A lease was garbage-collected without {@link Lease.release} (DIAG-2).
 *
 * @since 0.1.0
 */
export interface LeakReport {
  /** The leaked lease's {@link Lease.id}. */
  readonly leaseId: number;
  /** The channel it was read from. */
  readonly channelId: number;
  /** Buffer size of its size class. */
  readonly sizeClass: number;
  /** Bytes the lease held. */
  readonly length: number;
  /** Stack trace of the read that delivered it, when the level captured one. */
  readonly acquisitionSite: string | undefined;
}

/**
 * Debugging aids of a loop (spec §11). All default to off.
 *
 * @since 0.1.0
 */
export interface DiagnosticsOptions {
  /** Leak detection level (DIAG-1). Default `off`. */
  readonly leakDetection?: LeakDetectionLevel;
  /**
   * Overwrites released buffers with {@link POISON_BYTE} before they are reused, so reading
   * stale views shows garbage in tests instead of plausible data (DIAG-3). Default `false`.
   */
  readonly poison?: boolean;
}

/** The byte poison mode fills released memory with (DIAG-3). */
export const POISON_BYTE = 0xdb;
