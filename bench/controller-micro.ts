/**
 * The pure controller and the metadata image replay, in one process, no Raft: the cost of the largest
 * CreateTopics a request may make (10,000 partitions, Kafka's MAX_PARTITIONS_PER_BATCH, replication factor
 * 3 over 3 brokers): deciding it (placement, records built and checked on a scratch image), replaying its
 * records into the controller, replaying them from their bytes into a follower image (what every node's
 * loader does), then fencing one broker (one PartitionChangeRecord per partition it is in) and replaying
 * that. Linear in the partition count since the image keeps partitions in a chunked vector.
 *   node --import tsx bench/controller-micro.ts [partitions]
 */
import { decodeMetadataRecord, type DecodedMetadataRecord } from '../protocol/metadata/serde.js';
import { BrokerHeartbeatRequest } from '../protocol/messages/broker-heartbeat.js';
import { BrokerRegistrationRequest } from '../protocol/messages/broker-registration.js';
import { MetadataImage } from '../src/broker/metadata-image.js';
import { applyMetadataRecord } from '../src/broker/metadata-replay.js';
import { buildConfig } from '../src/config.js';
import { encodeControllerRecords, QuorumController } from '../src/controller/quorum-controller.js';
import { SeededRandom } from '../src/controller/raft/random.js';

const partitions = Number(process.argv[2] ?? 10_000);
const c = new QuorumController({ nodeId: 1, clusterId: 'bench', config: buildConfig(new Map()), random: new SeededRandom(1) });
let offset = 0;
const append = (records: readonly DecodedMetadataRecord[]): void => {
  for (const r of records) c.replay(r, offset++);
};
append(c.bootstrapRecords());
for (let id = 1; id <= 3; id++) {
  const req = {
    ...BrokerRegistrationRequest.defaults(4),
    brokerId: id,
    clusterId: 'bench',
    incarnationId: `00000000-0000-4000-8000-00000000000${id}`,
    rack: null,
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9091 + id, securityProtocol: 0 }],
    features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }],
  };
  append(c.registerBroker(0, req, offset).records);
}
for (let id = 1; id <= 3; id++) {
  append(c.brokerHeartbeat(0, { ...BrokerHeartbeatRequest.defaults(1), brokerId: id, brokerEpoch: BigInt(id), currentMetadataOffset: BigInt(offset), wantFence: false, wantShutDown: false }).records);
}

function time<T>(what: string, f: () => T): T {
  const t = performance.now();
  const r = f();
  console.log(`${what.padEnd(48)} ${(performance.now() - t).toFixed(0).padStart(6)} ms`);
  return r;
}

const created = time(`CreateTopics ${partitions} partitions: decide`, () =>
  c.createTopics(0, { topics: [{ name: 'big', numPartitions: partitions, replicationFactor: 3, assignments: [], configs: [] }], timeoutMs: 1, validateOnly: false }, 7),
);
const values = encodeControllerRecords(created.records);
const from = offset;
time(`  replay into the controller (${created.records.length} records)`, () => append(created.records));
let follower = MetadataImage.EMPTY;
time('  decode + replay into a follower image', () => values.forEach((v, i) => (follower = applyMetadataRecord(follower, decodeMetadataRecord(v), from + i))));
time('  read the topic (first materialization)', () => c.image.topic('big')!.partitions.length);
const fenced = time('fence broker 2 (tick after its session)', () => {
  c.tick(0);
  for (const id of [1, 3]) c.brokerHeartbeat(20_000, { ...BrokerHeartbeatRequest.defaults(1), brokerId: id, brokerEpoch: BigInt(id), currentMetadataOffset: BigInt(offset), wantFence: false, wantShutDown: false });
  return c.tick(20_000);
});
time(`  replay (${fenced.records.length} records)`, () => append(fenced.records));
