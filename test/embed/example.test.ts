/**
 * Runs examples/vitest-kafkajs (README "Use it from your tests") as a user would, so it cannot rot: the
 * library bundle dist/embed.mjs is built, the example resolves `samsa` through node_modules/samsa (a link
 * to this repository, what `npm install` makes of its `file:../..` dependency) and its own vitest runs
 * the test file in a child process. kafkajs and vitest come from this repository's node_modules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'vitest-kafkajs');

function linkSamsa(): void {
  const modules = join(EXAMPLE, 'node_modules');
  const link = join(modules, 'samsa');
  mkdirSync(modules, { recursive: true });
  try {
    if (readlinkSync(link) === '../../..') return;
  } catch {
    // absent, or not a link: made below
  }
  rmSync(link, { recursive: true, force: true });
  symlinkSync('../../..', link, 'dir');
}

describe('examples/vitest-kafkajs', () => {
  beforeAll(() => {
    // Writes dist/*.mjs by rename (scripts/bundle.mjs): a process started from the old file is unaffected.
    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
    linkSamsa();
  }, 120_000);

  it('its package.json takes samsa from this repository', () => {
    const pkg = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.samsa).toBe('file:../..');
  });

  it('its tests pass: kafkajs producer and consumer against startSamsa(), reset() between tests', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=verbose'], {
      cwd: EXAMPLE,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CI: '1', NO_COLOR: '1' },
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    // Both tests ran (a vitest that found no test file also exits 0 with passWithNoTests).
    expect(output).toMatch(/Tests\s+2 passed/);
  }, 150_000);
});
