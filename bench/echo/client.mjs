// The load: N connections, each sending one fixed-size message and waiting for its echo before
// sending the next (closed loop). Prints `warm` after the warm-up, then one JSON line with the
// messages echoed in the measured window, then half-closes every connection and waits for the
// server to finish, so no connection is reset.
// Usage: node bench/echo/client.mjs <port|path> <connections> <size> <warmupSeconds> <seconds> [uring|net]
// The client runs on the iolease uring loop by default: it is the cheaper client, so the server,
// not the client, limits the rate on a small machine. `net` drives it through node:net instead.
import net from 'node:net';
import { createEventLoop } from '@iolease/reference-uring';

const [connections, size, warmupSeconds, seconds] = process.argv.slice(3, 7).map(Number);
const where = process.argv[2];
// A port on 127.0.0.1, or a Unix socket path (no TCP options there).
const target = /^\d+$/.test(where) ? { port: Number(where), host: '127.0.0.1', noDelay: true } : { path: where };
const backend = process.argv[7] ?? 'uring';
const message = new Uint8Array(size).fill(0x61);
let echoed = 0;
let counting = false;
let stopping = false;

/**
 * One connection's closed loop: `send` the message again each time its echo is complete;
 * `end` once stopping. Returns the function to call with each received byte count.
 */
function pingPong(send, end) {
  let pending = size;
  send();
  return (received) => {
    pending -= received;
    if (pending > 0) return;
    if (pending < 0) throw new Error(`the echo returned ${-pending} bytes more than were sent`);
    if (counting) echoed += 1;
    if (stopping) return end();
    pending = size;
    send();
  };
}

function fail(error) {
  console.error(`client: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
}

/** Opens the connections over node:net; resolves with `done`, a promise of all of them closing. */
async function openNet() {
  const closed = [];
  for (let i = 0; i < connections; i++) {
    const socket = net.connect(target);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', fail);
    const onBytes = pingPong(
      () => socket.write(message),
      () => socket.end(),
    );
    socket.on('data', (chunk) => onBytes(chunk.length));
    closed.push(new Promise((resolve) => socket.once('close', resolve)));
  }
  return { done: Promise.all(closed) };
}

/** Opens the connections over the uring loop; resolves with `done`, a promise of all of them closing. */
async function openUring() {
  const loop = createEventLoop();
  const closed = [];
  for (let i = 0; i < connections; i++) {
    let onBytes;
    let onClosed;
    closed.push(new Promise((resolve) => (onClosed = resolve)));
    const channel = await loop.connect(target, {
      onRead(_channel, lease) {
        const length = lease.length;
        lease.release();
        onBytes(length);
      },
      onEnd: (c) => c.close(),
      onError: (_c, error) => fail(error),
      onClose: () => onClosed(),
    });
    onBytes = pingPong(
      () => channel.write(message),
      () => channel.shutdown(),
    );
  }
  return { done: Promise.all(closed).then(() => loop.close()) };
}

const { done } = await (backend === 'net' ? openNet() : openUring());
await new Promise((resolve) => setTimeout(resolve, warmupSeconds * 1000));
console.log('warm');
counting = true;
const started = process.hrtime.bigint();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
counting = false;
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ echoed, elapsed }));
stopping = true;
await done;
