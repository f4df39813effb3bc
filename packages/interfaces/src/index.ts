/**
 * `@iolease/interfaces`: the contract of event-loop-owned I/O memory.
 *
 * Types a backend implements ({@link EventLoop}, {@link Channel}, {@link BufferPool},
 * {@link Lease}), the standard {@link RecvByteBufferSizer}s, and the stable error codes. No I/O,
 * no dependencies; it loads in any JavaScript runtime. Each rule cited as `AREA-N` is a
 * requirement of the iolease specification.
 *
 * @packageDocumentation
 */

export {
  ADAPTIVE_DEFAULTS,
  ADAPTIVE_SIZE_TABLE,
  AdaptiveRecvByteBufferSizer,
  type AdaptiveRecvByteBufferSizerOptions,
} from './adaptive-sizer.js';
export {
  MAX_UNIX_PATH_BYTES,
  type NumericHost,
  parseNumericHost,
  type SocketAddress,
  validateUnixPath,
} from './address.js';
export {
  type ChannelTemplate,
  channelClosedError,
  channelTemplate,
  createSizer,
  DeferQueue,
  LeakTracker,
  leakTrackerFor,
  loopClosedError,
  PressureNotifier,
  poolStatistics,
  reportChannelError,
  reportUncaught,
  type ValidConnectOptions,
  type ValidListenOptions,
  validateConnectOptions,
  validateLeakDetection,
  validateListenOptions,
  Writability,
  type WritabilityInit,
  writeAfterEndError,
} from './backend-support.js';
export { type LoopCapabilities, unsupportedRequest } from './capabilities.js';
export type { Channel, ChannelHandler, ChannelOptions, ChannelState } from './channel.js';
export { type AbortSignalLike, abortedError, guardConnect } from './connect-guard.js';
export {
  type DiagnosticsOptions,
  LEAK_SAMPLING_INTERVAL,
  type LeakDetectionLevel,
  type LeakReport,
  POISON_BYTE,
} from './diagnostics.js';
export {
  ErrorCode,
  IoleaseError,
  type IoleaseErrorCode,
  IoleaseSystemError,
  isIoleaseError,
  LeaseReleasedError,
} from './errors.js';
export type {
  ConnectOptions,
  EventLoop,
  EventLoopFactory,
  EventLoopOptions,
  LoopStatistics,
} from './event-loop.js';
export { FixedRecvByteBufferSizer, MAX_READ_SIZE } from './fixed-sizer.js';
export type { Lease } from './lease.js';
export type { AcceptCallback, Listener, ListenOptions } from './listener.js';
export type { BufferPool, PoolPressureEvent, PoolStatistics, SizeClassStatistics } from './pool.js';
export {
  ChannelLeases,
  type LeaseOwner,
  type LeaseUntracker,
  PooledLease,
  type PooledLeaseInit,
} from './pooled-lease.js';
export {
  DEFAULT_SIZE_CLASSES,
  MAX_BUFFERS_PER_CLASS,
  MAX_SIZE_CLASSES,
  type SizeClassConfig,
  sizeClassIndexFor,
  validateSizeClasses,
} from './size-class.js';
export type { RecvByteBufferSizer, RecvByteBufferSizerFactory } from './sizer.js';
export type { Unsubscribe } from './subscription.js';
export { validateBoolean, validateFunction, validateInteger, validateObject } from './validate.js';
export { DEFAULT_WATER_MARKS, validateWaterMarks, type WaterMarks } from './water-marks.js';
export {
  snapshotWrite,
  validateWrite,
  type WriteCompletionCallback,
  type WriteData,
  writeDataLength,
  writeIntact,
} from './write-completion.js';
export { RELEASE_UNDER_WRITE_WARNING, WritePins, type WritePinsOptions } from './write-pins.js';
