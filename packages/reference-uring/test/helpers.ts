import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countOpenFds, runNode as kitRunNode } from '@iolease/conformance';

/** File descriptors this process has open (see countOpenFds). */
export const openFds = countOpenFds;

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** The built entry point, for scripts run in a child process. */
export const entry = join(packageDir, 'dist/index.js');

/** Runs an ES module script in a child Node, optionally under a launcher (the kit's runNode). */
export function runNode(script: string, launcher: string[] = []) {
  return kitRunNode(script, { launcher });
}
