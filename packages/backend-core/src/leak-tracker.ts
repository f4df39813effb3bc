import {
  LEAK_SAMPLING_INTERVAL,
  type LeakDetectionLevel,
  type LeakReport,
  type Lease,
  type Unsubscribe,
  validateFunction,
} from '@iolease/interfaces';
import { callEach } from './uncaught.js';

/**
 * Leak detection for a backend's leases (spec §11, DIAG-1, DIAG-2): at level `all` every lease,
 * at `sampled` one in {@link LEAK_SAMPLING_INTERVAL}, is registered with a
 * `FinalizationRegistry` together with the stack of the read that delivered it; a lease
 * collected before `release()` is reported to the subscribers. Its buffer is never reused: a view
 * of it may still be alive (DIAG-2). At level `off` a backend creates no tracker at all (DIAG-5).
 *
 * @since 0.1.0
 */
export class LeakTracker {
  /** The level it tracks at. */
  readonly level: 'sampled' | 'all';
  readonly #registry: FinalizationRegistry<{ report: LeakReport; buffer: number }>;
  readonly #listeners = new Set<(report: LeakReport) => void>();
  readonly #defer: (task: () => void) => void;
  readonly #onCollected: ((report: LeakReport, buffer: number) => void) | undefined;
  #delivered = 0;
  #leaks = 0;

  /**
   * @param level - `sampled` or `all`
   * @param defer - how the backend runs callbacks later, e.g. a {@link DeferQueue}'s `defer`
   * @param onCollected - told of each leak at once, before the listeners, with the `buffer`
   *   {@link LeakTracker.track} was given, e.g. so the pool moves that buffer to `quarantined`
   *   (POOL-5); it must not throw
   */
  constructor(
    level: 'sampled' | 'all',
    defer: (task: () => void) => void,
    onCollected?: (report: LeakReport, buffer: number) => void,
  ) {
    this.level = level;
    this.#defer = defer;
    this.#onCollected = onCollected;
    this.#registry = new FinalizationRegistry(({ report, buffer }) => this.#collected(report, buffer));
  }

  /** Leases reported as leaked so far (DIAG-4). */
  get leaksDetected(): number {
    return this.#leaks;
  }

  /**
   * A lease was delivered on channel `channelId`: track it if the level says so.
   *
   * @param buffer - which pool buffer it views, as the backend names it, e.g.
   *   `(classIndex << 16) | bufferId`; handed back to `onCollected`
   */
  track(lease: Lease, channelId: number, buffer = 0): void {
    if (this.level === 'sampled' && this.#delivered++ % LEAK_SAMPLING_INTERVAL !== 0) return;
    const report: LeakReport = {
      leaseId: lease.id,
      channelId,
      sizeClass: lease.sizeClass,
      length: lease.length,
      acquisitionSite: new Error(`lease ${lease.id} delivered here`).stack,
    };
    this.#registry.register(lease, { report, buffer }, lease);
  }

  /** The lease was released: it can no longer leak. */
  untrack(lease: Lease): void {
    this.#registry.unregister(lease);
  }

  /** Adds a leak subscriber, as `EventLoop.onLeak` does; returns its unsubscribe. */
  subscribe(listener: (report: LeakReport) => void): Unsubscribe {
    validateFunction('listener', listener);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #collected(report: LeakReport, buffer: number): void {
    this.#leaks++;
    this.#onCollected?.(report, buffer);
    this.#defer(() => callEach(this.#listeners, report));
  }
}

/**
 * The leak tracker a loop needs for `level` (DIAG-1): none at `off` (DIAG-5), else one whose
 * leaks move their buffers to the pool's `quarantined` count (POOL-5).
 *
 * @param level - the validated `leakDetection` option
 * @param defer - how the backend runs callbacks later
 * @param pool - the loop's pool, asked once the loop has one (a leak is found later)
 * @since 0.2.0
 */
export function leakTrackerFor(
  level: LeakDetectionLevel,
  defer: (task: () => void) => void,
  pool: () => { quarantine(sizeClass: number, length: number, buffer: number): void },
): LeakTracker | undefined {
  if (level === 'off') return undefined;
  return new LeakTracker(level, defer, (report, buffer) => pool().quarantine(report.sizeClass, report.length, buffer));
}
