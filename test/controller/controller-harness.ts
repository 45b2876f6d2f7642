/**
 * A QuorumController driven as the controller service will drive it, without Raft: every result's records
 * are "appended" at the next offsets, replayed into the controller, and also encoded to bytes, decoded and
 * replayed into an independent follower image (what every other node does with the committed log). After
 * each step the follower's image must equal the controller's: the controller's own output, replayed, gives
 * the image it reports.
 */
import { expect } from 'vitest';
import { decodeMetadataRecord, type DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { BrokerHeartbeatRequest } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistrationRequest } from '../../protocol/messages/broker-registration.js';
import { CreateTopicsRequest } from '../../protocol/messages/create-topics.js';
import type { MessageValue } from '../../protocol/schema.js';
import { MetadataImage } from '../../src/broker/metadata-image.js';
import { applyMetadataRecord } from '../../src/broker/metadata-replay.js';
import { buildConfig } from '../../src/config.js';
import { encodeControllerRecords, METADATA_VERSION, QuorumController, type ControllerResult } from '../../src/controller/quorum-controller.js';
import { SeededRandom } from '../../src/controller/raft/random.js';

export const CLUSTER = 'MkU3OEVBNTcwNTJENDM2Qg';

/** A stable, readable view of an image, for equality checks. */
export function snapshot(image: MetadataImage): unknown {
  return {
    offset: image.offset,
    brokers: [...image.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
    topics: [...image.topics()].map((t) => ({ ...t, configs: Object.fromEntries(t.configs) })),
    brokerConfigs: Object.fromEntries([...image.brokerConfigs].map(([k, v]) => [k, Object.fromEntries(v)])),
    features: Object.fromEntries(image.features),
    nextProducerId: image.nextProducerId,
  };
}

function text(image: MetadataImage): string {
  return JSON.stringify(snapshot(image), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

export class Harness {
  readonly controller: QuorumController;
  /** The next offset of the log. */
  offset = 0;
  now = 1_000_000;
  follower = MetadataImage.EMPTY;
  /** Every record appended, in order. */
  readonly log: DecodedMetadataRecord[] = [];

  constructor(
    readonly seed = 1,
    props: Record<string, string> = {},
    options: { maxElectionsPerImbalance?: number; localBrokerIncarnationId?: string } = {},
  ) {
    this.controller = new QuorumController({
      ...options,
      nodeId: 1,
      clusterId: CLUSTER,
      config: buildConfig(new Map(Object.entries({ 'num.partitions': '1', 'default.replication.factor': '1', ...props }))),
      random: new SeededRandom(seed),
    });
    this.commit({ records: this.controller.bootstrapRecords(), response: null });
  }

  get image(): MetadataImage {
    return this.controller.image;
  }

  /** Appends a result's records: replayed by the controller, and from their bytes by the follower. */
  commit<R>(result: ControllerResult<R>): R {
    const values = encodeControllerRecords(result.records);
    result.records.forEach((r, i) => {
      this.controller.replay(r, this.offset);
      this.follower = applyMetadataRecord(this.follower, decodeMetadataRecord(values[i]!), this.offset);
      this.log.push(r);
      this.offset++;
    });
    const follower = text(this.follower);
    const leader = text(this.controller.image);
    // Compared as text (cheap for the property test's thousands of steps); a difference shows as a diff.
    if (follower !== leader) expect(snapshot(this.follower)).toEqual(snapshot(this.controller.image));
    return result.response;
  }

  register(brokerId: number, incarnationId = incarnation(brokerId)): bigint {
    const req: MessageValue<typeof BrokerRegistrationRequest.decl> = {
      ...BrokerRegistrationRequest.defaults(4),
      brokerId,
      clusterId: CLUSTER,
      incarnationId,
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9091 + brokerId, securityProtocol: 0 }],
      features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }],
      rack: null,
    };
    const res = this.commit(this.controller.registerBroker(this.now, req, this.offset));
    expect(res.errorCode).toBe(0);
    return res.brokerEpoch!;
  }

  heartbeat(brokerId: number, o: { wantShutDown?: boolean; wantFence?: boolean; metadataOffset?: number } = {}) {
    const reg = this.image.brokers.get(brokerId)!;
    const req: MessageValue<typeof BrokerHeartbeatRequest.decl> = {
      ...BrokerHeartbeatRequest.defaults(1),
      brokerId,
      brokerEpoch: BigInt(reg.epoch),
      currentMetadataOffset: BigInt(o.metadataOffset ?? this.offset - 1),
      wantFence: o.wantFence ?? false,
      wantShutDown: o.wantShutDown ?? false,
    };
    return this.commit(this.controller.brokerHeartbeat(this.now, req));
  }

  /** Registers and unfences brokers 1..n. */
  brokers(n: number): void {
    for (let id = 1; id <= n; id++) this.register(id);
    for (let id = 1; id <= n; id++) expect(this.heartbeat(id).isFenced).toBe(false);
  }

  createTopic(name: string, numPartitions: number, replicationFactor: number, extra: Partial<MessageValue<typeof CreateTopicsRequest.decl>['topics'][number]> = {}) {
    const req: MessageValue<typeof CreateTopicsRequest.decl> = {
      ...CreateTopicsRequest.defaults(7),
      topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [], ...extra }],
    };
    return this.commit(this.controller.createTopics(this.now, req, 7)).topics![0]!;
  }
}

export function incarnation(brokerId: number, run = 0): string {
  return `0000${String(run).padStart(4, '0')}-0000-4000-8000-${String(brokerId).padStart(12, '0')}`;
}

export { METADATA_VERSION };
