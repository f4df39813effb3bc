// Idle connections: server memory per connection that has said hello and gone quiet, for the
// iolease uring echo server against a plain node:net echo server, in the same run. Receive memory
// of the uring server is its pool, bounded whatever the connection count; node:net's grows per
// socket. Reports RSS growth per connection (/proc/PID/status) and its ratio to node:net's.
// Usage: node bench/idle/run.mjs [--connections 9000] [--rounds 1] [--json file]
// Needs an open-file limit above the connection count (the hard limit is raised to, if allowed).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from '../lib/machine.mjs';
import { startServer } from '../lib/server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: '9000' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const connections = Number(opts.connections);
const servers = [
  { name: 'node:net', args: [`${root}bench/echo/net-echo-server.mjs`, '0'] },
  { name: 'iolease uring', args: [`${root}examples/echo-server.mjs`, '0', 'uring'] },
  { name: 'iolease node:net', args: [`${root}examples/echo-server.mjs`, '0', 'net'] },
];

const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

async function measure(server) {
  const s = await startServer(server.args);
  await settle();
  const before = rss(s.pid);
  const client = spawn(process.execPath, [`${root}bench/idle/client.mjs`, String(s.port), String(connections)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    client.stdout.on('data', (d) => String(d).startsWith('ready') && resolve());
    client.once('exit', (code) => reject(new Error(`the idle client exited with ${code}`)));
  });
  await settle();
  const after = rss(s.pid);
  client.stdin.end();
  await s.stop();
  return { bytesPerConnection: (after - before) / connections, rssBefore: before, rssAfter: after };
}

const results = Object.fromEntries(servers.map((s) => [s.name, []]));
for (let round = 0; round < Number(opts.rounds); round++) {
  for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
    const r = await measure(server);
    results[server.name].push(r);
    console.log(
      `round ${round + 1} ${server.name.padEnd(14)} RSS ${(r.rssBefore / 2 ** 20).toFixed(1)} → ${(r.rssAfter / 2 ** 20).toFixed(1)} MiB, ${(r.bytesPerConnection / 1024).toFixed(2)} KiB per idle connection`,
    );
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const perConn = Object.fromEntries(
  Object.entries(results).map(([n, rs]) => [n, median(rs.map((r) => r.bytesPerConnection))]),
);
console.log(`\n${connections} idle connections (medians)`);
console.log('| server | RSS growth per connection | ratio |');
console.log('| --- | ---: | ---: |');
for (const [name, b] of Object.entries(perConn)) {
  console.log(`| ${name} | ${(b / 1024).toFixed(2)} KiB | ${(b / perConn['node:net']).toFixed(2)}× |`);
}
if (opts.json)
  writeFileSync(
    opts.json,
    `${JSON.stringify({ machine: machineInfo(), connections, perConnection: perConn, results }, null, 2)}\n`,
  );
