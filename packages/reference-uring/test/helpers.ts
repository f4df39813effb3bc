import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countOpenFds } from '@iolease/conformance';

/** File descriptors this process has open (see countOpenFds). */
export const openFds = countOpenFds;

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** The built entry point, for scripts run in a child process. */
export const entry = join(packageDir, 'dist/index.js');

/** Runs an ES module script in a child Node (optionally under a launcher); resolves with its exit code and stdout. */
export function runNode(script: string, launcher: string[] = []): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const argv = [...launcher, process.execPath, '--input-type=module', '-e', script];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}
