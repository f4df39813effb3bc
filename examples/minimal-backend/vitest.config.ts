import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'minimal-backend',
    include: ['test/**/*.test.ts'],
    // One file, but several tests count this process's open fds.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
