// Whether a command is on PATH (or on the PATH given), as the shell finds it.
import { spawnSync } from 'node:child_process';

export function commandExists(name, path = process.env.PATH) {
  return (
    spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore', env: { ...process.env, PATH: path } }).status === 0
  );
}
