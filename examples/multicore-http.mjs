// node:http on one loop per core: usage `node examples/multicore-http.mjs <port> [threads]`.
// Each worker thread runs its own http.Server over its own loop through serve(), all on one port
// (reusePort). Ctrl-C closes every loop.
import { startLoops } from '@iolease/adapters';

const port = Number(process.argv[2] ?? 8080);
const threads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);

const group = await startLoops(new URL('./multicore-http-worker.mjs', import.meta.url), {
  ...(threads === undefined ? {} : { threads }),
  data: { port },
});
for (const w of group.workers) console.log(`worker ${w.index} (thread ${w.threadId}): ${w.backend}: ${w.reason}`);
console.log(`http server: ${group.workers.length} loops listening on 127.0.0.1:${port}`);
const stop = () => group.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
