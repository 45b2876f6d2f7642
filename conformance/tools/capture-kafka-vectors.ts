/**
 * Recaptures test/vectors/kafka/: response frames written by a real Apache Kafka broker, for the byte-level
 * tests (test/protocol/kafka-vectors.test.ts decodes each with our declaration and re-encodes it byte for
 * byte). Those bytes are Kafka's, not ours, so a declaration mistake shows up there even though our
 * round-trip tests encode and decode with the same declaration.
 *
 * Run: `node --import tsx conformance/tools/capture-kafka-vectors.ts` (needs java and mvn; fetches Kafka
 * from Maven Central through bench/lib/kafka-dist.ts, as the bench does, and runs it in KRaft mode, one
 * node, on free loopback ports). For each API below it asks Kafka's ApiVersions which versions it serves
 * and captures, within the range both sides know, the lowest, the last non-flexible, the first flexible
 * and the highest version. Requests are encoded with our declarations (only the responses are kept).
 * File names: <Api>-v<version>-response-kafka-<kafka version>.bin, the frame without its size prefix.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { DescribeGroups } from '../../protocol/messages/describe-groups.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { Heartbeat } from '../../protocol/messages/heartbeat.js';
import { InitProducerId } from '../../protocol/messages/init-producer-id.js';
import { JoinGroup } from '../../protocol/messages/join-group.js';
import { ListGroups } from '../../protocol/messages/list-groups.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js';
import { Produce } from '../../protocol/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { parseVersions, type ApiMessages, type MessageDecl, type MessageInput, type MessageValue } from '../../protocol/schema.js';
import { loadKafkaSpecs } from '../../test/helpers/kafka-specs.js';
import { ensureKafka, REPO_ROOT } from '../../bench/lib/kafka-dist.js';
import { startKafka, type BrokerHandle } from '../../bench/lib/brokers.js';
import { WireConnection, sleep } from '../../bench/lib/wire.js';

const OUT = join(REPO_ROOT, 'test', 'vectors', 'kafka');

/** Sends one request and resolves with the raw response frame (header included, size prefix not). */
class RawClient {
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  constructor(readonly conn: WireConnection) {
    conn.onFrame = (id, frame) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve(Buffer.from(frame));
    };
    conn.onClose = () => {
      for (const p of this.pending.values()) p.reject(new Error('Kafka closed the connection'));
      this.pending.clear();
    };
  }

  send<Req extends MessageDecl, Res extends MessageDecl>(a: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>, timeoutMs = 30_000): Promise<Buffer> {
    const id = this.conn.allocateCorrelationId();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${a.name} v${version}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.conn.write(WireConnection.encode(a, version, body, id, 'samsa-vectors'));
    });
  }

  async request<Req extends MessageDecl, Res extends MessageDecl>(a: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>): Promise<MessageValue<Res>> {
    return WireConnection.decode(a, version, await this.send(a, version, body));
  }
}

async function connectWithDeadline(port: number, deadlineMs: number): Promise<WireConnection> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await WireConnection.open(port);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Kafka did not accept connections within ${deadlineMs} ms: ${(err as Error).message}`);
      await sleep(200);
    }
  }
}

/** Retries `attempt` until it returns true, or throws after `deadlineMs` (Kafka's metadata can lag a moment). */
async function until(what: string, deadlineMs: number, attempt: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${deadlineMs} ms`);
    await sleep(200);
  }
}

function versionsToCapture(a: ApiMessages, kafkaMin: number, kafkaMax: number): number[] {
  const lo = Math.max(a.request.validVersions.min, kafkaMin);
  const hi = Math.min(a.request.validVersions.max, a.response.validVersions.max, kafkaMax);
  const flex = a.request.flexibleVersions.min;
  return [...new Set([lo, flex - 1, flex, hi])].filter((v) => v >= lo && v <= hi).sort((x, y) => x - y);
}

async function capture(broker: BrokerHandle, kafkaVersion: string): Promise<string[]> {
  const client = new RawClient(await connectWithDeadline(broker.port, 120_000));
  const written: string[] = [];
  const save = (name: string, version: number, frame: Buffer): void => {
    const file = `${name}-v${version}-response-kafka-${kafkaVersion}.bin`;
    writeFileSync(join(OUT, file), frame);
    written.push(file);
  };

  const av = await client.request(ApiVersions, 3, { clientSoftwareName: 'samsa-vectors', clientSoftwareVersion: '1' });
  const served = new Map(av.apiKeys.map((k) => [k.apiKey, k]));
  // Kafka 4 still advertises Produce v0-2 (for old librdkafka, KAFKA-18659) but rejects them: its own spec's
  // validVersions are the range it really parses.
  const specs = await loadKafkaSpecs(kafkaVersion);
  const versions = (a: ApiMessages): number[] => {
    const k = served.get(a.apiKey);
    const spec = parseVersions(specs.get(a.request.decl.name)?.validVersions);
    return k ? versionsToCapture(a, Math.max(k.minVersion, spec.min), Math.min(k.maxVersion, spec.max)) : [];
  };

  // The topic every data request uses, ready (leader elected, produce accepted) before capturing.
  const topic = 'vectors';
  await client.request(CreateTopics, 5, { topics: [{ name: topic, numPartitions: 2, replicationFactor: 1 }], timeoutMs: 30_000 });
  let topicId = '';
  await until('topic leaders', 60_000, async () => {
    const md = await client.request(Metadata, 12, { topics: [{ name: topic }] });
    const t = md.topics[0];
    topicId = t?.topicId ?? '';
    return t?.errorCode === ErrorCode.NONE && t.partitions.length === 2 && t.partitions.every((p) => p.leaderId >= 0);
  });
  const batch = (): Buffer => buildBatchSync([{ key: Buffer.from('k1'), value: Buffer.from('first') }, { key: null, value: Buffer.from('second'), headers: [{ key: 'h', value: Buffer.from('v') }] }]);
  const produce = (v: number): Promise<Buffer> =>
    client.send(Produce, v, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch() }, { index: 1, records: batch() }] }] });
  await until('produce accepted', 60_000, async () => {
    const res = WireConnection.decode(Produce, 9, await produce(9));
    return res.responses[0]!.partitionResponses.every((p) => p.errorCode === ErrorCode.NONE);
  });

  for (const v of versions(ApiVersions)) save('ApiVersions', v, await client.send(ApiVersions, v, { clientSoftwareName: 'samsa-vectors', clientSoftwareVersion: '1' }));
  for (const v of versions(Metadata)) save('Metadata', v, await client.send(Metadata, v, { topics: v === 0 ? [] : null, ...(v >= 4 ? { allowAutoTopicCreation: false } : {}) }));
  for (const v of versions(Produce)) save('Produce', v, await produce(v));
  for (const v of versions(Fetch)) {
    save('Fetch', v, await client.send(Fetch, v, {
      maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20,
      topics: [{ topic, topicId: v >= 13 ? topicId : undefined, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }, { partition: 1, fetchOffset: 2n, partitionMaxBytes: 1 << 20 }] }],
    }));
  }
  for (const v of versions(ListOffsets)) {
    save('ListOffsets', v, await client.send(ListOffsets, v, {
      replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }, { partitionIndex: 1, timestamp: -2n }] }],
    }));
  }
  const group = 'vectors-group';
  await until('group coordinator', 60_000, async () => {
    const res = await client.request(FindCoordinator, 3, { key: group, keyType: 0 });
    return res.errorCode === ErrorCode.NONE;
  });
  for (const v of versions(FindCoordinator)) {
    save('FindCoordinator', v, await client.send(FindCoordinator, v, v >= 4 ? { keyType: 0, coordinatorKeys: [group, 'another-group'] } : { key: group, keyType: 0 }));
  }
  for (const v of versions(CreateTopics)) {
    save('CreateTopics', v, await client.send(CreateTopics, v, {
      topics: [{ name: `vectors-created-v${v}`, numPartitions: 1, replicationFactor: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] }, { name: topic, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 30_000,
    }));
  }
  for (const v of versions(DeleteTopics)) {
    save('DeleteTopics', v, await client.send(DeleteTopics, v, v >= 6
      ? { topics: [{ name: `vectors-created-v${v <= 7 ? v : 7}` }, { name: 'no-such-topic' }], timeoutMs: 30_000 }
      : { topicNames: [`vectors-created-v${v}`, 'no-such-topic'], timeoutMs: 30_000 }));
  }
  for (const v of versions(DescribeConfigs)) {
    save('DescribeConfigs', v, await client.send(DescribeConfigs, v, {
      resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['cleanup.policy', 'retention.ms', 'max.message.bytes'] }],
      includeSynonyms: v >= 1, includeDocumentation: v >= 3,
    }));
  }
  for (const v of versions(OffsetCommit)) {
    save('OffsetCommit', v, await client.send(OffsetCommit, v, {
      groupId: group, generationIdOrMemberEpoch: -1, memberId: '',
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: BigInt(v), committedMetadata: 'm' }] }],
    }));
  }
  for (const v of versions(OffsetFetch)) {
    save('OffsetFetch', v, await client.send(OffsetFetch, v, v >= 8
      ? { groups: [{ groupId: group, topics: null }] }
      : { groupId: group, topics: [{ name: topic, partitionIndexes: [0, 1] }] }));
  }
  for (const v of versions(JoinGroup)) {
    // A fresh group per version; v4+ answers a first join without member id with MEMBER_ID_REQUIRED.
    save('JoinGroup', v, await client.send(JoinGroup, v, {
      groupId: `vectors-join-v${v}`, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 1, 0, 0, 0, 0]) }],
    }));
  }
  for (const v of versions(Heartbeat)) save('Heartbeat', v, await client.send(Heartbeat, v, { groupId: group, generationId: 1, memberId: 'not-a-member' }));
  for (const v of versions(ListGroups)) save('ListGroups', v, await client.send(ListGroups, v, {}));
  for (const v of versions(DescribeGroups)) save('DescribeGroups', v, await client.send(DescribeGroups, v, { groups: [group, 'vectors-join-v4'], includeAuthorizedOperations: v >= 3 }));
  for (const v of versions(InitProducerId)) save('InitProducerId', v, await client.send(InitProducerId, v, { transactionalId: null, transactionTimeoutMs: 60_000 }));
  for (const v of versions(DescribeCluster)) save('DescribeCluster', v, await client.send(DescribeCluster, v, {}));
  for (const v of versions(CreatePartitions)) {
    save('CreatePartitions', v, await client.send(CreatePartitions, v, { topics: [{ name: 'no-such-topic', count: 3, assignments: null }], timeoutMs: 10_000 }));
  }
  client.conn.close();
  return written;
}

async function main(): Promise<void> {
  const dist = ensureKafka(undefined, (s) => console.error(s));
  const root = mkdtempSync(join(tmpdir(), 'samsa-vectors-'));
  const broker = await startKafka({ root }, dist);
  try {
    mkdirSync(OUT, { recursive: true });
    // The controller RPCs' vectors are capture-controller-vectors.ts's: kept.
    const controllerRpc = /^(BrokerRegistration|BrokerHeartbeat|AlterPartition|AllocateProducerIds|ControllerRegistration|ElectLeaders|UnregisterBroker)-/;
    for (const f of readdirSync(OUT)) if (f.endsWith('.bin') && !controllerRpc.test(f)) rmSync(join(OUT, f));
    const written = await capture(broker, dist.version);
    console.log(`wrote ${written.length} Kafka ${dist.version} response vectors to ${OUT}`);
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  } catch (err) {
    await broker.stop();
    console.error(`capture failed; Kafka's log (kept): ${broker.logFile}`);
    throw err;
  }
}

await main();
