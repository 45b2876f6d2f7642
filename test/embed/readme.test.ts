/**
 * README "Use it from your tests" is copy-paste: each of its two test files (vitest, jest) is taken from
 * the README as written, saved as orders.test.js in an empty project (package.json with no "type", as
 * `npm init` makes it, and no test runner configuration), and run by its runner. The project's
 * node_modules links to what `npm install --save-dev kafkajs vitest|jest /path/to/samsa` would install:
 * samsa (this repository, dist/ built) and this repository's kafkajs, vitest and jest.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The ```js blocks of the README section "Use it from your tests", by the runner their first line names. */
function readmeBlocks(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Use it from your tests\n');
  expect(start, 'README has a "Use it from your tests" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = new Map<string, string>();
  for (const m of section.matchAll(/```js\n([\s\S]*?)```/g)) {
    const runner = /^\/\/ orders\.test\.js \((vitest|jest)\b/.exec(m[1]!)?.[1];
    if (runner !== undefined) blocks.set(runner, m[1]!);
  }
  return blocks;
}

const projects: string[] = [];

async function project(runner: 'vitest' | 'jest', testFile: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `samsa-readme-${runner}-`));
  projects.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `readme-${runner}`, version: '1.0.0', private: true, devDependencies: { kafkajs: '*', [runner]: '*', samsa: 'file:/path/to/samsa' } }, null, 2));
  writeFileSync(join(dir, 'orders.test.js'), testFile);
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  symlinkSync(ROOT, join(modules, 'samsa'), 'dir');
  for (const name of ['kafkajs', runner]) symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
  return dir;
}

function run(cwd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: '1', NO_COLOR: '1' } });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('README "Use it from your tests"', () => {
  let blocks: Map<string, string>;

  beforeAll(() => {
    // Writes dist/ by rename (scripts/bundle.mjs): a process started from the previous files is unaffected.
    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
    blocks = readmeBlocks();
  }, 120_000);

  afterAll(async () => {
    for (const dir of projects.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('the vitest block passes under `npx vitest run`', async () => {
    expect([...blocks.keys()]).toContain('vitest');
    const dir = await project('vitest', blocks.get('vitest')!);
    const { status, output } = run(dir, [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run']);
    expect(status, output).toBe(0);
    expect(output).toMatch(/Tests\s+1 passed/);
  }, 150_000);

  it('the jest block passes under `npx jest`', async () => {
    expect([...blocks.keys()]).toContain('jest');
    const dir = await project('jest', blocks.get('jest')!);
    const { status, output } = run(dir, [join(dir, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci']);
    expect(status, output).toBe(0);
    expect(output).toMatch(/Tests:\s+1 passed, 1 total/);
  }, 150_000);
});
