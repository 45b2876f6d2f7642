/**
 * The coordinator's records in a real broker's `__consumer_offsets`: each group's records land in the
 * partition Kafka would pick, in Kafka's formats, and a restart replays offsets, group metadata and
 * deletions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { splitBatches } from '../../protocol/records/batch.js';
import { readRecords } from '../../protocol/records/record.js';
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
});
