/**
 * Issue 11's acceptance, "the killed node restarts and catches up (once from a snapshot, once from the
 * log)", with three real processes and a small metadata.log.max.record.bytes.between.snapshots (800) and
 * metadata.max.retention.bytes 0, so a snapshot cuts the log at once (KIP-630):
 * - from a snapshot: a node is killed (-9); a CreateTopics of many partitions makes the others snapshot and
 *   delete their logs past where the dead node's log ends; restarted, it cannot fetch the log it lacks, so
 *   it copies the leader's snapshot (FetchSnapshot): its metadata log now starts at that snapshot's end
 *   offset (a new segment there, the same `.checkpoint` as the leader's), and it describes every topic as
 *   the others do;
 * - from the log: killed again and restarted at once after a small CreateTopics, it fetches the records it
 *   lacks (no snapshot comes from the leader) and it has the new topic.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { METADATA_LOG_DIR_NAME } from '../../src/controller/raft/raft-store.js';
import { listSnapshots } from '../../src/controller/raft/snapshot.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually } from '../helpers/eventually.js';

let dir: string;
let cluster: ClusterProcesses;

type Topics = Map<string, { partition: number; leader: number; replicas: number[] }[]>;

async function metadataOf(port: number): Promise<{ brokers: number[]; topics: Topics }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const topics: Topics = new Map();
    for (const t of res.topics) {
      if (t.errorCode !== 0 || t.name === null) continue;
      topics.set(t.name, t.partitions.map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: [...p.replicaNodes].sort() })).sort((a, b) => a.partition - b.partition));
    }
    return { brokers: res.brokers.map((b) => b.nodeId).sort(), topics };
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
  return new Kafka({ clientId: 'samsa-cluster-snapshots', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } }).admin();
}

/** raft-node.ts's line when FetchSnapshot brought the leader's snapshot (KIP-630). */
const INSTALLED_FROM_LEADER = 'installed a metadata snapshot fetched from the leader';
const metadataDir = (id: number): string => join(cluster.node(id).dataDir, METADATA_LOG_DIR_NAME);
const segments = async (id: number): Promise<string[]> => (await readdir(metadataDir(id))).filter((f) => /^\d{20}\.log$/.test(f)).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-cluster-snapshots-'));
  cluster = await startClusterProcesses(3, dir, { 'metadata.log.max.record.bytes.between.snapshots': '800', 'metadata.max.retention.bytes': '0' });
  for (const n of cluster.nodes) await eventually(`node ${n.id} sees 3 live brokers`, () => metadataOf(n.clientPort), (m) => m.brokers.join() === '1,2,3');
}, 90_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('a killed node catches up (KIP-630)', () => {
  it('once from a snapshot (its log is behind the leader log start), once from the log', async () => {
    const controller = await eventually('a controller is known', () => controllerOf(cluster.node(1).clientPort), (id) => id > 0);
    const victim = cluster.nodes.find((n) => n.id !== controller)!.id;
    const others = cluster.nodes.filter((n) => n.id !== victim);
    await cluster.kill9(victim);
    const before = await segments(victim);

    // Many partitions: far more than 800 bytes of records, so every live node snapshots and cuts its log.
    const a = admin(others.map((n) => `127.0.0.1:${n.clientPort}`).join(','));
    await a.connect();
    try {
      await a.createTopics({ topics: [{ topic: 'wide', numPartitions: 32, replicationFactor: 2 }] });
    } finally {
      await a.disconnect();
    }
    const snap = await eventually('the controller snapshotted after the topic', async () => (await listSnapshots(metadataDir(controller))).at(-1) ?? null, (s) => s !== null && s.offset > 0, 30_000);

    await cluster.start(victim);
    const victimPort = cluster.node(victim).clientPort;
    const reference = await metadataOf(cluster.node(controller).clientPort);
    const caughtUp = await eventually(`node ${victim} has the wide topic`, () => metadataOf(victimPort), (m) => m.topics.get('wide')?.length === 32);
    expect(caughtUp.topics.get('wide')!.map((p) => p.replicas)).toEqual(reference.topics.get('wide')!.map((p) => p.replicas));
    // It installed a snapshot from the leader: its log restarted at a snapshot's end offset, with that checkpoint.
    const installed = await segments(victim);
    expect(installed).not.toEqual(before);
    const start = Number(installed[0]!.slice(0, 20));
    expect(start).toBeGreaterThan(0);
    const victimSnapshots = await listSnapshots(metadataDir(victim));
    // The installed checkpoint starts the log; by the time the node answers (only once unfenced) it may
    // have taken a newer snapshot of its own and dropped that one: every snapshot it keeps is at or past it.
    expect(victimSnapshots.length).toBeGreaterThan(0);
    expect(Math.min(...victimSnapshots.map((s) => s.offset))).toBeGreaterThanOrEqual(start);
    expect(start).toBeGreaterThanOrEqual(snap!.offset);
    expect(cluster.node(victim).process!.lines.some((l) => l.msg === INSTALLED_FROM_LEADER)).toBe(true);

    // From the log: killed and restarted at once after a small CreateTopics that makes no new snapshot.
    await cluster.kill9(victim);
    const kept = await segments(victim);
    const b = admin(others.map((n) => `127.0.0.1:${n.clientPort}`).join(','));
    await b.connect();
    try {
      await b.createTopics({ topics: [{ topic: 'narrow', numPartitions: 1, replicationFactor: 1 }] });
    } finally {
      await b.disconnect();
    }
    await cluster.start(victim);
    await eventually(`node ${victim} has the narrow topic`, () => metadataOf(victimPort), (m) => m.topics.has('narrow') && m.topics.get('wide')?.length === 32);
    // It caught up by fetching the log: no snapshot came from the leader. (Its segments may still change:
    // the records since the kill, the fencing's PartitionChangeRecords among them, can pass the 800 bytes
    // that make every node, this one too, write its own snapshot and drop the segments before it.)
    expect(cluster.node(victim).process!.lines.some((l) => l.msg === INSTALLED_FROM_LEADER)).toBe(false);
    expect(kept.length).toBeGreaterThan(0);
  }, 150_000);
});
