/** Unit specs live beside the code (`*.spec.ts`); integration and e2e tests under `test/` (`*.test.ts`). */
const libs = ['core', 'persistence', 'tenancy', 'auth', 'activitypub', 'social', 'provisioning', 'platform', 'compliance'];
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: Object.fromEntries(libs.map((l) => [`^@townhall/${l}$`, `<rootDir>/libs/${l}/src`])),
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
