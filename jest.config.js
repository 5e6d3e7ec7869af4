/** Jest on ESM: @swc/jest transpiles TypeScript (decorator metadata on), `.js` suffixes are stripped. */
export default {
  // Node's, printing a failing test's buffered logs (test/quiet-logs.ts).
  testEnvironment: '<rootDir>/test/environment.js',
  setupFilesAfterEnv: ['<rootDir>/test/quiet-logs.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'es6' },
      },
    ],
  },
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/web/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  testTimeout: 60000,
};
