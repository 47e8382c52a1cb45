/** Jest: unit tests and integration tests against one real Temporal dev server per run (see test/). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|m?j)sx?$': ['@swc/jest'] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.tools/', '/.nalar/'],
  // vega and vega-lite (benchmark plots) ship only as ES modules: compile them (and their d3 helpers) like our code;
  // so does `cookie`, which fastify's `app.inject` (light-my-request) loads.
  transformIgnorePatterns: [
    '/node_modules/(?!(vega|vega-[^/]+|d3-[^/]+|internmap|delaunator|robust-predicates|json-stringify-pretty-compact|cookie)/)',
  ],
  // vega-canvas's Node build probes for node-canvas with a top-level await, which CommonJS cannot hold; without
  // node-canvas (never installed here) its browser build behaves the same: no canvas, SVG rendering only.
  moduleNameMapper: { '^vega-canvas$': '<rootDir>/node_modules/vega-canvas/build/vega-canvas.browser.js' },
  modulePathIgnorePatterns: ['<rootDir>/.tools/', '<rootDir>/.nalar/'],
  setupFiles: ['<rootDir>/test/setup-runtime.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60_000,
  // Two cores: one test file per core; integration tests start workers and child processes.
  maxWorkers: 2,
};
