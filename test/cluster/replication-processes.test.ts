/**
 * Issue 12 with three real processes (the issue-11 cluster: Raft quorum, quorum controller, image
 * publishing): a replication-factor-3 topic with min.insync.replicas=2 takes acks=all produces from
 * kafkajs; kill -9 of the partition's leader makes the controller elect another from the ISR, which serves
 * every acknowledged record exactly once and in order and takes new acks=all writes; the killed node
 * restarts, truncates/catches up by fetching, rejoins the ISR through AlterPartition, and its segment file
 * ends up byte-identical to the new leader's.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { Metadata } from '../../protocol/messages/metadata.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { readPartition } from '../helpers/read-all.js';
import { eventually } from '../helpers/eventually.js';

let dir: string;
let cluster: ClusterProcesses;

interface PartitionView {
  leader: number;
  leaderEpoch: number;
  isr: number[];
}

async function partitionOf(port: number, topic: string): Promise<{ brokers: number[]; p: PartitionView | null }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const t = res.topics[0];
    const p = t && t.errorCode === 0 ? t.partitions[0] : undefined;
    return { brokers: res.brokers.map((b) => b.nodeId).sort(), p: p ? { leader: p.leaderId, leaderEpoch: p.leaderEpoch, isr: [...p.isrNodes].sort() } : null };
  } finally {
    c.close();
  }
}


/** On failure, prints the nodes' replication log lines (ISR, AlterPartition, fetcher, truncation). */
async function withLogsOnFailure<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    for (const n of cluster.nodes) {
      for (const l of n.process?.lines ?? []) {
        if (/ISR|AlterPartition|fetch|truncat|refused|leader at|follower of/i.test(JSON.stringify(l))) console.error(`node ${n.id}:`, JSON.stringify(l));
      }
    }
    throw err;
  }
}

function kafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'samsa-replication-test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 } });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-replication-'));
  cluster = await startClusterProcesses(3, dir);
  for (const n of cluster.nodes) {
    await eventually(`node ${n.id} sees 3 live brokers`, () => partitionOf(n.clientPort, '-'), (m) => m.brokers.join() === '1,2,3');
  }
}, 90_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('replication between three real processes', () => {
  it('acks=all records survive kill -9 of the leader; the old leader rejoins the ISR with a byte-identical log', async () => {
    const admin = kafka(cluster.bootstrap).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'r', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const first = await eventually('a leader with a full ISR', () => partitionOf(cluster.node(1).clientPort, 'r'), (m) => m.p !== null && m.p.leader > 0 && m.p.isr.length === 3);
    const leader = first.p!.leader;

    const producer = kafka(cluster.bootstrap).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const acked: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const values = Array.from({ length: 10 }, (_, i) => `m-${batch * 10 + i}`);
      await producer.send({ topic: 'r', acks: -1, messages: values.map((value) => ({ value })) });
      acked.push(...values);
    }
    await producer.disconnect();

    await cluster.kill9(leader);
    const survivors = cluster.nodes.filter((n) => n.id !== leader);
    const after = await eventually(
      `a new leader replaces node ${leader}`,
      () => partitionOf(survivors[0]!.clientPort, 'r'),
      (m) => m.p !== null && m.p.leader > 0 && m.p.leader !== leader,
      40_000,
    );
    expect(after.p!.leaderEpoch).toBeGreaterThan(first.p!.leaderEpoch);
    const newLeader = cluster.node(after.p!.leader);
    // Every acknowledged record, exactly once, in order.
    const read = await eventually('the new leader serves every acknowledged record', () => readPartition(newLeader.clientPort, 'r'), (r) => r.highWatermark >= acked.length);
    expect(read.records.map((r) => r.value)).toEqual(acked);
    expect(read.records.map((r) => r.offset)).toEqual(acked.map((_, i) => i));

    // The survivors take acks=all writes (ISR of two >= min.insync.replicas).
    const producer2 = kafka(survivors.map((n) => `127.0.0.1:${n.clientPort}`).join(',')).producer({ allowAutoTopicCreation: false });
    await producer2.connect();
    await producer2.send({ topic: 'r', acks: -1, messages: [{ value: 'after-failover' }] });
    await producer2.disconnect();

    // The old leader comes back, fetches from the new one, and rejoins the ISR (AlterPartition).
    await cluster.start(leader);
    await withLogsOnFailure(() => eventually(`node ${leader} back in the ISR`, () => partitionOf(newLeader.clientPort, 'r'), (m) => m.p !== null && m.p.isr.length === 3, 60_000));
    const segment = (id: number) => readFile(join(cluster.node(id).dataDir, 'r-0', '00000000000000000000.log'));
    const reference = await segment(newLeader.id);
    for (const n of cluster.nodes) {
      await eventually(`node ${n.id}'s segment equals the leader's`, () => segment(n.id), (bytes) => bytes.equals(reference), 30_000);
    }
  }, 240_000);
});
