import {
  ErrorCode,
  type EventLoop,
  type EventLoopOptions,
  IoleaseError,
  isIoleaseError,
  validateObject,
} from '@iolease/interfaces';
import { NetEventLoop } from './net/loop.js';

/** Which backend to run: the best available, or one by name. */
export type BackendRequest = 'auto' | 'uring' | 'net';

/** Options of {@link openEventLoop} and {@link createEventLoop}. */
export interface AutoEventLoopOptions extends EventLoopOptions {
  /**
   * `'auto'` (default) runs io_uring where it can be set up here and node:net otherwise;
   * `'uring'` and `'net'` run that backend or fail. The environment variable `IOLEASE_BACKEND`
   * (same values) overrides the default, not an explicit option.
   */
  readonly backend?: BackendRequest;
}

/** Which backend runs, and why. */
export interface BackendSelection {
  readonly requested: BackendRequest;
  readonly backend: 'io_uring' | 'node:net';
  /** One sentence for logs, e.g. "io_uring is unavailable: … EPERM …; running on node:net". */
  readonly reason: string;
  /** Why io_uring was not used, when `auto` fell back. */
  readonly cause?: IoleaseError;
}

const REQUESTS: readonly BackendRequest[] = ['auto', 'uring', 'net'];

/**
 * Opens an event loop on the best available backend, or the one asked for, and says which and
 * why. `auto` falls back to node:net only when io_uring is unavailable here (not built, not
 * Linux, forbidden, too old); a bad option fails on either backend.
 *
 * @throws IoleaseError argument errors for bad options; with `backend: 'uring'`,
 *   `ERR_IOLEASE_BACKEND_UNAVAILABLE` or `ERR_IOLEASE_UNSUPPORTED_PLATFORM` where io_uring is not available
 */
export async function openEventLoop(
  options: AutoEventLoopOptions = {},
): Promise<{ loop: EventLoop; selection: BackendSelection }> {
  validateObject('options', options);
  const { backend: asked, ...loopOptions } = options;
  const requested = asked ?? fromEnvironment() ?? 'auto';
  if (!REQUESTS.includes(requested)) {
    throw new IoleaseError(
      ErrorCode.INVALID_ARG_VALUE,
      `The "options.backend" argument must be one of ${REQUESTS.map((r) => `"${r}"`).join(', ')}. Received ${JSON.stringify(requested)}`,
    );
  }
  if (requested === 'net') {
    return {
      loop: new NetEventLoop(loopOptions),
      selection: { requested, backend: 'node:net', reason: 'node:net was requested' },
    };
  }
  try {
    const uring = await loadUring();
    const loop = uring.createEventLoop(loopOptions);
    return { loop, selection: { requested, backend: 'io_uring', reason: `io_uring is available (${describe(loop)})` } };
  } catch (error) {
    if (requested === 'uring' || !isUnavailable(error)) throw error;
    const cause = error as IoleaseError;
    return {
      loop: new NetEventLoop(loopOptions),
      selection: {
        requested,
        backend: 'node:net',
        reason: `${cause.message.split('. ')[0]}; running on node:net`,
        cause,
      },
    };
  }
}

/**
 * The {@link openEventLoop} choice as an `EventLoopFactory`: resolves to the loop alone;
 * `loop.backend` says which backend runs.
 */
export async function createEventLoop(options?: AutoEventLoopOptions): Promise<EventLoop> {
  return (await openEventLoop(options)).loop;
}

function fromEnvironment(): BackendRequest | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env.IOLEASE_BACKEND;
  return value === undefined || value === '' ? undefined : (value as BackendRequest);
}

/** io_uring could not run here, as opposed to a bad option. */
function isUnavailable(error: unknown): boolean {
  return (
    isIoleaseError(error, ErrorCode.BACKEND_UNAVAILABLE) ||
    isIoleaseError(error, ErrorCode.UNSUPPORTED_PLATFORM) ||
    isIoleaseError(error, ErrorCode.FEATURE_UNSUPPORTED)
  );
}

interface UringModule {
  createEventLoop(options?: EventLoopOptions): EventLoop;
}

/** The optional io_uring package; its absence (not installed, not built) means unavailable. */
async function loadUring(): Promise<UringModule> {
  try {
    return (await import('@iolease/reference-uring')) as UringModule;
  } catch (cause) {
    if (isIoleaseError(cause)) throw cause;
    throw new IoleaseError(
      ErrorCode.BACKEND_UNAVAILABLE,
      `io_uring is unavailable: @iolease/reference-uring could not be loaded (${(cause as Error)?.message ?? cause}). The node:net backend runs everywhere.`,
      { cause },
    );
  }
}

function describe(loop: EventLoop): string {
  const features = (loop as { features?: { deferTaskrun?: boolean } }).features;
  return features?.deferTaskrun ? 'with DEFER_TASKRUN' : 'without DEFER_TASKRUN';
}
