import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'interfaces',
    include: ['test/**/*.test.ts'],
  },
});
