import { AdaptiveRecvByteBufferSizer } from './adaptive-sizer.js';
import { type NumericHost, parseNumericHost, validateUnixPath } from './address.js';
import type { Channel, ChannelHandler, ChannelOptions } from './channel.js';
import type { AbortSignalLike } from './connect-guard.js';
import { LEAK_SAMPLING_INTERVAL, type LeakDetectionLevel, type LeakReport } from './diagnostics.js';
import { ErrorCode, IoleaseError } from './errors.js';
import type { ConnectOptions } from './event-loop.js';
import type { Lease } from './lease.js';
import type { ListenOptions } from './listener.js';
import type { PoolPressureEvent, PoolStatistics, SizeClassStatistics } from './pool.js';
import type { RecvByteBufferSizer } from './sizer.js';
import type { Unsubscribe } from './subscription.js';
import { validateBoolean, validateFunction, validateInteger, validateObject } from './validate.js';
import { validateWaterMarks, type WaterMarks } from './water-marks.js';

// A global of every JavaScript runtime iolease targets (browsers, Node, Deno, Bun), though not of
// the ECMAScript library this package compiles against.
declare function queueMicrotask(callback: () => void): void;

// Small pieces every backend needs in the same form, so that backends agree on codes, messages
// and callback order. Not needed to *use* iolease, only to implement a backend.

/**
 * The error of a write that could not complete because its channel closed (WRITE-9, WRITE-10).
 *
 * @since 0.1.0
 */
export function channelClosedError(): IoleaseError {
  return new IoleaseError(ErrorCode.CHANNEL_CLOSED, 'The channel was closed before the write completed');
}

/**
 * The error of a write made after `shutdown()` (WRITE-10).
 *
 * @since 0.1.0
 */
export function writeAfterEndError(): IoleaseError {
  return new IoleaseError(ErrorCode.WRITE_AFTER_END, 'write after shutdown(): the channel no longer sends');
}

/**
 * The error of `listen()` or `connect()` on a closed loop (LIFE-10).
 *
 * @since 0.1.0
 */
export function loopClosedError(): IoleaseError {
  return new IoleaseError(ErrorCode.LOOP_CLOSED, 'The event loop is closed');
}

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

/**
 * The validated channel options of one `listen()` or `connect()`; `sizer()` makes each channel
 * its own sizer (SIZER-1).
 *
 * @since 0.1.0
 */
export interface ChannelTemplate {
  /** Makes the sizer of one channel. */
  readonly sizer: () => RecvByteBufferSizer;
  /** Whether a new channel reads as soon as it has a handler (READ-1). */
  readonly autoRead: boolean;
  /** Whether a new channel sets `TCP_NODELAY`. */
  readonly noDelay: boolean;
  /** A new channel's water marks (WATER-1). */
  readonly waterMarks: WaterMarks;
  /** The most buffers a new channel holds before it stops receiving (PRESS-9); `Infinity` for none. */
  readonly maxLeases: number;
}

/**
 * Validates {@link ChannelOptions} (ERR-2) and fills in the defaults: an
 * {@link AdaptiveRecvByteBufferSizer} per channel, auto-read on (READ-1), `noDelay` on, and the
 * loop's water marks (WATER-1).
 *
 * @param options - the options of a `listen()` or `connect()`
 * @param waterMarks - the loop's water marks
 * @since 0.1.0
 */
export function channelTemplate(options: ChannelOptions, waterMarks: WaterMarks): ChannelTemplate {
  const sizer =
    options.sizer === undefined
      ? () => new AdaptiveRecvByteBufferSizer()
      : validateFunction<() => RecvByteBufferSizer>('options.sizer', options.sizer);
  return {
    sizer,
    autoRead: validateBoolean('options.autoRead', options.autoRead ?? true),
    noDelay: validateBoolean('options.noDelay', options.noDelay ?? true),
    waterMarks: options.waterMarks === undefined ? waterMarks : validateWaterMarks(options.waterMarks),
    maxLeases:
      options.maxLeases === undefined
        ? Number.POSITIVE_INFINITY
        : validateInteger('options.maxLeases', options.maxLeases, 1, 2 ** 31 - 1),
  };
}

/**
 * Makes one channel's sizer from its template (SIZER-1). A factory that throws gives an
 * `ERR_IOLEASE_INVALID_SIZER` error with the thrown value as `cause` (SIZER-3), returned rather
 * than thrown so that the backend can decide before it acquires anything: `connect()` rejects
 * with it, and an accepted connection is reset.
 *
 * @param template - the channel options of the `listen()` or `connect()`
 * @since 0.2.0
 */
export function createSizer(template: ChannelTemplate): RecvByteBufferSizer | IoleaseError {
  try {
    return template.sizer();
  } catch (cause) {
    return new IoleaseError(ErrorCode.INVALID_SIZER, 'The sizer factory (options.sizer) threw', { cause });
  }
}

/**
 * `listen()` options, validated, with their defaults.
 *
 * @since 0.1.0
 */
export interface ValidListenOptions {
  /** The Unix domain socket path to listen on instead of TCP (LIFE-20), if given. */
  readonly path: string | undefined;
  /** `'unix'` with a path, else the host's 4 or 6: what `unsupportedRequest` checks (LOOP-9). */
  readonly family: 4 | 6 | 'unix';
  /** Where to bind (LIFE-1); `127.0.0.1` when `path` is given. */
  readonly host: NumericHost;
  /** The port; 0 picks a free one. */
  readonly port: number;
  /** The listen backlog, default 511. */
  readonly backlog: number;
  /** Whether to set `SO_REUSEPORT`. */
  readonly reusePort: boolean;
  /** Whether an IPv6 listener refuses IPv4-mapped connections. */
  readonly ipv6Only: boolean;
  /** The options of each accepted channel. */
  readonly channel: ChannelTemplate;
}

/**
 * `connect()` options, validated, with their defaults.
 *
 * @since 0.1.0
 */
export interface ValidConnectOptions {
  /** The Unix domain socket path to connect to instead of TCP (LIFE-20), if given. */
  readonly path: string | undefined;
  /** `'unix'` with a path, else the host's 4 or 6: what `unsupportedRequest` checks (LOOP-9). */
  readonly family: 4 | 6 | 'unix';
  /** Where to connect (LIFE-3); `127.0.0.1` when `path` is given. */
  readonly host: NumericHost;
  /** The port, 1 to 65535; 0 when `path` is given. */
  readonly port: number;
  /** Milliseconds to wait for the connection, if given (LIFE-16). */
  readonly timeout: number | undefined;
  /** The signal that gives the connect up, if given (LIFE-16). */
  readonly signal: AbortSignalLike | undefined;
  /** The options of the channel. */
  readonly channel: ChannelTemplate;
}

/**
 * Validates the options of `listen()` (LIFE-1, ERR-2) before the backend acquires anything.
 *
 * @param options - what the application passed
 * @param waterMarks - the loop's water marks, the channels' default
 * @since 0.1.0
 */
export function validateListenOptions(options: ListenOptions, waterMarks: WaterMarks): ValidListenOptions {
  validateObject('options', options);
  const path = unixPath(options, ['host', 'port', 'reusePort', 'ipv6Only']);
  const host = parseNumericHost(options.host);
  return {
    path,
    family: path === undefined ? host.family : 'unix',
    port: path === undefined ? validateInteger('options.port', options.port, 0, 65535) : 0,
    backlog: validateInteger('options.backlog', options.backlog ?? 511, 1, 65535),
    reusePort: validateBoolean('options.reusePort', options.reusePort ?? false),
    ipv6Only: validateBoolean('options.ipv6Only', options.ipv6Only ?? false),
    host,
    channel: channelTemplate(options, waterMarks),
  };
}

/**
 * Validates the options of `connect()` (LIFE-3, ERR-2) before the backend acquires anything.
 *
 * @param options - what the application passed
 * @param waterMarks - the loop's water marks, the channel's default
 * @since 0.1.0
 */
export function validateConnectOptions(options: ConnectOptions, waterMarks: WaterMarks): ValidConnectOptions {
  validateObject('options', options);
  const path = unixPath(options, ['host', 'port']);
  const host = parseNumericHost(options.host);
  return {
    path,
    family: path === undefined ? host.family : 'unix',
    port: path === undefined ? validateInteger('options.port', options.port, 1, 65535) : 0,
    host,
    timeout:
      options.timeout === undefined ? undefined : validateInteger('options.timeout', options.timeout, 1, 2 ** 31 - 1),
    signal: validateSignal(options.signal),
    channel: channelTemplate(options, waterMarks),
  };
}

/** The `path` option, checked; with it, none of the TCP-only options may be given (LIFE-20). */
function unixPath(options: ListenOptions | ConnectOptions, tcpOnly: string[]): string | undefined {
  if (options.path === undefined) return undefined;
  const path = validateUnixPath(options.path);
  const clash = tcpOnly.find((name) => (options as Record<string, unknown>)[name] !== undefined);
  if (clash !== undefined) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_VALUE,
      `The "options.${clash}" argument cannot be combined with "options.path": a Unix domain socket has neither`,
    );
  }
  return path;
}

function validateSignal(signal: unknown): AbortSignalLike | undefined {
  if (signal === undefined) return undefined;
  const s = signal as Partial<AbortSignalLike> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.aborted !== 'boolean' ||
    typeof s.addEventListener !== 'function' ||
    typeof s.removeEventListener !== 'function'
  ) {
    throw new IoleaseError(ErrorCode.INVALID_ARG_TYPE, 'The "options.signal" argument must be an AbortSignal');
  }
  return s as AbortSignalLike;
}

/**
 * Pool statistics (POOL-5) from per-class figures: the totals are sums over the classes.
 *
 * @param classes - each class's statistics and the bytes its leases hold
 * @since 0.1.0
 */
export function poolStatistics(classes: readonly (SizeClassStatistics & { bytesLeased: number })[]): PoolStatistics {
  let leasesOut = 0;
  let bytesLeased = 0;
  let capacityBytes = 0;
  let pressureEvents = 0;
  for (const c of classes) {
    leasesOut += c.leased;
    bytesLeased += c.bytesLeased;
    capacityBytes += c.size * c.count;
    pressureEvents += c.pressureEvents;
  }
  return {
    classes: classes.map(
      ({ size, count, available, leased, held, returning, quarantined, pressureEvents: p, underPressure }) => ({
        size,
        count,
        available,
        leased,
        held,
        returning,
        quarantined,
        pressureEvents: p,
        underPressure,
      }),
    ),
    leasesOut,
    bytesLeased,
    capacityBytes,
    pressureEvents,
  };
}

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
  readonly #registry: FinalizationRegistry<LeakReport>;
  readonly #listeners = new Set<(report: LeakReport) => void>();
  readonly #defer: (task: () => void) => void;
  readonly #onCollected: ((report: LeakReport) => void) | undefined;
  #delivered = 0;
  #leaks = 0;

  /**
   * @param level - `sampled` or `all`
   * @param defer - how the backend runs callbacks later, e.g. a {@link DeferQueue}'s `defer`
   * @param onCollected - told of each leak at once, before the listeners, e.g. so the pool moves
   *   its buffer to `quarantined` (POOL-5); it must not throw
   */
  constructor(level: 'sampled' | 'all', defer: (task: () => void) => void, onCollected?: (report: LeakReport) => void) {
    this.level = level;
    this.#defer = defer;
    this.#onCollected = onCollected;
    this.#registry = new FinalizationRegistry((report) => this.#collected(report));
  }

  /** Leases reported as leaked so far (DIAG-4). */
  get leaksDetected(): number {
    return this.#leaks;
  }

  /** A lease was delivered on channel `channelId`: track it if the level says so. */
  track(lease: Lease, channelId: number): void {
    if (this.level === 'sampled' && this.#delivered++ % LEAK_SAMPLING_INTERVAL !== 0) return;
    const report: LeakReport = {
      leaseId: lease.id,
      channelId,
      sizeClass: lease.sizeClass,
      length: lease.length,
      acquisitionSite: new Error(`lease ${lease.id} delivered here`).stack,
    };
    this.#registry.register(lease, report, lease);
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

  #collected(report: LeakReport): void {
    this.#leaks++;
    this.#onCollected?.(report);
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
  pool: () => { quarantine(sizeClass: number, length: number): void },
): LeakTracker | undefined {
  if (level === 'off') return undefined;
  return new LeakTracker(level, defer, (report) => pool().quarantine(report.sizeClass, report.length));
}

/**
 * Calls every listener with `event`; one that throws is reported as uncaught and the others are
 * still called (LOOP-5, PRESS-4: every subscriber hears of every transition).
 */
function callEach<E>(listeners: Iterable<(event: E) => void>, event: E): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      reportUncaught(error);
    }
  }
}

/**
 * Validates the leak detection level of `DiagnosticsOptions` (DIAG-1, ERR-2).
 *
 * @param level - the option's value; `undefined` means `off`
 * @since 0.1.0
 */
export function validateLeakDetection(level: unknown): LeakDetectionLevel {
  if (level === undefined) return 'off';
  if (level === 'off' || level === 'sampled' || level === 'all') return level;
  throw new IoleaseError(
    ErrorCode.INVALID_ARG_VALUE,
    `The "options.diagnostics.leakDetection" argument must be "off", "sampled" or "all". Received ${JSON.stringify(level)}`,
  );
}
