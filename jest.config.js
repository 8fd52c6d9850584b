/** Unit specs live beside the code (`*.spec.ts`); integration and e2e tests under `test/` (`*.test.ts`). */
const libs = [
  'core',
  'persistence',
  'tenancy',
  'auth',
  'activitypub',
  'social',
  'provisioning',
  'platform',
  'compliance',
];
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    // The Mastodon client libraries the compatibility tests use are ES modules (masto.js and its
    // dependencies), and so is structured-field-values (RFC 8941, read by the HTTP Signatures layer and
    // by Fedify); jest runs CommonJS, so they are compiled like our own code.
    '^.+\\.m?js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(structured-field-values|masto|change-case|events-to-async|ts-custom-error|@badgateway)/)'],
  moduleNameMapper: {
    ...Object.fromEntries(libs.map((l) => [`^@townhall/${l}$`, `<rootDir>/libs/${l}/src`])),
    // Deep imports for the offline verifier, which must start without loading the platform.
    '^@townhall/core/errors$': '<rootDir>/libs/core/src/errors',
    '^@townhall/core/text$': '<rootDir>/libs/core/src/input/human-text',
    '^@townhall/compliance/verify$': '<rootDir>/libs/compliance/src/verify-command',
    '^@townhall/compliance/witness$': '<rootDir>/libs/compliance/src/witness',
    // Fakes and contract suites for specs; not part of the build.
    '^@townhall/compliance/testing$': '<rootDir>/libs/compliance/src/testing',
  },
  // The run's id, which every test database and Redis prefix carries; the teardown fails the run if
  // anything carrying it is left.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
