/**
 * DescribeQuorum (55) through the client listeners of a three-node cluster of real processes, what
 * kafka-metadata-quorum --bootstrap-server sends: every node (the leader and both followers) forwards it to
 * the active controller and answers with the Raft leader's view: the same leader and epoch, the three
 * voters with their log end offsets and fetch times (the leader's own row at now, as Kafka's
 * LeaderState), no observers, and (v2) each voter's CONTROLLER listener in Nodes, which the tool prints as
 * its endpoint; `samsa cluster info` shows that quorum. Kafka's tool against the same kind of cluster:
 * conformance/kraft-cluster.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { runClientCli, type QuorumInfo } from '../../src/cli/client-commands.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { RawClient } from '../helpers/raw-client.js';

let dir: string;
let cluster: ClusterProcesses;

const request = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };

async function describeQuorum(port: number, version: number) {
  const c = await RawClient.connect(port);
  try {
    return await c.request(DescribeQuorum, version, request);
  } finally {
    c.close();
  }
}

/** Polls until every voter has fetched in the leader's epoch (its fetch time is known), or fails after 30 s. */
async function settled(port: number) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await describeQuorum(port, 2);
    const p = res.topics[0]?.partitions[0];
    if (res.errorCode === ErrorCode.NONE && p?.errorCode === ErrorCode.NONE && p.currentVoters.length === 3 && p.currentVoters.every((v) => v.lastFetchTimestamp > 0n)) return res;
    if (Date.now() > deadline) throw new Error(`the quorum did not settle within 30 s: ${JSON.stringify(res, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-describe-quorum-'));
  cluster = await startClusterProcesses(3, dir);
}, 90_000);

afterAll(async () => {
  await cluster?.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe('DescribeQuorum through every node of a three-node cluster', () => {
  it('each node answers with the active controller\'s view of the quorum', async () => {
    const views = [];
    for (const n of cluster.nodes) views.push(await settled(n.clientPort));
    const leaderIds = new Set(views.map((v) => v.topics[0]!.partitions[0]!.leaderId));
    const epochs = new Set(views.map((v) => v.topics[0]!.partitions[0]!.leaderEpoch));
    // One leader and one epoch, unless an election happened between the three questions (then ask again).
    expect(leaderIds.size === 1 && epochs.size === 1, `answers from several epochs: ${[...leaderIds]} / ${[...epochs]}`).toBe(true);
    for (const v of views) {
      expect(v.topics[0]!.topicName).toBe('__cluster_metadata');
      const p = v.topics[0]!.partitions[0]!;
      expect([1, 2, 3]).toContain(p.leaderId);
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(1);
      expect(p.highWatermark).toBeGreaterThan(0n);
      expect(p.currentVoters.map((r) => r.replicaId).sort()).toEqual([1, 2, 3]);
      expect(p.observers).toEqual([]);
      const leaderRow = p.currentVoters.find((r) => r.replicaId === p.leaderId)!;
      expect(leaderRow.lastFetchTimestamp).toBe(leaderRow.lastCaughtUpTimestamp);
      expect(leaderRow.logEndOffset).toBeGreaterThanOrEqual(p.highWatermark);
      // v2 Nodes: each voter's CONTROLLER listener, as configured in controller.quorum.voters
      expect([...v.nodes].sort((a, b) => a.nodeId - b.nodeId)).toEqual(
        cluster.nodes.map((n) => ({ nodeId: n.id, listeners: [{ name: 'CONTROLLER', host: '127.0.0.1', port: n.controllerPort }] })),
      );
    }
  }, 60_000);

  it('`samsa cluster info` shows the quorum: leader, epoch, high watermark, each voter\'s log end offset and lag', async () => {
    const settledView = (await settled(cluster.nodes[0]!.clientPort)).topics[0]!.partitions[0]!;
    const follower = cluster.nodes.find((n) => n.id !== settledView.leaderId)!;
    const cli = async (args: string[]): Promise<string> => {
      let out = '';
      let err = '';
      const code = await runClientCli(['-b', `127.0.0.1:${follower.clientPort}`, ...args], { stdin: Readable.from([]), stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
      expect(code, err).toBe(0);
      return out;
    };
    const { quorum } = JSON.parse(await cli(['--json', 'cluster', 'info'])) as { quorum: QuorumInfo };
    // The raw answer right after, through the same node: the CLI's numbers are DescribeQuorum's (no
    // election happened in between when the leader and epoch are the same).
    const raw = (await describeQuorum(follower.clientPort, 2)).topics[0]!.partitions[0]!;
    expect([quorum.leaderId, quorum.leaderEpoch]).toEqual([raw.leaderId, raw.leaderEpoch]);
    expect(quorum.highWatermark).toBeGreaterThan(0);
    expect(quorum.highWatermark).toBeLessThanOrEqual(Number(raw.highWatermark));
    expect(quorum.voters.map((v) => [v.nodeId, v.status])).toEqual([1, 2, 3].map((id) => [id, id === raw.leaderId ? 'Leader' : 'Follower']));
    expect(quorum.observers).toEqual([]);
    const leaderRow = quorum.voters.find((v) => v.status === 'Leader')!;
    expect(leaderRow.lag).toBe(0);
    for (const v of quorum.voters) {
      expect(v.lag).toBe(leaderRow.logEndOffset - v.logEndOffset);
      expect(v.lag).toBeGreaterThanOrEqual(0);
      expect(v.lastFetchTimestamp).toBeGreaterThan(0);
    }
    const text = await cli(['cluster', 'info']);
    expect(text).toContain(`QUORUM LEADER ${raw.leaderId}  EPOCH ${raw.leaderEpoch}  HIGH-WATERMARK `);
    expect(text).toMatch(new RegExp(`^${raw.leaderId}\\s+Leader\\s+\\d+\\s+0\\s`, 'm'));
    expect(text.split('\n').filter((l) => /^\d+\s+(Leader|Follower)\s/.test(l))).toHaveLength(3);
  }, 60_000);

  it('older versions are forwarded at their own version (v0: no fetch times, no Nodes; v1: fetch times)', async () => {
    const leaderId = (await settled(cluster.nodes[0]!.clientPort)).topics[0]!.partitions[0]!.leaderId;
    const follower = cluster.nodes.find((n) => n.id !== leaderId)!;
    const v0 = await describeQuorum(follower.clientPort, 0);
    expect(v0.errorCode).toBe(ErrorCode.NONE);
    const p = v0.topics[0]!.partitions[0]!;
    expect(p.errorCode).toBe(ErrorCode.NONE);
    expect(p.currentVoters.map((r) => r.replicaId).sort()).toEqual([1, 2, 3]);
    // fields v0 does not carry decode as their defaults
    expect(p.currentVoters.every((r) => r.lastFetchTimestamp === -1n)).toBe(true);
    const v1 = await describeQuorum(follower.clientPort, 1);
    expect(v1.topics[0]!.partitions[0]!.currentVoters.every((r) => r.lastFetchTimestamp > 0n)).toBe(true);
  }, 60_000);
});
