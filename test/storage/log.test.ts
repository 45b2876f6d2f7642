import { readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KafkaStorageError, OffsetOutOfRangeError } from '../../storage/errors.js';
import { logConfig, type LogConfig } from '../../storage/log-config.js';
import { CLEAN_SHUTDOWN_FILE, Log } from '../../storage/log.js';
import { Segment } from '../../storage/segment.js';
import { batchSet, makeBatch, parseBatches, readInt64, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Log[] = [];

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const log of open.splice(0)) await log.close().catch(() => undefined);
  await cleanup();
});

async function openLog(config: Partial<LogConfig> = {}, now?: () => number): Promise<Log> {
  const log = await Log.open(join(dir, 'topic-0'), logConfig({ fileDeleteDelayMs: 0, ...config }), { now });
  open.push(log);
  return log;
}

/** Appends one batch per spec, in one append call each; returns the assigned first offsets. */
async function appendEach(log: Log, specs: { records?: number; payloadBytes?: number; maxTimestamp?: number; fill?: number }[], epoch = 0) {
  const firsts: number[] = [];
  for (const spec of specs) {
    const { buf, positions } = batchSet([makeBatch(spec)]);
    const r = await log.append(buf, positions, epoch);
    firsts.push(r.firstOffset);
  }
  return firsts;
}

async function readAll(log: Log, from = log.logStartOffset) {
  const out = await log.read(from, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  return parseBatches(out.records);
}

function appendBatches(log: Log, batches: Buffer[], epoch: number) {
  const { buf, positions } = batchSet(batches);
  return log.append(buf, positions, epoch);
}

function segmentFiles(names: string[], suffix: string): string[] {
  return names.filter((n) => n.endsWith(suffix)).sort();
}

describe('Log append and read', () => {
  it('assigns consecutive offsets, stamps base offset and leader epoch in place, and reads them back', async () => {
    const log = await openLog();
    const a = makeBatch({ records: 3 });
    const b = makeBatch({ records: 2 });
    const { buf, positions } = batchSet([a, b]);
    const r = await log.append(buf, positions, 7);
    expect(r).toMatchObject({ firstOffset: 0, lastOffset: 4 });
    expect(readInt64(buf, 0)).toBe(0);
    expect(readInt64(buf, a.length)).toBe(3);
    expect(buf.readInt32BE(12)).toBe(7);
    const r2 = await appendBatches(log, [makeBatch({ records: 1 })], 7);
    expect(r2.firstOffset).toBe(5);
    expect(log.logEndOffset).toBe(6);
    const batches = await readAll(log);
    expect(batches.map((x) => [x.baseOffset, x.lastOffset, x.partitionLeaderEpoch])).toEqual([
      [0, 2, 7],
      [3, 4, 7],
      [5, 5, 7],
    ]);
    expect(log.leaderEpochCache.entries()).toEqual([{ epoch: 7, startOffset: 0 }]);
  });

  it('writes Kafka file names with 20-digit base offsets and rolls by segment.bytes across many segments', async () => {
    const log = await openLog({ segmentBytes: 1000, indexIntervalBytes: 100 });
    const specs = Array.from({ length: 200 }, (_, i) => ({ records: 1 + (i % 3), payloadBytes: 20 + (i % 50), fill: i % 256 }));
    await appendEach(log, specs);
    expect(log.numberOfSegments).toBeGreaterThan(10);
    const names = await readdir(join(dir, 'topic-0'));
    const logs = segmentFiles(names, '.log');
    expect(logs[0]).toBe('00000000000000000000.log');
    expect(logs.length).toBe(log.numberOfSegments);
    for (const l of logs) {
      expect(l).toMatch(/^\d{20}\.log$/);
      expect((await stat(join(dir, 'topic-0', l))).size).toBeLessThanOrEqual(1000);
    }
    expect(segmentFiles(names, '.index').length).toBe(logs.length);
    expect(segmentFiles(names, '.timeindex').length).toBe(logs.length);
    const all = await readAll(log);
    expect(all.map((b) => b.fill)).toEqual(specs.map((s) => s.fill));
    // Every offset reads its own batch, from any segment.
    let offset = 0;
    for (let i = 0; i < specs.length; i++) {
      for (let k = 0; k < specs[i]!.records; k++) {
        const one = parseBatches((await log.read(offset + k, 1, Number.MAX_SAFE_INTEGER, true)).records);
        expect(one.length).toBe(1);
        expect(one[0]!.fill).toBe(specs[i]!.fill);
        expect(one[0]!.baseOffset).toBe(offset);
      }
      offset += specs[i]!.records;
    }
  });

  it('a read in the middle of a batch returns the whole batch', async () => {
    const log = await openLog();
    await appendEach(log, [{ records: 5 }, { records: 5 }]);
    const got = parseBatches((await log.read(7, 10_000, 100, false)).records);
    expect(got.map((b) => [b.baseOffset, b.lastOffset])).toEqual([[5, 9]]);
  });

  it('honours maxOffset (whole batches below it only), maxBytes and minOneMessage', async () => {
    const log = await openLog();
    await appendEach(log, [
      { records: 2, payloadBytes: 39 }, // 100 bytes, offsets 0-1
      { records: 2, payloadBytes: 39 }, // 2-3
      { records: 2, payloadBytes: 139 }, // 200 bytes, 4-5
    ]);
    const offsets = async (offset: number, maxBytes: number, maxOffset: number, minOne: boolean) => {
      const r = await log.read(offset, maxBytes, maxOffset, minOne);
      expect(r.sizeInBytes).toBe(r.records.reduce((n, b) => n + b.length, 0));
      return parseBatches(r.records).map((b) => b.baseOffset);
    };
    expect(await offsets(0, 10_000, 6, false)).toEqual([0, 2, 4]);
    expect(await offsets(0, 10_000, 5, false)).toEqual([0, 2]); // batch 4-5 reaches past maxOffset 5
    expect(await offsets(0, 10_000, 4, false)).toEqual([0, 2]);
    expect(await offsets(0, 10_000, 3, false)).toEqual([0]);
    expect(await offsets(0, 10_000, 1, true)).toEqual([]); // minOneMessage does not override maxOffset
    expect(await offsets(0, 200, 6, false)).toEqual([0, 2]);
    expect(await offsets(0, 199, 6, false)).toEqual([0]);
    expect(await offsets(0, 50, 6, false)).toEqual([]);
    expect(await offsets(0, 50, 6, true)).toEqual([0]);
    expect(await offsets(4, 50, 6, true)).toEqual([4]);
    expect(await offsets(4, 0, 6, true)).toEqual([4]);
    expect(await offsets(6, 1000, 100, true)).toEqual([]); // at the LEO: empty, not an error
    await expect(log.read(7, 1000, 100, true)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await expect(log.read(-1, 1000, 100, true)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
  });

  it('appends issued concurrently are applied in call order and grouped into few writes', async () => {
    const log = await openLog({ segmentBytes: 5000 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const { buf, positions } = batchSet([makeBatch({ records: 2, fill: i })]);
        return log.append(buf, positions, 0);
      }),
    );
    expect(results.map((r) => r.firstOffset)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    expect((await readAll(log)).map((b) => b.fill)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(log.numberOfSegments).toBeGreaterThan(1);
  });

  it('rejects positions that do not match the bytes without touching the log', async () => {
    const log = await openLog();
    const { buf, positions } = batchSet([makeBatch({ records: 2 })]);
    await expect(log.append(buf, [{ ...positions[0]!, size: positions[0]!.size - 1 }], 0)).rejects.toThrow(/declared size/);
    await expect(log.append(buf, [{ ...positions[0]!, lastOffsetDelta: 5 }], 0)).rejects.toThrow(/lastOffsetDelta/);
    await expect(log.append(buf, [], 0)).rejects.toThrow(/without batches/);
    expect(log.logEndOffset).toBe(0);
    await log.append(buf, positions, 0);
    expect(log.logEndOffset).toBe(2);
  });

  it('writes non-adjacent batch positions with one vectored write', async () => {
    const log = await openLog();
    const a = makeBatch({ fill: 1 });
    const b = makeBatch({ fill: 2 });
    const buf = Buffer.concat([Buffer.alloc(5), a, Buffer.alloc(3), b]);
    await log.append(
      buf,
      [
        { pos: 5, size: a.length, lastOffsetDelta: 0, maxTimestamp: 1 },
        { pos: 8 + a.length, size: b.length, lastOffsetDelta: 0, maxTimestamp: 1 },
      ],
      0,
    );
    expect((await readAll(log)).map((x) => x.fill)).toEqual([1, 2]);
  });
});

describe('Log.offsetForTimestamp', () => {
  it('finds the first batch whose maxTimestamp >= the target, across segments, via the time index', async () => {
    const log = await openLog({ segmentBytes: 800, indexIntervalBytes: 150 });
    const timestamps = Array.from({ length: 60 }, (_, i) => 1000 + i * 10 + (i % 4 === 0 ? 25 : 0));
    await appendEach(log, timestamps.map((t) => ({ records: 2, maxTimestamp: t, payloadBytes: 40 })));
    expect(log.numberOfSegments).toBeGreaterThan(3);
    for (const target of [0, 999, 1000, 1001, 1024, 1025, 1026, 1100, 1333, 1580, 1590, 1615, 1616, 99999]) {
      const expectedIndex = timestamps.findIndex((t) => t >= target);
      const got = await log.offsetForTimestamp(target);
      if (expectedIndex < 0) expect(got).toBeNull();
      else expect(got).toEqual({ offset: expectedIndex * 2, timestamp: timestamps[expectedIndex] });
    }
    expect(await log.offsetForTimestamp(1000, 31)).toEqual({ offset: 31, timestamp: timestamps[15] });
    expect(await log.offsetOfMaxTimestamp()).toEqual({ offset: 118, timestamp: timestamps[59] });
    await log.close();
    const reopened = await openLog({ segmentBytes: 800, indexIntervalBytes: 150 });
    expect(await reopened.offsetForTimestamp(1333)).toEqual(await (async () => {
      const i = timestamps.findIndex((t) => t >= 1333);
      return { offset: i * 2, timestamp: timestamps[i] };
    })());
  });
});

describe('Log close, reopen and recovery', () => {
  it('reopen after a clean close gives the same data and skips recovery', async () => {
    const config = { segmentBytes: 2000, indexIntervalBytes: 200 };
    const log = await openLog(config);
    await appendEach(log, Array.from({ length: 80 }, (_, i) => ({ records: 1 + (i % 4), fill: i, payloadBytes: 30 + i })), 3);
    const before = await readAll(log);
    const leo = log.logEndOffset;
    const segs = log.segmentBaseOffsets();
    const indexBytes = await readFile(join(dir, 'topic-0', '00000000000000000000.index'));
    await log.close();
    expect(await readFile(join(dir, 'topic-0', CLEAN_SHUTDOWN_FILE), 'utf8')).toBe('');
    const again = await openLog(config);
    expect(again.logEndOffset).toBe(leo);
    expect(again.segmentBaseOffsets()).toEqual(segs);
    expect(await readAll(again)).toEqual(before);
    expect(again.leaderEpochCache.entries()).toEqual([{ epoch: 3, startOffset: 0 }]);
    expect(await readFile(join(dir, 'topic-0', '00000000000000000000.index'))).toEqual(indexBytes);
    await expect(stat(join(dir, 'topic-0', CLEAN_SHUTDOWN_FILE))).rejects.toThrow();
    // and appends continue after it
    const [next] = await appendEach(again, [{ fill: 200 }]);
    expect(next).toBe(leo);
  });

  it('an unclean stop loses nothing that was written', async () => {
    const log = await openLog({ segmentBytes: 1500 });
    await appendEach(log, Array.from({ length: 40 }, (_, i) => ({ records: 2, fill: i })));
    const before = await readAll(log);
    await log.close({ cleanShutdown: false });
    const again = await openLog({ segmentBytes: 1500 });
    expect(await readAll(again)).toEqual(before);
    expect(again.logEndOffset).toBe(80);
  });

  it('a torn last write (file cut mid-batch) is truncated on reopen and its offsets are reassigned to the next append', async () => {
    const log = await openLog();
    await appendEach(log, Array.from({ length: 10 }, (_, i) => ({ records: 3, fill: i, payloadBytes: 50 })));
    await log.close({ cleanShutdown: false });
    const file = join(dir, 'topic-0', '00000000000000000000.log');
    const size = (await stat(file)).size;
    await truncate(file, size - 40);
    const again = await openLog();
    expect(again.logEndOffset).toBe(27);
    const batches = await readAll(again);
    expect(batches.map((b) => b.fill)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await stat(file)).size).toBe(size - 111);
    const [next] = await appendEach(again, [{ fill: 99 }]);
    expect(next).toBe(27);
  });

  it('a corrupted byte fails the CRC and truncates from that batch on', async () => {
    const log = await openLog();
    await appendEach(log, Array.from({ length: 10 }, (_, i) => ({ records: 1, fill: i, payloadBytes: 50 })));
    await log.close({ cleanShutdown: false });
    const file = join(dir, 'topic-0', '00000000000000000000.log');
    const bytes = await readFile(file);
    bytes[111 * 6 + 80] ^= 0xff; // inside the records of the 7th batch
    await writeFile(file, bytes);
    const again = await openLog();
    expect(again.logEndOffset).toBe(6);
    expect((await readAll(again)).map((b) => b.fill)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('recovery that cuts below a DeleteRecords start brings the saved start offset down with it', async () => {
    const log = await openLog();
    await appendEach(log, [{ fill: 1 }, { fill: 2 }]);
    await log.deleteRecordsBefore(2);
    await log.close({ cleanShutdown: false });
    const file = join(dir, 'topic-0', '00000000000000000000.log');
    await truncate(file, (await stat(file)).size - 1);
    const again = await openLog();
    expect(again.logEndOffset).toBe(1);
    expect(again.logStartOffset).toBe(1);
    await appendEach(again, [{ fill: 3 }, { fill: 4 }]);
    await again.close();
    const third = await openLog();
    expect(third.logStartOffset).toBe(1);
    expect((await readAll(third)).map((b) => b.fill)).toEqual([3, 4]);
  });

  it('garbage after the last batch (zeros from a preallocated or torn tail) is cut', async () => {
    const log = await openLog();
    await appendEach(log, [{ fill: 1 }, { fill: 2 }]);
    await log.close({ cleanShutdown: false });
    const file = join(dir, 'topic-0', '00000000000000000000.log');
    await writeFile(file, Buffer.concat([await readFile(file), Buffer.alloc(4096)]));
    const again = await openLog();
    expect(again.logEndOffset).toBe(2);
    expect((await stat(file)).size).toBe(142);
  });

  it('a deleted .index (and .timeindex) is rebuilt with the same bytes', async () => {
    const config = { segmentBytes: 100_000, indexIntervalBytes: 300 };
    const log = await openLog(config);
    await appendEach(log, Array.from({ length: 100 }, (_, i) => ({ records: 2, fill: i, maxTimestamp: 5000 + i * 3, payloadBytes: 40 + (i % 7) })));
    await log.roll();
    await appendEach(log, [{ fill: 7 }]);
    await log.close();
    const seg = join(dir, 'topic-0', '00000000000000000000');
    const index = await readFile(`${seg}.index`);
    const timeIndex = await readFile(`${seg}.timeindex`);
    expect(index.length).toBeGreaterThan(8 * 10);
    await unlink(`${seg}.index`);
    await unlink(`${seg}.timeindex`);
    const again = await openLog(config);
    expect(await readFile(`${seg}.index`)).toEqual(index);
    expect(await readFile(`${seg}.timeindex`)).toEqual(timeIndex);
    expect((await readAll(again)).length).toBe(101);
    expect(await again.offsetForTimestamp(5100)).toEqual({ offset: 68, timestamp: 5102 });
  });

  it('an index pointing at the wrong batch is detected and rebuilt', async () => {
    const config = { indexIntervalBytes: 100 };
    const log = await openLog(config);
    await appendEach(log, Array.from({ length: 20 }, (_, i) => ({ fill: i, payloadBytes: 60 })));
    await log.close();
    const path = join(dir, 'topic-0', '00000000000000000000.index');
    const index = await readFile(path);
    const bad = Buffer.from(index);
    bad.writeInt32BE(bad.readInt32BE(bad.length - 4) - 121, bad.length - 4); // last entry's position: the batch before
    await writeFile(path, bad);
    const again = await openLog(config);
    expect(await readFile(path)).toEqual(index);
    expect((await readAll(again)).map((b) => b.fill)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('index files use Kafka formats: every offset index entry names the last offset of the batch at its position', async () => {
    const log = await openLog({ indexIntervalBytes: 256 });
    await appendEach(log, Array.from({ length: 50 }, (_, i) => ({ records: 1 + (i % 5), payloadBytes: 30 + (i % 90), maxTimestamp: 10_000 + i })));
    await log.close();
    const base = join(dir, 'topic-0', '00000000000000000000');
    const data = await readFile(`${base}.log`);
    const index = await readFile(`${base}.index`);
    const timeIndex = await readFile(`${base}.timeindex`);
    expect(index.length % 8).toBe(0);
    expect(index.length).toBeGreaterThan(0);
    for (let i = 0; i < index.length; i += 8) {
      const relOffset = index.readInt32BE(i);
      const position = index.readInt32BE(i + 4);
      const batch = parseBatches(data.subarray(position, position + 12 + data.readInt32BE(position + 8)))[0]!;
      expect(batch.lastOffset).toBe(relOffset);
    }
    expect(timeIndex.length % 12).toBe(0);
    let prevTs = -1;
    for (let i = 0; i < timeIndex.length; i += 12) {
      const ts = readInt64(timeIndex, i);
      expect(ts).toBeGreaterThan(prevTs);
      prevTs = ts;
    }
    // The last time index entry of an inactive segment holds its largest timestamp and that batch's last offset.
    expect(readInt64(timeIndex, timeIndex.length - 12)).toBe(10_049);
    expect(timeIndex.readInt32BE(timeIndex.length - 4)).toBe(parseBatches(data).at(-1)!.lastOffset);
  });
});

describe('Log retention, DeleteRecords, truncation', () => {
  it('retention.ms deletes whole old segments, never the active one, and moves logStartOffset', async () => {
    let now = 1_000_000;
    const log = await openLog({ segmentBytes: 400, retentionMs: 10_000 }, () => now);
    await appendEach(log, Array.from({ length: 12 }, (_, i) => ({ payloadBytes: 39, maxTimestamp: 1_000_000 + i * 1000, fill: i })));
    expect(log.segmentBaseOffsets()).toEqual([0, 4, 8]);
    now = 1_000_000 + 3000 + 10_001; // segment 0's largest timestamp is now more than 10s old
    expect(await log.applyRetention()).toBe(1);
    expect(log.logStartOffset).toBe(4);
    expect(log.segmentBaseOffsets()).toEqual([4, 8]);
    await expect(log.read(3, 1000, 100, true)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    now = 1_000_000_000;
    expect(await log.applyRetention()).toBe(1);
    expect(log.segmentBaseOffsets()).toEqual([8]);
    expect(log.logStartOffset).toBe(8);
    const names = await readdir(join(dir, 'topic-0'));
    expect(segmentFiles(names, '.log')).toEqual(['00000000000000000008.log']);
    expect(names.filter((n) => n.endsWith('.deleted'))).toEqual([]);
    await log.close();
    const again = await openLog({ segmentBytes: 400, retentionMs: 10_000 }, () => now);
    expect(again.logStartOffset).toBe(8);
    expect(again.logEndOffset).toBe(12);
  });

  it('retention.bytes deletes the oldest segments while the rest still reaches the limit; compact-only topics keep them', async () => {
    const log = await openLog({ segmentBytes: 400, retentionMs: -1, retentionBytes: 500, cleanupPolicy: 'compact' });
    await appendEach(log, Array.from({ length: 14 }, () => ({ payloadBytes: 39 })));
    expect(log.segmentBaseOffsets()).toEqual([0, 4, 8, 12]);
    expect(await log.applyRetention()).toBe(0);
    log.config = { ...log.config, cleanupPolicy: 'compact,delete' };
    expect(await log.applyRetention()).toBe(2); // 1400 bytes: drop 400 (1000 >= 500), 400 (600 >= 500), stop (200 < 500)
    expect(log.segmentBaseOffsets()).toEqual([8, 12]);
    expect(log.logStartOffset).toBe(8);
  });

  it('deleted segment files linger as .deleted for file.delete.delay.ms', async () => {
    let now = 0;
    const log = await openLog({ segmentBytes: 300, retentionMs: 1, fileDeleteDelayMs: 60_000 }, () => now);
    await appendEach(log, Array.from({ length: 9 }, () => ({ payloadBytes: 39, maxTimestamp: 0 })));
    now = 100;
    expect(await log.applyRetention()).toBe(2);
    const names = await readdir(join(dir, 'topic-0'));
    expect(names.filter((n) => n.endsWith('.deleted')).sort()).toEqual([
      '00000000000000000000.index.deleted',
      '00000000000000000000.log.deleted',
      '00000000000000000000.timeindex.deleted',
      '00000000000000000003.index.deleted',
      '00000000000000000003.log.deleted',
      '00000000000000000003.timeindex.deleted',
    ]);
    await log.close();
    expect((await readdir(join(dir, 'topic-0'))).filter((n) => n.endsWith('.deleted'))).toEqual([]);
  });

  it('deleteRecordsBefore advances logStartOffset inside a segment, deletes whole segments below it, and survives reopen', async () => {
    const log = await openLog({ segmentBytes: 400 });
    await appendEach(log, Array.from({ length: 12 }, (_, i) => ({ payloadBytes: 39, fill: i })), 1);
    await log.deleteRecordsBefore(6);
    expect(log.logStartOffset).toBe(6);
    expect(log.segmentBaseOffsets()).toEqual([4, 8]);
    await expect(log.read(5, 1000, 100, true)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(parseBatches((await log.read(6, 1000, 100, true)).records).map((b) => b.fill)).toEqual([6, 7, 8, 9, 10, 11]);
    await log.deleteRecordsBefore(2); // never moves back
    expect(log.logStartOffset).toBe(6);
    await expect(log.deleteRecordsBefore(13)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(log.leaderEpochCache.entries()).toEqual([{ epoch: 1, startOffset: 6 }]);
    await log.close();
    const again = await openLog({ segmentBytes: 400 });
    expect(again.logStartOffset).toBe(6);
    await again.deleteRecordsBefore(12);
    expect(again.logStartOffset).toBe(12);
    expect(again.logEndOffset).toBe(12);
    expect((await again.read(12, 1000, 100, true)).sizeInBytes).toBe(0);
    const [next] = await appendEach(again, [{ fill: 1 }]);
    expect(next).toBe(12);
  });

  it('a segment left wholly below the log start by DeleteRecords up to the LEO goes when it is rolled', async () => {
    // The model test's counterexample (segment.bytes 150): DeleteRecords up to the LEO cannot delete the active
    // segment; the append that rolls it starts the next segment at the log start offset, so the old one is now
    // closed and wholly below the start. It used to linger: a later DeleteRecords not moving the start (or an
    // out-of-range one) returned early, leaving a closed segment below the log start until a retention pass.
    const log = await openLog({ segmentBytes: 150 });
    await appendEach(log, [{ payloadBytes: 0 }]); // offset 0, 61 bytes
    await log.deleteRecordsBefore(1); // = LEO: the start moves, the only (active) segment stays
    expect(log.segmentBaseOffsets()).toEqual([0]);
    expect(log.logStartOffset).toBe(1);
    // Two appends issued together (one group): each rolls, the first at the log start offset.
    const a = batchSet([makeBatch({ payloadBytes: 29, fill: 1 })]);
    const b = batchSet([makeBatch({ payloadBytes: 0 })]);
    const [ra, rb] = await Promise.all([log.append(a.buf, a.positions, 0), log.append(b.buf, b.positions, 0)]);
    expect([ra.firstOffset, rb.firstOffset]).toEqual([1, 2]);
    expect(log.segmentBaseOffsets()).toEqual([1, 2]); // was [0, 1, 2]
    expect((await readdir(join(dir, 'topic-0'))).filter((n) => n.startsWith('00000000000000000000.'))).toEqual([]);
    await log.deleteRecordsBefore(0); // does not move the start
    expect(log.logStartOffset).toBe(1);
    expect(log.segmentBaseOffsets()).toEqual([1, 2]);
    expect(parseBatches((await log.read(1, 1000, 100, true)).records).map((x) => x.fill)).toEqual([1, -1]);

    // The same through an explicit roll, with file.delete.delay.ms: the segment waits as .deleted.
    log.config = { ...log.config, fileDeleteDelayMs: 60_000 };
    await log.deleteRecordsBefore(3);
    expect(log.segmentBaseOffsets()).toEqual([2]);
    await log.roll();
    expect(log.segmentBaseOffsets()).toEqual([3]);
    expect(log.logStartOffset).toBe(3);
    const names = await readdir(join(dir, 'topic-0'));
    expect(names.filter((n) => n.startsWith('00000000000000000002.')).sort()).toEqual([
      '00000000000000000002.index.deleted',
      '00000000000000000002.log.deleted',
      '00000000000000000002.timeindex.deleted',
    ]);
    await log.close();
    const again = await openLog({ segmentBytes: 150 });
    expect(again.segmentBaseOffsets()).toEqual([3]);
    expect([again.logStartOffset, again.logEndOffset]).toEqual([3, 3]);
  });

  it('truncateTo drops batches at and after the offset, across segments, and appends continue from there', async () => {
    const log = await openLog({ segmentBytes: 400 });
    await appendEach(log, Array.from({ length: 6 }, (_, i) => ({ records: 2, payloadBytes: 39, fill: i })), 0);
    await appendEach(log, Array.from({ length: 6 }, (_, i) => ({ records: 2, payloadBytes: 39, fill: 10 + i })), 1);
    expect(log.segmentBaseOffsets()).toEqual([0, 8, 16]);
    expect(log.leaderEpochCache.entries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 12 },
    ]);
    await log.truncateTo(11); // mid-batch: the batch 10-11 goes whole
    expect(log.logEndOffset).toBe(10);
    expect(log.segmentBaseOffsets()).toEqual([0, 8]);
    expect(log.leaderEpochCache.entries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    expect((await readAll(log)).map((b) => b.fill)).toEqual([0, 1, 2, 3, 4]);
    await log.truncateTo(50); // past the end: nothing
    expect(log.logEndOffset).toBe(10);
    const [next] = await appendEach(log, [{ records: 1, fill: 77 }], 2);
    expect(next).toBe(10);
    expect(log.leaderEpochCache.endOffsetFor(0)).toEqual({ epoch: 0, endOffset: 10 });
    await log.close();
    const again = await openLog({ segmentBytes: 400 });
    expect((await readAll(again)).map((b) => b.fill)).toEqual([0, 1, 2, 3, 4, 77]);
    await again.truncateTo(0);
    expect(again.logEndOffset).toBe(0);
    expect(again.segmentBaseOffsets()).toEqual([0]);
  });

  it('truncateTo below the first segment restarts the log at that offset', async () => {
    const log = await openLog({ segmentBytes: 300 });
    await appendEach(log, Array.from({ length: 8 }, () => ({ payloadBytes: 39 })));
    await log.deleteRecordsBefore(7);
    expect(log.segmentBaseOffsets()).toEqual([6]);
    await log.truncateTo(5);
    expect(log.logStartOffset).toBe(5);
    expect(log.logEndOffset).toBe(5);
    expect(log.segmentBaseOffsets()).toEqual([5]);
    const [next] = await appendEach(log, [{}]);
    expect(next).toBe(5);
  });
});

describe('Log rolling, flushing and followers', () => {
  it('flush.messages=1 fsyncs before append resolves; appends queued meanwhile share one write and one fsync', async () => {
    const log = await openLog({ flushMessages: 1 });
    const writes = vi.spyOn(Segment.prototype, 'write');
    const fsyncs = vi.spyOn(Segment.prototype, 'flushData');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => appendBatches(log, [makeBatch({ fill: i })], 0)));
    expect(results.map((r) => r.firstOffset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(writes.mock.calls.length).toBeLessThanOrEqual(2);
    expect(fsyncs.mock.calls.length).toBe(writes.mock.calls.length);
    // One at a time, every append gets its own fsync.
    for (let i = 0; i < 3; i++) await appendBatches(log, [makeBatch()], 0);
    expect(fsyncs.mock.calls.length).toBe(writes.mock.calls.length);
  });

  it('flush.messages=N fsyncs every N offsets; by default appends never fsync', async () => {
    const fsyncs = vi.spyOn(Segment.prototype, 'flushData');
    const log = await openLog();
    for (let i = 0; i < 10; i++) await appendBatches(log, [makeBatch({ records: 3 })], 0);
    expect(fsyncs).not.toHaveBeenCalled();
    log.config = { ...log.config, flushMessages: 10 };
    for (let i = 0; i < 10; i++) await appendBatches(log, [makeBatch({ records: 3 })], 0);
    expect(fsyncs.mock.calls.length).toBe(3); // 30 offsets were pending: at 33, then after 12 more, twice
  });

  it('flush.ms fsyncs on a timer after an append', async () => {
    // The log's clock is injected: on the wall clock, an append slower than flush.ms (a loaded machine)
    // fsyncs inline, and the 'not yet' check failed. The timer itself is real; until the clock moves it only
    // re-arms.
    let now = 1_000;
    const fsyncs = vi.spyOn(Segment.prototype, 'flushData');
    const log = await openLog({ flushMs: 20 }, () => now);
    await appendBatches(log, [makeBatch()], 0);
    expect(fsyncs).not.toHaveBeenCalled();
    now += 20;
    for (const deadline = Date.now() + 10_000; fsyncs.mock.calls.length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    expect(fsyncs).toHaveBeenCalledTimes(1);
  });

  it('rolls by segment.ms, measured with batch timestamps', async () => {
    const log = await openLog({ segmentMs: 1000 });
    await appendEach(log, [{ maxTimestamp: 10_000 }, { maxTimestamp: 10_900 }, { maxTimestamp: 11_000 }]);
    expect(log.segmentBaseOffsets()).toEqual([0]);
    await appendEach(log, [{ maxTimestamp: 11_001 }]);
    expect(log.segmentBaseOffsets()).toEqual([0, 3]);
  });

  it('rolls when the index is full (segment.index.bytes)', async () => {
    const log = await openLog({ segmentIndexBytes: 24, indexIntervalBytes: 1 }); // 3 offset entries, 2 time entries
    await appendEach(log, Array.from({ length: 10 }, (_, i) => ({ maxTimestamp: 1000 + i })));
    expect(log.segmentBaseOffsets()).toEqual([0, 3, 6, 9]);
    expect((await readAll(log)).length).toBe(10);
  });

  it('roll() on an empty active segment does nothing', async () => {
    const log = await openLog();
    await log.roll();
    expect(log.segmentBaseOffsets()).toEqual([0]);
    await appendEach(log, [{}]);
    await log.roll();
    await log.roll();
    expect(log.segmentBaseOffsets()).toEqual([0, 1]);
  });

  it('appendAsFollower keeps the leader offsets and epochs, rejects going back, and fills the epoch cache', async () => {
    const log = await openLog();
    const { buf, positions } = batchSet([
      makeBatch({ baseOffset: 0, records: 3, partitionLeaderEpoch: 1 }),
      makeBatch({ baseOffset: 3, records: 2, partitionLeaderEpoch: 2 }),
    ]);
    expect(await log.appendAsFollower(buf, positions)).toMatchObject({ firstOffset: 0, lastOffset: 4 });
    expect(log.leaderEpochCache.entries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 3 },
    ]);
    const again = batchSet([makeBatch({ baseOffset: 4, partitionLeaderEpoch: 2 })]);
    await expect(log.appendAsFollower(again.buf, again.positions)).rejects.toThrow(/below the log end offset/);
    const gap = batchSet([makeBatch({ baseOffset: 10, partitionLeaderEpoch: 2 })]);
    await log.appendAsFollower(gap.buf, gap.positions);
    expect(log.logEndOffset).toBe(11);
    expect((await readAll(log)).map((b) => b.baseOffset)).toEqual([0, 3, 10]);
    expect(parseBatches((await log.read(6, 1000, 100, false)).records).map((b) => b.baseOffset)).toEqual([10]);
  });

  it('a failed write (here: half written, then ENOSPC) is undone: the append fails, the log stays consistent', async () => {
    const log = await openLog();
    await appendEach(log, [{ fill: 1 }, { fill: 2 }]);
    const file = join(dir, 'topic-0', '00000000000000000000.log');
    const sizeBefore = (await stat(file)).size;
    const original = Segment.prototype.write;
    vi.spyOn(Segment.prototype, 'write').mockImplementationOnce(async function (this: Segment, buffers: Buffer[], position: number) {
      const all = Buffer.concat(buffers);
      await original.call(this, [all.subarray(0, all.length >> 1)], position);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    await expect(appendBatches(log, [makeBatch({ fill: 3, records: 4 })], 0)).rejects.toBeInstanceOf(KafkaStorageError);
    expect(log.logEndOffset).toBe(2);
    expect((await stat(file)).size).toBe(sizeBefore);
    const [next] = await appendEach(log, [{ fill: 4 }]);
    expect(next).toBe(2);
    expect((await readAll(log)).map((b) => b.fill)).toEqual([1, 2, 4]);
  });

  it('when a failed write cannot be undone the log goes offline', async () => {
    const log = await openLog();
    await appendEach(log, [{ fill: 1 }]);
    vi.spyOn(Segment.prototype, 'write').mockRejectedValueOnce(new Error('EIO'));
    vi.spyOn(Segment.prototype, 'rollbackTo').mockRejectedValueOnce(new Error('EIO'));
    await expect(appendBatches(log, [makeBatch()], 0)).rejects.toBeInstanceOf(KafkaStorageError);
    await expect(appendBatches(log, [makeBatch()], 0)).rejects.toBeInstanceOf(KafkaStorageError);
    await expect(log.read(0, 100, 10, true)).rejects.toBeInstanceOf(KafkaStorageError);
    await log.close();
    // No clean-shutdown marker: the next open recovers the segment.
    await expect(stat(join(dir, 'topic-0', CLEAN_SHUTDOWN_FILE))).rejects.toThrow();
    const again = await openLog();
    expect((await readAll(again)).map((b) => b.fill)).toEqual([1]);
  });

  it('partition.metadata uses Kafka format', async () => {
    const log = await openLog();
    expect(await log.readPartitionMetadata()).toBeNull();
    await log.writePartitionMetadata('AAAAAAAAAAAAAAAAAAAAAQ');
    expect(await readFile(join(dir, 'topic-0', 'partition.metadata'), 'utf8')).toBe('version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n');
    expect(await log.readPartitionMetadata()).toEqual({ version: 0, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' });
  });

  it('delete() removes the partition directory', async () => {
    const log = await openLog();
    await appendEach(log, [{}]);
    await log.delete();
    expect(await readdir(dir)).toEqual([]);
    await expect(log.read(0, 10, 10, true)).rejects.toThrow(/closed/);
  });
});

describe('Log under concurrent reads and writes', () => {
  it('readers racing appends, rolls, retention and DeleteRecords only ever see whole, ordered batches', async () => {
    let now = 0;
    const log = await openLog({ segmentBytes: 2000, indexIntervalBytes: 150, retentionBytes: 6000, retentionMs: -1, fileDeleteDelayMs: 60_000 }, () => now);
    let writing = true;
    const problems: string[] = [];
    let reads = 0;
    const reader = async (): Promise<void> => {
      while (writing) {
        await new Promise((r) => setImmediate(r)); // a read at the LEO does no I/O: let the writer run
        const start = log.logStartOffset;
        const end = log.logEndOffset;
        const offset = start + Math.floor(Math.random() * (end - start + 1));
        try {
          const r = await log.read(offset, 1 + Math.floor(Math.random() * 3000), end, Math.random() < 0.5);
          const batches = parseBatches(r.records);
          reads++;
          if (batches.length > 0 && (batches[0]!.baseOffset > offset || batches[0]!.lastOffset < offset)) problems.push(`read ${offset} got ${batches[0]!.baseOffset}`);
          for (let i = 1; i < batches.length; i++) {
            if (batches[i]!.baseOffset !== batches[i - 1]!.lastOffset + 1) problems.push(`gap after ${batches[i - 1]!.lastOffset}`);
          }
        } catch (err) {
          if (!(err instanceof OffsetOutOfRangeError)) problems.push(String(err));
        }
      }
    };
    const writer = async (): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        now += 10;
        await appendBatches(log, [makeBatch({ records: 1 + (i % 4), payloadBytes: 20 + (i % 100), maxTimestamp: now })], 0);
        if (i % 50 === 49) await log.applyRetention();
        if (i % 120 === 119) await log.deleteRecordsBefore(log.logEndOffset - 5);
      }
      writing = false;
    };
    await Promise.all([writer(), reader(), reader()]);
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    expect(log.numberOfSegments).toBeLessThan(8);
  });
});
