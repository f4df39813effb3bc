// Opens N connections to a port, sends each a 16-byte hello, waits for every echo, then holds
// them idle. Prints `ready <n>` once all are echoed, and exits when its stdin closes.
// Usage: node bench/idle/client.mjs <port> <connections>
import net from 'node:net';

const [port, connections] = process.argv.slice(2).map(Number);
const hello = Buffer.from('hello, idle peer');
const sockets = [];
let echoed = 0;

function open() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      let got = 0;
      socket.on('data', (d) => {
        got += d.length;
        if (got === hello.length) echoed++;
      });
      socket.write(hello);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

// In batches, so the listen backlog never overflows.
for (let i = 0; i < connections; i += 250) {
  const batch = await Promise.all(Array.from({ length: Math.min(250, connections - i) }, open));
  sockets.push(...batch);
}
while (echoed < connections) await new Promise((resolve) => setTimeout(resolve, 10));
console.log(`ready ${sockets.length}`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
