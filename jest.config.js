/** Jest: unit tests and integration tests against one real Temporal dev server per run (see test/). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.tools/', '/.nalar/'],
  modulePathIgnorePatterns: ['<rootDir>/.tools/', '<rootDir>/.nalar/'],
  setupFiles: ['<rootDir>/test/setup-runtime.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60_000,
  // Two cores: one test file per core; integration tests start workers and child processes.
  maxWorkers: 2,
};
