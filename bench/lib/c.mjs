// The bench's C programs (bench/c/): built on first use with the system's C compiler, warnings
// as errors, into bench/c/build/, and rebuilt when a source is newer than its binary.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../c/', import.meta.url));
const out = `${dir}build/`;

/** The path of C program `name` (uring-echo, epoll-echo, load), built if needed. */
export function cProgram(name) {
  const source = `${dir}${name}.c`;
  const binary = `${out}${name}`;
  const headers = readdirSync(dir).filter((f) => f.endsWith('.h'));
  const newest = Math.max(...[source, ...headers.map((h) => `${dir}${h}`)].map((f) => statSync(f).mtimeMs));
  if (!existsSync(binary) || statSync(binary).mtimeMs < newest) {
    mkdirSync(out, { recursive: true });
    const cc = process.env.CC ?? 'cc';
    execFileSync(cc, ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-o', binary, source], { stdio: 'inherit' });
  }
  return binary;
}

/** The C compiler's version line, for the machine section of a report. */
export function compilerVersion() {
  try {
    return execFileSync(process.env.CC ?? 'cc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return 'unknown';
  }
}
