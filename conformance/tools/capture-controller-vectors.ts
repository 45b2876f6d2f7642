/**
 * Captures, from a real Apache Kafka broker, response frames of the controller RPCs of issue 11 into
 * test/vectors/kafka/ (test/protocol/kafka-vectors.test.ts decodes each with our declaration and re-encodes
 * it byte for byte): ElectLeaders and UnregisterBroker on the broker listener, and BrokerRegistration,
 * BrokerHeartbeat, AlterPartition, AllocateProducerIds and ControllerRegistration on the CONTROLLER listener
 * of a one-node combined Kafka. The requests are built to be refused (a wrong cluster id, a stale broker
 * epoch, an unknown broker): the answers are Kafka's, which is what the vectors are for. Every version both
 * sides know is captured. Existing vectors of other APIs are left alone (capture-kafka-vectors.ts
 * recaptures those).
 *
 * Run: `node --import tsx conformance/tools/capture-controller-vectors.ts` (needs java and mvn, like
 * capture-kafka-vectors.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllocateProducerIds } from '../../protocol/messages/allocate-producer-ids.js';
import { AlterPartition } from '../../protocol/messages/alter-partition.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { BrokerHeartbeat } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistration } from '../../protocol/messages/broker-registration.js';
import { ControllerRegistration } from '../../protocol/messages/controller-registration.js';
import { ElectLeaders } from '../../protocol/messages/elect-leaders.js';
import { UnregisterBroker } from '../../protocol/messages/unregister-broker.js';
import type { ApiMessages, MessageDecl, MessageInput } from '../../protocol/schema.js';
import { startKafka, timeToFirstProduce } from '../../bench/lib/brokers.js';
import { ensureKafka, REPO_ROOT } from '../../bench/lib/kafka-dist.js';
import { WireConnection } from '../../bench/lib/wire.js';

const OUT = join(REPO_ROOT, 'test', 'vectors', 'kafka');

/** One request, its raw response frame (header included, size prefix not). */
function send<Req extends MessageDecl, Res extends MessageDecl>(conn: WireConnection, a: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>): Promise<Buffer> {
  const id = conn.allocateCorrelationId();
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${a.name} v${version}: no response within 30 s`)), 30_000);
    const previous = conn.onFrame;
    conn.onFrame = (cid, frame) => {
      if (cid !== id) return previous?.(cid, frame);
      clearTimeout(timer);
      conn.onFrame = previous;
      resolve(Buffer.from(frame));
    };
    conn.onClose = () => reject(new Error(`Kafka closed the connection on ${a.name} v${version}`));
    conn.write(WireConnection.encode(a, version, body, id, 'samsa-vectors'));
  });
}

async function served(conn: WireConnection): Promise<Map<number, { min: number; max: number }>> {
  const av = WireConnection.decode(ApiVersions, 3, await send(conn, ApiVersions, 3, { clientSoftwareName: 'samsa-vectors', clientSoftwareVersion: '1' }));
  return new Map(av.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
}

async function main(): Promise<void> {
  const dist = ensureKafka(undefined, (s) => console.error(s));
  const root = mkdtempSync(join(tmpdir(), 'samsa-controller-vectors-'));
  const broker = await startKafka({ root }, dist);
  const written: string[] = [];
  try {
    await timeToFirstProduce(broker, 170_000);
    mkdirSync(OUT, { recursive: true });
    async function capture<Req extends MessageDecl, Res extends MessageDecl>(conn: WireConnection, keys: Map<number, { min: number; max: number }>, a: ApiMessages<Req, Res>, body: (v: number) => MessageInput<Req>): Promise<void> {
      const k = keys.get(a.apiKey);
      if (!k) throw new Error(`Kafka does not serve ${a.name} on this listener`);
      for (let v = Math.max(k.min, a.request.validVersions.min); v <= Math.min(k.max, a.request.validVersions.max); v++) {
        const file = `${a.name}-v${v}-response-kafka-${dist.version}.bin`;
        writeFileSync(join(OUT, file), await send(conn, a, v, body(v)));
        written.push(file);
      }
    }

    const client = await WireConnection.open(broker.port);
    const clientKeys = await served(client);
    await capture(client, clientKeys, ElectLeaders, () => ({ electionType: 0, topicPartitions: [{ topic: 'bench-first-produce', partitions: [0, 7] }], timeoutMs: 10_000 }));
    await capture(client, clientKeys, UnregisterBroker, () => ({ brokerId: 42 }));
    client.close();

    const controller = await WireConnection.open(broker.controllerPort!);
    const controllerKeys = await served(controller);
    const listener = { name: 'PLAINTEXT', host: '127.0.0.1', port: 19999, securityProtocol: 0 };
    const feature = { name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 27 };
    await capture(controller, controllerKeys, BrokerRegistration, () => ({
      brokerId: 42, clusterId: 'not-this-cluster', incarnationId: '5f2b9c3e-0d1a-4a7b-9c6e-2f4d8e1a3b5c', listeners: [listener], features: [feature], rack: null,
    }));
    await capture(controller, controllerKeys, BrokerHeartbeat, () => ({ brokerId: 1, brokerEpoch: 999_999n, currentMetadataOffset: 10n, wantFence: false, wantShutDown: false }));
    await capture(controller, controllerKeys, AlterPartition, (v) => ({
      brokerId: 1, brokerEpoch: 999_999n,
      topics: [{ topicId: '00000000-0000-0000-0000-000000000007', partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, ...(v >= 3 ? { newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: 999_999n }] } : { newIsr: [1] }) }] }],
    }));
    await capture(controller, controllerKeys, AllocateProducerIds, () => ({ brokerId: 1, brokerEpoch: 999_999n }));
    await capture(controller, controllerKeys, ControllerRegistration, () => ({
      controllerId: 7, incarnationId: '5f2b9c3e-0d1a-4a7b-9c6e-2f4d8e1a3b5d', zkMigrationReady: false, listeners: [{ ...listener, name: 'CONTROLLER' }], features: [feature],
    }));
    controller.close();
    console.log(`wrote ${written.length} Kafka ${dist.version} response vectors to ${OUT}: ${written.join(', ')}`);
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  } catch (err) {
    await broker.stop();
    console.error(`capture failed; Kafka's log (kept): ${broker.logFile}`);
    throw err;
  }
}

await main();
