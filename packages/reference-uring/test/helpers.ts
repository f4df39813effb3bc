import { readdirSync } from 'node:fs';
import { createEventLoop, type UringEventLoop, type UringEventLoopOptions } from '../src/index.ts';

export { deferred, echoServer, netConnect, randomBytes, readAll, sha256, sleep } from '@iolease/conformance';

/** Runs `fn` with a fresh loop and always closes it. */
export async function withLoop<T>(
  options: UringEventLoopOptions | undefined,
  fn: (loop: UringEventLoop) => Promise<T>,
): Promise<T> {
  const loop = createEventLoop(options);
  try {
    return await fn(loop);
  } finally {
    await loop.close();
  }
}

/** File descriptors this process has open. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}
