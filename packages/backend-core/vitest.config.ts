import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'backend-core',
    include: ['test/**/*.test.ts'],
  },
});
