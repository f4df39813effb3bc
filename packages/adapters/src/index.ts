/**
 * `@iolease/adapters`: iolease on every platform and for existing Node code.
 *
 * @packageDocumentation
 */

export { ChannelDuplex, type ChannelDuplexOptions, serve } from './duplex.js';
export { NetEventLoop, type NetEventLoopOptions } from './net/loop.js';
export {
  type AutoEventLoopOptions,
  type BackendRequest,
  type BackendSelection,
  createEventLoop,
  openEventLoop,
} from './select.js';
