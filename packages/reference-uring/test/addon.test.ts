import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonCandidates, loadAddon } from '../src/addon.ts';
import { Kind } from '../src/completion.ts';
import { entry, packageDir, runNode } from './helpers.ts';

const built = join(packageDir, 'build/Release/iolease_uring.node');

/** A package directory laid out as installed: `files` maps a relative path to a source file or text. */
function installed(files: Record<string, { copyOf: string } | { text: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'iolease-addon-'));
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    if ('copyOf' in content) copyFileSync(content.copyOf, target);
    else writeFileSync(target, content.text);
  }
  return dir;
}

type Binding = { kinds: Record<string, number> };

describe('finding the addon', () => {
  it('looks for the prebuild of this CPU first, then a local build', () => {
    expect(addonCandidates('/pkg', 'arm64', undefined)).toEqual([
      '/pkg/prebuilds/linux-arm64/iolease_uring.node',
      '/pkg/build/Release/iolease_uring.node',
    ]);
  });

  it('a test build named by IOLEASE_URING_ADDON is the only candidate, so no other build runs in its place', () => {
    expect(addonCandidates('/pkg', 'x64', '/tmp/asan/iolease_uring.node')).toEqual(['/tmp/asan/iolease_uring.node']);
    expect(addonCandidates('/pkg', 'x64', '')).toHaveLength(2);
  });

  it('prefers the prebuild when both exist', () => {
    const dir = installed({
      [`prebuilds/linux-${process.arch}/iolease_uring.node`]: { copyOf: built },
      'build/Release/iolease_uring.node': { copyOf: built },
    });
    const { binding, path } = loadAddon<Binding>(addonCandidates(dir, process.arch, undefined));
    expect(path).toBe(join(dir, `prebuilds/linux-${process.arch}/iolease_uring.node`));
    expect(binding.kinds).toEqual(Kind);
  });

  it('falls back to the local build when the prebuild does not load here (musl, an older glibc)', () => {
    const dir = installed({
      [`prebuilds/linux-${process.arch}/iolease_uring.node`]: { text: 'not a shared object' },
      'build/Release/iolease_uring.node': { copyOf: built },
    });
    const { binding, path } = loadAddon<Binding>(addonCandidates(dir, process.arch, undefined));
    expect(path).toBe(join(dir, 'build/Release/iolease_uring.node'));
    expect(binding.kinds).toEqual(Kind);
  });

  it('with neither, fails with ERR_IOLEASE_BACKEND_UNAVAILABLE saying what it tried and how to build', () => {
    const dir = installed({ [`prebuilds/linux-${process.arch}/iolease_uring.node`]: { text: 'not a shared object' } });
    let error: (Error & { code?: string }) | undefined;
    try {
      loadAddon(addonCandidates(dir, process.arch, undefined));
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.code).toBe('ERR_IOLEASE_BACKEND_UNAVAILABLE');
    expect(error?.message).toMatch(/^The io_uring addon is not available here: no prebuild for linux-\w+ loaded/);
    expect(error?.message).toContain('npm rebuild @iolease/reference-uring');
    expect(error?.message).toContain(`${join(dir, 'build/Release/iolease_uring.node')}: absent`);
    expect(error?.message).toMatch(/prebuilds\/linux-\w+\/iolease_uring.node: .*(invalid ELF|too short)/);
  });
});

describe('the hot calls', () => {
  it('a send function kept past its loop throws once the loop is destroyed, and once it is collected', async () => {
    // send and sendVector reach their loop without ObjectWrap's lookup (binding.cc,
    // DefineHotCall); a function that outlives the loop's object must not reach freed memory.
    // The sanitized build (npm run test:sanitized) sees any read of it.
    const result = await runNode(
      `import { createRequire } from 'node:module';
       import { setFlagsFromString } from 'node:v8';
       import { runInNewContext } from 'node:vm';
       setFlagsFromString('--expose-gc');
       const gc = runInNewContext('gc');
       const binding = createRequire(${JSON.stringify(entry)})('../build/Release/iolease_uring.node');
       const outcome = (call) => { try { return String(call()); } catch (e) { return e.message; } };
       let collected = false;
       const registry = new FinalizationRegistry(() => { collected = true; });
       let send, sendVector, beforeDestroy;
       (() => {
         const native = new binding.NativeLoop({ sqEntries: 16, cqEntries: 64, classes: [{ size: 512, count: 4 }], onBatch() {} });
         ({ send, sendVector } = native);
         beforeDestroy = outcome(() => send(12345, new Uint8Array(1)));
         registry.register(native, 0);
         native.destroy();
       })();
       const afterDestroy = [outcome(() => send(0, new Uint8Array(1))), outcome(() => sendVector(0, [new Uint8Array(1)]))];
       for (let i = 0; i < 200 && !collected; i++) { gc(); await new Promise((r) => setTimeout(r, 5)); }
       // Node-API finalizers may run a turn after the collection.
       for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
       const afterCollect = [outcome(() => send(0, new Uint8Array(1))), outcome(() => sendVector(0, [new Uint8Array(1)]))];
       console.log(JSON.stringify({ beforeDestroy, afterDestroy, collected, afterCollect }));`,
    );
    expect(result.code).toBe(0);
    const destroyed = 'the native loop is destroyed';
    expect(JSON.parse(result.stdout)).toEqual({
      beforeDestroy: String(-9), // EBADF: no socket in that slot
      afterDestroy: [destroyed, destroyed],
      collected: true,
      afterCollect: [destroyed, destroyed],
    });
  });
});
