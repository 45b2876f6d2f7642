/**
 * A broker-only node (process.roles=broker) that knows the quorum only through
 * controller.quorum.bootstrap.servers (KIP-853, as Kafka 4 brokers are configured), in a cluster of three
 * combined voters, all real processes. Its bootstrap servers are the CONTROLLER listeners of voters 2 and 3
 * only, so whichever voter is killed later, one of them is alive, and when voter 1 leads, the node reaches
 * the leader only at the endpoint a bootstrap server's Fetch answer named. It registers and is unfenced,
 * shows in Metadata and DescribeCluster, is an observer in DescribeQuorum (asked on the leader's
 * CONTROLLER listener and through its own client listener, which forwards to the active controller at
 * the learnt endpoint), leads a partition of a new topic and serves a producer and a consumer on it; after
 * kill -9 of the active controller it finds the new leader through its bootstrap servers and keeps going.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually } from '../helpers/eventually.js';

let dir: string;
let cluster: ClusterProcesses;

type PartitionView = { leader: number; replicas: number[]; isr: number[] };

async function metadataOf(port: number, topics: string[] | null): Promise<{ brokers: number[]; controllerId: number; topics: Map<string, PartitionView[]> }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Metadata, 12, { topics: topics === null ? null : topics.map((name) => ({ topicId: '00000000-0000-0000-0000-000000000000', name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const out = new Map<string, PartitionView[]>();
    for (const t of res.topics) {
      if (t.errorCode !== 0 || t.name === null) continue;
      out.set(t.name, [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => ({ leader: p.leaderId, replicas: [...p.replicaNodes].sort(), isr: [...p.isrNodes].sort() })));
    }
    return { brokers: res.brokers.map((b) => b.nodeId).sort(), controllerId: res.controllerId, topics: out };
  } finally {
    c.close();
  }
}

async function describeCluster(port: number): Promise<{ controllerId: number; brokers: number[] }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(DescribeCluster, 0, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    return { controllerId: res.controllerId, brokers: res.brokers.map((b) => b.brokerId).sort() };
  } finally {
    c.close();
  }
}

/** DescribeQuorum v1 on `port` (a CONTROLLER listener, or a broker's client listener, which forwards it). */
async function quorumOf(port: number): Promise<{ leaderId: number; voters: number[]; observers: number[] }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(DescribeQuorum, 1, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    if (res.errorCode !== 0) throw new Error(`DescribeQuorum error ${res.errorCode}`);
    const p = res.topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`DescribeQuorum partition error ${p.errorCode}`);
    return { leaderId: p.leaderId, voters: p.currentVoters.map((v) => v.replicaId).sort(), observers: p.observers.map((o) => o.replicaId).sort() };
  } finally {
    c.close();
  }
}


function kafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'samsa-bootstrap-observer-test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

async function createTopic(admin: Admin, topic: string, numPartitions: number, replicationFactor: number): Promise<void> {
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-bootstrap-observer-'));
  // Four processes compiling at once: a generous start bound for a crowded machine.
  cluster = await startClusterProcesses(3, dir, {}, { brokerOnly: 1, brokerOnlyBootstrap: [2, 3], startTimeoutMs: 90_000 });
  for (const n of cluster.nodes) {
    await eventually(`node ${n.id} sees 4 live brokers`, () => metadataOf(n.clientPort, []), (m) => m.brokers.join() === '1,2,3,4');
  }
}, 240_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('a broker-only node with controller.quorum.bootstrap.servers only (KIP-853), three combined voters, real processes', () => {
  it('registers, is unfenced, is an observer (not a voter), leads a partition of a new topic and serves a producer and a consumer', async () => {
    const node4 = cluster.node(4);
    expect(node4.brokerOnly).toBe(true);
    expect(node4.process!.lines.some((l) => l.msg === 'raft node started' && Array.isArray(l['voters']) && (l['voters'] as unknown[]).length === 0)).toBe(true);
    const dc = await eventually('node 4 names a controller', () => describeCluster(node4.clientPort), (d) => d.controllerId >= 1 && d.controllerId <= 3);
    expect(dc.brokers).toEqual([1, 2, 3, 4]);
    const controller = dc.controllerId;
    const q = await eventually('node 4 fetches as an observer', () => quorumOf(cluster.node(controller).controllerPort), (x) => x.observers.includes(4));
    expect(q).toEqual({ leaderId: controller, voters: [1, 2, 3], observers: [4] });
    // Through node 4's client listener: forwarded to the active controller, wherever node 4 learnt it is.
    expect(await eventually('DescribeQuorum through node 4', () => quorumOf(node4.clientPort), (x) => x.observers.includes(4))).toEqual({ leaderId: controller, voters: [1, 2, 3], observers: [4] });

    await createTopic(kafka(`127.0.0.1:${node4.clientPort}`).admin(), 'bootstrapped', 4, 3);
    const views = [];
    for (const n of cluster.nodes) {
      views.push(await eventually(`node ${n.id} describes 'bootstrapped'`, () => metadataOf(n.clientPort, ['bootstrapped']), (m) => m.topics.get('bootstrapped')?.length === 4));
    }
    const first = views[0]!.topics.get('bootstrapped')!;
    for (const v of views) expect(v.topics.get('bootstrapped')).toEqual(first);
    // Four partitions led round-robin over four brokers: node 4 leads one, with its followers in the ISR.
    const led = first.findIndex((p) => p.leader === 4);
    expect(led).toBeGreaterThanOrEqual(0);
    expect(first[led]!.replicas).toContain(4);
    expect(first[led]!.isr).toEqual(first[led]!.replicas);

    // A producer and a consumer that know only node 4: acks=all on the partition it leads, read back.
    const client = kafka(`127.0.0.1:${node4.clientPort}`);
    const producer = client.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: 'bootstrapped', acks: -1, messages: [0, 1, 2].map((i) => ({ partition: led, value: `v${i}` })) });
    } finally {
      await producer.disconnect();
    }
    const consumer = client.consumer({ groupId: 'bootstrap-observer-group' });
    await consumer.connect();
    const got: string[] = [];
    try {
      await consumer.subscribe({ topic: 'bootstrapped', fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            if (partition === led) got.push(message.value!.toString());
            if (got.length >= 3) resolve();
          },
        });
      });
      // Bounded by the test's timeout: the consumer resolves it once it has read the three values.
      await done;
    } finally {
      await consumer.disconnect();
    }
    expect(got).toEqual(['v0', 'v1', 'v2']);
  }, 120_000);

  it('kill -9 of the active controller: node 4 finds the new leader through its bootstrap servers, stays unfenced and gets new topics', async () => {
    const controller = (await eventually('a controller is known', () => describeCluster(cluster.node(1).clientPort), (d) => d.controllerId >= 1 && d.controllerId <= 3)).controllerId;
    await cluster.kill9(controller);
    const survivors = cluster.nodes.filter((n) => n.id !== controller && !n.brokerOnly);
    const elected = (await eventually('a new controller is elected', () => describeCluster(survivors[0]!.clientPort), (d) => d.controllerId > 0 && d.controllerId !== controller, 15_000)).controllerId;
    expect(survivors.map((n) => n.id)).toContain(elected);
    // No BeginQuorumEpoch reaches an observer: it notices by its fetch timeout and asks a bootstrap server.
    await eventually('node 4 knows the new controller', () => describeCluster(cluster.node(4).clientPort), (d) => d.controllerId === elected, 20_000);

    await createTopic(kafka(`127.0.0.1:${cluster.node(4).clientPort}`).admin(), 'after-failover', 2, 3);
    await eventually("node 4 describes 'after-failover'", () => metadataOf(cluster.node(4).clientPort, ['after-failover']), (m) => m.topics.get('after-failover')?.length === 2);
    // After the dead node's session expires it is fenced; node 4, heartbeating to the new controller, is not.
    const m = await eventually(`node ${controller} is fenced, node 4 is not`, () => metadataOf(cluster.node(4).clientPort, []), (x) => !x.brokers.includes(controller) && x.brokers.includes(4), 30_000);
    expect(m.brokers).toEqual([1, 2, 3, 4].filter((id) => id !== controller));
    const q = await eventually('node 4 fetches from the new leader', () => quorumOf(cluster.node(elected).controllerPort), (x) => x.observers.includes(4));
    expect(q).toEqual({ leaderId: elected, voters: [1, 2, 3], observers: [4] });
  }, 120_000);
});
