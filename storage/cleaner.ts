/**
 * Log compaction, the work itself: Kafka's LogCleaner.Cleaner for RecordBatch v2. It runs in the cleaner
 * worker thread (cleaner-worker.ts; scheduling, the segment swap and the checkpoint are in log-cleaner.ts),
 * and in-process in tests. It reads segment files and writes `.cleaned` files; it never touches the Log's
 * in-memory state.
 *
 * One pass over a log, given the dirty section [firstDirtyOffset, firstUncleanableOffset):
 *   1. Offset map: key -> offset of its latest record in the dirty section (keys held exactly, as latin1
 *      strings; Kafka keeps MD5 hashes). When the map passes `maxMapBytes` (log.cleaner.dedupe.buffer.size)
 *      it stops at a batch boundary and the pass cleans only up to there (`endOffset`).
 *   2. Producers: the last data batch of each active producer, from the partition's producer state as in
 *      Kafka (the broker passes it in the job); without it, a header scan of the log finds the last data
 *      batch of every producer id present (each then counts as active, which keeps at most one more empty
 *      batch header per producer id).
 *   3. The segments below `endOffset` (never the active segment) are grouped as Kafka's
 *      groupSegmentsBySize does (total size <= segment.bytes, offsets relative to the group's first base
 *      offset fit an int32) and each group is rewritten into one segment `<first base>.log.cleaned` with its
 *      `.index.cleaned` and `.timeindex.cleaned`, fsynced, with the newest mtime of the group. The caller
 *      swaps it in (`.cleaned` -> `.swap` -> final name) before the next group is needed.
 *
 * Record rules (Kafka's Cleaner.shouldRetainRecord; `now` is the pass's start time):
 *   - a record past the map (offset > the map's latest offset) is kept;
 *   - a record without a key is dropped (the broker refuses them on compacted topics);
 *   - a record is kept when it is the latest for its key (offset >= the map's offset for the key, or the key
 *     is not in the map) and it has a value, or it is a tombstone whose batch has no delete horizon yet or
 *     one still in the future.
 * Batch rules (Kafka's MemoryRecords.filterTo, KIP-534):
 *   - control batches are copied unchanged (Samsa has no transactions; Kafka removes markers later);
 *   - all records kept and no delete horizon to set: the batch is copied byte for byte;
 *   - some records kept, or tombstones kept in a batch without a delete horizon: the batch is rebuilt with
 *     the same base offset, last offset delta, partition leader epoch, producer id/epoch/base sequence,
 *     timestamp type and codec (recompressed); a batch keeping tombstones gets the delete-horizon flag
 *     (attributes bit 6) and baseTimestamp = now + delete.retention.ms, so the tombstones go in the first
 *     pass after that time;
 *   - no record kept: the batch goes, unless it is its producer's last data batch, which stays as an empty
 *     header (no records, same offsets and producer fields) so the producer's sequence survives.
 * Offsets never change; the log only gets gaps.
 */
import { type FileHandle, open, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, LOG_OVERHEAD, isBatchCrcValid, isControl, readBatchHeader, type RecordBatchHeader } from '../protocol/records/batch.js';
import { compressionOf } from '../protocol/records/batch.js';
import { loadCodecs, decompressSync } from '../protocol/records/compression.js';
import { buildEmptyBatchHeader, buildRetainedBatch, hasDeleteHorizon, iterateRecords, type RetainedRecord } from '../protocol/records/record.js';
import { BATCH_LENGTH_POS, offsetFileStem, readAt, unlinkIfExists, writeFullyAt } from './file-util.js';
import { OffsetIndex } from './offset-index.js';
import { NO_TIMESTAMP, TimeIndex } from './time-index.js';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

const INT32_MAX = 0x7fffffff;
const READ_CHUNK = 1024 * 1024;
const WRITE_CHUNK = 1024 * 1024;
/** Estimated bytes per offset map entry besides the key itself (Map slot, string header, number). */
const MAP_ENTRY_OVERHEAD = 64;
/** Largest decompressed records section the cleaner accepts. */
const MAX_DECOMPRESSED = 256 * 1024 * 1024;

export interface CleanerSegmentRef {
  baseOffset: number;
  /** Path of the `.log` file. */
  path: string;
  /** Bytes of whole batches when the job was made. */
  size: number;
  lastModifiedMs: number;
}

export interface CleanJob {
  dir: string;
  /** Every segment of the log when the job was made, in order; the last one is the active segment. */
  segments: CleanerSegmentRef[];
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  nowMs: number;
  deleteRetentionMs: number;
  segmentBytes: number;
  indexIntervalBytes: number;
  /** log.cleaner.dedupe.buffer.size: the offset map's memory budget. */
  maxMapBytes: number;
  /** log.cleaner.io.max.bytes.per.second (reads plus writes); Infinity = no throttle. */
  ioMaxBytesPerSecond: number;
  /**
   * The active producers' last data offsets (producer id, offset), from the partition's producer state, as
   * Kafka's cleaner takes them; absent: found by scanning the log's batch headers (every producer counts).
   */
  activeProducers?: [number, number][];
}

export interface CleanedGroup {
  /** Base offsets of the segments the cleaned segment replaces, ascending; the first is its base offset. */
  replaces: number[];
  baseOffset: number;
  sizeBefore: number;
  sizeAfter: number;
}

export interface CleanStats {
  mapBytesRead: number;
  mapRecords: number;
  mapKeys: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsRetained: number;
  batchesRead: number;
  batchesRewritten: number;
  batchesDropped: number;
  emptyBatchesKept: number;
  tombstonesDropped: number;
  mapMs: number;
  cleanMs: number;
  throttledMs: number;
}

export interface CleanResult {
  /** Everything below this offset is clean now: the new cleaner checkpoint. */
  endOffset: number;
  groups: CleanedGroup[];
  stats: CleanStats;
  /** The earliest delete horizon of a tombstone left in the cleaned segments; -1 when none is left. */
  earliestDeleteHorizonMs: number;
}

/** Paths of a segment's files with a suffix (`.cleaned`, `.swap`). */
export function suffixedPaths(dir: string, baseOffset: number, suffix: string): { log: string; index: string; timeIndex: string } {
  const stem = join(dir, offsetFileStem(baseOffset));
  return { log: `${stem}.log${suffix}`, index: `${stem}.index${suffix}`, timeIndex: `${stem}.timeindex${suffix}` };
}

/** Kafka's Throttler: keeps the observed byte rate under `bytesPerSecond`, checked every 300 ms. */
class Throttler {
  private periodStart = Date.now();
  private observed = 0;
  sleptMs = 0;
  constructor(private readonly bytesPerSecond: number) {}

  async maybeThrottle(bytes: number): Promise<void> {
    if (!Number.isFinite(this.bytesPerSecond) || this.bytesPerSecond <= 0) return;
    this.observed += bytes;
    const elapsed = Date.now() - this.periodStart;
    if (elapsed < 300) return;
    const rate = (this.observed * 1000) / elapsed;
    if (rate > this.bytesPerSecond) {
      const sleepMs = Math.round((this.observed * 1000) / this.bytesPerSecond - elapsed);
      if (sleepMs > 0) {
        await new Promise((r) => setTimeout(r, sleepMs));
        this.sleptMs += sleepMs;
      }
    }
    this.periodStart = Date.now();
    this.observed = 0;
  }
}

/** Reads the whole batches of one segment file in order, a chunk at a time. */
class BatchReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  position = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly onRead: (bytes: number) => Promise<void>,
    readonly path: string,
  ) {}

  /** The next batch (a view, valid until the next call), or null at the end. Throws on a corrupt batch. */
  async next(): Promise<{ position: number; bytes: Buffer } | null> {
    const pos = this.position;
    if (pos >= this.size) return null;
    if (!(await this.ensure(pos, LOG_OVERHEAD))) throw new Error(`${this.path}: truncated batch at position ${pos}`);
    const size = LOG_OVERHEAD + this.buf.readInt32BE(pos - this.bufStart + BATCH_LENGTH_POS);
    if (size < BATCH_HEADER_SIZE || pos + size > this.size) throw new Error(`${this.path}: invalid batch length at position ${pos}`);
    if (!(await this.ensure(pos, size))) throw new Error(`${this.path}: truncated batch at position ${pos}`);
    this.position = pos + size;
    return { position: pos, bytes: this.buf.subarray(pos - this.bufStart, pos - this.bufStart + size) };
  }

  private async ensure(pos: number, len: number): Promise<boolean> {
    if (pos >= this.bufStart && pos + len <= this.bufStart + this.buf.length) return true;
    const n = Math.min(Math.max(len, READ_CHUNK), this.size - pos);
    if (n < len) return false;
    this.buf = await readAt(this.fh, pos, n);
    this.bufStart = pos;
    await this.onRead(this.buf.length);
    return this.buf.length >= len;
  }
}

/** key -> offset of its latest record in the dirty section. */
class OffsetMap {
  private readonly map = new Map<string, number>();
  bytes = 0;
  /** The largest offset put in the map. */
  latestOffset = -1;

  get size(): number {
    return this.map.size;
  }

  /** Records `offset` for the key held in buf[start, end). */
  put(buf: Buffer, start: number, end: number, offset: number): void {
    const k = buf.toString('latin1', start, end);
    const before = this.map.size;
    this.map.set(k, offset);
    if (this.map.size !== before) this.bytes += k.length + MAP_ENTRY_OVERHEAD;
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The offset recorded for the key held in buf[start, end), or -1. */
  get(buf: Buffer, start: number, end: number): number {
    return this.map.get(buf.toString('latin1', start, end)) ?? -1;
  }
}

/** The batch's records section, decompressed when needed. */
function recordsSectionOf(batch: Buffer, header: RecordBatchHeader): Buffer {
  const codec = compressionOf(header.attributes);
  const stored = batch.subarray(BATCH_HEADER_SIZE);
  return codec === 0 ? stored : decompressSync(codec, stored, MAX_DECOMPRESSED);
}

/** What the cleaner needs of one record, read without decoding the rest (see scanRecords). */
interface ScannedRecord {
  offset: number;
  /** [keyStart, keyEnd) in the section; keyStart -1 for a null key. */
  keyStart: number;
  keyEnd: number;
  tombstone: boolean;
}

let scanPos = 0;

/** A zig-zag varint at scanPos (advancing it); int32 range. */
function scanVarint(buf: Buffer, end: number): number {
  let u = 0;
  let shift = 0;
  for (;;) {
    if (scanPos >= end) throw new Error('record runs past its end');
    const b = buf[scanPos++]!;
    u += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 35) throw new Error('varint too long');
  }
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/**
 * Walks the records of a (decompressed) records section reading only length, offset delta, key and whether
 * the value is null: the map and the keep/drop decisions need no more, and most batches are then copied
 * without being decoded. Throws on records that do not fit.
 */
function scanRecords(section: Buffer, header: RecordBatchHeader, onRecord: (r: ScannedRecord) => void): void {
  scanPos = 0;
  const end = section.length;
  const r: ScannedRecord = { offset: 0, keyStart: -1, keyEnd: -1, tombstone: false };
  for (let i = 0; i < header.recordCount; i++) {
    const length = scanVarint(section, end);
    const start = scanPos;
    const recordEnd = start + length;
    if (length < 0 || recordEnd > end) throw new Error(`record ${i} of the batch at offset ${header.baseOffset} does not fit`);
    scanPos++; // attributes
    while (scanPos < recordEnd && (section[scanPos]! & 0x80) !== 0) scanPos++; // timestampDelta (varlong)
    scanPos++;
    r.offset = header.baseOffset + scanVarint(section, recordEnd);
    const keyLength = scanVarint(section, recordEnd);
    if (keyLength >= 0) {
      r.keyStart = scanPos;
      r.keyEnd = scanPos + keyLength;
      scanPos += keyLength;
    } else {
      r.keyStart = -1;
      r.keyEnd = -1;
    }
    r.tombstone = scanVarint(section, recordEnd) < 0;
    if (scanPos > recordEnd) throw new Error(`record ${i} of the batch at offset ${header.baseOffset} does not fit`);
    onRecord(r);
    scanPos = recordEnd;
  }
}

function emptyStats(): CleanStats {
  return {
    mapBytesRead: 0,
    mapRecords: 0,
    mapKeys: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRead: 0,
    recordsRetained: 0,
    batchesRead: 0,
    batchesRewritten: 0,
    batchesDropped: 0,
    emptyBatchesKept: 0,
    tombstonesDropped: 0,
    mapMs: 0,
    cleanMs: 0,
    throttledMs: 0,
  };
}

/**
 * Runs one cleaning pass (see the file comment). `onGroup` is called once a group's `.cleaned` files are
 * complete and fsynced; the pass waits for it before going on, so the caller may swap the files in there.
 */
export async function runCleanJob(job: CleanJob, onGroup: (group: CleanedGroup) => Promise<void> | void): Promise<CleanResult> {
  await loadCodecs();
  const stats = emptyStats();
  const throttler = new Throttler(job.ioMaxBytesPerSecond);
  const handles = new Map<number, FileHandle>();
  const fileOf = async (ref: CleanerSegmentRef): Promise<FileHandle> => {
    let fh = handles.get(ref.baseOffset);
    if (!fh) {
      fh = await open(ref.path, 'r');
      handles.set(ref.baseOffset, fh);
    }
    return fh;
  };
  try {
    // Open the files first: a segment deleted by retention meanwhile stays readable through its handle.
    // (The segments from the uncleanable one on are read only by the producer header scan.)
    for (const ref of job.segments) if (!job.activeProducers || ref.baseOffset < job.firstUncleanableOffset) await fileOf(ref);
    const started = Date.now();
    const scanned = new Map<number, number>();
    const { map, endOffset, scannedFrom, scannedTo } = await buildOffsetMap(job, fileOf, throttler, stats, scanned);
    let lastDataOffsets: Map<number, number>;
    if (job.activeProducers) {
      lastDataOffsets = new Map(job.activeProducers);
    } else {
      await producerLastDataOffsets(job, fileOf, throttler, scanned, scannedFrom, scannedTo);
      lastDataOffsets = scanned;
    }
    stats.mapMs = Date.now() - started;

    const cleanStarted = Date.now();
    const groups = groupSegments(job, endOffset);
    const result: CleanedGroup[] = [];
    let earliestHorizon = -1;
    for (const group of groups) {
      const { cleaned, earliestDeleteHorizonMs } = await cleanGroup(job, group, map, lastDataOffsets, fileOf, throttler, stats);
      if (earliestDeleteHorizonMs >= 0 && (earliestHorizon < 0 || earliestDeleteHorizonMs < earliestHorizon)) earliestHorizon = earliestDeleteHorizonMs;
      await onGroup(cleaned);
      result.push(cleaned);
    }
    stats.cleanMs = Date.now() - cleanStarted;
    stats.throttledMs = throttler.sleptMs;
    return { endOffset, groups: result, stats, earliestDeleteHorizonMs: earliestHorizon };
  } finally {
    for (const fh of handles.values()) await fh.close().catch(() => undefined);
  }
}

/** Step 1: the offset map over [firstDirtyOffset, firstUncleanableOffset), stopping early when full. */
async function buildOffsetMap(
  job: CleanJob,
  fileOf: (ref: CleanerSegmentRef) => Promise<FileHandle>,
  throttler: Throttler,
  stats: CleanStats,
  lastDataOffsets: Map<number, number>,
): Promise<{ map: OffsetMap; endOffset: number; scannedFrom: number; scannedTo: number }> {
  const map = new OffsetMap();
  const from = job.firstDirtyOffset;
  const to = job.firstUncleanableOffset;
  /** Base offset of the first segment read whole; the producer scan skips [scannedFrom, scannedTo). */
  let scannedFrom = to;
  // Records below the dirty section are never "past the map".
  map.latestOffset = from - 1;
  let batches = 0;
  const segments = job.segments.slice(0, -1);
  for (let i = 0; i < segments.length; i++) {
    const ref = segments[i]!;
    const nextBase = job.segments[i + 1]!.baseOffset;
    if (nextBase <= from) continue;
    if (ref.baseOffset >= to) break;
    if (ref.baseOffset >= from && scannedFrom === to) scannedFrom = ref.baseOffset;
    const reader = new BatchReader(await fileOf(ref), ref.size, async (n) => {
      stats.mapBytesRead += n;
      await throttler.maybeThrottle(n);
    }, ref.path);
    for (let b = await reader.next(); b; b = await reader.next()) {
      const header = readBatchHeader(b.bytes);
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      if (lastOffset < from) continue;
      if (header.baseOffset >= to) break;
      if (batches > 0 && map.bytes >= job.maxMapBytes) {
        stats.mapKeys = map.size;
        // The producer scan must read this segment again: the map stopped inside it.
        return { map, endOffset: header.baseOffset, scannedFrom, scannedTo: scannedFrom === to ? to : ref.baseOffset };
      }
      if (!isBatchCrcValid(b.bytes)) throw new Error(`${ref.path}: batch at position ${b.position} fails its CRC-32C check`);
      batches++;
      if (isControl(header.attributes)) continue;
      if (header.producerId >= 0) lastDataOffsets.set(header.producerId, Math.max(lastDataOffsets.get(header.producerId) ?? -1, lastOffset));
      const section = recordsSectionOf(b.bytes, header);
      scanRecords(section, header, (r) => {
        if (r.offset < from || r.keyStart < 0) return;
        map.put(section, r.keyStart, r.keyEnd, r.offset);
        stats.mapRecords++;
      });
    }
  }
  stats.mapKeys = map.size;
  return { map, endOffset: Math.max(from, to), scannedFrom, scannedTo: to };
}

/**
 * Step 2: producer id -> last offset of its last data batch, from the batch headers of the whole log; the
 * segments in [skipFrom, skipTo) were read whole by the map phase, which noted their producers in `last`.
 */
async function producerLastDataOffsets(
  job: CleanJob,
  fileOf: (ref: CleanerSegmentRef) => Promise<FileHandle>,
  throttler: Throttler,
  last: Map<number, number>,
  skipFrom: number,
  skipTo: number,
): Promise<void> {
  for (const ref of job.segments) {
    if (ref.baseOffset >= skipFrom && ref.baseOffset < skipTo) continue;
    const reader = new BatchReader(await fileOf(ref), ref.size, (n) => throttler.maybeThrottle(n), ref.path);
    for (let b = await reader.next(); b; b = await reader.next()) {
      const producerId = readProducerId(b.bytes);
      if (producerId < 0) continue;
      const attributes = b.bytes.readInt16BE(21);
      if (isControl(attributes)) continue;
      const baseOffset = b.bytes.readInt32BE(0) * 4294967296 + b.bytes.readUInt32BE(4);
      const lastOffset = baseOffset + b.bytes.readInt32BE(23);
      if (lastOffset > (last.get(producerId) ?? -1)) last.set(producerId, lastOffset);
    }
  }
}

function readProducerId(batch: Buffer): number {
  const hi = batch.readInt32BE(43);
  if (hi < 0) return -1;
  return hi * 4294967296 + batch.readUInt32BE(47);
}

/** Step 3a: Kafka's groupSegmentsBySize over the segments below endOffset (never the active segment). */
function groupSegments(job: CleanJob, endOffset: number): number[][] {
  const candidates: number[] = [];
  for (let i = 0; i < job.segments.length - 1; i++) {
    if (job.segments[i]!.baseOffset < endOffset) candidates.push(i);
  }
  const groups: number[][] = [];
  let k = 0;
  while (k < candidates.length) {
    const first = job.segments[candidates[k]!]!;
    const group = [candidates[k]!];
    let size = first.size;
    k++;
    while (k < candidates.length) {
      const i = candidates[k]!;
      const seg = job.segments[i]!;
      const upperBound = job.segments[i + 1]!.baseOffset - 1;
      if (size + seg.size > job.segmentBytes || upperBound - first.baseOffset > INT32_MAX) break;
      group.push(i);
      size += seg.size;
      k++;
    }
    groups.push(group);
  }
  return groups;
}

/** Step 3b: rewrites one group into `<base>.log.cleaned` and its indexes. */
async function cleanGroup(
  job: CleanJob,
  group: number[],
  map: OffsetMap,
  lastDataOffsets: Map<number, number>,
  fileOf: (ref: CleanerSegmentRef) => Promise<FileHandle>,
  throttler: Throttler,
  stats: CleanStats,
): Promise<{ cleaned: CleanedGroup; earliestDeleteHorizonMs: number }> {
  const refs = group.map((i) => job.segments[i]!);
  const baseOffset = refs[0]!.baseOffset;
  const paths = suffixedPaths(job.dir, baseOffset, CLEANED_SUFFIX);
  for (const p of [paths.log, paths.index, paths.timeIndex]) await unlinkIfExists(p);
  const out = await open(paths.log, 'wx', 0o644);
  const offsetIndex = new OffsetIndex(paths.index, baseOffset);
  const timeIndex = new TimeIndex(paths.timeIndex, baseOffset);
  let position = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytesSinceLastIndexEntry = 0;
  let maxTimestampSoFar = NO_TIMESTAMP;
  let offsetOfMaxTimestampSoFar = baseOffset;
  let earliestHorizon = -1;
  const now = job.nowMs;

  const flushPending = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const at = position - pendingBytes;
    await writeFullyAt(out, pending, at);
    stats.bytesWritten += pendingBytes;
    await throttler.maybeThrottle(pendingBytes);
    pending = [];
    pendingBytes = 0;
  };
  const emit = async (bytes: Buffer, lastOffset: number, maxTimestamp: number): Promise<void> => {
    // Segment.track's index rule, so the cleaned segment's indexes look like an appended one's.
    if (maxTimestamp > maxTimestampSoFar) {
      maxTimestampSoFar = maxTimestamp;
      offsetOfMaxTimestampSoFar = lastOffset;
    }
    if (bytesSinceLastIndexEntry > job.indexIntervalBytes) {
      offsetIndex.append(lastOffset, position);
      timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
      bytesSinceLastIndexEntry = 0;
    }
    bytesSinceLastIndexEntry += bytes.length;
    // The reader's buffer is reused: copy what is queued.
    pending.push(Buffer.from(bytes));
    pendingBytes += bytes.length;
    position += bytes.length;
    if (pendingBytes >= WRITE_CHUNK) await flushPending();
  };
  const noteHorizon = (h: number): void => {
    if (earliestHorizon < 0 || h < earliestHorizon) earliestHorizon = h;
  };

  try {
    let sizeBefore = 0;
    for (const ref of refs) {
      sizeBefore += ref.size;
      const reader = new BatchReader(await fileOf(ref), ref.size, async (n) => {
        stats.bytesRead += n;
        await throttler.maybeThrottle(n);
      }, ref.path);
      for (let b = await reader.next(); b; b = await reader.next()) {
        const batch = b.bytes;
        stats.batchesRead++;
        const header = readBatchHeader(batch);
        const lastOffset = header.baseOffset + header.lastOffsetDelta;
        if (isControl(header.attributes)) {
          await emit(batch, lastOffset, header.maxTimestamp);
          continue;
        }
        // A batch is only ever rewritten from bytes whose CRC holds (a copied batch keeps its own CRC).
        if (!isBatchCrcValid(batch)) throw new Error(`${ref.path}: batch at position ${b.position} fails its CRC-32C check`);
        const horizonSet = hasDeleteHorizon(header.attributes);
        const retainDeletes = !horizonSet || now < header.baseTimestamp;
        const section = recordsSectionOf(batch, header);
        const keep: boolean[] = [];
        let kept = 0;
        let tombstones = false;
        scanRecords(section, header, (r) => {
          stats.recordsRead++;
          let k: boolean;
          if (r.offset > map.latestOffset) k = true;
          else if (r.keyStart < 0) k = false;
          else {
            const latest = r.offset >= map.get(section, r.keyStart, r.keyEnd);
            k = latest && (!r.tombstone || retainDeletes);
            if (latest && r.tombstone && !retainDeletes) stats.tombstonesDropped++;
          }
          keep.push(k);
          if (k) {
            kept++;
            if (r.tombstone) tombstones = true;
          }
        });
        const dropped = kept < keep.length;
        const retained: RetainedRecord[] = [];
        if (kept > 0 && (dropped || (tombstones && !horizonSet))) {
          let i = 0;
          for (const r of iterateRecords(batch, compressionOf(header.attributes) === 0 ? undefined : section)) {
            if (keep[i++]) retained.push({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
          }
        }
        stats.recordsRetained += kept;
        if (kept > 0) {
          const needHorizon = tombstones && !horizonSet;
          if (!dropped && !needHorizon) {
            if (tombstones) noteHorizon(header.baseTimestamp);
            await emit(batch, lastOffset, header.maxTimestamp);
          } else {
            const horizon = needHorizon ? Math.min(now + job.deleteRetentionMs, Number.MAX_SAFE_INTEGER) : horizonSet ? header.baseTimestamp : -1;
            if (tombstones && horizon >= 0) noteHorizon(horizon);
            const rebuilt = await buildRetainedBatch(header, retained, horizon);
            stats.batchesRewritten++;
            await emit(rebuilt, lastOffset, rebuilt.readInt32BE(35) * 4294967296 + rebuilt.readUInt32BE(39));
          }
        } else if (header.producerId >= 0 && lastDataOffsets.get(header.producerId) === lastOffset) {
          stats.emptyBatchesKept++;
          await emit(buildEmptyBatchHeader(header), lastOffset, header.maxTimestamp);
        } else {
          stats.batchesDropped++;
        }
      }
    }
    await flushPending();
    // As Segment.onBecomeInactive: the time index ends with the segment's largest timestamp.
    if (position > 0) timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
    await out.datasync();
    await offsetIndex.persist(true);
    await timeIndex.persist(true);
    const mtime = Math.max(...refs.map((r) => r.lastModifiedMs)) / 1000;
    await out.close();
    await utimes(paths.log, mtime, mtime);
    return {
      cleaned: { replaces: refs.map((r) => r.baseOffset), baseOffset, sizeBefore, sizeAfter: position },
      earliestDeleteHorizonMs: earliestHorizon,
    };
  } catch (err) {
    await out.close().catch(() => undefined);
    for (const p of [paths.log, paths.index, paths.timeIndex]) await unlinkIfExists(p).catch(() => undefined);
    throw err;
  }
}
