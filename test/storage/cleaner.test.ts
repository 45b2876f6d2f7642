/**
 * Log compaction (storage/cleaner.ts, log-cleaner.ts, Log.replaceWithCleaned): Kafka's record and batch
 * rules over real record batches, the dirty-ratio choice and checkpoint file, the worker thread, and
 * crashes at each step of the swap.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Compression, readBatchHeader, splitBatches } from '../../protocol/records/batch.js';
import { loadCodecs } from '../../protocol/records/compression.js';
import { buildBatch, DELETE_HORIZON_FLAG, readRecords, type RecordInput } from '../../protocol/records/record.js';
import { CLEANED_SUFFIX, runCleanJob, suffixedPaths } from '../../storage/cleaner.js';
import { logConfig, type LogConfig } from '../../storage/log-config.js';
import { CLEANER_CHECKPOINT_FILE, formatOffsetCheckpoint, LogCleaner, parseOffsetCheckpoint } from '../../storage/log-cleaner.js';
import { LogManager } from '../../storage/log-manager.js';
import type { Log } from '../../storage/log.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const managers: LogManager[] = [];
const cleaners: LogCleaner[] = [];
let clock = 1_700_000_000_000;
const now = (): number => clock;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('samsa-cleaner-'));
  clock = 1_700_000_000_000;
  await loadCodecs();
});
afterEach(async () => {
  for (const c of cleaners.splice(0)) await c.stop();
  for (const m of managers.splice(0)) await m.closeAll().catch(() => undefined);
  await cleanup();
});

const compactConfig = (over: Partial<LogConfig> = {}): LogConfig =>
  logConfig({ cleanupPolicy: 'compact', segmentBytes: 2048, indexIntervalBytes: 256, fileDeleteDelayMs: 0, minCleanableDirtyRatio: 0, deleteRetentionMs: 1000, ...over });

async function setup(over: Partial<LogConfig> = {}, cleanerOptions: ConstructorParameters<typeof LogCleaner>[1] = {}): Promise<{ manager: LogManager; log: Log; cleaner: LogCleaner }> {
  const manager = new LogManager(dir, { now });
  managers.push(manager);
  const log = await manager.getOrCreate('t', 0, compactConfig(over));
  const cleaner = new LogCleaner(manager, { now, inProcess: true, ...cleanerOptions });
  cleaners.push(cleaner);
  return { manager, log, cleaner };
}

interface Rec {
  key: string | null;
  value: string | null;
  headers?: { key: string; value: Buffer | null }[];
}

async function append(log: Log, records: Rec[], opts: { compression?: number; producerId?: number; baseSequence?: number; timestamp?: number } = {}): Promise<number> {
  const inputs: RecordInput[] = records.map((r) => ({
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    timestamp: opts.timestamp ?? clock,
    headers: r.headers,
  }));
  const batch = await buildBatch(inputs, {
    compression: opts.compression,
    producerId: opts.producerId,
    producerEpoch: opts.producerId === undefined ? -1 : 0,
    baseSequence: opts.baseSequence,
  });
  const h = readBatchHeader(batch);
  const r = await log.append(batch, [{ pos: 0, size: batch.length, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp }], 0);
  return r.firstOffset;
}

interface ReadBack {
  batches: { baseOffset: number; lastOffset: number; count: number; attributes: number; baseTimestamp: number; producerId: number; baseSequence: number }[];
  records: { offset: number; key: string | null; value: string | null; timestamp: number }[];
}

async function readBack(log: Log): Promise<ReadBack> {
  const out: ReadBack = { batches: [], records: [] };
  const read = await log.read(log.logStartOffset, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  for (const chunk of read.records) {
    const split = splitBatches(chunk);
    if (!split.ok) throw new Error(split.message);
    for (const b of split.batches) {
      const h = b.header;
      out.batches.push({ baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, count: h.recordCount, attributes: h.attributes, baseTimestamp: h.baseTimestamp, producerId: h.producerId, baseSequence: h.baseSequence });
      for (const r of await readRecords(chunk.subarray(b.pos, b.pos + b.size))) {
        out.records.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp });
      }
    }
  }
  return out;
}

/** What a compacted log must hold: for every key its latest record (tombstones optional), in offset order. */
function latestPerKey(written: { offset: number; key: string; value: string | null }[]): Map<string, { offset: number; value: string | null }> {
  const m = new Map<string, { offset: number; value: string | null }>();
  for (const w of written) m.set(w.key, { offset: w.offset, value: w.value });
  return m;
}

/** Writes `rounds` batches of updates over `keys` keys; every 7th write is a tombstone. */
async function writeUpdates(log: Log, rounds: number, keys: number, batchSize = 5, start = 0): Promise<{ offset: number; key: string; value: string | null }[]> {
  const written: { offset: number; key: string; value: string | null }[] = [];
  let n = start;
  for (let r = 0; r < rounds; r++) {
    const recs: Rec[] = [];
    for (let i = 0; i < batchSize; i++, n++) {
      const key = `k${(n * 7919) % keys}`;
      recs.push({ key, value: n % 7 === 3 ? null : `v${n}` });
    }
    const first = await append(log, recs);
    recs.forEach((rec, i) => written.push({ offset: first + i, key: rec.key!, value: rec.value }));
  }
  return written;
}

/**
 * The log after a pass that cleaned below `cleanedEnd`: offsets ascending and unique, every record the one
 * written at its offset, every record below cleanedEnd the latest for its key among the records below
 * cleanedEnd, and the latest record of every live key present.
 */
function checkCompacted(got: ReadBack, written: { offset: number; key: string; value: string | null }[], cleanedEnd: number): void {
  const latest = latestPerKey(written);
  const latestBelow = latestPerKey(written.filter((w) => w.offset < cleanedEnd));
  const offsets = got.records.map((r) => r.offset);
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  expect(new Set(offsets).size).toBe(offsets.length);
  const byOffset = new Map(written.map((w) => [w.offset, w]));
  for (const r of got.records) {
    const w = byOffset.get(r.offset)!;
    expect(r.key).toBe(w.key);
    expect(r.value).toBe(w.value);
    if (r.offset < cleanedEnd) expect(latestBelow.get(w.key)!.offset).toBe(r.offset);
  }
  const present = new Set(got.records.map((r) => r.offset));
  for (const [, l] of latest) if (l.value !== null) expect(present.has(l.offset)).toBe(true);
}

describe('log compaction rules', () => {
  it('keeps the latest record per key, preserves offsets and batch boundaries, never touches the active segment', async () => {
    const { log, cleaner } = await setup();
    const written = await writeUpdates(log, 120, 20);
    expect(log.numberOfSegments).toBeGreaterThan(5);
    const before = await readBack(log);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    const activeBefore = before.batches.filter((b) => b.baseOffset >= activeBase);
    const summary = await cleaner.cleanLog('t', 0);
    expect(summary).not.toBeNull();
    expect(summary!.groupsSwapped).toBeGreaterThan(0);
    expect(summary!.sizeAfter).toBeLessThan(summary!.sizeBefore);
    const after = await readBack(log);
    checkCompacted(after, written, activeBase);
    expect(after.records.length).toBeLessThan(before.records.length);
    // The active segment is byte for byte what it was.
    expect(after.batches.filter((b) => b.baseOffset >= activeBase)).toEqual(activeBefore);
    // Every surviving batch keeps its base offset and last offset.
    const original = new Map(before.batches.map((b) => [b.baseOffset, b.lastOffset]));
    for (const b of after.batches) expect(original.get(b.baseOffset)).toBe(b.lastOffset);
    expect(log.logEndOffset).toBe(written.length);
    // Segments were merged: fewer of them, still ordered.
    expect(log.numberOfSegments).toBeLessThan(before.batches.length);
  });

  it('keeps tombstones with a delete horizon (KIP-534) and drops them in a pass after delete.retention.ms', async () => {
    const { log, cleaner } = await setup({ deleteRetentionMs: 60_000 });
    await append(log, [{ key: 'a', value: '1' }, { key: 'b', value: '1' }, { key: 'c', value: '1' }]);
    await append(log, [{ key: 'a', value: null }, { key: 'b', value: '2' }]);
    await log.roll();
    await append(log, [{ key: 'z', value: 'active' }]);
    await cleaner.cleanLog('t', 0);
    let got = await readBack(log);
    expect(got.records.map((r) => [r.offset, r.key, r.value])).toEqual([
      [2, 'c', '1'],
      [3, 'a', null],
      [4, 'b', '2'],
      [5, 'z', 'active'],
    ]);
    const tombBatch = got.batches.find((b) => b.baseOffset === 3)!;
    expect(tombBatch.attributes & DELETE_HORIZON_FLAG).toBe(DELETE_HORIZON_FLAG);
    expect(tombBatch.baseTimestamp).toBe(clock + 60_000);
    // Record timestamps survive the new base timestamp.
    expect(got.records[1]!.timestamp).toBe(clock);
    // Before the horizon: nothing changes, and the log is not due.
    clock += 30_000;
    expect((await cleaner.cleanableInfo(log)).tombstonesDue).toBe(false);
    await cleaner.cleanLog('t', 0);
    expect((await readBack(log)).records.map((r) => r.offset)).toEqual([2, 3, 4, 5]);
    // After it: the log becomes cleanable with no new writes, and the tombstone goes.
    clock += 31_000;
    expect((await cleaner.cleanableInfo(log)).tombstonesDue).toBe(true);
    const summary = await cleaner.cleanFilthiestLog();
    expect(summary?.result.stats.tombstonesDropped).toBe(1);
    got = await readBack(log);
    expect(got.records.map((r) => [r.offset, r.key, r.value])).toEqual([
      [2, 'c', '1'],
      [4, 'b', '2'],
      [5, 'z', 'active'],
    ]);
    expect(got.batches.find((b) => b.baseOffset === 3)!.lastOffset).toBe(4);
    expect((await cleaner.cleanableInfo(log)).tombstonesDue).toBe(false);
  });

  it('rewrites compressed batches with their own codec', async () => {
    const { log, cleaner } = await setup({ segmentBytes: 1 << 20 });
    const codecs = [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];
    for (const c of codecs) await append(log, [{ key: `x${c}`, value: 'old' }, { key: `y${c}`, value: 'keep' }], { compression: c });
    for (const c of codecs) await append(log, [{ key: `x${c}`, value: 'new' }], { compression: Compression.NONE });
    await log.roll();
    await cleaner.cleanLog('t', 0);
    const got = await readBack(log);
    for (let i = 0; i < codecs.length; i++) {
      const b = got.batches[i]!;
      expect(b.attributes & 7).toBe(codecs[i]);
      expect(b.count).toBe(1);
      expect(b.lastOffset - b.baseOffset).toBe(1);
    }
    expect(got.records.map((r) => r.value)).toEqual(['keep', 'keep', 'keep', 'keep', 'new', 'new', 'new', 'new']);
  });

  it("keeps a producer's emptied last batch as an empty header; drops its earlier emptied batches", async () => {
    const { log, cleaner } = await setup({ segmentBytes: 1 << 20 });
    await append(log, [{ key: 'a', value: '1' }], { producerId: 7, baseSequence: 0 });
    await append(log, [{ key: 'a', value: '2' }, { key: 'b', value: '2' }], { producerId: 7, baseSequence: 1 });
    await append(log, [{ key: 'a', value: '3' }, { key: 'b', value: '3' }], { producerId: 8, baseSequence: 0 });
    await log.roll();
    await append(log, [{ key: 'c', value: 'active' }]);
    await cleaner.cleanLog('t', 0);
    const got = await readBack(log);
    expect(got.batches.map((b) => [b.baseOffset, b.lastOffset, b.count, b.producerId, b.baseSequence])).toEqual([
      [1, 2, 0, 7, 1],
      [3, 4, 2, 8, 0],
      [5, 5, 1, -1, -1],
    ]);
  });

  it('with the producer state given, keeps the empty last batch of active producers only (Kafka)', async () => {
    const { log, cleaner } = await setup({ segmentBytes: 1 << 20 }, { activeProducers: () => new Map([[8, 4]]) });
    await append(log, [{ key: 'a', value: '1' }], { producerId: 7, baseSequence: 0 });
    await append(log, [{ key: 'b', value: '1' }], { producerId: 8, baseSequence: 0 });
    await append(log, [{ key: 'a', value: '2' }, { key: 'b', value: '2' }], { producerId: 9, baseSequence: 0 });
    await append(log, [{ key: 'c', value: '1' }], { producerId: 8, baseSequence: 1 });
    await append(log, [{ key: 'c', value: '2' }]);
    await log.roll();
    await append(log, [{ key: 'z', value: 'active' }]);
    await cleaner.cleanLog('t', 0);
    const got = await readBack(log);
    // Producer 7 is not active (expired): its emptied batch goes. Producer 8's last batch (offset 4) stays empty.
    expect(got.batches.map((b) => [b.baseOffset, b.lastOffset, b.count, b.producerId])).toEqual([
      [2, 3, 2, 9],
      [4, 4, 0, 8],
      [5, 5, 1, -1],
      [6, 6, 1, -1],
    ]);
  });

  it('drops records without a key and keeps headers', async () => {
    const { log, cleaner } = await setup({ segmentBytes: 1 << 20 });
    await append(log, [{ key: null, value: 'nokey' }, { key: 'h', value: 'v', headers: [{ key: 'hk', value: Buffer.from('hv') }] }]);
    await log.roll();
    await append(log, [{ key: 'h2', value: 'x' }]);
    await cleaner.cleanLog('t', 0);
    const read = await log.read(0, 1 << 20, Number.MAX_SAFE_INTEGER, true);
    const recs = await readRecords(read.records[0]!.subarray(0, 12 + read.records[0]!.readInt32BE(8)));
    expect(recs.map((r) => [r.offset, r.key?.toString(), r.headers.map((h) => [h.key, h.value?.toString()])])).toEqual([[1, 'h', [['hk', 'hv']]]]);
  });

  it('leaves segments newer than min.compaction.lag.ms dirty', async () => {
    const { log, cleaner } = await setup({ minCompactionLagMs: 10_000, segmentBytes: 1 << 20 });
    await append(log, [{ key: 'a', value: '1' }], { timestamp: clock - 20_000 });
    await log.roll();
    await append(log, [{ key: 'a', value: '2' }], { timestamp: clock - 20_000 });
    await log.roll();
    await append(log, [{ key: 'a', value: '3' }], { timestamp: clock });
    await log.roll();
    await append(log, [{ key: 'a', value: '4' }], { timestamp: clock });
    const info = await cleaner.cleanableInfo(log);
    expect(info.firstUncleanableOffset).toBe(2);
    await cleaner.cleanLog('t', 0);
    expect((await readBack(log)).records.map((r) => r.value)).toEqual(['2', '3', '4']);
  });
});

describe('log cleaner scheduling and checkpoint', () => {
  it('computes the dirty ratio, picks logs above min.cleanable.dirty.ratio and writes cleaner-offset-checkpoint', async () => {
    const { manager, log, cleaner } = await setup({ minCleanableDirtyRatio: 0.5 });
    const other = await manager.getOrCreate('plain', 0, logConfig({ segmentBytes: 2048 }));
    await writeUpdates(other, 40, 5);
    await writeUpdates(log, 60, 300);
    const info = await cleaner.cleanableInfo(log);
    expect(info.firstDirtyOffset).toBe(0);
    expect(info.cleanBytes).toBe(0);
    expect(info.ratio).toBe(1);
    const summary = await cleaner.cleanFilthiestLog();
    expect(summary?.topic).toBe('t');
    const text = await readFile(join(dir, CLEANER_CHECKPOINT_FILE), 'utf8');
    expect(text).toBe(`0\n1\nt 0 ${summary!.endOffset}\n`);
    expect(summary!.endOffset).toBe(log.segmentBaseOffsets().at(-1));
    // Nothing dirty now: not chosen (the delete-policy log never is).
    expect((await cleaner.cleanableInfo(log)).ratio).toBe(0);
    expect(await cleaner.cleanFilthiestLog()).toBeNull();
    // A little new data stays below the ratio.
    await writeUpdates(log, 2, 10, 5, 1000);
    await log.roll();
    const small = await cleaner.cleanableInfo(log);
    expect(small.ratio).toBeGreaterThan(0);
    expect(small.ratio).toBeLessThan(0.5);
    expect(await cleaner.cleanFilthiestLog()).toBeNull();
  });

  it('reads the checkpoint back after a restart and starts from it', async () => {
    let { manager, log, cleaner } = await setup();
    await writeUpdates(log, 60, 10);
    const first = await cleaner.cleanLog('t', 0);
    await cleaner.stop();
    await manager.closeAll();
    manager = new LogManager(dir, { now, configFor: () => compactConfig() });
    managers.push(manager);
    await manager.loadAll();
    log = manager.get('t', 0)!;
    cleaner = new LogCleaner(manager, { now, inProcess: true });
    cleaners.push(cleaner);
    expect((await cleaner.cleanableInfo(log)).firstDirtyOffset).toBe(first!.endOffset);
  });

  it('parses and formats Kafka offset checkpoints, rejecting malformed ones', () => {
    const m = new Map([
      ['b-topic', 3],
      ['__consumer_offsets-7', 38],
    ]);
    const text = formatOffsetCheckpoint(new Map([['orders-0', 1200], ['__consumer_offsets-7', 38]]));
    expect(text).toBe('0\n2\n__consumer_offsets 7 38\norders 0 1200\n');
    expect(parseOffsetCheckpoint(text)).toEqual(new Map([['__consumer_offsets-7', 38], ['orders-0', 1200]]));
    expect(parseOffsetCheckpoint('1\n0\n')).toBeNull();
    expect(parseOffsetCheckpoint('0\n2\nt 0 1\n')).toBeNull();
    expect(m.size).toBe(2);
  });

  it('runs passes in a worker thread and keeps serving appends and reads meanwhile', async () => {
    const { log, cleaner } = await setup({}, { inProcess: false });
    const written = await writeUpdates(log, 200, 30);
    const pass = cleaner.cleanLog('t', 0);
    const more = await writeUpdates(log, 20, 30, 5, 5000);
    const summary = await pass;
    expect(summary?.groupsSwapped).toBeGreaterThan(0);
    const all = [...written, ...more];
    checkCompacted(await readBack(log), all, summary!.endOffset);
  });

  it('stop() ends a pass in the worker at once, without marking the log uncleanable', async () => {
    const { log, cleaner } = await setup({ segmentBytes: 64 * 1024 }, { inProcess: false, ioMaxBytesPerSecond: 200 * 1024 });
    const written = await writeUpdates(log, 1500, 50, 10);
    const before = await readBack(log);
    const pass = cleaner.cleanLog('t', 0);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await cleaner.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await pass).toBeNull();
    expect(cleaner.uncleanable.size).toBe(0);
    // Whatever was swapped in before the stop, the log still holds the latest value of every live key.
    const after = await readBack(log);
    const present = new Set(after.records.map((r) => r.offset));
    for (const [, l] of latestPerKey(written)) if (l.value !== null) expect(present.has(l.offset)).toBe(true);
    expect(after.records.length).toBeLessThanOrEqual(before.records.length);
  });

  it('discards a group whose segments were deleted while the pass ran, swaps the others', async () => {
    const { log, cleaner } = await setup();
    await writeUpdates(log, 60, 10);
    const view = log.cleanerView();
    const job = {
      dir: log.dir,
      segments: view.segments.map((s) => ({ baseOffset: s.baseOffset, path: s.path, size: s.size, lastModifiedMs: s.lastModifiedMs })),
      firstDirtyOffset: 0,
      firstUncleanableOffset: view.segments.at(-1)!.baseOffset,
      nowMs: clock,
      deleteRetentionMs: 1000,
      segmentBytes: 2048,
      indexIntervalBytes: 256,
      maxMapBytes: 1 << 20,
      ioMaxBytesPerSecond: Infinity,
    };
    const results: boolean[] = [];
    const before = await readBack(log);
    await runCleanJob(job, async (group) => {
      // DeleteRecords removes the first group's first segment while the pass runs.
      if (results.length === 0) await log.deleteRecordsBefore(view.segments[1]!.baseOffset);
      results.push(await log.replaceWithCleaned(view.generation, group.replaces.map((b) => view.segments.find((s) => s.baseOffset === b)!.segment), group));
    });
    expect(results[0]).toBe(false);
    expect(results.slice(1).every((r) => r)).toBe(true);
    expect((await readdir(log.dir)).filter((n) => n.endsWith(CLEANED_SUFFIX))).toEqual([]);
    const after = await readBack(log);
    expect(log.logStartOffset).toBe(view.segments[1]!.baseOffset);
    expect(after.records[0]!.offset).toBeGreaterThanOrEqual(log.logStartOffset);
    expect(after.records.length).toBeLessThan(before.records.length);
    expect(cleaner.uncleanable.size).toBe(0);
  });
});

describe('crash in the middle of a cleaning pass', () => {
  async function crashAndReopen(manager: LogManager): Promise<Log> {
    const log = manager.get('t', 0)!;
    await log.close({ cleanShutdown: false });
    const reopened = new LogManager(dir, { now, configFor: () => compactConfig() });
    managers.push(reopened);
    await reopened.loadAll();
    return reopened.get('t', 0)!;
  }

  it('after the .cleaned files are written: they are removed, the old segments stay', async () => {
    const { manager, log } = await setup();
    const written = await writeUpdates(log, 60, 10);
    const before = await readBack(log);
    const view = log.cleanerView();
    await runCleanJob(
      {
        dir: log.dir,
        segments: view.segments.map((s) => ({ baseOffset: s.baseOffset, path: s.path, size: s.size, lastModifiedMs: s.lastModifiedMs })),
        firstDirtyOffset: 0,
        firstUncleanableOffset: view.segments.at(-1)!.baseOffset,
        nowMs: clock,
        deleteRetentionMs: 1000,
        segmentBytes: 1 << 20,
        indexIntervalBytes: 256,
        maxMapBytes: 1 << 20,
        ioMaxBytesPerSecond: Infinity,
      },
      () => undefined,
    );
    expect((await readdir(log.dir)).some((n) => n.endsWith('.log.cleaned'))).toBe(true);
    const reopened = await crashAndReopen(manager);
    expect((await readdir(reopened.dir)).filter((n) => n.includes('.cleaned') || n.includes('.swap'))).toEqual([]);
    expect(await readBack(reopened)).toEqual(before);
    expect(written.length).toBe(reopened.logEndOffset);
  });

  for (const step of ['swap', 'deleted'] as const) {
    it(`after the ${step === 'swap' ? '.swap rename' : 'old segments were renamed .deleted'}: the cleaned segment is swapped in on open`, async () => {
      const { manager, log, cleaner } = await setup({}, {
        swapFault: (s) => {
          if (s === step) throw new Error(`injected crash after ${s}`);
        },
      });
      const written = await writeUpdates(log, 60, 10);
      const activeBase = log.segmentBaseOffsets().at(-1)!;
      await cleaner.cleanLog('t', 0);
      const names = await readdir(log.dir);
      expect(names.some((n) => n.endsWith('.log.swap'))).toBe(true);
      const reopened = await crashAndReopen(manager);
      const after = await readdir(reopened.dir);
      expect(after.filter((n) => n.includes('.swap') || n.includes('.cleaned') || n.includes('.deleted'))).toEqual([]);
      const got = await readBack(reopened);
      // The first group is cleaned, the rest is as written: still the latest value of every live key,
      // in offset order, every record one that was written at that offset.
      const byOffset = new Map(written.map((w) => [w.offset, w]));
      for (const r of got.records) expect([r.key, r.value]).toEqual([byOffset.get(r.offset)!.key, byOffset.get(r.offset)!.value]);
      const offsets = got.records.map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      const present = new Set(offsets);
      for (const [, l] of latestPerKey(written)) if (l.value !== null) expect(present.has(l.offset)).toBe(true);
      expect(got.records.length).toBeLessThan(written.length);
      expect(reopened.logEndOffset).toBe(written.length);
      // A later pass over the recovered log completes the job.
      const again = new LogCleaner(managers.at(-1)!, { now, inProcess: true });
      cleaners.push(again);
      await again.cleanLog('t', 0);
      checkCompacted(await readBack(reopened), written, activeBase);
    });
  }

  it('removes an index .swap left without its .log.swap', async () => {
    const { manager, log } = await setup();
    await writeUpdates(log, 10, 10);
    const stray = suffixedPaths(log.dir, 0, '.swap');
    await writeFile(stray.index, Buffer.alloc(8));
    const reopened = await crashAndReopen(manager);
    expect((await readdir(reopened.dir)).filter((n) => n.endsWith('.swap'))).toEqual([]);
  });
});
