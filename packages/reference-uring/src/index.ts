/**
 * `@iolease/reference-uring`: the iolease reference EventLoop on Linux io_uring.
 *
 * @packageDocumentation
 */
import { UringEventLoop, type UringEventLoopOptions } from './loop.js';

export { UringEventLoop, type UringEventLoopOptions } from './loop.js';
export type { NativeFeatures } from './native.js';
export type { UringBufferPool } from './pool.js';

/**
 * Creates an io_uring event loop; an `EventLoopFactory` of `@iolease/interfaces`.
 *
 * @throws IoleaseError `ERR_IOLEASE_UNSUPPORTED_PLATFORM` off Linux, `ERR_IOLEASE_BACKEND_UNAVAILABLE`
 *   where io_uring is missing or forbidden, argument errors for bad options
 */
export function createEventLoop(options?: UringEventLoopOptions): UringEventLoop {
  return new UringEventLoop(options);
}
