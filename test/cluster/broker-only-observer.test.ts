/**
 * A broker-only node (process.roles=broker) in a cluster of three combined voters, all real processes
 * (issue 11: "a node is process.roles=broker,controller or broker alone"). The broker-only node runs the
 * metadata quorum as an observer: it registers through the ControllerChannel, is unfenced, appears in
 * Metadata, hosts replicas of a topic of replication factor 4, is listed among DescribeQuorum's observers
 * and not its voters, and keeps following (new topics reach it, it stays unfenced) after kill -9 of the
 * active controller.
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

async function metadataOf(port: number, topics: string[] | null): Promise<{ brokers: number[]; topics: Map<string, { leader: number; replicas: number[]; isr: number[] }[]> }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Metadata, 12, { topics: topics === null ? null : topics.map((name) => ({ topicId: '00000000-0000-0000-0000-000000000000', name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const out = new Map<string, { leader: number; replicas: number[]; isr: number[] }[]>();
    for (const t of res.topics) {
      if (t.errorCode !== 0 || t.name === null) continue;
      out.set(t.name, [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => ({ leader: p.leaderId, replicas: [...p.replicaNodes].sort(), isr: [...p.isrNodes].sort() })));
    }
    return { brokers: res.brokers.map((b) => b.nodeId).sort(), topics: out };
  } finally {
    c.close();
  }
}

async function controllerOf(port: number): Promise<number> {
  const c = await RawClient.connect(port);
  try {
    return (await c.request(DescribeCluster, 0, { includeClusterAuthorizedOperations: false, endpointType: 1 })).controllerId;
  } finally {
    c.close();
  }
}

async function quorumOf(controllerPort: number): Promise<{ voters: number[]; observers: number[] }> {
  const c = await RawClient.connect(controllerPort);
  try {
    const res = await c.request(DescribeQuorum, 1, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    const p = res.topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`DescribeQuorum error ${p.errorCode}`);
    return { voters: p.currentVoters.map((v) => v.replicaId).sort(), observers: p.observers.map((o) => o.replicaId).sort() };
  } finally {
    c.close();
  }
}


function admin(bootstrap: string): Admin {
  return new Kafka({ clientId: 'samsa-observer-test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } }).admin();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-observer-'));
  // Four processes compiling at once: a generous start bound for a crowded machine.
  cluster = await startClusterProcesses(3, dir, {}, { brokerOnly: 1, startTimeoutMs: 90_000 });
  for (const n of cluster.nodes) {
    await eventually(`node ${n.id} sees 4 live brokers`, () => metadataOf(n.clientPort, []), (m) => m.brokers.join() === '1,2,3,4');
  }
}, 240_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('three combined voters and one broker-only node, real processes', () => {
  it('the broker-only node is unfenced, an observer of the quorum (not a voter), and hosts replicas of a replication-factor-4 topic', async () => {
    expect(cluster.node(4).brokerOnly).toBe(true);
    const controller = await eventually('a controller is known', () => controllerOf(cluster.node(4).clientPort), (id) => id >= 1 && id <= 3);
    const q = await eventually('node 4 fetches as an observer', () => quorumOf(cluster.node(controller).controllerPort), (x) => x.observers.includes(4));
    expect(q).toEqual({ voters: [1, 2, 3], observers: [4] });

    const a = admin(`127.0.0.1:${cluster.node(4).clientPort}`);
    await a.connect();
    try {
      await a.createTopics({ topics: [{ topic: 'four-way', numPartitions: 4, replicationFactor: 4 }], waitForLeaders: true });
    } finally {
      await a.disconnect();
    }
    const views = [];
    for (const n of cluster.nodes) {
      views.push(await eventually(`node ${n.id} describes 'four-way'`, () => metadataOf(n.clientPort, ['four-way']), (m) => m.topics.get('four-way')?.length === 4));
    }
    const first = views[0]!.topics.get('four-way')!;
    for (const v of views) expect(v.topics.get('four-way')).toEqual(first);
    for (const p of first) {
      expect(p.replicas).toEqual([1, 2, 3, 4]);
      expect(p.isr).toEqual([1, 2, 3, 4]);
    }
    // Four partitions led round-robin over four brokers: the broker-only node leads one.
    expect(first.map((p) => p.leader)).toContain(4);
  }, 60_000);

  it('kill -9 of the active controller: the broker-only node finds the new leader, stays unfenced and gets new topics', async () => {
    const controller = await eventually('a controller is known', () => controllerOf(cluster.node(1).clientPort), (id) => id >= 1 && id <= 3);
    await cluster.kill9(controller);
    const survivors = cluster.nodes.filter((n) => n.id !== controller && !n.brokerOnly);
    const elected = await eventually('a new controller is elected', () => controllerOf(survivors[0]!.clientPort), (id) => id > 0 && id !== controller, 15_000);
    expect(survivors.map((n) => n.id)).toContain(elected);
    // The observer hears of the new leader from no BeginQuorumEpoch: it finds it by fetching (fetch timeout, then a voter's answer).
    await eventually('node 4 knows the new controller', () => controllerOf(cluster.node(4).clientPort), (id) => id === elected, 20_000);

    const a = admin(`127.0.0.1:${cluster.node(4).clientPort}`);
    await a.connect();
    try {
      await a.createTopics({ topics: [{ topic: 'after-failover', numPartitions: 2, replicationFactor: 3 }] });
    } finally {
      await a.disconnect();
    }
    await eventually("node 4 describes 'after-failover'", () => metadataOf(cluster.node(4).clientPort, ['after-failover']), (m) => m.topics.get('after-failover')?.length === 2);
    // After the dead node's session expires (9 s) it is fenced; the broker-only node, heartbeating to the
    // new controller, is not.
    const m = await eventually(
      `node ${controller} is fenced, node 4 is not`,
      () => metadataOf(cluster.node(4).clientPort, []),
      (x) => !x.brokers.includes(controller) && x.brokers.includes(4),
      30_000,
    );
    expect(m.brokers).toEqual([1, 2, 3, 4].filter((id) => id !== controller));
    const q = await eventually('node 4 fetches from the new leader', () => quorumOf(cluster.node(elected).controllerPort), (x) => x.observers.includes(4));
    expect(q.observers).toEqual([4]);
  }, 120_000);
});
