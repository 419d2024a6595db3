/**
 * One jest run for everything. Slow suites (real Linux, LAVA) live under
 * test/slow/ in their own project, so `npm run test:quick` leaves them out
 * by name. The deployment suite (test/deployment/) runs on its own with
 * `npm run test:deployment` (docs/deployment.md says why). Services are
 * started once for the whole run by globalSetup.
 */
const project = (displayName, testMatch, testPathIgnorePatterns = []) => ({
  displayName,
  testMatch,
  testPathIgnorePatterns,
  // Only test/ is crawled: never .tools/ or other build output, whose stray
  // .snap files jest would count as obsolete snapshots (and fail the run).
  roots: ['<rootDir>/test'],
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/harness/quietRuntime.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
});

module.exports = {
  testTimeout: 180000,
  globalSetup: '<rootDir>/test/harness/globalSetup.ts',
  globalTeardown: '<rootDir>/test/harness/globalTeardown.ts',
  projects: [
    project('quick', ['<rootDir>/test/**/*.test.ts'], ['/test/slow/', '/test/deployment/']),
    project('slow', ['<rootDir>/test/slow/**/*.test.ts']),
    // The multi-host deployment on the Temporal cluster, with its fault matrix: `npm run test:deployment`.
    project('deployment', ['<rootDir>/test/deployment/**/*.test.ts']),
  ],
};
