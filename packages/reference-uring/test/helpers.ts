import { readdirSync } from 'node:fs';

/** File descriptors this process has open. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}
