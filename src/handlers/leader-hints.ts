/**
 * KIP-951's leader hints, shared by Produce (v10+) and Fetch (v16+): a partition answered
 * NOT_LEADER_OR_FOLLOWER (Fetch: also FENCED_LEADER_EPOCH) carries its current leader and leader epoch
 * as this node knows them, and the response lists the endpoints of those leaders, so a client moves to
 * the new leader without a Metadata round trip (Kafka's KafkaApis.getCurrentLeader).
 *
 * Only live leaders get an endpoint (Kafka's getAliveBrokerNode: registered and not fenced); a partition
 * with no leader is hinted as leader -1 at its epoch. Endpoints are listed by node id, as Kafka's map of
 * small integer keys iterates.
 */
import type { MetadataImage } from '../broker/metadata-image.js';

export interface NodeEndpointHint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export class LeaderHints {
  private readonly endpoints = new Map<number, NodeEndpointHint>();

  constructor(private readonly image: MetadataImage) {}

  /** The partition's current leader and epoch (-1/-1 for a partition the image does not have). */
  currentLeader(topic: string, partition: number): { leaderId: number; leaderEpoch: number } {
    const reg = this.image.topic(topic)?.partitions[partition];
    if (!reg) return { leaderId: -1, leaderEpoch: -1 };
    const b = reg.leader >= 0 ? this.image.brokers.get(reg.leader) : undefined;
    if (b && !b.fenced) this.endpoints.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    return { leaderId: reg.leader, leaderEpoch: reg.leaderEpoch };
  }

  /** The endpoints of every leader hinted so far. */
  get nodeEndpoints(): NodeEndpointHint[] {
    return [...this.endpoints.values()].sort((a, b) => a.nodeId - b.nodeId);
  }
}
