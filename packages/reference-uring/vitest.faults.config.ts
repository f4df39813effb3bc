import { defineProject } from 'vitest/config';

// The suites scripts/test-faults.sh runs against the fault-injection build: the conformance
// kit and the package's own tests, plus the tests that only make sense with faults injected.
export default defineProject({
  test: {
    name: 'reference-uring-faults',
    include: ['test/**/*.test.ts', 'test/faults/**/*.faults.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
