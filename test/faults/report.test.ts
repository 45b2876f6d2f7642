/**
 * The fault suite's reports (faults/report.ts) and its disk-fault helpers (faults/nemesis.ts).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check } from '../../faults/checker.js';
import type { Op } from '../../faults/history.js';
import { renderDocs, renderRun, type RunResult } from '../../faults/report.js';
import { activeSegments, corruptTail, setWritable, truncateTail } from '../../faults/nemesis.js';
import { prng } from '../../faults/schedule.js';

function run(name: string, nemeses: string[], ops: Op[], brokerProps: Record<string, string> = {}): RunResult {
  const c = check(ops);
  return {
    name, startedAt: '2026-12-03T00:00:00.000Z', seconds: 60, seed: 1, nodes: 1, nemeses, profile: null, commit: 'abc1234',
    brokerProps, replicationFactor: 1, minInsyncReplicas: 1, partitions: 1, segmentBytes: 32768, clients: { kafkajs: '2.2.4' },
    schedule: ['after 2 s: kill node 1 for 3 s'], events: [], nodeCrashes: [], check: c,
    summary: `faults: ${c.events} events, acked ${c.acked}, lost ${c.lost}, duplicated ${c.duplicated}, divergent ${c.divergent}`,
  };
}

const send = (t: number, v: string, workload = 'kafkajs-idempotent'): Op => ({ type: 'send', t, client: 'p', workload, idempotent: true, partition: 0, value: v });
const ack = (t: number, o: number, v: string): Op => ({ type: 'ack', t, client: 'p', partition: 0, offset: o, value: v });

describe('renderDocs', () => {
  it('one row per nodes x nemeses x workload, summed over runs, weakened configs marked, totals and runs listed', () => {
    const clean = (name: string): RunResult => run(name, ['kill'], [
      send(1, `${name}:0`), { type: 'fault', t: 2, nemesis: 'kill', phase: 'start', detail: '' }, send(3, `${name}:1`), ack(4003, 0, `${name}:1`),
      { type: 'read', t: 5000, client: 'final', mode: 'final', partition: 0, offset: 0, value: `${name}:1` }, { type: 'final-end', t: 5001, partition: 0, logStart: 0, end: 1 },
    ]);
    const lossy = run('weak', ['truncate'], [send(1, 'w:0'), ack(2, 0, 'w:0'), { type: 'fault', t: 3, nemesis: 'truncate', phase: 'start', detail: '' }, { type: 'final-end', t: 9, partition: 0, logStart: 0, end: 0 }], { 'log.flush.interval.messages': '9223372036854775807' });
    const md = renderDocs([clean('a'), clean('b'), lossy]);
    expect(md).toContain('Do not edit by hand');
    expect(md).toContain('Recorded runs: 3; fault events 3, acknowledged 3, lost 1, duplicated 0, divergent 0.');
    expect(md).toContain('| 1 | kill | kafkajs-idempotent | 2 | 2 | 4 | 2 | 0 | 0 | 0 | 4.0 |');
    expect(md).toContain('| 1 | truncate (log.flush.interval.messages=9223372036854775807) | kafkajs-idempotent | 1 | 1 | 1 | 1 | 1 | 0 | 0 |');
    expect(md).toContain('| 1 | kill | 2 | 4.0 | 4.0 | 0 |');
    expect(md).toContain('| weak | abc1234 | 1 | 60 | 1 | truncate | faults: 1 events, acked 1, lost 1, duplicated 0, divergent 0 |');
  });

  it('a run\'s markdown lists its summary, schedule and anomalies', () => {
    const r = run('x', ['kill'], [send(1, 'v'), ack(2, 0, 'v'), { type: 'final-end', t: 3, partition: 0, logStart: 0, end: 0 }]);
    const md = renderRun(r);
    expect(md).toContain('**faults: 0 events, acked 1, lost 1, duplicated 0, divergent 0**');
    expect(md).toContain('1. after 2 s: kill node 1 for 3 s');
    expect(md).toContain('- lost (partition 0): v acknowledged at offset 0');
  });
});

describe('disk faults', () => {
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'faults-disk-'));
    for (const p of [0, 1]) {
      mkdirSync(join(d, `faults-${p}`));
      writeFileSync(join(d, `faults-${p}`, '00000000000000000000.log'), Buffer.alloc(1000, 1));
      writeFileSync(join(d, `faults-${p}`, '00000000000000000500.log'), Buffer.alloc(1000, 2));
    }
    // a segment just rolled: empty, so the newest one with data is the one to damage
    writeFileSync(join(d, 'faults-0', '00000000000000000900.log'), Buffer.alloc(0));
    mkdirSync(join(d, 'other-0'));
    writeFileSync(join(d, 'other-0', '00000000000000000000.log'), Buffer.alloc(10));
    return d;
  };

  it('activeSegments picks the newest non-empty segment of each partition of the suite topic only', () => {
    const d = dir();
    expect(activeSegments(d).map((f) => f.slice(d.length))).toEqual(['/faults-0/00000000000000000500.log', '/faults-1/00000000000000000500.log']);
    rmSync(d, { recursive: true });
  });

  it('truncateTail keeps 50-90% of a segment; corruptTail flips 16 bytes in its last quarter', () => {
    const d = dir();
    const [a, b] = activeSegments(d);
    expect(truncateTail(a!, prng(1))).toMatch(/cut from 1000 to \d+ bytes/);
    const size = statSync(a!).size;
    expect(size).toBeGreaterThanOrEqual(500);
    expect(size).toBeLessThan(900);
    corruptTail(b!, prng(2));
    const bytes = readFileSync(b!);
    const flipped = [...bytes.keys()].filter((i) => bytes[i] !== 2);
    expect(flipped).toHaveLength(16);
    expect(flipped[0]!).toBeGreaterThanOrEqual(750);
    expect(flipped.every((i) => bytes[i] === (2 ^ 0xff))).toBe(true);
    rmSync(d, { recursive: true });
  });

  it('setWritable(false) makes every directory 0555 and file 0444, and back', () => {
    const d = dir();
    setWritable(d, false);
    expect(statSync(join(d, 'faults-0')).mode & 0o777).toBe(0o555);
    expect(statSync(join(d, 'faults-0', '00000000000000000000.log')).mode & 0o777).toBe(0o444);
    setWritable(d, true);
    expect(statSync(join(d, 'faults-0')).mode & 0o777).toBe(0o755);
    expect(statSync(join(d, 'faults-0', '00000000000000000000.log')).mode & 0o777).toBe(0o644);
    rmSync(d, { recursive: true });
  });
});
