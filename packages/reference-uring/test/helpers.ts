import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countOpenFds } from '@iolease/conformance';

/** File descriptors this process has open (see countOpenFds). */
export const openFds = countOpenFds;

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** The built entry point, for scripts run in a child process. */
export const entry = join(packageDir, 'dist/index.js');

/**
 * Runs an ES module script in a child Node (optionally under a launcher); resolves with its exit
 * code and stdout. A child still running after `deadlineMs` is stuck: it is killed and the
 * promise rejects with what it had printed, so the test fails with that state rather than hang.
 */
export function runNode(
  script: string,
  launcher: string[] = [],
  deadlineMs = 25_000,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const argv = [...launcher, process.execPath, '--input-type=module', '-e', script];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the child process was still running after ${deadlineMs} ms (stuck); it had printed ${JSON.stringify(stdout)}`,
        ),
      );
    }, deadlineMs);
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout });
    });
  });
}
