// What a benchmark reads about another process: CPU time from /proc and syscalls from perf.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * The user and system CPU seconds a process has used so far (proc(5): fields 14 and 15 of stat).
 * The split is the kernel's tick accounting, so it is close, not exact; their sum is the figure
 * every benchmark here reports.
 */
export function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** True when `perf stat` can count syscall tracepoints here (it needs tracefs and permission). */
export function canCountSyscalls() {
  const probe = spawnSync('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '--', 'true'], {
    encoding: 'utf8',
  });
  return probe.status === 0 && /raw_syscalls:sys_enter/.test(probe.stderr) && !/not supported/.test(probe.stderr);
}

/**
 * Starts counting the syscalls of every thread of `pid`; `stop()` resolves with the count.
 * Resolves only once perf is attached, so nothing done after it goes uncounted.
 */
export async function countSyscalls(pid) {
  const perf = spawn('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let report = '';
  perf.stderr.on('data', (chunk) => {
    report += chunk;
  });
  // perf prints nothing when attached; give it a moment to open its counters.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    async stop() {
      perf.kill('SIGINT');
      await once(perf, 'exit');
      const line = report.split('\n').find((l) => l.includes('raw_syscalls:sys_enter'));
      const count = Number(line?.split(',')[0]);
      if (!Number.isFinite(count)) throw new Error(`perf gave no syscall count: ${report}`);
      return count;
    },
  };
}
