/**
 * The metadata log on disk (src/controller/raft/raft-store.ts): Kafka's layout of `__cluster_metadata-0`
 * (segments of record batches, one per proposal, partitionLeaderEpoch = the Raft epoch, LeaderChange as a
 * control batch; partition.metadata; quorum-state), readable by `samsa dump-log --cluster-metadata-decoder`;
 * recovery cuts a torn tail; a file that does not decode stops the open with a typed error naming it.
 */
import { appendFile, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NoOpRecord } from '../../protocol/metadata/no-op-record.js';
import { encodeMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { dumpFiles } from '../../src/cli/dump-log.js';
import type { RaftRecord } from '../../src/controller/raft/log.js';
import { METADATA_LOG_DIR_NAME, RaftStore, RaftStoreCorruptError } from '../../src/controller/raft/raft-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { encodeSnapshot, listSnapshots, snapshotFileName } from '../../src/controller/raft/snapshot.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];

async function tempMetadataDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'samsa-raft-store-'));
  dirs.push(root);
  return join(root, METADATA_LOG_DIR_NAME);
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const topic = (name: string): Buffer => encodeMetadataRecord(TopicRecord, { name, topicId: '6f1a1e5c-0d3e-4a8e-9f7a-2f1b0c3d4e5f' }, 0);
const noop = (): Buffer => encodeMetadataRecord(NoOpRecord, {}, 0);

/** Epoch 1: LeaderChange, then a two-record proposal; epoch 2: LeaderChange, then one record. */
const RECORDS: RaftRecord[] = [
  { epoch: 1, value: { kind: 'leader-change', leaderId: 1, voters: [1, 2, 3], grantingVoters: [1, 2] }, appendTimeMs: 1000 },
  { epoch: 1, value: { kind: 'data', data: topic('a') }, batchContinues: true, appendTimeMs: 1001 },
  { epoch: 1, value: { kind: 'data', data: noop() }, appendTimeMs: 1001 },
  { epoch: 2, value: { kind: 'leader-change', leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3] }, appendTimeMs: 1002 },
  { epoch: 2, value: { kind: 'data', data: topic('b') }, appendTimeMs: 1003 },
];

function plain(rs: readonly RaftRecord[]): unknown[] {
  return rs.map((r) => ({ ...r, value: r.value.kind === 'data' ? { kind: 'data', data: [...r.value.data] } : r.value, batchContinues: r.batchContinues ?? false }));
}

async function open(dir: string, checkValue?: (v: Buffer) => void) {
  return RaftStore.open({ dir, voters: [1, 2, 3], clock: new ManualClock(5000), logger, segmentBytes: 1024 * 1024, ...(checkValue ? { checkValue } : {}) });
}

/** Writes RECORDS as the node would (append per effect, flush) and closes cleanly. */
async function written(dir: string): Promise<void> {
  const { store } = await open(dir);
  await store.append(0, RECORDS.slice(0, 1));
  await store.append(1, RECORDS.slice(1, 3));
  await store.append(3, RECORDS.slice(3));
  await store.flush();
  await store.writeQuorumState({ leaderId: 2, leaderEpoch: 2, votedId: 2 });
  await store.close();
}

const SEGMENT = '00000000000000000000.log';

describe('RaftStore', () => {
  it('writes Kafka layout: one batch per proposal with the epoch as partitionLeaderEpoch, LeaderChange as control batch; reopens to the same records', async () => {
    const dir = await tempMetadataDir();
    const first = await open(dir);
    expect(first.recovered).toEqual({ quorumState: null, records: [], logStart: { offset: 0, epoch: 0 }, latest: null });
    await first.store.close();
    await written(dir);
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(expect.arrayContaining([SEGMENT, '00000000000000000000.index', '00000000000000000000.timeindex', 'leader-epoch-checkpoint', 'partition.metadata', 'quorum-state']));
    expect(await readFile(join(dir, 'partition.metadata'), 'utf8')).toBe('version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n');
    expect(await readFile(join(dir, 'quorum-state'), 'utf8')).toBe('{"leaderId":2,"leaderEpoch":2,"votedId":2,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}');
    expect(await readFile(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n1 0\n2 3\n');
    const split = splitBatches(await readFile(join(dir, SEGMENT)));
    if (!split.ok) throw new Error(split.message);
    expect(split.batches.map((b) => [b.header.baseOffset, b.header.recordCount, b.header.partitionLeaderEpoch, isControl(b.header.attributes), b.header.baseTimestamp])).toEqual([
      [0, 1, 1, true, 1000],
      [1, 2, 1, false, 1001],
      [3, 1, 2, true, 1002],
      [4, 1, 2, false, 1003],
    ]);
    const { store, recovered } = await open(dir);
    expect(recovered.quorumState).toEqual({ leaderId: 2, leaderEpoch: 2, votedId: 2 });
    expect(plain(recovered.records)).toEqual(plain(RECORDS));
    expect(store.logEndOffset).toBe(5);
    await store.close();
  });

  it('samsa dump-log --cluster-metadata-decoder reads the segment as Kafka\'s kafka-dump-log.sh does', async () => {
    const dir = await tempMetadataDir();
    await written(dir);
    const lines: string[] = [];
    await dumpFiles([join(dir, SEGMENT)], { clusterMetadataDecoder: true }, (l) => lines.push(l));
    const text = lines.join('\n');
    expect(text).toContain('baseOffset: 0 lastOffset: 0 count: 1');
    expect(text).toContain('partitionLeaderEpoch: 2 isTransactional: false isControl: true');
    expect(text).toMatch(/LeaderChange: \{"version":0,"leaderId":1,"voters":\[\{"voterId":1\},\{"voterId":2\},\{"voterId":3\}\],"grantingVoters":\[\{"voterId":1\},\{"voterId":2\}\]\}/);
    expect(text).toContain('payload: {"type":"TOPIC_RECORD","version":0,"data":{"name":"a","topicId":');
    expect(text).toContain('payload: {"type":"NO_OP_RECORD","version":0,"data":{}}');
    expect(text).not.toMatch(/isvalid: false|bytes? after/i);
  });

  it('truncateTo drops whole batches, durably; appends continue from there', async () => {
    const dir = await tempMetadataDir();
    await written(dir);
    const { store } = await open(dir);
    await store.truncateTo(3);
    expect(store.logEndOffset).toBe(3);
    await expect(store.append(4, RECORDS.slice(4))).rejects.toThrow(/ends at 3/);
    await store.append(3, [{ epoch: 3, value: { kind: 'data', data: noop() }, appendTimeMs: 2000 }]);
    await store.flush();
    await store.close();
    const again = await open(dir);
    expect(plain(again.recovered.records)).toEqual(plain([...RECORDS.slice(0, 3), { epoch: 3, value: { kind: 'data', data: noop() }, appendTimeMs: 2000 }]));
    await again.store.close();
  });

  it('a log of several segments (metadata.log.segment.bytes) reopens whole and truncates across segments', async () => {
    const dir = await tempMetadataDir();
    const { store } = await RaftStore.open({ dir, voters: [1, 2, 3], clock: new ManualClock(5000), logger, segmentBytes: 300 });
    const many: RaftRecord[] = [RECORDS[0]!];
    for (let i = 1; i <= 20; i++) many.push({ epoch: 1, value: { kind: 'data', data: topic(`t${i}`) }, appendTimeMs: 1000 + i });
    await store.append(0, many.slice(0, 1));
    for (let i = 1; i < many.length; i++) await store.append(i, many.slice(i, i + 1));
    await store.flush();
    await store.close();
    const segments = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
    expect(segments.length).toBeGreaterThan(3);
    const again = await RaftStore.open({ dir, voters: [1, 2, 3], clock: new ManualClock(5000), logger, segmentBytes: 300 });
    expect(plain(again.recovered.records)).toEqual(plain(many));
    await again.store.truncateTo(3);
    await again.store.close();
    expect((await readdir(dir)).filter((n) => n.endsWith('.log')).length).toBeLessThan(segments.length);
    const third = await RaftStore.open({ dir, voters: [1, 2, 3], clock: new ManualClock(5000), logger, segmentBytes: 300 });
    expect(plain(third.recovered.records)).toEqual(plain(many.slice(0, 3)));
    await third.store.close();
  });

  it('recovery after an unclean stop cuts a torn last batch and keeps the rest', async () => {
    const dir = await tempMetadataDir();
    await written(dir);
    await unlink(join(dir, 'clean-shutdown'));
    // Half of one more batch: a write the crash cut short.
    const torn = buildBatchSync([{ key: null, value: topic('torn'), timestamp: 9 }], { baseOffset: 5, partitionLeaderEpoch: 2 });
    await appendFile(join(dir, SEGMENT), torn.subarray(0, torn.length - 7));
    const { store, recovered } = await open(dir);
    expect(plain(recovered.records)).toEqual(plain(RECORDS));
    expect(store.logEndOffset).toBe(5);
    await store.close();
  });

  it('a record that is not a metadata record refuses the open with RaftStoreCorruptError naming the file and offset', async () => {
    const dir = await tempMetadataDir();
    const { store } = await open(dir, () => undefined);
    await store.append(0, RECORDS.slice(0, 3));
    await store.append(3, [{ epoch: 1, value: { kind: 'data', data: Buffer.from('not a metadata record') } }]);
    await store.flush();
    await store.close();
    const err = await open(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RaftStoreCorruptError);
    expect((err as RaftStoreCorruptError).file).toBe(join(dir, SEGMENT));
    expect((err as RaftStoreCorruptError).offset).toBe(3);
    expect((err as Error).message).toMatch(/corrupt metadata log file .*00000000000000000000\.log at offset 3: the record does not decode/);
  });

  it('a damaged batch inside a cleanly closed segment (CRC mismatch) refuses the open', async () => {
    const dir = await tempMetadataDir();
    await written(dir);
    const bytes = await readFile(join(dir, SEGMENT));
    const split = splitBatches(bytes);
    if (!split.ok) throw new Error(split.message);
    // Flip a byte in the value of the second batch (the log's middle, not its tail).
    const b = split.batches[1]!;
    bytes[b.pos + b.size - 3]! ^= 0xff;
    await writeFile(join(dir, SEGMENT), bytes);
    await expect(open(dir)).rejects.toThrow(RaftStoreCorruptError);
    await expect(open(dir)).rejects.toThrow(/00000000000000000000\.log.*CRC|00000000000000000000\.log.*crc/i);
  });

  it('an unreadable quorum-state refuses the open, naming the file', async () => {
    const dir = await tempMetadataDir();
    await written(dir);
    await writeFile(join(dir, 'quorum-state'), '{"leaderId":1');
    await expect(open(dir)).rejects.toThrow(/corrupt metadata log file .*quorum-state: quorum-state is not JSON/);
  });

  describe('snapshots (KIP-630)', () => {
    const snapshot = (offset: number, epoch: number, values: Buffer[] = [topic('a')]) => ({ id: { offset, epoch }, bytes: encodeSnapshot({ offset, epoch }, { lastContainedLogTimestamp: 1001, values }, 5000) });

    it('deleteBefore moves the log start to a snapshot: reopened, the log starts there with that snapshot, the records after it kept', async () => {
      const dir = await tempMetadataDir();
      await written(dir);
      const { store } = await open(dir);
      await store.writeSnapshot(snapshot(3, 1));
      await store.deleteBefore({ offset: 3, epoch: 1 });
      await store.close();
      const { store: again, recovered } = await open(dir);
      expect(recovered.logStart).toEqual({ offset: 3, epoch: 1 });
      expect(recovered.latest?.id).toEqual({ offset: 3, epoch: 1 });
      expect(recovered.latest?.content.values).toEqual([topic('a')]);
      expect(plain(recovered.records)).toEqual(plain(RECORDS.slice(3)));
      await again.close();
    });

    it('installSnapshot replaces the log: it restarts empty at the snapshot end offset, older snapshots deleted', async () => {
      const dir = await tempMetadataDir();
      await written(dir);
      const { store } = await open(dir);
      await store.writeSnapshot(snapshot(3, 1));
      await store.installSnapshot(snapshot(40, 6));
      await store.close();
      expect(await listSnapshots(dir)).toEqual([{ offset: 40, epoch: 6 }]);
      const { store: again, recovered } = await open(dir);
      expect([recovered.logStart, recovered.records.length, again.logEndOffset]).toEqual([{ offset: 40, epoch: 6 }, 0, 40]);
      await again.close();
    });

    it('a fetched snapshot written just before a crash (the log not yet reset) completes its install at the next open', async () => {
      const dir = await tempMetadataDir();
      await written(dir);
      const s = snapshot(40, 6);
      await writeFile(join(dir, snapshotFileName(s.id)), s.bytes);
      const { store, recovered } = await open(dir);
      expect([recovered.logStart, recovered.records.length, store.logEndOffset]).toEqual([{ offset: 40, epoch: 6 }, 0, 40]);
      await store.close();
    });

    it('a newest snapshot without its footer, or whose records do not decode, refuses the open naming the file', async () => {
      const dir = await tempMetadataDir();
      await written(dir);
      const s = snapshot(3, 1);
      await writeFile(join(dir, snapshotFileName(s.id)), s.bytes.subarray(0, s.bytes.length - 20));
      await expect(open(dir)).rejects.toThrow(/corrupt metadata log file .*00000000000000000003-0000000001\.checkpoint/);
      await writeFile(join(dir, snapshotFileName(s.id)), snapshot(3, 1, [Buffer.from([0, 1, 2])]).bytes);
      await expect(open(dir)).rejects.toThrow(RaftStoreCorruptError);
    });
  });
});
