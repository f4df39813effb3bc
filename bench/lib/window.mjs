// The measured window of one load run. A load generator prints `warm` when its window opens and
// a JSON line when it closes; the server's CPU time (/proc) and syscalls (perf) are sampled at
// those two moments, so start-up, warm-up and the drain after the window are left out.
import { once } from 'node:events';
import { canCountSyscalls, countSyscalls, cpuTimes } from './proc.mjs';

const syscalls = canCountSyscalls();

/** Whether {@link measureWindow} can count syscalls on this machine. */
export function countsSyscalls() {
  return syscalls;
}

/**
 * Follows `load`'s stdout and samples process `pid` over the window. Resolves once the load has
 * exited with 0: { report (its JSON line), cpu, user and system (seconds; cpu = user + system),
 * syscalls (NaN where perf cannot count) }.
 * Rejects with what the load printed on stderr if it exits otherwise (a failed byte check, say).
 */
export async function measureWindow(load, pid) {
  let stderr = '';
  load.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(load, 'exit');
  let buffered = '';
  let start = { user: 0, system: 0 };
  let counter;
  let result;
  for await (const chunk of load.stdout) {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line === 'warm') {
        start = cpuTimes(pid);
        // The counter attaches in parallel with the window; its own start-up is not in the CPU figure.
        counter = syscalls ? countSyscalls(pid) : undefined;
      } else if (line.startsWith('{')) {
        const end = cpuTimes(pid);
        const user = end.user - start.user;
        const system = end.system - start.system;
        const calls = counter ? await (await counter).stop() : Number.NaN;
        result = { report: JSON.parse(line), cpu: user + system, user, system, syscalls: calls };
      }
      newline = buffered.indexOf('\n');
    }
  }
  const [code, signal] = await exited;
  if (code !== 0) throw new Error(`the load exited with ${code ?? signal}: ${stderr.trim()}`);
  if (!result) throw new Error('the load reported nothing');
  return result;
}
