/**
 * `@iolease/adapters`: iolease on every platform and for existing Node code.
 *
 * @packageDocumentation
 */

export {
  type ConnectCallback,
  type ConnectorOptions,
  type ConnectTarget,
  connector,
  LoopAgent,
  LoopHttpsAgent,
} from './client.js';
export { ChannelDuplex, type ChannelDuplexOptions } from './duplex.js';
export { NetEventLoop, type NetEventLoopOptions } from './net/loop.js';
export { NetBufferPool } from './net/pool.js';
export {
  createLeasePool,
  type LeaseOnread,
  type LeaseOnreadOptions,
  leaseOnread,
  type OnreadOptions,
  type OnreadSocket,
  onreadHandler,
} from './onread.js';
export {
  type AutoEventLoopOptions,
  type BackendRequest,
  type BackendSelection,
  createEventLoop,
  openEventLoop,
} from './select.js';
export { serve, useLoop } from './serve.js';
export { type LoopGroup, type LoopStart, type LoopWorker, type StartLoopsOptions, startLoops } from './workers.js';
