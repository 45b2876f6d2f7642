// The checks conformance/replicated-cluster/harness.py applies to a run (every acknowledged record once,
// at its offset, in order; nothing processed after its offset was committed, no gap), on hand-made
// results: each accepts a correct run and rejects a wrong one (test_harness.py lists the cases). Needs
// python3 only, no client or cluster.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../conformance/replicated-cluster/test_harness.py', import.meta.url));

describe('conformance/replicated-cluster checks on hand-made results', () => {
  it('accept correct runs and reject every wrong one', () => {
    const r = spawnSync('python3', [script], { encoding: 'utf8' });
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL')), r.stdout + r.stderr).toEqual([]);
    expect(lines.filter((l) => l.startsWith('ok   accepts')).length).toBeGreaterThanOrEqual(4);
    expect(lines.filter((l) => l.startsWith('ok   rejects')).length).toBeGreaterThanOrEqual(10);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
