/**
 * `@iolease/adapters`: iolease on every platform and for existing Node code.
 *
 * @packageDocumentation
 */
export { NetEventLoop, type NetEventLoopOptions } from './net/loop.js';
