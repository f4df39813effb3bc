// Starting a server process for a benchmark and waiting until it listens.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

/** CPUs for a server and its load generator, one each, or undefined where there is only one. */
export function pinning() {
  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return taskset && availableParallelism() >= 2 ? { server: 0, client: 1 } : undefined;
}

/** Spawns the running Node with `args`, pinned to `cpu` when one is given. */
export function spawnNode(args, cpu, stdio) {
  return spawnPinned(process.execPath, args, cpu, stdio);
}

/** Spawns `file` with `args`, pinned to `cpu` when one is given (taskset execs it: same pid). */
export function spawnPinned(file, args, cpu, stdio) {
  return cpu === undefined
    ? spawn(file, args, { stdio })
    : spawn('taskset', ['-c', String(cpu), file, ...args], { stdio });
}

/**
 * Spawns `node <args>` and resolves once it prints `listening on host:port` (or on a Unix socket
 * path; `port` is then that path). With `cpu`, the
 * server runs pinned to that CPU (taskset execs node, so the pid is the server's).
 */
export function startServer(args, cpu) {
  return startProgram(process.execPath, args, cpu);
}

/** {@link startServer} for any program that prints the same line: the bench's C servers. */
export async function startProgram(file, args, cpu) {
  const child = spawnPinned(file, args, cpu, ['ignore', 'pipe', 'inherit']);
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      // `listening on host:port`, or `listening on /a/path` for a Unix socket.
      const match = /listening on (?:(\/[^\s:]+)|\S+:(\d+))/.exec(output);
      if (match) resolve(match[1] ?? Number(match[2]));
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
  return {
    pid: child.pid,
    port,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
