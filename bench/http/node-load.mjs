// A small keep-alive HTTP load generator for machines without wrk: N connections, each sending
// GET / as soon as the previous response arrived. Prints one JSON line {requests, elapsed}.
// Usage: node bench/http/node-load.mjs <port> <connections> <seconds>
import http from 'node:http';

const [port, connections, seconds] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let requests = 0;
let running = true;

function loop() {
  if (!running) return;
  http
    .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        requests++;
        loop();
      });
    })
    .on('error', (error) => {
      console.error(`load: ${error.message}`);
      process.exit(1);
    });
}

const started = process.hrtime.bigint();
for (let i = 0; i < connections; i++) loop();
setTimeout(() => {
  running = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ requests, elapsed }));
  agent.destroy();
  process.exit(0);
}, seconds * 1000);
