/**
 * Replica placement (src/controller/placement.ts, Kafka's StripedReplicaPlacer without racks): leaders
 * spread evenly, never two replicas of a partition on one broker, fenced brokers only as followers and
 * only when the unfenced ones are used up, Kafka's errors, and CreatePartitions continuing after the
 * topic's last leader. Each property is checked over many seeds (the seed is in the assertion message).
 */
import { describe, expect, it } from 'vitest';
import { PlacementError, placeReplicas, type UsableBroker } from '../../src/controller/placement.js';
import { SeededRandom } from '../../src/controller/raft/random.js';

const live = (...ids: number[]): UsableBroker[] => ids.map((id) => ({ id, fenced: false }));

function leaderCounts(placements: number[][]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const p of placements) counts.set(p[0]!, (counts.get(p[0]!) ?? 0) + 1);
  return counts;
}

describe('placeReplicas', () => {
  for (const partitions of [3, 6, 12]) {
    it(`spreads the leaders of ${partitions} partitions evenly over 3 brokers, no broker twice in a partition`, () => {
      for (let seed = 1; seed <= 200; seed++) {
        const placements = placeReplicas(live(1, 2, 3), partitions, 3, new SeededRandom(seed));
        expect(placements, `seed ${seed}`).toHaveLength(partitions);
        for (const p of placements) expect(new Set(p).size, `seed ${seed}: ${p}`).toBe(3);
        expect([...leaderCounts(placements).values()], `seed ${seed}`).toEqual([partitions / 3, partitions / 3, partitions / 3]);
      }
    });
  }

  it('replication factor 2 over 3 brokers: each broker leads one partition in three, and is a replica of two in three', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const placements = placeReplicas(live(1, 2, 3), 6, 2, new SeededRandom(seed));
      const replicaCounts = new Map<number, number>();
      for (const p of placements) {
        expect(p[0], `seed ${seed}`).not.toBe(p[1]);
        for (const r of p) replicaCounts.set(r, (replicaCounts.get(r) ?? 0) + 1);
      }
      expect([...leaderCounts(placements).values()], `seed ${seed}`).toEqual([2, 2, 2]);
      expect([...replicaCounts.values()], `seed ${seed}`).toEqual([4, 4, 4]);
    }
  });

  it('a fenced broker never leads and is only used once the unfenced brokers are', () => {
    const brokers = [...live(1, 2), { id: 3, fenced: true }];
    for (let seed = 1; seed <= 100; seed++) {
      for (const p of placeReplicas(brokers, 10, 2, new SeededRandom(seed))) {
        expect(p[0], `seed ${seed}`).not.toBe(3);
        expect(p.includes(3), `seed ${seed}`).toBe(false);
      }
      for (const p of placeReplicas(brokers, 10, 3, new SeededRandom(seed))) {
        expect(p[0], `seed ${seed}`).not.toBe(3);
        expect(p[2], `seed ${seed}`).toBe(3);
      }
    }
  });

  it("refuses as Kafka's placer does", () => {
    const r = new SeededRandom(1);
    expect(() => placeReplicas(live(1, 2), 1, 3, r)).toThrow(new PlacementError('The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.'));
    expect(() => placeReplicas([{ id: 1, fenced: true }], 1, 1, r)).toThrow(new PlacementError('All brokers are currently fenced.'));
    expect(() => placeReplicas(live(1), 1, 0, r)).toThrow(new PlacementError('Invalid replication factor 0: the replication factor must be positive.'));
  });

  it('one broker: every partition on it', () => {
    expect(placeReplicas(live(7), 4, 1, new SeededRandom(3))).toEqual([[7], [7], [7], [7]]);
  });

  it('new partitions of a topic start after the leader of its last partition', () => {
    for (let seed = 1; seed <= 50; seed++) {
      expect(placeReplicas(live(1, 2, 3), 1, 1, new SeededRandom(seed), [[1], [2]])[0], `seed ${seed}`).toEqual([3]);
      expect(placeReplicas(live(1, 2, 3), 1, 2, new SeededRandom(seed), [[2, 3], [3, 1]])[0], `seed ${seed}`).toEqual([1, 2]);
    }
  });

  it('is a function of the seed', () => {
    expect(placeReplicas(live(1, 2, 3, 4), 20, 3, new SeededRandom(42))).toEqual(placeReplicas(live(1, 2, 3, 4), 20, 3, new SeededRandom(42)));
  });
});
