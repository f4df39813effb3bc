import type { LeakDetectionLevel, LeakReport, LoopStatistics, PoolStatistics, Unsubscribe } from '@iolease/interfaces';
import { validateFunction } from '@iolease/interfaces';
import type { ChannelCoreLoop } from './channel-transport.js';
import { DeferQueue } from './defer-queue.js';
import { type LeakTracker, leakTrackerFor } from './leak-tracker.js';

/**
 * What only the backend knows of its `stats()` (DIAG-4); {@link LoopCore.stats} adds the rest.
 *
 * @since 0.2.0
 */
export interface LoopStatisticsParts {
  /** The pool's snapshot (POOL-5). */
  readonly pool: PoolStatistics;
  /** Channels open now. */
  readonly channelsOpen: number;
  /** Listeners open now. */
  readonly listenersOpen: number;
  /** Operations handed to the system; default those counted with {@link LoopCore.countSubmission}. */
  readonly submissions?: number;
  /** Calls that handed them over; default `submissions`. */
  readonly submitCalls?: number;
  /**
   * Completions processed; default one per lease delivered and per write completed, the
   * equivalent for a backend without a kernel queue.
   */
  readonly completions?: number;
  /** Batches they came in (LOOP-4); default one per completion. */
  readonly completionBatches?: number;
  /** Zero-copy sends the kernel copied after all (WRITE-8); default 0. */
  readonly zeroCopyCopied?: number;
}

/**
 * The parts of an event loop every backend keeps the same way: the deferred callbacks (LOOP-2),
 * channel and lease ids, the write and lease counters of `stats()` (DIAG-4), and leak detection
 * (DIAG-1, DIAG-5). It is what a {@link ChannelCore} needs of its loop.
 *
 * @since 0.2.0
 */
export class LoopCore implements ChannelCoreLoop {
  /** The leak tracker at levels `sampled` and `all`; none at `off` (DIAG-5). */
  readonly leaks: LeakTracker | undefined;
  readonly #deferred = new DeferQueue();
  #nextChannelId = 1;
  #nextLeaseId = 1;
  #leasesDelivered = 0;
  #writesCompleted = 0;
  #bytesWritten = 0;
  #submissions = 0;

  /**
   * @param leakDetection - the validated `diagnostics.leakDetection` option
   * @param pool - the loop's pool, asked once a leak is found, so that its buffer counts as
   *   quarantined (POOL-5)
   */
  constructor(
    leakDetection: LeakDetectionLevel,
    pool: () => { quarantine(sizeClass: number, length: number, buffer: number): void },
  ) {
    this.leaks = leakTrackerFor(leakDetection, (task) => this.defer(task), pool);
  }

  /** Runs `task` soon, in order with the other deferred callbacks, never inside the API call that asked (LOOP-2). */
  defer(task: () => void): void {
    this.#deferred.defer(task);
  }

  /** A new channel id, unique in the loop. */
  nextChannelId(): number {
    return this.#nextChannelId++;
  }

  nextLeaseId(): number {
    this.#leasesDelivered++;
    return this.#nextLeaseId++;
  }

  countWrite(bytes: number): void {
    this.#writesCompleted++;
    this.#bytesWritten += bytes;
  }

  /** An operation was handed to the system, a write to a socket say (DIAG-4 `submissions`). */
  countSubmission(): void {
    this.#submissions++;
  }

  /** Leases delivered so far (DIAG-4). */
  get leasesDelivered(): number {
    return this.#leasesDelivered;
  }

  /** Writes completed so far, failed ones included (DIAG-4). */
  get writesCompleted(): number {
    return this.#writesCompleted;
  }

  /** Bytes of writes completed without error (DIAG-4). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Leases reported as leaked (DIAG-4). */
  get leaksDetected(): number {
    return this.leaks?.leaksDetected ?? 0;
  }

  /** `EventLoop.stats()`: the backend's figures and the counters kept here (DIAG-4). */
  stats(parts: LoopStatisticsParts): LoopStatistics {
    const completions = parts.completions ?? this.#leasesDelivered + this.#writesCompleted;
    return {
      pool: parts.pool,
      channelsOpen: parts.channelsOpen,
      listenersOpen: parts.listenersOpen,
      leasesDelivered: this.#leasesDelivered,
      completions,
      completionBatches: parts.completionBatches ?? completions,
      submissions: parts.submissions ?? this.#submissions,
      submitCalls: parts.submitCalls ?? parts.submissions ?? this.#submissions,
      writesCompleted: this.#writesCompleted,
      bytesWritten: this.#bytesWritten,
      zeroCopyCopied: parts.zeroCopyCopied ?? 0,
      leaksDetected: this.leaksDetected,
    };
  }

  /** `EventLoop.onLeak`: subscribes to leak reports; at level `off` none ever comes (DIAG-5). */
  onLeak(listener: (report: LeakReport) => void): Unsubscribe {
    validateFunction('listener', listener);
    return this.leaks?.subscribe(listener) ?? (() => {});
  }
}
