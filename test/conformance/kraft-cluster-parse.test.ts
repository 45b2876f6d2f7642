// The rules conformance/kraft-cluster/run.sh applies to the output of Kafka's tools against a Samsa
// cluster (parse.py), run on what Apache Kafka 4.4 itself printed for a 3-node cluster
// (conformance/kraft-cluster/reference/): each rule accepts Kafka's output and rejects altered copies of
// it (test-parse.sh lists the cases). Needs python3 only, no Java or cluster.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../conformance/kraft-cluster/test-parse.sh', import.meta.url));

describe('conformance/kraft-cluster parse rules against Kafka 4.4 reference output', () => {
  it('accept Kafka\'s output and reject every altered copy', () => {
    const r = spawnSync('bash', [script], { encoding: 'utf8' });
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL')), r.stdout + r.stderr).toEqual([]);
    expect(lines.filter((l) => l.startsWith('ok   accepts')).length).toBeGreaterThanOrEqual(5);
    expect(lines.filter((l) => l.startsWith('ok   rejects')).length).toBeGreaterThanOrEqual(25);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // One python3 per case (47): on a loaded 2-core machine that took 45 s, near the default 60 s.
  }, 180_000);
});
