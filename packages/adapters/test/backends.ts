// The backends the adapters' tests run on: both, wherever they can.

import { usingLoop } from '@iolease/conformance';
import type { EventLoop, EventLoopOptions } from '@iolease/interfaces';
import { createEventLoop } from '@iolease/reference-uring';
import { NetEventLoop } from '../src/index.ts';

export const backends: [name: string, create: (options?: EventLoopOptions) => EventLoop][] = [
  ['io_uring', (options) => createEventLoop(options)],
  ['node:net', (options) => new NetEventLoop(options)],
];

/** Runs `fn` with a fresh loop and always closes it, within the kit's deadline (LIFE-10). */
export function withBackend<T>(
  create: (options?: EventLoopOptions) => EventLoop,
  fn: (loop: EventLoop) => Promise<T>,
  options?: EventLoopOptions,
): Promise<T> {
  return usingLoop(create(options), fn);
}
