import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EventLoop, EventLoopOptions } from '@iolease/interfaces';
import { ErrorCode, IoleaseError, validateInteger, validateObject } from '@iolease/interfaces';
import type { BackendRequest } from './select.js';

/**
 * What a module run by {@link startLoops} exports (as `default` or `start`): called once in each
 * worker with that worker's own loop, it starts serving (listens, typically with `reusePort`).
 *
 * @since 0.2.0
 */
export type LoopStart = (loop: EventLoop, worker: { readonly index: number; readonly data: unknown }) => unknown;

/** Options of {@link startLoops}. */
export interface StartLoopsOptions {
  /** How many worker threads, each with its own loop. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** The backend each worker asks for, as {@link openEventLoop}'s. Default `auto`. */
  readonly backend?: BackendRequest;
  /** The options of each worker's loop. */
  readonly loopOptions?: EventLoopOptions;
  /** Passed to each worker's start function (structured-cloned): a port, say. */
  readonly data?: unknown;
}

/** One worker of a {@link LoopGroup}: its thread and the backend its loop got. */
export interface LoopWorker {
  readonly index: number;
  readonly threadId: number;
  /** `io_uring` or `node:net`, and why, as {@link openEventLoop} reports it. */
  readonly backend: string;
  readonly reason: string;
  readonly worker: Worker;
}

/** The workers {@link startLoops} started. */
export interface LoopGroup {
  readonly workers: readonly LoopWorker[];
  /**
   * Closes every worker's loop (LIFE-10) and waits for the threads to end; a thread that does
   * not end within `timeoutMs` (default 10 s) is terminated.
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Scales out: starts `threads` worker threads, each opening its own loop (LOOP-7) and running
 * `module`'s start function with it, and resolves once every one of them serves. Each loop has
 * its own ring, pool and sockets; listeners with `reusePort: true` on one port let the kernel
 * spread connections across them (LIFE-1), with no process and no acceptor in between.
 *
 * If a worker fails to start (its module throws, its loop cannot open), the others are stopped
 * and the promise rejects with that error.
 *
 * @param module - the module every worker imports: a path, a `file:` URL or a URL object
 * @param options - thread count, backend, loop options and data for the start function
 *
 * @example
 * ```ts
 * // server.mjs
 * const group = await startLoops(new URL('./echo-worker.mjs', import.meta.url), { data: { port: 7000 } });
 * // echo-worker.mjs
 * export default (loop, { data }) =>
 *   loop.listen({ port: data.port, reusePort: true }, () => echoHandler);
 * ```
 * @since 0.2.0
 */
export async function startLoops(module: string | URL, options: StartLoopsOptions = {}): Promise<LoopGroup> {
  validateObject('options', options);
  const threads = validateInteger('options.threads', options.threads ?? availableParallelism(), 1, 1024);
  const href = module instanceof URL ? module.href : module.startsWith('file:') ? module : pathToFileURL(module).href;
  // The worker entry is compiled JavaScript: dist/ from here, whether this file runs from dist/
  // or, in the package's own tests, from src/.
  const entry = new URL('../dist/loop-worker.js', import.meta.url);
  const started = Array.from({ length: threads }, (_, index) => {
    const worker = new Worker(entry, {
      workerData: {
        module: href,
        index,
        backend: options.backend ?? 'auto',
        loopOptions: options.loopOptions ?? {},
        data: options.data,
      },
    });
    const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return { worker, exit, ready: ready(worker, index) };
  });
  const outcomes = await Promise.allSettled(started.map((s) => s.ready));
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.map((s) => s.worker.terminate()));
    throw failed.reason;
  }
  const workers = outcomes.map((o) => (o as PromiseFulfilledResult<LoopWorker>).value);
  return { workers, close: (timeoutMs = 10_000) => closeAll(started, timeoutMs) };
}

/** Resolves when `worker` reports its loop serving; rejects if it fails or exits first. */
function ready(worker: Worker, index: number): Promise<LoopWorker> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new IoleaseError(ErrorCode.INVALID_STATE, `loop worker ${index} exited with code ${code} before serving`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: { threadId: number; backend: string; reason: string }) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve({ index, worker, threadId: message.threadId, backend: message.backend, reason: message.reason });
    });
  });
}

/** Asks every worker to close its loop; `exit` settles when its thread ended, however early. */
async function closeAll(workers: readonly { worker: Worker; exit: Promise<void> }[], timeoutMs: number): Promise<void> {
  await Promise.all(
    workers.map(async ({ worker, exit }) => {
      worker.postMessage('close');
      const timer = setTimeout(() => void worker.terminate(), timeoutMs);
      await exit;
      clearTimeout(timer);
    }),
  );
}
