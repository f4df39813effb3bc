// Mutation testing (npm run test:mutation; not in CI, it takes hours): StrykerJS changes the
// backends' TypeScript one rule at a time and runs the tests that cover each change. A mutant
// that survives is behaviour no test pins down. Results accumulate across runs (incremental), so
// a run may be stopped and resumed: reports/mutation/ holds the report.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    'packages/reference-uring/src/**/*.ts',
    'packages/adapters/src/net/**/*.ts',
    'packages/backend-core/src/**/*.ts',
    '!packages/reference-uring/src/native.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 8_000,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
