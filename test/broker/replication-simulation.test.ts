/**
 * The replication simulation (issue 12, acceptance 1; harness: test/helpers/replication-sim.ts, described
 * in docs/replication.md): three real brokers and the real QuorumController, RF 3 and
 * min.insync.replicas 2, acks=all producers (plain and idempotent), an acks=1 producer and consumers,
 * through random crashes (kill -9, clean stops, controlled shutdowns), restarts on the same directories, network cuts and
 * connection resets, on a seeded clock and network. After every step: no acknowledged record lost or
 * replaced (on the leader and every ISR member), replicas never diverging below their HW, consumers
 * never going back or seeing a record change; after the final heal, every replica back in the ISR with
 * identical logs within 60 simulated seconds.
 *
 *   npx vitest run test/broker/replication-simulation.test.ts                         # 8 seeds (npm test)
 *   SAMSA_REPL_SEEDS=2000 npx vitest run test/broker/replication-simulation.test.ts   # a long run
 *   SAMSA_REPL_SEED=1234 npx vitest run test/broker/replication-simulation.test.ts    # one seed, its whole trace on failure
 *
 * SAMSA_REPL_FIRST_SEED moves the range (to run another stretch of seeds), SAMSA_REPL_STEPS the length
 * of each run's chaos phase (300). The last block shows the checks can fail: brokers with one
 * replication rule deliberately broken are caught.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Partition } from '../../src/broker/partition.js';
import { runReplicationSeed, type ReplSimStats } from '../helpers/replication-sim.js';

const FILE = 'test/broker/replication-simulation.test.ts';
const SEEDS = Number(process.env.SAMSA_REPL_SEEDS ?? 8);
const FIRST = Number(process.env.SAMSA_REPL_FIRST_SEED ?? 1);
const ONE = process.env.SAMSA_REPL_SEED !== undefined ? Number(process.env.SAMSA_REPL_SEED) : null;
const STEPS = Number(process.env.SAMSA_REPL_STEPS ?? 300);

function replay(seed: number): string {
  return `SAMSA_REPL_SEED=${seed}${STEPS !== 300 ? ` SAMSA_REPL_STEPS=${STEPS}` : ''} npx vitest run ${FILE}`;
}

/** Runs seeds in turn; stops at the third failure. */
async function runSeeds(seeds: readonly number[], steps = STEPS): Promise<{ failures: { seed: number; failure: string; story: string }[]; totals: ReplSimStats }> {
  const failures: { seed: number; failure: string; story: string }[] = [];
  const totals: ReplSimStats = { steps: 0, acked: 0, ackedOne: 0, ackedIdempotent: 0, crashes: 0, cleanStops: 0, controlledShutdowns: 0, controllerFailovers: 0, restarts: 0, cuts: 0, elections: 0, truncations: 0, consumed: 0, positionsValidated: 0, produceErrors: {}, convergenceMs: 0 };
  for (const seed of seeds) {
    const r = await runReplicationSeed({ seed, steps, fullTrace: seeds.length === 1 });
    const s = r.stats;
    for (const k of ['steps', 'acked', 'ackedOne', 'ackedIdempotent', 'crashes', 'cleanStops', 'controlledShutdowns', 'controllerFailovers', 'restarts', 'cuts', 'elections', 'truncations', 'consumed', 'positionsValidated'] as const) totals[k] += s[k];
    totals.convergenceMs = Math.max(totals.convergenceMs, s.convergenceMs);
    if (r.failure !== null) {
      failures.push({ seed, failure: r.failure, story: `seed ${seed}: ${r.failure}\n${r.trace.join('\n')}\nreplay: ${replay(seed)}` });
      if (failures.length >= 3) break;
    }
  }
  return { failures, totals };
}

describe('replication simulation', () => {
  const seeds = ONE !== null ? [ONE] : Array.from({ length: SEEDS }, (_, i) => FIRST + i);
  it(`${seeds.length === 1 ? `seed ${seeds[0]}` : `${seeds.length} seeds`}: acknowledged records survive, replicas agree below the HW, consumers never go back`, async () => {
    const started = Date.now();
    const { failures, totals } = await runSeeds(seeds);
    if (failures.length > 0) console.error(failures.map((f) => f.story).join('\n\n'));
    else if (seeds.length > 1) console.log(`${seeds.length} seeds in ${Date.now() - started} ms: ${JSON.stringify(totals)}`);
    expect(failures.map((f) => `seed ${f.seed}: ${f.failure}\nreplay: ${replay(f.seed)}`)).toEqual([]);
    // The runs did what they claim (a check on the harness): records acknowledged and read, leaders
    // killed and replaced, diverging suffixes truncated.
    if (seeds.length >= 8) {
      expect(totals.acked).toBeGreaterThan(10 * seeds.length);
      expect(totals.ackedIdempotent).toBeGreaterThan(seeds.length);
      expect(totals.consumed).toBeGreaterThan(10 * seeds.length);
      expect(totals.positionsValidated).toBeGreaterThan(seeds.length);
      expect(totals.crashes).toBeGreaterThan(seeds.length / 2);
      expect(totals.restarts).toBeGreaterThan(seeds.length / 2);
      expect(totals.elections).toBeGreaterThan(seeds.length);
      expect(totals.truncations).toBeGreaterThan(0);
    }
  }, 3_600_000);

  it('a run is a pure function of its seed', async () => {
    const a = await runReplicationSeed({ seed: 7, steps: 150 });
    const b = await runReplicationSeed({ seed: 7, steps: 150 });
    expect(a.failure).toBeNull();
    expect(b.digest).toBe(a.digest);
    expect(b.stats).toEqual(a.stats);
  }, 120_000);
});

describe('the checks can fail', () => {
  const restore: (() => void)[] = [];
  afterEach(() => {
    for (const r of restore.splice(0)) r();
  });

  /** Replaces a Partition method for the rest of the test. */
  function breakRule<K extends 'maybeIncrementHighWatermark' | 'divergingEpoch'>(name: K, impl: Partition[K]): void {
    const original = Partition.prototype[name];
    Partition.prototype[name] = impl;
    restore.push(() => {
      Partition.prototype[name] = original;
    });
  }

  async function firstFailure(): Promise<string> {
    for (let seed = 1; seed <= 30; seed++) {
      const { failures } = await runSeeds([seed], 300);
      if (failures.length > 0) return failures[0]!.failure;
    }
    return 'no failure in 30 seeds';
  }

  it('a leader whose HW does not wait for its followers (acks=all answered before replication) loses acknowledged records', async () => {
    breakRule('maybeIncrementHighWatermark', function (this: Partition): boolean {
      const state = this as unknown as { hw: number };
      if (!this.isLeader || state.hw >= this.logEndOffset) return false;
      state.hw = this.logEndOffset;
      return true;
    });
    expect(await firstFailure()).toMatch(/acknowledged at \d+, is missing|diverge below the HW|OFFSET_OUT_OF_RANGE|was acknowledged|replaced/);
  }, 300_000);

  // A follower left with a stale suffix either exposes it below its HW or, when the leader's batches no
  // longer line up with its log end, never catches up again: both are caught.
  it('followers that keep a diverging suffix (no KIP-320 DivergingEpoch from the leader) are caught', async () => {
    breakRule('divergingEpoch', () => null);
    expect(await firstFailure()).toMatch(/diverge below the HW|is missing|replaced|was acknowledged|differs|no convergence/);
  }, 300_000);
});
