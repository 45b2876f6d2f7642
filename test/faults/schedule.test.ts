/**
 * The fault suite's schedule (faults/schedule.ts): a pure function of the seed and options, so that
 * `--seed N` replays a run; every nemesis can be scheduled; one-node partitions cut the clients.
 */
import { describe, it, expect } from 'vitest';
import { NEMESES, describeStep, estimatedSeconds, makeSchedule, makeStep, prng } from '../../faults/schedule.js';

describe('schedule', () => {
  it('the PRNG is deterministic per seed and in [0, 1)', () => {
    const a = prng(42);
    const b = prng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(prng(43)()).not.toBe(xs[0]);
    // pinned: a change of generator would silently change every recorded seed's schedule
    expect(prng(1)().toFixed(10)).toBe('0.6270739406');
  });

  it('the same seed and options give the same schedule; another seed another one', () => {
    const o = { seed: 7, nodes: 3, nemeses: [...NEMESES], seconds: 300 };
    const s1 = makeSchedule(o);
    expect(makeSchedule(o)).toEqual(s1);
    expect(makeSchedule({ ...o, seed: 8 })).not.toEqual(s1);
    expect(s1.length).toBeGreaterThan(5);
  });

  it('fits the run time (at least one step), and uses only the nemeses asked for', () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = makeSchedule({ seed, nodes: 5, nemeses: ['kill', 'partition'], seconds: 120 });
      expect(s.length).toBeGreaterThanOrEqual(1);
      const total = s.reduce((t, x) => t + x.gap + estimatedSeconds(x.step, 5), 0);
      if (s.length > 1) expect(total).toBeLessThanOrEqual(120);
      expect(s.every((x) => x.step.nemesis === 'kill' || x.step.nemesis === 'partition')).toBe(true);
    }
    expect(makeSchedule({ seed: 1, nodes: 1, nemeses: [], seconds: 60 })).toEqual([]);
  });

  it('every nemesis can be made and described, on 1, 3 and 5 nodes, with targets in range', () => {
    const r = prng(3);
    for (const nodes of [1, 3, 5]) {
      for (const n of NEMESES) {
        for (let i = 0; i < 20; i++) {
          const s = makeStep(r, n, nodes);
          expect(s.nemesis).toBe(n);
          expect(describeStep(s).length).toBeGreaterThan(5);
          if ('target' in s) {
            expect(s.fallback).toBeGreaterThanOrEqual(1);
            expect(s.fallback).toBeLessThanOrEqual(nodes);
            if (nodes === 1) expect(s.target).toBe(1);
          }
          if (s.nemesis === 'rolling') expect([...s.order].sort()).toEqual(Array.from({ length: nodes }, (_, k) => k + 1));
          if (s.nemesis === 'partition') {
            const v = s.variant;
            if (nodes === 1) expect(v.kind).toBe('clients');
            if (v.kind === 'halves') {
              expect(v.groups.flat().sort()).toEqual(Array.from({ length: nodes }, (_, k) => k + 1));
              expect(v.groups[0]!.length).toBeLessThan(v.groups[1]!.length);
            }
            if (v.kind === 'bridge') expect([...v.left, ...v.right, v.bridge].sort()).toEqual(Array.from({ length: nodes }, (_, k) => k + 1));
            if (v.kind === 'one-way') expect(v.from).not.toBe(v.to);
          }
        }
      }
    }
  });

  it('node faults on several nodes target the partition leader, the active controller and plain nodes', () => {
    const r = prng(5);
    const targets = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const s = makeStep(r, 'kill', 3);
      if (s.nemesis === 'kill') targets.add(typeof s.target === 'number' ? 'node' : s.target);
    }
    expect([...targets].sort()).toEqual(['controller', 'leader', 'node']);
  });

  it('several nodes get majority/minority, bridge and leader partitions over enough draws', () => {
    const r = prng(11);
    const kinds = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = makeStep(r, 'partition', 5);
      if (s.nemesis === 'partition') kinds.add(s.variant.kind);
    }
    expect([...kinds].sort()).toEqual(['bridge', 'clients', 'halves', 'isolate', 'isolate-controller', 'leader-from-quorum', 'one-way']);
  });
});
