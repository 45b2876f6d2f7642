/**
 * Issue 11's acceptance with three real processes (what `npm run cluster` starts): a topic created with
 * replication factor 3 through one node is described identically by every node (same leaders, leader
 * epochs, replicas and ISR); kill -9 of the active controller elects another within seconds and a second
 * CreateTopics succeeds; the killed node restarts on its data directory and catches up.
 * Clients are kafkajs (an independent implementation) and raw Metadata requests to each node.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually } from '../helpers/eventually.js';

let dir: string;
let cluster: ClusterProcesses;

interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

async function metadataOf(port: number, topics: string[] | null): Promise<{ brokers: number[]; controllerId: number; topics: Map<string, PartitionView[]> }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Metadata, 12, { topics: topics === null ? null : topics.map((name) => ({ topicId: '00000000-0000-0000-0000-000000000000', name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const out = new Map<string, PartitionView[]>();
    for (const t of res.topics) {
      if (t.errorCode !== 0 || t.name === null) continue;
      out.set(
        t.name,
        t.partitions.map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: [...p.replicaNodes].sort(), isr: [...p.isrNodes].sort() })).sort((a, b) => a.partition - b.partition),
      );
    }
    return { brokers: res.brokers.map((b) => b.nodeId).sort(), controllerId: res.controllerId, topics: out };
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


function admin(bootstrap: string): Admin {
  return new Kafka({ clientId: 'samsa-cluster-test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } }).admin();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-cluster-'));
  cluster = await startClusterProcesses(3, dir);
  for (const n of cluster.nodes) {
    await eventually(`node ${n.id} sees 3 live brokers`, () => metadataOf(n.clientPort, []), (m) => m.brokers.join() === '1,2,3');
  }
}, 90_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('a three-node cluster of real processes', () => {
  it('creates a replication-factor-3 topic through one node; every node describes it the same', async () => {
    const a = admin(`127.0.0.1:${cluster.node(2).clientPort}`);
    await a.connect();
    try {
      await a.createTopics({ topics: [{ topic: 'replicated', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    } finally {
      await a.disconnect();
    }
    const views = [];
    for (const n of cluster.nodes) {
      views.push(await eventually(`node ${n.id} describes 'replicated'`, () => metadataOf(n.clientPort, ['replicated']), (m) => m.topics.get('replicated')?.length === 3));
    }
    const first = views[0]!.topics.get('replicated')!;
    for (const v of views) expect(v.topics.get('replicated')).toEqual(first);
    for (const p of first) {
      expect(p.replicas).toEqual([1, 2, 3]);
      expect(p.isr).toEqual([1, 2, 3]);
      expect(p.replicas).toContain(p.leader);
    }
    // Leaders are spread: three partitions over three brokers, one each (Kafka's striped placement).
    expect(new Set(first.map((p) => p.leader)).size).toBe(3);
  }, 60_000);

  it('kill -9 of the active controller: another is elected, CreateTopics works, the node restarts and catches up', async () => {
    const controller = await eventually('a controller is known', () => controllerOf(cluster.node(1).clientPort), (id) => id > 0);
    const before = (await metadataOf(cluster.node(1).clientPort, ['replicated'])).topics.get('replicated')!;
    await cluster.kill9(controller);
    const survivors = cluster.nodes.filter((n) => n.id !== controller);
    const elected = await eventually('a new controller is elected', () => controllerOf(survivors[0]!.clientPort), (id) => id > 0 && id !== controller, 15_000);
    expect(survivors.map((n) => n.id)).toContain(elected);

    const a = admin(survivors.map((n) => `127.0.0.1:${n.clientPort}`).join(','));
    await a.connect();
    try {
      await a.createTopics({ topics: [{ topic: 'after-failover', numPartitions: 2, replicationFactor: 2 }] });
    } finally {
      await a.disconnect();
    }
    for (const n of survivors) {
      await eventually(`node ${n.id} describes 'after-failover'`, () => metadataOf(n.clientPort, ['after-failover']), (m) => m.topics.get('after-failover')?.length === 2);
    }

    // The dead node's session expires (broker.session.timeout.ms, 9 s): it is fenced, leaves Metadata's
    // brokers and every ISR, and the partitions it led get a new leader from the ISR at a higher epoch.
    const fenced = await eventually(
      `node ${controller} is fenced and its partitions move`,
      () => metadataOf(survivors[0]!.clientPort, ['replicated']),
      (m) => !m.brokers.includes(controller) && m.topics.get('replicated')!.every((p) => p.leader !== controller && p.leader > 0 && !p.isr.includes(controller)),
      30_000,
    );
    for (const p of fenced.topics.get('replicated')!) {
      const old = before.find((b) => b.partition === p.partition)!;
      if (old.leader === controller) expect(p.leaderEpoch).toBeGreaterThan(old.leaderEpoch);
      else expect(p.leader).toBe(old.leader);
      expect(p.replicas).toEqual([1, 2, 3]);
    }

    await cluster.start(controller);
    const restarted = cluster.node(controller);
    // The first answer of the restarted node, asked as soon as its port accepts: requests wait until it is
    // unfenced with its metadata loaded, so it never denies a topic that exists (Kafka's BrokerServer
    // enables request processing only then).
    const first = await metadataOf(restarted.clientPort, ['replicated', 'after-failover']);
    expect([...first.topics.keys()].sort()).toEqual(['after-failover', 'replicated']);
    const caughtUp = await eventually(
      `restarted node ${controller} catches up`,
      () => metadataOf(restarted.clientPort, null),
      (m) => m.brokers.join() === '1,2,3' && m.topics.has('replicated') && m.topics.get('after-failover')?.length === 2,
    );
    // With replication the ISR moves (the restarted node rejoins through AlterPartition), so the two views
    // are compared once they have settled on the same registration.
    expect(caughtUp.topics.get('after-failover')).toHaveLength(2);
    await eventually(
      `restarted node ${controller} and node ${survivors[0]!.id} describe 'after-failover' alike`,
      async () => [await metadataOf(restarted.clientPort, ['after-failover']), await metadataOf(survivors[0]!.clientPort, ['after-failover'])],
      ([mine, theirs]) => JSON.stringify(mine!.topics.get('after-failover')) === JSON.stringify(theirs!.topics.get('after-failover')),
    );
  }, 120_000);
});
