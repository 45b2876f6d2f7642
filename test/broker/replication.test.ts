/**
 * Partition replication between real brokers in one process (issue 12; test/helpers/replication-cluster.ts
 * stands in for the quorum controller): followers fetch from the leader and keep byte-identical logs,
 * acks=all waits for the ISR, a stalled follower leaves the ISR after replica.lag.time.max.ms and comes
 * back once caught up (AlterPartition), a new leader elected from the ISR serves every acknowledged
 * record while an acks=1 record the followers never copied is lost and truncated away on the old leader
 * (KIP-101 by DivergingEpoch), an idempotent producer's retry is recognised by the new leader, and the
 * leader's replica Fetch rules (assignment, leader epochs, reading past the HW).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { Produce } from '../../protocol/messages/produce.js';
import { buildBatchSync, type BuildBatchOptions } from '../../protocol/records/record.js';
import { readBatchHeader } from '../../protocol/records/batch.js';
import { BrokerConnection } from '../../src/client/connection.js';
import type { Partition } from '../../src/broker/partition.js';
import { ReplicationCluster } from '../helpers/replication-cluster.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { consoleContext, handleConsoleApi } from '../../src/http/console-api.js';
import { ProtocolTrace } from '../../src/http/protocol-trace.js';
import type { Broker } from '../../src/broker/broker.js';

/** GET /api/<path> of the web console API served for `broker` (as the broker's HTTP listener does). */
async function consoleGet(broker: Broker, path: string): Promise<unknown> {
  const ctx = consoleContext(broker, null, new ProtocolTrace(10, 1024, 1000, Date.now, () => undefined), pino({ level: 'silent' }));
  const server = createServer((req, res) => void handleConsoleApi(ctx, req, res, new URL(req.url ?? '/', 'http://127.0.0.1')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/${path}`);
    return await res.json();
  } finally {
    await new Promise((r) => server.close(r));
  }
}

let cluster: ReplicationCluster | null = null;
const connections: BrokerConnection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  await cluster?.destroy();
  cluster = null;
});

async function connect(port: number): Promise<BrokerConnection> {
  const c = await BrokerConnection.open('127.0.0.1', port, { clientId: 'replication-test', timeoutMs: 20_000 });
  connections.push(c);
  return c;
}

interface ProduceAnswer {
  errorCode: number;
  baseOffset: number;
}

async function produce(c: ReplicationCluster, node: number, topic: string, value: string, acks: number, timeoutMs = 10_000, batch: BuildBatchOptions = {}): Promise<ProduceAnswer> {
  const conn = await connect(c.node(node).port);
  const records = buildBatchSync([{ key: null, value: Buffer.from(value) }], batch);
  const { response } = await conn.request(Produce, { transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const p = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
}

function partitionOn(c: ReplicationCluster, node: number, topic: string): Partition {
  const t = c.image.topic(topic)!;
  const p = c.broker(node).replicaManager.hostedPartition(t.topicId, 0);
  if (!p) throw new Error(`node ${node} does not host ${topic}-0`);
  return p;
}

/** Polls `check` until it holds or the deadline passes (no fixed sleeps). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The log's bytes from its start up to `end` (whole batches). */
async function logBytes(p: Partition, end: number): Promise<Buffer> {
  const { records } = await p.log.read(p.logStartOffset, 1 << 30, end, true);
  return Buffer.concat(records);
}

/** The values of the records below `end`, one record per batch as these tests write them. */
async function values(p: Partition, end: number): Promise<string[]> {
  const bytes = await logBytes(p, end);
  const out: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const h = readBatchHeader(bytes, pos);
    // The record's value is the tail of the batch: length-prefixed varints are avoided by decoding all.
    const { readRecords } = await import('../../protocol/records/record.js');
    for (const r of await readRecords(bytes.subarray(pos, pos + 12 + h.batchLength))) out.push(r.value?.toString() ?? '');
    pos += 12 + h.batchLength;
  }
  return out;
}

describe('replication between brokers', () => {
  it('acks=all completes once the followers have fetched; followers keep byte-identical logs and learn the HW', async () => {
    cluster = await ReplicationCluster.start(3);
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
    for (let i = 0; i < 20; i++) {
      const r = await produce(c, 1, 't', `v${i}`, -1);
      expect(r).toEqual({ errorCode: ErrorCode.NONE, baseOffset: i });
      // acks=all answered: every ISR member has the batch, so each follower's LEO reached it.
      const leader = partitionOn(c, 1, 't');
      expect(leader.highWatermark).toBe(i + 1);
      expect(leader.followerLogEndOffset(2)).toBeGreaterThanOrEqual(i + 1);
      expect(leader.followerLogEndOffset(3)).toBeGreaterThanOrEqual(i + 1);
    }
    const leaderBytes = await logBytes(partitionOn(c, 1, 't'), 20);
    for (const f of [2, 3]) {
      await until(`node ${f} has HW 20`, () => partitionOn(c, f, 't').highWatermark === 20);
      expect(partitionOn(c, f, 't').logEndOffset).toBe(20);
      expect((await logBytes(partitionOn(c, f, 't'), 20)).equals(leaderBytes)).toBe(true);
      // The leader epoch cache came with the batches.
      expect(partitionOn(c, f, 't').log.leaderEpochCache.entries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    }
    expect(c.alterPartitions).toEqual([]); // the ISR never changed
    // The web console shows the leader's view of its followers (docs/replication.md, for students).
    const detail = (await consoleGet(c.broker(1), 'topics/t')) as { partitions: { role: string; followers: { nodeId: number; logEndOffset: number; lag: number; inSync: boolean }[] }[] };
    expect(detail.partitions[0]!.role).toBe('leader');
    expect(detail.partitions[0]!.followers.map((f) => ({ nodeId: f.nodeId, logEndOffset: f.logEndOffset, lag: f.lag, inSync: f.inSync })).sort((a, b) => a.nodeId - b.nodeId)).toEqual([
      { nodeId: 2, logEndOffset: 20, lag: 0, inSync: true },
      { nodeId: 3, logEndOffset: 20, lag: 0, inSync: true },
    ]);
    expect(((await consoleGet(c.broker(2), 'topics/t')) as { partitions: { role: string }[] }).partitions[0]!.role).toBe('follower');
  });

  it('a stalled follower holds acks=all until it leaves the ISR (replica.lag.time.max.ms), and rejoins once caught up', async () => {
    cluster = await ReplicationCluster.start(3, { 'replica.lag.time.max.ms': '1500' });
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
    expect((await produce(c, 1, 't', 'a', -1)).errorCode).toBe(ErrorCode.NONE);
    // Node 3 stops answering and fetching (as if SIGSTOPped); the controller has not noticed.
    await c.kill(3, { fence: false });
    // The ISR is still [1,2,3]: the HW waits for node 3, so a short acks=all times out...
    expect(await produce(c, 1, 't', 'b', -1, 200)).toEqual({ errorCode: ErrorCode.REQUEST_TIMED_OUT, baseOffset: -1 });
    // ...acks=1 is answered at once...
    expect(await produce(c, 1, 't', 'c', 1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    // ...and a patient acks=all completes once the leader dropped node 3 from the ISR.
    expect(await produce(c, 1, 't', 'd', -1, 15_000)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 3 });
    expect(c.registration('t').isr).toEqual([1, 2]);
    expect(partitionOn(c, 1, 't').isr).toEqual([1, 2]);
    expect(c.alterPartitions.map((a) => ({ from: a.from, isr: a.request.topics![0]!.partitions![0]!.newIsrWithEpochs!.map((b) => b.brokerId), errorCode: a.errorCode }))).toEqual([{ from: 1, isr: [1, 2], errorCode: ErrorCode.NONE }]);
    // With min.insync.replicas=3 the shrunk ISR refuses acks=all before appending; acks=1 still works.
    // (Checked on a second topic so the first keeps its history.)
    await c.restart(3);
    await until('node 3 is back in the ISR', () => c.registration('t').isr.length === 3);
    expect([...c.registration('t').isr].sort()).toEqual([1, 2, 3]);
    const last = c.alterPartitions[c.alterPartitions.length - 1]!;
    expect(last.request.topics![0]!.partitions![0]!.newIsrWithEpochs!.map((b) => b.brokerId)).toEqual([1, 2, 3]);
    await until('node 3 has the leader bytes', async () => partitionOn(c, 3, 't').highWatermark === 4);
    expect((await logBytes(partitionOn(c, 3, 't'), 4)).equals(await logBytes(partitionOn(c, 1, 't'), 4))).toBe(true);
  });

  it('KIP-951: Produce v10+ to a follower names the current leader, its epoch and endpoint; after a failover, the new ones', async () => {
    cluster = await ReplicationCluster.start(3);
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
    const send = async (node: number, cap: number) => {
      const conn = await connect(c.node(node).port);
      const records = buildBatchSync([{ key: null, value: Buffer.from('x') }]);
      return conn.request(Produce, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] }, cap);
    };
    const endpoint = (id: number) => {
      const b = c.image.brokers.get(id)!;
      return { nodeId: id, host: b.host, port: b.port, rack: null };
    };
    const a = await send(2, 11);
    expect(a.version).toBe(11);
    expect(a.response.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: 1, leaderEpoch: 0 } });
    expect(a.response.nodeEndpoints).toEqual([endpoint(1)]);
    // Before v10 there is nowhere to put them.
    const old = await send(2, 9);
    expect(old.response.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(old.response.nodeEndpoints).toEqual([]);
    // A successful produce carries no hint.
    const ok = await send(1, 11);
    expect(ok.response.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NONE, currentLeader: { leaderId: -1, leaderEpoch: -1 } });
    expect(ok.response.nodeEndpoints).toEqual([]);
    await c.kill(1);
    await until('node 2 leads at epoch 1', () => partitionOn(c, 2, 't').isLeader && partitionOn(c, 3, 't').leaderEpoch === 1);
    const b = await send(3, 11);
    expect(b.response.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: 2, leaderEpoch: 1 } });
    expect(b.response.nodeEndpoints).toEqual([endpoint(2)]);
  });

  it('min.insync.replicas: NOT_ENOUGH_REPLICAS before the append with the ISR too small, acks=1 still accepted', async () => {
    cluster = await ReplicationCluster.start(3, { 'replica.lag.time.max.ms': '1000' });
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '3' });
    expect((await produce(c, 1, 't', 'a', -1)).errorCode).toBe(ErrorCode.NONE);
    await c.kill(3);
    await until('node 1 sees the ISR without node 3', () => partitionOn(c, 1, 't').isr.length === 2);
    const leo = partitionOn(c, 1, 't').logEndOffset;
    expect((await produce(c, 1, 't', 'b', -1)).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(partitionOn(c, 1, 't').logEndOffset).toBe(leo); // nothing appended
    expect(await produce(c, 1, 't', 'c', 1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: leo });
  });

  it('acks=1 can lose a record when the leader dies before the followers copied it; acks=all cannot; the old leader truncates its tail', async () => {
    cluster = await ReplicationCluster.start(3);
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
    for (let i = 0; i < 5; i++) expect((await produce(c, 1, 't', `acked-${i}`, -1)).errorCode).toBe(ErrorCode.NONE);
    await until('followers fetched up to 5', () => partitionOn(c, 2, 't').logEndOffset === 5 && partitionOn(c, 3, 't').logEndOffset === 5);
    // The followers are paused: their fetches from node 1 are held.
    c.node(1).proxy!.cut();
    expect(await produce(c, 1, 't', 'acks1-lost', 1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 5 });
    expect(await produce(c, 1, 't', 'acksall-unacknowledged', -1, 300)).toEqual({ errorCode: ErrorCode.REQUEST_TIMED_OUT, baseOffset: -1 });
    expect(partitionOn(c, 1, 't').logEndOffset).toBe(7);
    // The leader dies; the controller elects node 2 from the ISR, at leader epoch 1.
    await c.kill(1);
    expect(c.registration('t')).toMatchObject({ leader: 2, leaderEpoch: 1 });
    await until('node 2 leads', () => partitionOn(c, 2, 't').isLeader);
    const newLeader = partitionOn(c, 2, 't');
    // Every record acknowledged with acks=all is there; the acks=1 one is gone.
    expect(await values(newLeader, newLeader.logEndOffset)).toEqual(['acked-0', 'acked-1', 'acked-2', 'acked-3', 'acked-4']);
    expect(await produce(c, 2, 't', 'after', -1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 5 });
    // The old leader comes back as a follower: its offsets 5-6 (epoch 0) diverge from the leader's 5
    // (epoch 1); the DivergingEpoch answer makes it truncate to 5, then it copies the new leader.
    await c.restart(1);
    await until('node 1 caught up with node 2', () => c.node(1).broker !== null && partitionOn(c, 1, 't').logEndOffset === 6 && partitionOn(c, 1, 't').highWatermark === 6, 20_000);
    expect(await values(partitionOn(c, 1, 't'), 6)).toEqual(['acked-0', 'acked-1', 'acked-2', 'acked-3', 'acked-4', 'after']);
    expect((await logBytes(partitionOn(c, 1, 't'), 6)).equals(await logBytes(partitionOn(c, 2, 't'), 6))).toBe(true);
    expect(partitionOn(c, 1, 't').log.leaderEpochCache.entries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 5 },
    ]);
  });

  it('an idempotent producer retrying on the new leader gets its original offset (followers rebuilt producer state)', async () => {
    cluster = await ReplicationCluster.start(3);
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
    const idem = (seq: number): BuildBatchOptions => ({ producerId: 4242, producerEpoch: 0, baseSequence: seq });
    expect(await produce(c, 1, 't', 'x', -1, 10_000, idem(0))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(await produce(c, 1, 't', 'y', -1, 10_000, idem(1))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
    await c.kill(1);
    await until('node 2 leads', () => partitionOn(c, 2, 't').isLeader);
    // The answer to seq 1 was lost: the producer retries it on the new leader, which knows it.
    expect(await produce(c, 2, 't', 'y', -1, 10_000, idem(1))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
    expect(await produce(c, 2, 't', 'z', -1, 10_000, idem(2))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    expect(await produce(c, 2, 't', 'gap', -1, 10_000, idem(9))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(partitionOn(c, 2, 't').logEndOffset).toBe(3);
  });

  it("the leader's replica Fetch: assignment, leader epochs, reads past the HW, DivergingEpoch", async () => {
    cluster = await ReplicationCluster.start(3);
    const c = cluster;
    await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
    expect((await produce(c, 1, 't', 'a', -1)).errorCode).toBe(ErrorCode.NONE);
    c.node(1).proxy!.cut(); // the real followers stop, so this test's fetches are the only ones
    expect(await produce(c, 1, 't', 'b', 1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
    const conn = await connect(c.node(1).port);
    const fetch = async (replicaId: number, p: { fetchOffset: number; currentLeaderEpoch?: number; lastFetchedEpoch?: number }, node = 1) => {
      const cn = node === 1 ? conn : await connect(c.node(node).port);
      const { response } = await cn.request(
        Fetch,
        {
          replicaId,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: p.currentLeaderEpoch ?? -1, fetchOffset: BigInt(p.fetchOffset), lastFetchedEpoch: p.lastFetchedEpoch ?? -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [],
          rackId: '',
        },
        12,
      );
      return response.responses[0]!.partitions[0]!;
    };
    // A consumer reads up to the HW (1: the followers have only offset 0)...
    const consumer = await fetch(-1, { fetchOffset: 0 });
    expect(consumer.highWatermark).toBe(1n);
    expect(readBatchHeader(consumer.records!, 0).lastOffsetDelta + Number(readBatchHeader(consumer.records!, 0).baseOffset)).toBe(0);
    expect(consumer.records!.length).toBe(12 + readBatchHeader(consumer.records!, 0).batchLength);
    // ...a follower up to the log end, and its fetch offset moves the HW.
    const follower = await fetch(2, { fetchOffset: 1, currentLeaderEpoch: 0, lastFetchedEpoch: 0 });
    expect(follower.errorCode).toBe(ErrorCode.NONE);
    expect(Number(readBatchHeader(follower.records!, 0).baseOffset)).toBe(1);
    expect(partitionOn(c, 1, 't').followerLogEndOffset(2)).toBe(1);
    await fetch(2, { fetchOffset: 2, currentLeaderEpoch: 0, lastFetchedEpoch: 0 });
    await fetch(3, { fetchOffset: 2, currentLeaderEpoch: 0, lastFetchedEpoch: 0 });
    expect(partitionOn(c, 1, 't').highWatermark).toBe(2);
    // Leader epochs (KIP-320): older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.
    expect((await fetch(2, { fetchOffset: 2, currentLeaderEpoch: 1 })).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect((await fetch(2, { fetchOffset: 2, currentLeaderEpoch: -1 })).errorCode).toBe(ErrorCode.NONE);
    // A replica that is not assigned, and a fetch from a follower node: NOT_LEADER_OR_FOLLOWER.
    expect((await fetch(7, { fetchOffset: 0, currentLeaderEpoch: 0 })).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect((await fetch(3, { fetchOffset: 0, currentLeaderEpoch: 0 }, 2)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    // A follower whose last fetched epoch (5) is newer than any epoch here: its end cannot be determined,
    // OFFSET_OUT_OF_RANGE (Kafka's Partition.readRecords), not a DivergingEpoch of -1/-1.
    const diverged = await fetch(2, { fetchOffset: 9, currentLeaderEpoch: 0, lastFetchedEpoch: 5 });
    expect(diverged.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(diverged.divergingEpoch).toEqual({ epoch: -1, endOffset: -1n });
    expect(diverged.records?.length ?? 0).toBe(0);
    // Beyond the log end without divergence: OFFSET_OUT_OF_RANGE.
    expect((await fetch(2, { fetchOffset: 9, currentLeaderEpoch: 0, lastFetchedEpoch: 0 })).divergingEpoch).toEqual({ epoch: 0, endOffset: 2n });
    expect((await fetch(2, { fetchOffset: 9, currentLeaderEpoch: 0 })).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('a leader at a newer epoch fences a follower fetching with an older one (FENCED_LEADER_EPOCH)', async () => {
    cluster = await ReplicationCluster.start(3);
    const c = cluster;
    await c.createTopic('t', [1, 2, 3]);
    await c.kill(3); // node 3 was not leader: the epoch stays; bump it by moving leadership
    await c.kill(1);
    expect(c.registration('t')).toMatchObject({ leader: 2, leaderEpoch: 1 });
    const conn = await connect(c.node(2).port);
    const { response } = await conn.request(
      Fetch,
      {
        replicaId: 1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 0, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
      },
      12,
    );
    expect(response.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
  });
});
