/**
 * Replica placement for new partitions, as Kafka's StripedReplicaPlacer (metadata/placement/) does it when
 * no broker has a rack: the unfenced brokers, sorted by id, are a ring read from a moving offset, so
 * partition p gets leader ring[offset + p] and its followers the next brokers of the ring (then fenced
 * brokers, only once every unfenced one is used). The start offset is random (injected); once every
 * unfenced broker has led one partition the ring is shuffled, so a big topic does not repeat the same
 * replica sets. Each cycle of N partitions (N unfenced brokers) has each broker lead exactly once, and no
 * partition ever has a broker twice.
 *
 * Rack awareness (spreading replicas over racks first) is not implemented: brokers' racks are ignored.
 * CreatePartitions continues from the topic's last partition (Kafka's tryGetPreviousBrokerOffset): the
 * first new leader is the broker after the last partition's leader.
 */
import type { Random } from './raft/random.js';

export interface UsableBroker {
  readonly id: number;
  readonly fenced: boolean;
}

/** Kafka's InvalidReplicationFactorException from the placer (messages as Kafka's). */
export class PlacementError extends Error {
  override readonly name = 'PlacementError';
}

/** One of Kafka's BrokerList: a ring of broker ids read from `offset`, restarted on each new iteration epoch. */
class BrokerRing {
  private index = 0;
  private offset = 0;
  private epoch = 0;

  constructor(readonly brokers: number[]) {
    brokers.sort((a, b) => a - b);
  }

  initialize(random: Random, previousIndex: number | null): void {
    if (this.brokers.length === 0) return;
    this.offset = previousIndex === null ? random.nextInt(this.brokers.length) : (previousIndex + 1) % this.brokers.length;
  }

  /** The next broker of this epoch, or -1 once every broker was returned in it. */
  next(epoch: number): number {
    const n = this.brokers.length;
    if (n === 0) return -1;
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.index = 0;
      this.offset = (this.offset + 1) % n;
    }
    if (this.index >= n) return -1;
    const broker = this.brokers[(this.index + this.offset) % n]!;
    this.index++;
    return broker;
  }

  /** Collections.shuffle: Fisher-Yates from the end. */
  shuffle(random: Random): void {
    for (let i = this.brokers.length - 1; i > 0; i--) {
      const j = random.nextInt(i + 1);
      [this.brokers[i], this.brokers[j]] = [this.brokers[j]!, this.brokers[i]!];
    }
  }
}

/**
 * Replica lists for `numPartitions` new partitions of `replicationFactor` replicas each, leader first.
 * `existing` are the replica lists of the topic's current partitions (CreatePartitions), in partition
 * order. Throws PlacementError as Kafka's placer does.
 */
export function placeReplicas(
  brokers: readonly UsableBroker[],
  numPartitions: number,
  replicationFactor: number,
  random: Random,
  existing: readonly (readonly number[])[] = [],
): number[][] {
  const unfenced = new BrokerRing(brokers.filter((b) => !b.fenced).map((b) => b.id));
  const fenced = new BrokerRing(brokers.filter((b) => b.fenced).map((b) => b.id));
  if (replicationFactor <= 0) throw new PlacementError(`Invalid replication factor ${replicationFactor}: the replication factor must be positive.`);
  if (unfenced.brokers.length === 0) throw new PlacementError('All brokers are currently fenced.');
  if (replicationFactor > brokers.length) {
    throw new PlacementError(`The target replication factor of ${replicationFactor} cannot be reached because only ${brokers.length} broker(s) are registered.`);
  }
  const ids = new Set(brokers.map((b) => b.id));
  let previous: number | null = null;
  for (let i = existing.length - 1; i >= 0 && previous === null; i--) {
    const known = existing[i]!.find((id) => ids.has(id));
    if (known !== undefined) {
      const at = unfenced.brokers.indexOf(known);
      previous = at;
      if (at === -1) break;
    }
  }
  fenced.initialize(random, null);
  unfenced.initialize(random, previous === -1 ? null : previous);

  const n = unfenced.brokers.length;
  let epoch = 0;
  const placements: number[][] = [];
  for (let p = 0; p < numPartitions; p++) {
    // After every unfenced broker has led once, shuffle so the next cycle differs (never with one broker).
    if (epoch === n && n > 1) {
      unfenced.shuffle(random);
      fenced.shuffle(random);
      epoch = 0;
    }
    const replicas = [unfenced.next(epoch)];
    while (replicas.length < replicationFactor) {
      const u = unfenced.next(epoch);
      replicas.push(u >= 0 ? u : fenced.next(epoch));
    }
    placements.push(replicas);
    epoch++;
  }
  return placements;
}
