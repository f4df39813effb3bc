// The baseline Node users reach for: `cluster` with the plain node:net echo server in each worker
// process (the primary accepts and hands connections round-robin, Node's default on Linux).
// Usage: node bench/multicore/cluster-echo.mjs <port> <processes>
import cluster from 'node:cluster';
import net from 'node:net';

const port = Number(process.argv[2]);
const count = Number(process.argv[3] ?? 2);
if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < count; i++) cluster.fork();
  cluster.on('listening', () => {
    if (++listening === count) console.log(`echo server (cluster × ${count}) listening on 127.0.0.1:${port}`);
  });
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  net
    .createServer({ noDelay: true }, (socket) => {
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('end', () => socket.end());
      socket.on('error', () => socket.destroy());
    })
    .listen(port, '127.0.0.1');
}
