/**
 * The high watermark checkpoint (`replication-offset-checkpoint`, Kafka's ReplicaManager.checkpointHighWatermarks
 * and Partition.createLog's initial HW; src/broker/replica-manager.ts):
 *
 * - on the replica manager with a ManualClock: written every replica.high.watermark.checkpoint.interval.ms
 *   on the injected clock and at a clean shutdown, nothing written after a halt; a restarted leader whose
 *   follower has not fetched yet keeps its checkpointed HW (clamped to [log start, LEO]); a deleted
 *   partition's entry goes at once; a corrupt file fails the load naming it, a missing one is logged;
 * - in an in-process cluster (test/helpers/replication-cluster.ts, real brokers on loopback): after a clean
 *   restart of every node, after a kill-style halt of one follower, and after a halt of every node, a
 *   partition's HW and ListOffsets(latest) are what they were, before any follower could fetch (without the
 *   checkpoint the restarted replicas started from the log start offset, 0 here);
 * - a single broker: the file after a clean restart, ListOffsets(latest) unchanged, and a corrupt file
 *   stopping the start with a LogDirFailureError naming it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { Produce } from '../../protocol/messages/produce.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { MetadataImage, localPartition, type PartitionRegistration, type TopicImage } from '../../src/broker/metadata-image.js';
import type { Partition } from '../../src/broker/partition.js';
import { ReplicaManager } from '../../src/broker/replica-manager.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { ManualClock } from '../../src/util/clock.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { randomTopicId } from '../../storage/kafka-uuid.js';
import { defaultLogConfig } from '../../storage/log-config.js';
import { LogManager } from '../../storage/log-manager.js';
import { HIGH_WATERMARK_CHECKPOINT_FILE } from '../../storage/offset-checkpoint-file.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { ReplicationCluster } from '../helpers/replication-cluster.js';

const NODE = 1;
const cleanups: (() => Promise<void>)[] = [];
let cluster: ReplicationCluster | null = null;
const connections: BrokerConnection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  await cluster?.destroy();
  cluster = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-hw-checkpoint-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const checkpointText = (dir: string): Promise<string | null> => readFile(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), 'utf8').catch(() => null);

/** Polls `check` until it holds or the deadline passes (no fixed sleeps). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ------------------------------------------------------------------------------------ replica manager

const batch = (value: string): Buffer => buildBatchSync([{ key: null, value: Buffer.from(value) }]);

function topicImage(name: string, registration: PartitionRegistration, topicId = randomTopicId()): TopicImage {
  return { name, topicId, partitions: [registration], configs: new Map() };
}

/** A replica manager over `dir` (one life of a broker), on `clock`, logging into `lines`. */
function replicaManagerOn(dir: string, clock: ManualClock, image: () => MetadataImage, lines: { msg: string }[] = []): { rm: ReplicaManager; logManager: LogManager } {
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
  const logManager = new LogManager(dir, { logger });
  const rm_ = new ReplicaManager({
    nodeId: NODE,
    logManager,
    logger,
    image,
    logConfigFor: () => ({ ...defaultLogConfig }),
    appendSettings: () => ({ maxMessageBytes: 1048588, messageTimestampType: 'CreateTime', timestampBeforeMaxMs: Infinity, timestampAfterMaxMs: Infinity, minInSyncReplicas: 1 }),
    producerStateOptions: { logger, now: () => clock.now() },
    clock,
    highWatermarkCheckpointIntervalMs: 5000,
  });
  return { rm: rm_, logManager };
}

async function appendN(rm_: ReplicaManager, p: Partition, n: number): Promise<void> {
  for (let i = 0; i < n; i++) expect((await rm_.appendToLeader(p, batch(`v${i}`), 1, 1000)).errorCode).toBe(ErrorCode.NONE);
}

const base = MetadataImage.EMPTY.withCluster('c', NODE).withBroker({ nodeId: NODE, host: '127.0.0.1', port: 9092, rack: null });

describe('high watermark checkpoints in the replica manager', () => {
  it("are written every replica.high.watermark.checkpoint.interval.ms on the broker's clock and at a clean shutdown", async () => {
    const dir = await tempDir();
    const clock = new ManualClock();
    const t = topicImage('t', localPartition(NODE, 0));
    const image = base.withTopic(t);
    const lines: { msg: string }[] = [];
    const { rm: rm_, logManager } = replicaManagerOn(dir, clock, () => image, lines);
    await rm_.loadHighWatermarkCheckpoints();
    expect(lines.map((l) => l.msg)).toContain(`No ${HIGH_WATERMARK_CHECKPOINT_FILE} in ${dir}: high watermarks start from the log start offsets`);
    rm_.startHighWatermarkCheckpoints();
    const p = await rm_.becomeLeader(t, t.partitions[0]!);
    await appendN(rm_, p, 3);
    expect(p.highWatermark).toBe(3);
    expect(await checkpointText(dir)).toBeNull();
    // The first checkpoint is due at once (Kafka's scheduler, delay 0), then one per interval.
    clock.advance(0);
    await until('the first checkpoint', async () => (await checkpointText(dir)) === '0\n1\nt 0 3\n');
    await appendN(rm_, p, 2);
    clock.advance(4999);
    expect(await checkpointText(dir)).toBe('0\n1\nt 0 3\n');
    clock.advance(1);
    await until('the periodic checkpoint', async () => (await checkpointText(dir)) === '0\n1\nt 0 5\n');
    await appendN(rm_, p, 1);
    await rm_.shutdown();
    await logManager.closeAll();
    expect(await checkpointText(dir)).toBe('0\n1\nt 0 6\n');
  });

  it('a restarted leader whose follower has not fetched starts from its checkpointed HW, clamped to the log; a halt writes none', async () => {
    const dir = await tempDir();
    const clock = new ManualClock();
    const topicId = randomTopicId();
    // First life: the only replica (HW = LEO after each append).
    const alone = topicImage('t', localPartition(NODE, 0), topicId);
    let life = replicaManagerOn(dir, clock, () => base.withTopic(alone));
    await life.rm.loadHighWatermarkCheckpoints();
    let p = await life.rm.becomeLeader(alone, alone.partitions[0]!);
    await appendN(life.rm, p, 5);
    await life.rm.shutdown();
    await life.logManager.closeAll();
    expect(await checkpointText(dir)).toBe('0\n1\nt 0 5\n');

    // Second life: a follower (node 2) joined; until it fetches, the HW cannot move, so it is what the
    // checkpoint says (without it: 0, the log start).
    const pair = topicImage('t', { partition: 0, replicas: [NODE, 2], isr: [NODE, 2], leader: NODE, leaderEpoch: 1, partitionEpoch: 1 }, topicId);
    const image = base.withBroker({ nodeId: 2, host: '127.0.0.1', port: 9093, rack: null }).withTopic(pair);
    life = replicaManagerOn(dir, clock, () => image);
    await life.rm.loadHighWatermarkCheckpoints();
    p = await life.rm.becomeLeader(pair, pair.partitions[0]!);
    expect(p.logEndOffset).toBe(5);
    expect(p.highWatermark).toBe(5);
    await appendN(life.rm, p, 2);
    expect(p.highWatermark).toBe(5);
    // Killed: no checkpoint, not even of an unchanged HW; the timer never ran (the clock did not move).
    await writeFile(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), '0\n1\nt 0 4\n');
    await life.rm.halt();
    await life.logManager.closeAll({ cleanShutdown: false });
    expect(await checkpointText(dir)).toBe('0\n1\nt 0 4\n');

    // An entry above the log end counts as the log end, one below the log start as the log start.
    const hwAfterRestart = async (text: string, act?: (p: Partition) => Promise<void>): Promise<number> => {
      await writeFile(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), text);
      const l = replicaManagerOn(dir, clock, () => image);
      await l.rm.loadHighWatermarkCheckpoints();
      const q = await l.rm.becomeLeader(pair, pair.partitions[0]!);
      const hw = q.highWatermark;
      await act?.(q);
      await l.rm.halt();
      await l.logManager.closeAll({ cleanShutdown: false });
      return hw;
    };
    expect(await hwAfterRestart('0\n1\nt 0 4\n')).toBe(4);
    expect(await hwAfterRestart('0\n1\nt 0 99\n', (q) => q.deleteRecordsBefore(3).then(() => undefined))).toBe(7);
    expect(await hwAfterRestart('0\n1\nt 0 1\n')).toBe(3);
    // No entry for it (another partition's only): the log start.
    expect(await hwAfterRestart('0\n1\nu 0 6\n')).toBe(3);
  });

  it("drops a deleted partition's entry at once; keeps the entries of logs not opened yet until loading ends", async () => {
    const dir = await tempDir();
    const clock = new ManualClock();
    const a = topicImage('a', localPartition(NODE, 0));
    const b = topicImage('b', localPartition(NODE, 0));
    let image = base.withTopic(a).withTopic(b);
    await writeFile(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), '0\n1\nnot-open-yet 3 17\n');
    const { rm: rm_, logManager } = replicaManagerOn(dir, clock, () => image);
    cleanups.push(async () => {
      await rm_.shutdown();
      await logManager.closeAll();
    });
    await rm_.loadHighWatermarkCheckpoints();
    rm_.startHighWatermarkCheckpoints();
    await appendN(rm_, await rm_.becomeLeader(a, a.partitions[0]!), 2);
    await appendN(rm_, await rm_.becomeLeader(b, b.partitions[0]!), 3);
    clock.advance(0);
    await until('both partitions are checkpointed', async () => (await checkpointText(dir)) === '0\n3\na 0 2\nb 0 3\nnot-open-yet 3 17\n');
    image = image.withoutTopic(b.topicId);
    await rm_.stopReplica(b.topicId, 0, true);
    expect(await checkpointText(dir)).toBe('0\n2\na 0 2\nnot-open-yet 3 17\n');
    // Loading done: only hosted replicas count (Kafka's rule).
    rm_.finishedLoading();
    clock.advance(5000);
    await until('the unhosted entry is gone', async () => (await checkpointText(dir)) === '0\n1\na 0 2\n');
  });

  it('a corrupt file fails the load with a LogDirFailureError naming it', async () => {
    const dir = await tempDir();
    const path = join(dir, HIGH_WATERMARK_CHECKPOINT_FILE);
    await writeFile(path, '0\n2\nt 0 5\n');
    const { rm: rm_ } = replicaManagerOn(dir, new ManualClock(), () => base);
    const err = await rm_.loadHighWatermarkCheckpoints().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogDirFailureError);
    expect((err as LogDirFailureError).path).toBe(path);
    expect((err as Error).message).toContain('Expected [2] entries');
    // Nothing is written over it (no checkpoint without a successful load).
    rm_.startHighWatermarkCheckpoints();
    await rm_.shutdown();
    expect(await readFile(path, 'utf8')).toBe('0\n2\nt 0 5\n');
  });
});

// ------------------------------------------------------------------------------------------- cluster

async function connect(port: number): Promise<BrokerConnection> {
  const c = await BrokerConnection.open('127.0.0.1', port, { clientId: 'hw-checkpoint-test', timeoutMs: 20_000 });
  connections.push(c);
  return c;
}

async function produce(port: number, topic: string, value: string, acks: number): Promise<{ errorCode: number; baseOffset: number }> {
  const conn = await connect(port);
  const records = buildBatchSync([{ key: null, value: Buffer.from(value) }]);
  const { response } = await conn.request(Produce, { transactionalId: null, acks, timeoutMs: 15_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const p = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
}

/** ListOffsets(LATEST) of partition 0: the high watermark, as a consumer asks it. */
async function latestOffset(port: number, topic: string): Promise<{ errorCode: number; offset: number }> {
  const conn = await connect(port);
  const { response } = await conn.request(ListOffsets, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
  const p = response.topics[0]!.partitions[0]!;
  return { errorCode: p.errorCode, offset: Number(p.offset) };
}

function partitionOn(c: ReplicationCluster, node: number, topic: string): Partition {
  const p = c.broker(node).replicaManager.hostedPartition(c.image.topic(topic)!.topicId, 0);
  if (!p) throw new Error(`node ${node} does not host ${topic}-0`);
  return p;
}

const N = 12;

/** RF 3, min.insync.replicas 2, N records acknowledged by the whole ISR; every replica has learned HW N. */
async function clusterWithRecords(intervalMs: number): Promise<ReplicationCluster> {
  cluster = await ReplicationCluster.start(3, { 'replica.high.watermark.checkpoint.interval.ms': String(intervalMs) });
  const c = cluster;
  await c.createTopic('t', [1, 2, 3], 1, { 'min.insync.replicas': '2' });
  for (let i = 0; i < N; i++) expect(await produce(c.node(1).port, 't', `v${i}`, -1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: i });
  for (const id of [2, 3]) await until(`node ${id} has HW ${N}`, () => partitionOn(c, id, 't').highWatermark === N);
  return c;
}

async function produceAfterRestart(c: ReplicationCluster): Promise<void> {
  expect(await produce(c.node(1).port, 't', 'after', -1)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: N });
  for (const id of [1, 2, 3]) await until(`node ${id} has HW ${N + 1}`, () => partitionOn(c, id, 't').highWatermark === N + 1);
}

describe('high watermarks across restarts of an in-process cluster', () => {
  it('a clean restart of every node: the HW is checkpointed at shutdown; the leader answers ListOffsets(latest) with it before its followers fetch', async () => {
    // No periodic checkpoint during the test: only the shutdown's can hold the HW.
    const c = await clusterWithRecords(3_600_000);
    for (const id of [1, 2, 3]) await c.kill(id, { fence: false });
    for (const id of [1, 2, 3]) expect(await checkpointText(c.node(id).dir)).toBe(`0\n1\nt 0 ${N}\n`);
    // A follower first, its leader down: it cannot learn the HW from a fetch.
    await c.restart(2);
    expect(partitionOn(c, 2, 't').highWatermark).toBe(N);
    // The leader, with node 3 still down: the HW cannot move until node 3 fetches, yet it is not back at 0.
    await c.restart(1);
    expect(partitionOn(c, 1, 't').isLeader).toBe(true);
    expect(partitionOn(c, 1, 't').highWatermark).toBe(N);
    expect(await latestOffset(c.node(1).port, 't')).toEqual({ errorCode: ErrorCode.NONE, offset: N });
    await c.restart(3);
    await produceAfterRestart(c);
  }, 120_000);

  it('a kill-style halt of one follower: it restarts with the HW of its last periodic checkpoint, before it can fetch', async () => {
    const c = await clusterWithRecords(50);
    await until(`node 3 has checkpointed HW ${N}`, async () => (await checkpointText(c.node(3).dir)) === `0\n1\nt 0 ${N}\n`);
    // Nothing from the leader reaches node 3 after its restart until the heal (bytes held).
    c.node(1).proxy!.cut();
    await c.kill(3, { fence: false, halt: true });
    await c.restart(3);
    const p = partitionOn(c, 3, 't');
    expect(p.logEndOffset).toBe(N);
    expect(p.highWatermark).toBe(N);
    c.node(1).proxy!.heal();
    await produceAfterRestart(c);
  }, 120_000);

  it('a kill-style halt of every node: the restarted leader answers ListOffsets(latest) with the HW it had', async () => {
    const c = await clusterWithRecords(50);
    for (const id of [1, 2, 3]) await until(`node ${id} has checkpointed HW ${N}`, async () => (await checkpointText(c.node(id).dir)) === `0\n1\nt 0 ${N}\n`);
    for (const id of [1, 2, 3]) await c.kill(id, { fence: false, halt: true });
    await c.restart(1);
    expect(partitionOn(c, 1, 't').highWatermark).toBe(N);
    expect(await latestOffset(c.node(1).port, 't')).toEqual({ errorCode: ErrorCode.NONE, offset: N });
    await c.restart(2);
    await c.restart(3);
    await produceAfterRestart(c);
  }, 120_000);
});

// ------------------------------------------------------------------------------------------ one broker

describe('high watermarks of a single broker', () => {
  it('survive a clean restart in replication-offset-checkpoint; a corrupt file stops the start, naming it', async () => {
    let b: TestBroker | null = await startTestBroker({ 'replica.high.watermark.checkpoint.interval.ms': '3600000' });
    const dir = b.dataDir;
    cleanups.push(async () => {
      await b?.destroy();
      await rm(dir, { recursive: true, force: true });
    });
    await b.broker.createTopic('s', 1, 1, new Map());
    for (let i = 0; i < 4; i++) expect((await produce(b.port, 's', `v${i}`, -1)).errorCode).toBe(ErrorCode.NONE);
    expect(await latestOffset(b.port, 's')).toEqual({ errorCode: ErrorCode.NONE, offset: 4 });
    b = await b.restart();
    expect(await checkpointText(dir)).toBe('0\n1\ns 0 4\n');
    expect(await latestOffset(b.port, 's')).toEqual({ errorCode: ErrorCode.NONE, offset: 4 });
    await b.stop();
    b = null;
    const path = join(dir, HIGH_WATERMARK_CHECKPOINT_FILE);
    await writeFile(path, '0\n1\ns zero 4\n');
    const err = await startTestBroker({}, dir).then(
      async (started) => {
        await started.stop();
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogDirFailureError);
    expect((err as LogDirFailureError).path).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('0\n1\ns zero 4\n');
  }, 120_000);
});
