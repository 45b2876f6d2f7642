// One broker per test file (beforeAll in the test); jest runs each file in its own worker with its own.
// The test files are CommonJS (jest's default): require('samsa') loads the package's CommonJS entry.
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  testTimeout: 30_000,
};
