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

export type { AbortSignalLike } from './abort-signal.js';
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
export { type LoopCapabilities, unsupportedRequest } from './capabilities.js';
export type { Channel, ChannelHandler, ChannelOptions, ChannelState } from './channel.js';
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
export {
  type ChannelTemplate,
  channelTemplate,
  createSizer,
  type ValidConnectOptions,
  type ValidListenOptions,
  type ValidLoopOptions,
  validateConnectOptions,
  validateLeakDetection,
  validateListenOptions,
  validateLoopOptions,
} from './options.js';
export type { BufferPool, PoolPressureEvent, PoolStatistics, SizeClassStatistics } from './pool.js';
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
  validateWrite,
  type WriteCompletionCallback,
  type WriteData,
  writeDataLength,
} from './write-completion.js';
