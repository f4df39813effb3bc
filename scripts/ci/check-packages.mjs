// Every workspace package checked as it will be published: publint (strict) on its packed
// tarball, and @arethetypeswrong/cli with the esm-only profile. The packages are ES modules only;
// CommonJS code loads them with require(), which Node ≥ 22.12 (engines) supports for modules
// without top-level await, and this script checks that too.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failed = 0;
for (const dir of readdirSync(join(root, 'packages'))) {
  const cwd = join(root, 'packages', dir);
  const { name, private: hidden } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  if (hidden) continue;
  const checks = [
    ['publint', [bin('publint'), '--strict']],
    ['attw', [bin('attw'), '--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped']],
    ['require()', [process.execPath, '-e', `require(${JSON.stringify(name)})`]],
  ];
  for (const [label, [command, ...args]] of checks) {
    try {
      execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      console.log(`ok   ${name}: ${label}`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}: ${label}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  }
}
process.exit(failed === 0 ? 0 : 1);
