import { describe, expect, it } from 'vitest';
import { runReplicationSeed } from '../helpers/replication-sim.js';

describe('replication simulation', () => {
  it('seeds', async () => {
    const one = process.env.SAMSA_REPL_SEED;
    const from = Number(process.env.SAMSA_REPL_FROM ?? 1);
    const seeds = one ? [Number(one)] : Array.from({ length: Number(process.env.SAMSA_REPL_SEEDS ?? 10) }, (_, i) => from + i);
    const failures: string[] = [];
    const t0 = Date.now();
    let acked = 0, crashes = 0, trunc = 0, elections = 0, consumed = 0;
    for (const seed of seeds) {
      const r = await runReplicationSeed({ seed, steps: Number(process.env.SAMSA_REPL_STEPS ?? 300), fullTrace: !!one });
      acked += r.stats.acked; crashes += r.stats.crashes; trunc += r.stats.truncations; elections += r.stats.elections; consumed += r.stats.consumed;
      if (one) console.log(r.trace.join('\n'), JSON.stringify(r.stats));
      if (r.failure) { failures.push(`seed ${seed}: ${r.failure}`); console.log(`seed ${seed} FAILED: ${r.failure}\n${one ? '' : r.trace.slice(-40).join('\n')}`); }
    }
    console.log(`${seeds.length} seeds in ${Date.now() - t0} ms: acked ${acked} crashes ${crashes} truncations ${trunc} elections ${elections} consumed ${consumed}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
describe('determinism', () => {
  it('same seed twice', async () => {
    for (const seed of [3, 4]) {
      const a = await runReplicationSeed({ seed, steps: 200 });
      const b = await runReplicationSeed({ seed, steps: 200 });
      console.log(seed, a.digest, b.digest, a.stats.acked, b.stats.acked);
      expect(a.digest).toBe(b.digest);
    }
  }, 600_000);
});
