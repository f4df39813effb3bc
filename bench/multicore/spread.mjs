// How the kernel spreads connections over reusePort listeners: a start module for startLoops()
// that answers each connection with the serving thread's id, and a main that opens N connections
// and counts. Usage: node bench/multicore/spread.mjs <connections> <threads>
import net from 'node:net';
import { threadId } from 'node:worker_threads';
import { startLoops } from '@iolease/adapters';

export default async function start(loop, { data }) {
  await loop.listen({ host: '127.0.0.1', port: data.port, reusePort: true }, (channel) => {
    channel.write(Buffer.from(`${threadId}\n`));
    channel.shutdown();
    return { onError: () => undefined };
  });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const connections = Number(process.argv[2] ?? 500);
  const threads = Number(process.argv[3] ?? 2);
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  const group = await startLoops(new URL(import.meta.url), { threads, data: { port } });
  const counts = new Map(group.workers.map((w) => [w.threadId, 0]));
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1');
          let text = '';
          s.on('data', (d) => {
            text += d;
          });
          s.on('error', reject);
          s.on('end', () => {
            const id = Number(text.trim());
            counts.set(id, (counts.get(id) ?? 0) + 1);
            resolve();
          });
        }),
    ),
  );
  await group.close();
  console.log(JSON.stringify({ connections, threads, perWorker: [...counts.values()] }));
}
