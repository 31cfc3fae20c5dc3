/**
 * Two projects: `unit` (pure domain rules, no servers) and `integration` (real PostgreSQL, Temporal,
 * SMTP; the global set-up starts a throwaway PostgreSQL and a Temporal dev server once per run).
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};

// the generated Prisma client imports its TypeScript siblings with `.js` specifiers
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/tests/domain/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: [
        '<rootDir>/tests/workflows/**/*.test.ts',
        '<rootDir>/tests/integration/**/*.test.ts',
        '<rootDir>/tests/security/**/*.test.ts',
        // the fault suite (docs/faults.md)
        '<rootDir>/tests/faults/**/*.test.ts',
        // the production shape: the real Temporal server, several API and worker processes (docs/cluster.md)
        '<rootDir>/tests/cluster/**/*.test.ts',
      ],
      globalSetup: '<rootDir>/tests/setup/global-setup.ts',
      globalTeardown: '<rootDir>/tests/setup/global-teardown.ts',
      slowTestThreshold: 30,
    },
  ],
  // workflow and integration tests skip months of timers and start real servers
  testTimeout: 120000,
  maxWorkers: 2,
};
