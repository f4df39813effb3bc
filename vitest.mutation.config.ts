import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The suite a mutation run (npm run test:mutation, StrykerJS) judges mutants by: the conformance
// kit and the packages' own tests. The workspace packages resolve to their sources, not dist/,
// so that a mutant in shared backend code (@iolease/interfaces) reaches the tests that use it.
const source = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@iolease/interfaces': source('interfaces'),
      '@iolease/backend-core': source('backend-core'),
      '@iolease/conformance': source('conformance'),
      '@iolease/reference-uring': source('reference-uring'),
      '@iolease/adapters': source('adapters'),
    },
  },
  test: {
    include: [
      'packages/reference-uring/test/**/*.test.ts',
      'packages/adapters/test/**/*.test.ts',
      'packages/interfaces/test/**/*.test.ts',
      'packages/backend-core/test/**/*.test.ts',
      'packages/conformance/test/**/*.test.ts',
    ],
    // The broken backends run the kit in child processes, out of reach of the mutants in this
    // one, and take a minute and a half: they judge the kit, not the backends.
    exclude: ['packages/conformance/test/broken-backends.test.ts'],
    // One file at a time: several tests count this process's open fds.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
