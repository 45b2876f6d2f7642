/**
 * The `.checkpoint` files of the metadata log (src/controller/raft/snapshot.ts, KIP-630): Kafka's layout
 * (SnapshotHeader control batch, data batches, SnapshotFooter control batch, every batch at the snapshot's
 * epoch, offsets from 0) read back and printed by `samsa dump-log` as kafka-dump-log.sh prints one; the
 * name `%020d-%010d.checkpoint`; the atomic write through `.checkpoint.part`; a crash's leftovers deleted;
 * and the refusals (no footer, a flipped byte, no header, a stray control record).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeControlRecordKey, encodeMetadataRecord, ControlRecordType } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { dumpFiles } from '../../src/cli/dump-log.js';
import {
  decodeSnapshot,
  deleteSnapshotFile,
  encodeSnapshot,
  listSnapshots,
  parseSnapshotFileName,
  readSnapshotFile,
  snapshotFileName,
  SnapshotCorruptError,
  writeSnapshotFile,
} from '../../src/controller/raft/snapshot.js';
import { tempDir } from '../storage/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('samsa-snapshot-'));
});
afterEach(async () => {
  await cleanup();
});

const topic = (name: string, n: number) => encodeMetadataRecord(TopicRecord, { name, topicId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` }, 0);

describe('snapshot files', () => {
  it('are named %020d-%010d.checkpoint after (end offset, epoch)', () => {
    expect(snapshotFileName({ offset: 1234, epoch: 7 })).toBe('00000000000000001234-0000000007.checkpoint');
    expect(parseSnapshotFileName('00000000000000001234-0000000007.checkpoint')).toEqual({ offset: 1234, epoch: 7 });
    expect(parseSnapshotFileName('00000000000000001234-0000000007.checkpoint.part')).toBeNull();
    expect(parseSnapshotFileName('00000000000000001234.log')).toBeNull();
  });

  it("hold a header batch, the records in data batches and a footer batch, every batch at the snapshot's epoch, offsets from 0", () => {
    const values = [topic('a', 1), topic('b', 2), topic('c', 3)];
    const bytes = encodeSnapshot({ offset: 40, epoch: 5 }, { lastContainedLogTimestamp: 1700000000123, values }, 1700000000999);
    const split = splitBatches(bytes);
    if (!split.ok) throw new Error(split.message);
    expect(split.batches.map((b) => [b.header.baseOffset, b.header.lastOffsetDelta + 1, isControl(b.header.attributes), b.header.partitionLeaderEpoch])).toEqual([
      [0, 1, true, 5],
      [1, 3, false, 5],
      [4, 1, true, 5],
    ]);
    const back = decodeSnapshot(bytes);
    expect(back.lastContainedLogTimestamp).toBe(1700000000123);
    expect(back.values).toEqual(values);
  });

  it('an empty image is a header and a footer', () => {
    const back = decodeSnapshot(encodeSnapshot({ offset: 3, epoch: 1 }, { lastContainedLogTimestamp: 5, values: [] }, 6));
    expect(back.values).toEqual([]);
  });

  it('are written atomically through .checkpoint.part; a leftover .part or .deleted is removed when listing; delete renames then unlinks', async () => {
    const bytes = encodeSnapshot({ offset: 12, epoch: 3 }, { lastContainedLogTimestamp: 1, values: [topic('a', 1)] }, 2);
    await writeSnapshotFile(dir, { offset: 12, epoch: 3 }, bytes);
    await writeSnapshotFile(dir, { offset: 5, epoch: 2 }, bytes);
    await writeFile(join(dir, '00000000000000000020-0000000003.checkpoint.part'), bytes.subarray(0, 10));
    await writeFile(join(dir, '00000000000000000001-0000000001.checkpoint.deleted'), bytes);
    expect(await listSnapshots(dir)).toEqual([
      { offset: 5, epoch: 2 },
      { offset: 12, epoch: 3 },
    ]);
    expect((await readdir(dir)).sort()).toEqual(['00000000000000000005-0000000002.checkpoint', '00000000000000000012-0000000003.checkpoint']);
    expect(await readSnapshotFile(dir, { offset: 12, epoch: 3 })).toEqual(bytes);
    await deleteSnapshotFile(dir, { offset: 5, epoch: 2 });
    expect(await listSnapshots(dir)).toEqual([{ offset: 12, epoch: 3 }]);
  });

  it('samsa dump-log prints ours as kafka-dump-log.sh prints a snapshot', async () => {
    const id = { offset: 12, epoch: 3 };
    const path = await writeSnapshotFile(dir, id, encodeSnapshot(id, { lastContainedLogTimestamp: 1700000000123, values: [topic('orders', 1)] }, 1700000000999));
    const lines: string[] = [];
    await dumpFiles([path], {}, (l) => lines.push(l));
    expect(lines[1]).toBe('Snapshot end offset: 12, epoch: 3');
    expect(lines.find((l) => l.includes('SnapshotHeader'))).toMatch(/offset: 0 .* SnapshotHeader \{"version":0,"lastContainedLogTimestamp":1700000000123\}$/);
    expect(lines.find((l) => l.includes('TOPIC_RECORD'))).toMatch(/offset: 1 .*payload: \{"type":"TOPIC_RECORD","version":0,"data":\{"name":"orders",/);
    expect(lines.find((l) => l.includes('SnapshotFooter'))).toMatch(/offset: 2 .* SnapshotFooter \{"version":0\}$/);
  });

  it('refuses a snapshot without its footer, with a flipped byte, without a header first, or with a LeaderChange', () => {
    const id = { offset: 12, epoch: 3 };
    const bytes = encodeSnapshot(id, { lastContainedLogTimestamp: 1, values: [topic('a', 1)] }, 2);
    const split = splitBatches(bytes);
    if (!split.ok) throw new Error(split.message);
    const footer = split.batches[2]!;
    expect(() => decodeSnapshot(bytes.subarray(0, footer.pos))).toThrow(/no SnapshotFooter/);
    expect(() => decodeSnapshot(bytes.subarray(0, footer.pos + 5))).toThrow(SnapshotCorruptError);
    const flipped = Buffer.from(bytes);
    flipped[split.batches[1]!.pos + 70]! ^= 0xff;
    expect(() => decodeSnapshot(flipped)).toThrow(SnapshotCorruptError);
    expect(() => decodeSnapshot(bytes.subarray(split.batches[1]!.pos))).toThrow(/not a SnapshotHeader/);
    const leaderChange = buildBatchSync([{ key: encodeControlRecordKey(ControlRecordType.LEADER_CHANGE), value: Buffer.from([0, 0, 0, 0, 0, 1, 1, 1]) }], { baseOffset: 2, isControl: true });
    expect(() => decodeSnapshot(Buffer.concat([bytes.subarray(0, footer.pos), leaderChange, bytes.subarray(footer.pos)]))).toThrow(SnapshotCorruptError);
  });
});
