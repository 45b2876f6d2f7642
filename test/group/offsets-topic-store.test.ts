/**
 * The coordinator's records in a real broker's `__consumer_offsets`: each group's records land in the
 * partition Kafka would pick, in Kafka's formats, and a restart replays offsets, group metadata and
 * deletions; partitions are loaded and unloaded one at a time (onElection / onResignation).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { splitBatches } from '../../protocol/records/batch.js';
import { readRecords } from '../../protocol/records/record.js';
import { ErrorCode } from '../../protocol/errors.js';
import { decodeCoordinatorRecord, partitionForGroup } from '../../src/group/coordinator-records.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

let broker: TestBroker | null = null;
afterEach(async () => {
  await broker?.destroy();
  broker = null;
});

async function recordsOf(b: TestBroker, partition: number) {
  const p = b.broker.getPartition('__consumer_offsets', partition)!;
  const read = await p.read(0, 1 << 20, true, p.logEndOffset);
  const out = [];
  for (const chunk of read.records) {
    const split = splitBatches(chunk);
    if (!split.ok) throw new Error(split.message);
    for (const batch of split.batches) {
      for (const r of await readRecords(chunk.subarray(batch.pos, batch.pos + batch.size))) out.push(decodeCoordinatorRecord(r.key!, r.value));
    }
  }
  return out;
}

describe('__consumer_offsets store', () => {
  it('writes each group to its hash partition and replays offsets and deletions after a restart', async () => {
    broker = await startTestBroker({ 'offsets.topic.num.partitions': '7' });
    await broker.broker.createTopic('t', 2, 1, new Map());
    // What FindCoordinator does first: __consumer_offsets exists, and this node leads (coordinates) its partitions.
    await broker.broker.groupCoordinator.ensureStorage();
    const groups = ['alpha', 'beta', 'gamma', 'delta', 'polygenelubricants'];
    for (const [i, groupId] of groups.entries()) {
      const errors = await broker.broker.groupCoordinator.commitOffsets({
        groupId,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        offsets: [
          { topic: 't', partition: 0, offset: BigInt(i * 10), leaderEpoch: 0, metadata: `m${i}` },
          { topic: 't', partition: 1, offset: BigInt(i * 10 + 1), leaderEpoch: 0, metadata: null },
        ],
      });
      expect(errors).toEqual([0, 0]);
    }
    for (const groupId of groups) {
      const records = await recordsOf(broker, partitionForGroup(groupId, 7));
      expect(records.filter((r) => r?.group === groupId)).toHaveLength(2);
    }
    expect(partitionForGroup('polygenelubricants', 7)).toBe(0);
    expect(await broker.broker.groupCoordinator.deleteGroups(['beta'])).toEqual([{ groupId: 'beta', errorCode: 0 }]);

    broker = await broker.restart();
    const c = broker.broker.groupCoordinator;
    for (const [i, groupId] of groups.entries()) {
      const offsets = c.fetchOffsets(groupId, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]).offsets.map((o) => [o.offset, o.leaderEpoch, o.metadata]);
      if (groupId === 'beta') expect(offsets).toEqual([[-1n, -1, ''], [-1n, -1, '']]);
      else expect(offsets).toEqual([[BigInt(i * 10), 0, `m${i}`], [BigInt(i * 10 + 1), 0, '']]);
    }
    expect(c.listGroups().map((g) => g.groupId).sort()).toEqual(['alpha', 'delta', 'gamma', 'polygenelubricants']);
  });

  it('unloads one partition (its groups answer NOT_COORDINATOR, the others are untouched) and loads it back from the log', async () => {
    broker = await startTestBroker({ 'offsets.topic.num.partitions': '7' });
    await broker.broker.createTopic('t', 1, 1, new Map());
    const c = broker.broker.groupCoordinator;
    await c.ensureStorage();
    // 'alpha' and 'polygenelubricants' live in different partitions.
    const moved = 'alpha';
    const kept = 'polygenelubricants';
    const pMoved = c.partitionFor(moved);
    expect(pMoved).toBe(partitionForGroup(moved, 7));
    expect(c.partitionFor(kept)).not.toBe(pMoved);
    for (const [i, groupId] of [moved, kept].entries()) {
      const errors = await c.commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: BigInt(100 + i), leaderEpoch: 0, metadata: null }] });
      expect(errors).toEqual([ErrorCode.NONE]);
    }
    const offsetOf = (groupId: string) => c.fetchOffsets(groupId, [{ topic: 't', partition: 0 }]);

    c.onResignation(pMoved);
    expect(offsetOf(moved)).toEqual({ errorCode: ErrorCode.NOT_COORDINATOR, offsets: [] });
    expect(await c.commitOffsets({ groupId: moved, generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: 7n, leaderEpoch: 0, metadata: null }] })).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(c.heartbeat({ groupId: moved, generationId: 1, memberId: 'm', groupInstanceId: null })).toBe(ErrorCode.NOT_COORDINATOR);
    expect(c.describeGroup(moved).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(c.listGroups().map((g) => g.groupId)).toEqual([kept]);
    expect(offsetOf(kept).offsets[0]!.offset).toBe(101n);

    // Elected again at a later leader epoch than the one it was taken at (the image's).
    const epoch = broker.broker.image.partition('__consumer_offsets', pMoved)!.leaderEpoch;
    await c.onElection(pMoved, epoch + 1);
    expect(offsetOf(moved)).toMatchObject({ errorCode: ErrorCode.NONE, offsets: [{ offset: 100n }] });
    expect(c.listGroups().map((g) => g.groupId).sort()).toEqual([moved, kept].sort());
    // A stale election (an older epoch) changes nothing.
    await c.onElection(pMoved, epoch);
    expect(offsetOf(moved).offsets[0]!.offset).toBe(100n);
  });
});
