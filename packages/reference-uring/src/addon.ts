import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ErrorCode, IoleaseError } from '@iolease/interfaces';

/** The addon's file name, in prebuilds/linux-<arch>/ and in node-gyp's build/Release/. */
const ADDON = 'iolease_uring.node';

/**
 * Where the addon may be, best first. The package ships a prebuild per CPU (scripts/prebuild.mjs)
 * so that installing needs no compiler; a local build (the install script compiles one where no
 * prebuild loads) comes second. `override` (`IOLEASE_URING_ADDON`) names a test build
 * (sanitizers, fault injection) and is then the only candidate, so a test never silently runs
 * another build.
 */
export function addonCandidates(packageDir: string, arch: string, override: string | undefined): string[] {
  if (override !== undefined && override !== '') return [override];
  return [join(packageDir, 'prebuilds', `linux-${arch}`, ADDON), join(packageDir, 'build', 'Release', ADDON)];
}

/**
 * Loads the first candidate that exists and loads. A prebuild this system cannot load (musl, an
 * older glibc) falls through to the local build. When none loads, the error names each candidate
 * and why, and is `ERR_IOLEASE_BACKEND_UNAVAILABLE`, so `auto` backend choice falls back to node:net.
 */
export function loadAddon<T>(candidates: readonly string[]): { binding: T; path: string } {
  const require = createRequire(import.meta.url);
  const attempts: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      attempts.push(`${path}: absent`);
      continue;
    }
    try {
      return { binding: require(path) as T, path };
    } catch (cause) {
      attempts.push(`${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }
  throw new IoleaseError(
    ErrorCode.BACKEND_UNAVAILABLE,
    `The io_uring addon is not available here: no prebuild for linux-${process.arch} loaded and @iolease/reference-uring was not built locally. ` +
      'Its install script builds it where python3, make and a C++ compiler are present: run "npm rebuild @iolease/reference-uring". ' +
      `Tried: ${attempts.join('; ')}`,
  );
}
