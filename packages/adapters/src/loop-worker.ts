// The entry of each worker thread startLoops() starts: opens the worker's own loop (LOOP-7),
// hands it to the application's module, reports which backend it got, and closes the loop when
// asked. Runs from dist/ (see workers.ts).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { EventLoopOptions } from '@iolease/interfaces';
import { type BackendRequest, openEventLoop } from './select.js';
import type { LoopStart } from './workers.js';

interface LoopWorkerData {
  readonly module: string;
  readonly index: number;
  readonly backend: BackendRequest;
  readonly loopOptions: EventLoopOptions;
  readonly data: unknown;
}

const { module, index, backend, loopOptions, data } = workerData as LoopWorkerData;
const port = parentPort;
if (port === null) throw new Error('loop-worker.js runs only as a worker thread started by startLoops()');

const { loop, selection } = await openEventLoop({ ...loopOptions, backend });
const imported = (await import(module)) as { default?: LoopStart; start?: LoopStart };
const start = imported.default ?? imported.start;
if (typeof start !== 'function') {
  await loop.close();
  throw new TypeError(`${module} must export a function (default or "start") taking the worker's loop`);
}
await start(loop, { index, data });
port.postMessage({ type: 'ready', threadId, backend: selection.backend, reason: selection.reason });
port.once('message', () => {
  // Asked to stop: the loop closes every listener and channel (LIFE-10), then the thread ends.
  void loop.close().then(() => port.close());
});
