// Runs on the arm64 VM: rounds of 8 connections × 4 MiB echoed at once through the io_uring
// loop, with a 1 ms timer ticking, each round checksummed. Prints one line per round, so a
// stall shows which round stopped; the VM's init prints the stuck process's state.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { openEventLoop } from '@iolease/adapters';

const rounds = Number(process.argv[2] ?? 20);
const { loop, selection } = await openEventLoop({ backend: 'uring' });
console.log(`stress: ${selection.reason}, pid ${process.pid}`);
// Callbacks run inside the loop's pump, so they can report even when the host loop never turns.
let lastReport = performance.now();
const report = () => {
  if (performance.now() - lastReport < 2000) return;
  lastReport = performance.now();
  const { pool, ...counters } = loop.stats();
  const classes = pool.classes.map(
    (c) => `${c.size}:${c.available}/${c.leased}/${c.returning}${c.underPressure ? 'P' : ''}`,
  );
  console.log(`  in pump: ${JSON.stringify(counters)} classes ${classes.join(' ')}`);
};
const listener = await loop.listen({ host: '127.0.0.1', port: 0 }, () => ({
  onRead: (channel, lease) => {
    report();
    channel.write(lease.bytes, () => lease.release());
  },
  onEnd: (channel) => channel.shutdown(),
  onError: () => {},
}));
const payload = randomBytes(4 * 1024 * 1024);
const digest = createHash('sha256').update(payload).digest('hex');
for (let round = 1; round <= rounds; round++) {
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 8 }, () => echo(listener.address.port)));
  clearInterval(interval);
  const ok = results.every((r) => r === digest);
  console.log(
    `round ${round}: ${ok ? 'ok' : 'MISMATCH'} in ${Math.round(performance.now() - started)} ms, ${ticks} ticks`,
  );
  if (!ok) process.exit(1);
}
await loop.close();
console.log('stress: done');

function echo(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const hash = createHash('sha256');
    socket.on('data', (chunk) => hash.update(chunk));
    socket.once('end', () => resolve(hash.digest('hex')));
    socket.once('error', reject);
    socket.end(payload);
  });
}
