import { defineConfig } from 'vitest/config';

// One Vitest run over every package; each package may add its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'scripts', 'examples', 'examples/minimal-backend', 'bench'],
  },
});
