/**
 * startSamsa() under jest, both ways jest users run it (README "Use it from your tests"):
 *
 * - jest's default, CommonJS test files: examples/jest-kafkajs as a user would run it, `require('samsa')`
 *   resolving to the package's CommonJS entry dist/embed.cjs (package.json exports "require"). Without
 *   that entry jest fails the file with "Must use import to load ES Module".
 * - jest's ES module mode (`NODE_OPTIONS=--experimental-vm-modules`, `transform: {}`): an .mjs test file
 *   doing `import { startSamsa } from 'samsa'`, which loads dist/embed.mjs and its chunks through jest's
 *   own module linker (vm.SourceTextModule), written to a temporary project.
 *
 * jest is this repository's dev dependency; the examples resolve samsa through node_modules/samsa, a
 * link to this repository (what `npm install` makes of their `file:../..` dependency).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'jest-kafkajs');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

function link(modules: string, name: string, target: string): void {
  const path = join(modules, name);
  mkdirSync(modules, { recursive: true });
  try {
    if (readlinkSync(path) === target) return;
  } catch {
    // absent, or not a link: made below
  }
  rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path, 'dir');
}

function runJest(cwd: string, args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [JEST, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CI: '1', NO_COLOR: '1', ...env },
  });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

const ESM_TEST = `// jest ES module mode: import syntax, no transform.
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import { startSamsa } from 'samsa';

const { Kafka, logLevel } = kafkajs;
let samsa;
let kafka;
beforeAll(async () => {
  samsa = await startSamsa();
  kafka = new Kafka({ clientId: 'esm-test', brokers: [samsa.bootstrap], logLevel: logLevel.NOTHING });
});
afterEach(() => samsa.reset());
afterAll(() => samsa?.stop());

it('reads what it wrote', async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ key: 'alice', value: 'order-1' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'billing' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  const value = await new Promise((resolve, reject) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value.toString()) }).catch(reject);
  });
  await consumer.disconnect();
  expect(value).toBe('order-1');
});

it('starts clean after reset()', async () => {
  const admin = kafka.admin();
  await admin.connect();
  expect(await admin.listTopics()).not.toContain('orders');
  expect((await admin.listGroups()).groups).toEqual([]);
  await admin.disconnect();
});
`;

describe('startSamsa() under jest', () => {
  let esmProject: string | null = null;

  beforeAll(() => {
    // Writes dist/ by rename (scripts/bundle.mjs): a process started from the previous files is unaffected.
    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
    link(join(EXAMPLE, 'node_modules'), 'samsa', '../../..');
  }, 120_000);

  afterAll(async () => {
    if (esmProject !== null) await rm(esmProject, { recursive: true, force: true });
  });

  it('examples/jest-kafkajs takes samsa from this repository', () => {
    const pkg = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.samsa).toBe('file:../..');
    expect(pkg.devDependencies.jest).toBeDefined();
  });

  it('examples/jest-kafkajs passes under jest as configured by default (CommonJS, require("samsa"))', () => {
    const { status, output } = runJest(EXAMPLE, ['--ci']);
    expect(status, output).toBe(0);
    // Both tests ran, none skipped.
    expect(output).toMatch(/Tests:\s+2 passed, 2 total/);
  }, 150_000);

  it('an ES module test file passes under jest --experimental-vm-modules (import { startSamsa } from "samsa")', async () => {
    esmProject = await mkdtemp(join(tmpdir(), 'samsa-jest-esm-'));
    writeFileSync(join(esmProject, 'package.json'), JSON.stringify({ name: 'samsa-jest-esm', private: true, type: 'module' }));
    writeFileSync(join(esmProject, 'jest.config.js'), `export default { testEnvironment: 'node', transform: {}, testMatch: ['<rootDir>/*.test.js'], testTimeout: 30000 };\n`);
    writeFileSync(join(esmProject, 'orders.test.js'), ESM_TEST);
    const modules = join(esmProject, 'node_modules');
    link(modules, 'samsa', ROOT);
    link(modules, 'kafkajs', join(ROOT, 'node_modules', 'kafkajs'));
    mkdirSync(join(modules, '@jest'), { recursive: true });
    link(join(modules, '@jest'), 'globals', join(ROOT, 'node_modules', '@jest', 'globals'));
    const { status, output } = runJest(esmProject, ['--ci'], { NODE_OPTIONS: '--experimental-vm-modules' });
    expect(status, output).toBe(0);
    expect(output).toMatch(/Tests:\s+2 passed, 2 total/);
  }, 150_000);
});
