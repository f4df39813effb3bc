import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'bench',
    // Only this folder's tests: not a copy of them in a mutation run's sandbox (.stryker-tmp/).
    dir: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.test.mjs'],
    testTimeout: 60_000,
  },
});
