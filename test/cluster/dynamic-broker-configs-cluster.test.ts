/**
 * Dynamic broker configs in a three-node cluster (three combined nodes in this process, on free ports):
 * they are ConfigRecords of the metadata log, which every node replays, and each broker applies those of
 * its own id and of the cluster default (""), as Kafka 4 does.
 *   - A change of broker T's resource sent to T, while another node is the active controller, is
 *     forwarded, written by the controller, and in force on T only: every node's image has it, T's
 *     replica takes it, the others' replicas do not. The same request sent to a third node is
 *     INVALID_REQUEST "Unexpected broker id" as in Kafka (ConfigAdminManager), whose admin client sends a
 *     broker's resource to that broker, as `kafka-configs.sh --entity-name T` does whatever its
 *     --bootstrap-server.
 *   - `--entity-default` (resource name "") sent to any node reaches every node: each one's replica takes
 *     it and its DescribeConfigs reports DYNAMIC_DEFAULT_BROKER_CONFIG.
 *   - T restarted gets both back from the metadata log.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import type { MetadataImage } from '../../src/broker/metadata-image.js';
import { freePort } from '../helpers/broker-process.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const BROKER = 4;
const SET = 0;
const TOPIC = 'dyn-cluster';
/** How long a node may take to apply what another committed (a loaded machine). */
const APPLY_MS = 30_000;

let dir: string;
const props = new Map<number, Record<string, string>>();
const nodes = new Map<number, TestBroker>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-dyn-cluster-'));
  const ids = [1, 2, 3];
  const controllerPorts = new Map<number, number>();
  for (const id of ids) controllerPorts.set(id, await freePort());
  const voters = ids.map((id) => `${id}@127.0.0.1:${controllerPorts.get(id)}`).join(',');
  for (const id of ids) {
    props.set(id, {
      'node.id': String(id),
      'process.roles': 'broker,controller',
      'controller.quorum.voters': voters,
      listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${controllerPorts.get(id)}`,
      'controller.listener.names': 'CONTROLLER',
      'offsets.topic.replication.factor': '3',
    });
    await mkdir(join(dir, `node-${id}`), { recursive: true });
  }
  // Together: a node is started once a quorum has elected a leader and unfenced it, which takes two.
  const started = await Promise.all(ids.map((id) => startTestBroker(props.get(id)!, join(dir, `node-${id}`))));
  for (const b of started) nodes.set(b.broker.nodeId, b);
  const c = await RawClient.connect(nodes.get(1)!.port);
  try {
    const r = await c.request(CreateTopics, 4, { topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  } finally {
    c.close();
  }
  for (const b of nodes.values()) expect(await b.broker.awaitImage((image) => image.topic(TOPIC) !== undefined, APPLY_MS)).toBe(true);
}, 120_000);

afterAll(async () => {
  await Promise.all([...nodes.values()].map((b) => b.stop()));
  await rm(dir, { recursive: true, force: true });
}, 60_000);

function activeController(): number {
  const active = [...nodes.values()].find((b) => b.kraft.controller?.isActive);
  if (!active) throw new Error('no active controller');
  return active.broker.nodeId;
}

async function iac(port: number, resourceName: string, name: string, value: string) {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(IncrementalAlterConfigs, 1, { resources: [{ resourceType: BROKER, resourceName, configs: [{ name, configOperation: SET, value }] }], validateOnly: false });
    return [res.responses[0]!.errorCode, res.responses[0]!.errorMessage];
  } finally {
    c.close();
  }
}

async function describeOwn(b: TestBroker, key: string) {
  const c = await RawClient.connect(b.port);
  try {
    const res = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: BROKER, resourceName: String(b.broker.nodeId), configurationKeys: [key] }], includeSynonyms: false, includeDocumentation: false });
    const e = res.results[0]!.configs[0]!;
    return { value: e.value, source: e.configSource };
  } finally {
    c.close();
  }
}

/** Every node has applied an image that satisfies `ready` (event-driven: Broker.awaitImage). */
async function everyNode(ready: (image: MetadataImage) => boolean): Promise<void> {
  for (const b of nodes.values()) expect(await b.broker.awaitImage(ready, APPLY_MS)).toBe(true);
}

let target = -1;

describe('dynamic broker configs in a three-node cluster', () => {
  it('a change of broker T sent to T is written by the active controller and in force on T only', async () => {
    const active = activeController();
    target = [...nodes.keys()].find((id) => id !== active)!;
    const third = [...nodes.keys()].find((id) => id !== active && id !== target)!;
    const t = nodes.get(target)!;

    // Kafka's ConfigAdminManager: a node alters only its own resource (Kafka's admin client routes it there).
    expect(await iac(nodes.get(third)!.port, String(target), 'log.retention.bytes', '7000000')).toEqual([
      ErrorCode.INVALID_REQUEST,
      `Unexpected broker id, expected ${third}, but received ${target}`,
    ]);
    expect(await iac(t.port, String(target), 'log.retention.bytes', '7000000')).toEqual([ErrorCode.NONE, null]);

    // On T at the answer: its image, its dynamic layer, its replica's log, its DescribeConfigs.
    expect(t.broker.image.brokerConfigs.get(String(target))?.get('log.retention.bytes')).toBe('7000000');
    expect(t.broker.dynamicConfig.get('perBroker').get('log.retention.bytes')).toBe('7000000');
    expect(t.broker.getPartition(TOPIC, 0)!.log.config.retentionBytes).toBe(7000000);
    expect(await describeOwn(t, 'log.retention.bytes')).toEqual({ value: '7000000', source: 2 });

    // Every node replays the record; the others do not take another broker's value.
    await everyNode((image) => image.brokerConfigs.get(String(target))?.get('log.retention.bytes') === '7000000');
    for (const [id, b] of nodes) {
      if (id === target) continue;
      expect(b.broker.dynamicConfig.get('perBroker').has('log.retention.bytes')).toBe(false);
      expect(b.broker.getPartition(TOPIC, 0)!.log.config.retentionBytes).toBe(-1);
      expect(await describeOwn(b, 'log.retention.bytes')).toEqual({ value: '-1', source: 5 });
    }
  }, 60_000);

  it('--entity-default (resource "") sent to one node reaches every node', async () => {
    const sender = [...nodes.keys()].find((id) => id !== activeController())!;
    expect(await iac(nodes.get(sender)!.port, '', 'log.retention.ms', '3600000')).toEqual([ErrorCode.NONE, null]);
    await everyNode((image) => image.brokerConfigs.get('')?.get('log.retention.ms') === '3600000');
    for (const b of nodes.values()) {
      expect(b.broker.dynamicConfig.get('clusterDefault').get('log.retention.ms')).toBe('3600000');
      expect(b.broker.getPartition(TOPIC, 0)!.log.config.retentionMs).toBe(3600000);
      expect(await describeOwn(b, 'log.retention.ms')).toEqual({ value: '3600000', source: 3 });
    }
  }, 60_000);

  it('broker T restarted has its value and the default back from the metadata log', async () => {
    expect(target).toBeGreaterThan(0);
    const t = await nodes.get(target)!.restart();
    nodes.set(target, t);
    expect(Object.fromEntries(t.broker.dynamicConfig.get('perBroker'))).toEqual({ 'log.retention.bytes': '7000000' });
    expect(Object.fromEntries(t.broker.dynamicConfig.get('clusterDefault'))).toEqual({ 'log.retention.ms': '3600000' });
    expect(t.broker.getPartition(TOPIC, 0)!.log.config).toMatchObject({ retentionBytes: 7000000, retentionMs: 3600000 });
    expect(await describeOwn(t, 'log.retention.bytes')).toEqual({ value: '7000000', source: 2 });
  }, 90_000);
});
