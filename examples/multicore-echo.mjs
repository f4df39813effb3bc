// One echo loop per core: usage `node examples/multicore-echo.mjs <port> [threads]`.
// Each worker thread opens its own loop (io_uring where available) and listens on the same port
// with reusePort; the kernel spreads the connections. Ctrl-C closes every loop.
import { startLoops } from '@iolease/adapters';

const port = Number(process.argv[2] ?? 7000);
const threads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);

const group = await startLoops(new URL('./multicore-echo-worker.mjs', import.meta.url), {
  ...(threads === undefined ? {} : { threads }),
  data: { port },
});
for (const w of group.workers) console.log(`worker ${w.index} (thread ${w.threadId}): ${w.backend}: ${w.reason}`);
console.log(`echo server: ${group.workers.length} loops listening on 127.0.0.1:${port}`);
const stop = () => group.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
