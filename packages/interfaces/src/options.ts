import type { AbortSignalLike } from './abort-signal.js';
import { AdaptiveRecvByteBufferSizer } from './adaptive-sizer.js';
import { type NumericHost, parseNumericHost, validateUnixPath } from './address.js';
import type { ChannelOptions } from './channel.js';
import type { LeakDetectionLevel } from './diagnostics.js';
import { ErrorCode, IoleaseError } from './errors.js';
import type { ConnectOptions, EventLoopOptions } from './event-loop.js';
import type { ListenOptions } from './listener.js';
import { DEFAULT_SIZE_CLASSES, type SizeClassConfig, validateSizeClasses } from './size-class.js';
import type { RecvByteBufferSizer } from './sizer.js';
import { validateBoolean, validateFunction, validateInteger, validateObject } from './validate.js';
import { DEFAULT_WATER_MARKS, validateWaterMarks, type WaterMarks } from './water-marks.js';

// The validation of listen(), connect() and loop options, shared so that every backend accepts
// and refuses the same arguments with the same codes (ERR-2).

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

/**
 * The options every event loop takes (spec §2), validated, with their defaults.
 *
 * @since 0.2.0
 */
export interface ValidLoopOptions {
  /** The pool's size classes (POOL-2); {@link DEFAULT_SIZE_CLASSES} unless given. */
  readonly sizeClasses: readonly SizeClassConfig[];
  /** New channels' water marks (WATER-1); {@link DEFAULT_WATER_MARKS} unless given. */
  readonly waterMarks: WaterMarks;
  /** Whether released buffers are overwritten with `POISON_BYTE` (LEASE-5). */
  readonly poison: boolean;
  /** The leak detection level (DIAG-1); `off` unless given. */
  readonly leakDetection: LeakDetectionLevel;
}

/**
 * Validates the {@link EventLoopOptions} every backend takes (ERR-2) and fills in the defaults.
 * A backend with options of its own validates those after these.
 *
 * @param options - what the application passed to the loop's factory
 * @since 0.2.0
 */
export function validateLoopOptions(options: EventLoopOptions): ValidLoopOptions {
  validateObject('options', options);
  const sizeClasses = validateSizeClasses(options.sizeClasses ?? DEFAULT_SIZE_CLASSES);
  const waterMarks = validateWaterMarks(options.waterMarks ?? DEFAULT_WATER_MARKS);
  const diagnostics = validateObject('options.diagnostics', options.diagnostics ?? {});
  return {
    sizeClasses,
    waterMarks,
    poison: validateBoolean('options.diagnostics.poison', diagnostics.poison ?? false),
    leakDetection: validateLeakDetection(diagnostics.leakDetection),
  };
}
