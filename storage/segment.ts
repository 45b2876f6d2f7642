/**
 * One log segment: the file trio `<base>.log`, `<base>.index`, `<base>.timeindex` (Kafka's names, the base
 * offset as 20 zero-padded digits).
 *
 * `.log` holds RecordBatch v2 batches exactly as on the wire, base offsets assigned, back to back, nothing
 * else: batch i+1 starts where batch i ends (position + 12 + batchLength). Offsets increase strictly from
 * batch to batch (gaps are possible after compaction or follower appends) and every offset in the file is
 * >= the base offset with `lastOffset - baseOffset` fitting in an int32 (the indexes store relative
 * offsets). Positions fit in an int32 too: segments are rolled before 2 GiB.
 *
 * The segment keeps its indexes in memory (see offset-index.ts / time-index.ts) and knows:
 *   size                   bytes of the .log file that hold complete, acknowledged batches
 *   nextOffset             lastOffset + 1 of its last batch (base offset when empty); exact for the active
 *                          segment, and for a loaded older segment only once readNextOffset() ran
 *   maxTimestampSoFar      the largest batch maxTimestamp, and the last offset of the first batch with it
 * Only batch headers are read here; records are never decoded.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { BATCH_HEADER_SIZE, isBatchCrcValid, LOG_OVERHEAD } from '../protocol/records/batch.js';
import {
  BASE_OFFSET_POS,
  BATCH_LENGTH_POS,
  LAST_OFFSET_DELTA_POS,
  MAGIC_POS,
  MAX_TIMESTAMP_POS,
  offsetFileStem,
  openReadWrite,
  PARTITION_LEADER_EPOCH_POS,
  readAt,
  readInt64,
  writeFullyAt,
  writeFullyAtSync,
} from './file-util.js';
import { OffsetIndex } from './offset-index.js';
import type { ReadAlloc } from './read-buffers.js';
import { NO_TIMESTAMP, TimeIndex } from './time-index.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';

const INT32_MAX = 0x7fffffff;
/** Read-ahead when scanning batch headers. */
const SCAN_CHUNK = 64 * 1024;
/** Read-ahead when validating whole batches during recovery. */
const RECOVERY_CHUNK = 1024 * 1024;

/**
 * Appends are written synchronously (one pwritev into the page cache blocks the event loop for a few
 * microseconds, far less than the async round trip through the libuv pool costs in CPU). If one ever takes
 * longer than `slowMs` (dirty-page throttling, a slow disk; on a busy machine also a descheduling), appends
 * go back to asynchronous writes for `backoffMs` so the event loop is not held up. fsync stays asynchronous.
 */
export const syncWrites = {
  /** A synchronous write slower than this (ms) switches appends to asynchronous writes for backoffMs. */
  slowMs: 20,
  backoffMs: 2_000,
  /** Switched off by tests that exercise the asynchronous path. */
  allowed: true,
  asyncUntil: 0,
  /** Counters: synchronous writes, and those slower than slowMs. */
  count: 0,
  slow: 0,
  enabled(now: number): boolean {
    return this.allowed && now >= this.asyncUntil;
  },
  record(start: number, end: number): void {
    this.count++;
    if (end - start > this.slowMs) {
      this.slow++;
      this.asyncUntil = end + this.backoffMs;
    }
  },
};

/** What the append path knows about each batch, from the caller (no header parsing). */
export interface AppendedBatch {
  size: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface BatchLocation {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface SegmentRead {
  /** The bytes of whole batches (may be empty). */
  records: Buffer;
  /** True when the read stopped only because the segment ended (the caller may go on to the next segment). */
  reachedEnd: boolean;
}

export interface RecoveredBatch {
  baseOffset: number;
  partitionLeaderEpoch: number;
}

/**
 * A read window over a file: keeps one buffer of file bytes and refills it (one pread) when a range outside
 * it is asked for. Bounded by `end`, the byte count known to hold whole batches when the window was made.
 */
class FileWindow {
  buf: Buffer = Buffer.alloc(0);
  start = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly end: number,
    private readonly chunk: number,
    private readonly alloc?: ReadAlloc,
  ) {}

  /** Makes [pos, pos + len) available in `buf`; false when it lies past `end` (or the file is shorter). */
  async ensure(pos: number, len: number): Promise<boolean> {
    if (pos >= this.start && pos + len <= this.start + this.buf.length) return true;
    if (pos + len > this.end) return false;
    const n = Math.min(Math.max(len, this.chunk), this.end - pos);
    this.buf = await readAt(this.fh, pos, n, this.alloc);
    this.start = pos;
    return this.buf.length >= len;
  }

  /** Position of file byte `pos` inside `buf` (valid after ensure). */
  at(pos: number): number {
    return pos - this.start;
  }
}

/** Reads the header at `pos` (window already holds BATCH_HEADER_SIZE bytes there). */
function locate(w: FileWindow, pos: number): BatchLocation | null {
  const p = w.at(pos);
  const size = LOG_OVERHEAD + w.buf.readInt32BE(p + BATCH_LENGTH_POS);
  if (size < BATCH_HEADER_SIZE) return null;
  const baseOffset = readInt64(w.buf, p + BASE_OFFSET_POS);
  return {
    position: pos,
    size,
    baseOffset,
    lastOffset: baseOffset + w.buf.readInt32BE(p + LAST_OFFSET_DELTA_POS),
    maxTimestamp: readInt64(w.buf, p + MAX_TIMESTAMP_POS),
  };
}

export class Segment {
  size: number;
  nextOffset: number;
  maxTimestampSoFar = NO_TIMESTAMP;
  offsetOfMaxTimestampSoFar: number;
  /** maxTimestamp of the first batch (segment.ms rolls count from it); undefined = not loaded yet. */
  firstBatchTimestamp: number | undefined;
  bytesSinceLastIndexEntry = 0;
  lastModifiedMs: number;
  private deleted = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly fh: FileHandle,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
    size: number,
    readonly createdMs: number,
  ) {
    this.size = size;
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
    this.lastModifiedMs = createdMs;
    this.firstBatchTimestamp = size === 0 ? NO_TIMESTAMP : undefined;
  }

  static paths(dir: string, baseOffset: number): { log: string; index: string; timeIndex: string } {
    const stem = join(dir, offsetFileStem(baseOffset));
    return { log: stem + LOG_SUFFIX, index: stem + INDEX_SUFFIX, timeIndex: stem + TIME_INDEX_SUFFIX };
  }

  /** Creates a new empty segment (three empty files). An existing file of the same name is replaced. */
  static async create(dir: string, baseOffset: number, nowMs: number, logger: Logger): Promise<Segment> {
    const paths = Segment.paths(dir, baseOffset);
    let fh: FileHandle;
    try {
      fh = await openReadWrite(paths.log, true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      logger.warn({ file: paths.log }, 'new segment file already exists; replacing it');
      await unlink(paths.log);
      fh = await openReadWrite(paths.log, true);
    }
    const segment = new Segment(dir, baseOffset, fh, new OffsetIndex(paths.index, baseOffset), new TimeIndex(paths.timeIndex, baseOffset), 0, nowMs);
    await segment.offsetIndex.persist(false);
    await segment.timeIndex.persist(false);
    return segment;
  }

  /**
   * Opens an existing segment. `indexProblem` says why its indexes cannot be trusted (missing, malformed,
   * pointing past the data); the caller then runs recover(), which rebuilds them.
   */
  static async load(dir: string, baseOffset: number): Promise<{ segment: Segment; indexProblem: string | null }> {
    const paths = Segment.paths(dir, baseOffset);
    const fh = await openReadWrite(paths.log);
    try {
      const st = await fh.stat();
      const offsetLoaded = await OffsetIndex.load(paths.index, baseOffset);
      const timeLoaded = await TimeIndex.load(paths.timeIndex, baseOffset);
      const segment = new Segment(
        dir,
        baseOffset,
        fh,
        offsetLoaded?.index ?? new OffsetIndex(paths.index, baseOffset),
        timeLoaded?.index ?? new TimeIndex(paths.timeIndex, baseOffset),
        st.size,
        st.mtimeMs,
      );
      segment.lastModifiedMs = st.mtimeMs;
      let problem: string | null = null;
      if (!offsetLoaded) problem = 'offset index is missing';
      else if (!timeLoaded) problem = 'time index is missing';
      else if (offsetLoaded.problem) problem = `offset index: ${offsetLoaded.problem}`;
      else if (timeLoaded.problem) problem = `time index: ${timeLoaded.problem}`;
      else problem = await segment.checkIndexes();
      if (!problem) {
        const last = segment.timeIndex.lastEntry();
        segment.maxTimestampSoFar = last.timestamp;
        segment.offsetOfMaxTimestampSoFar = last.offset;
        const lastEntry = segment.offsetIndex.lastEntry();
        segment.bytesSinceLastIndexEntry = segment.size - lastEntry.position;
      }
      return { segment, indexProblem: problem };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Cheap consistency checks of loaded indexes against the log: the last offset index entry must point at a batch whose last offset it names. */
  private async checkIndexes(): Promise<string | null> {
    if (this.offsetIndex.entries > 0) {
      const last = this.offsetIndex.lastEntry();
      if (last.position + BATCH_HEADER_SIZE > this.size) return `last offset index entry points past the log (${last.position} >= ${this.size})`;
      const w = new FileWindow(this.fh, this.size, BATCH_HEADER_SIZE);
      if (!(await w.ensure(last.position, BATCH_HEADER_SIZE))) return 'cannot read the batch of the last offset index entry';
      const batch = locate(w, last.position);
      if (!batch || batch.lastOffset !== last.offset || batch.position + batch.size > this.size) {
        return `last offset index entry (${last.offset} at ${last.position}) does not match the log`;
      }
    }
    if (this.timeIndex.entries > 0 && this.size === 0) return 'time index has entries but the log is empty';
    return null;
  }

  // ---------------------------------------------------------------------------------------------- append

  /**
   * Why an append of `appendBytes` bytes (offsets firstOffset..lastOffset, largest timestamp given) must go
   * to a new segment, or null. `pendingBytes` are bytes already queued for this segment but not written.
   * Kafka's LogSegment.shouldRoll, without segment.jitter.ms.
   */
  shouldRoll(
    config: { segmentBytes: number; segmentMs: number; segmentIndexBytes: number },
    pendingBytes: number,
    appendBytes: number,
    firstOffset: number,
    lastOffset: number,
    maxTimestampInAppend: number,
    nowMs: number,
  ): string | null {
    if (firstOffset < this.baseOffset || lastOffset - this.baseOffset > INT32_MAX) return 'relative offsets would not fit an int32';
    const size = this.size + pendingBytes;
    if (size === 0) return null;
    if (size > config.segmentBytes - appendBytes) return 'segment.bytes';
    if (size + appendBytes > INT32_MAX) return 'positions would not fit an int32';
    if (this.offsetIndex.isFull(config.segmentIndexBytes)) return 'offset index full';
    if (this.timeIndex.isFull(config.segmentIndexBytes)) return 'time index full';
    const first = this.firstBatchTimestamp ?? NO_TIMESTAMP;
    const waited = first >= 0 ? maxTimestampInAppend - first : nowMs - this.createdMs;
    if (waited > config.segmentMs) return 'segment.ms';
    return null;
  }

  /** Undoes a failed write: cuts the file back to `position`. */
  async rollbackTo(position: number): Promise<void> {
    await this.fh.truncate(position);
  }

  /** Loads firstBatchTimestamp when unknown (one small read). */
  async loadFirstBatchTimestamp(): Promise<void> {
    if (this.firstBatchTimestamp !== undefined) return;
    if (this.size < BATCH_HEADER_SIZE) {
      this.firstBatchTimestamp = NO_TIMESTAMP;
      return;
    }
    const w = new FileWindow(this.fh, this.size, BATCH_HEADER_SIZE);
    this.firstBatchTimestamp = (await w.ensure(0, BATCH_HEADER_SIZE)) ? (locate(w, 0)?.maxTimestamp ?? NO_TIMESTAMP) : NO_TIMESTAMP;
  }

  /**
   * Writes already offset-stamped batch bytes at the end of the file (no bookkeeping). Synchronously into
   * the page cache while such writes stay quick (see syncWrites below); a failure rejects the promise
   * either way, so the caller's rollback is the same.
   */
  write(buffers: Buffer[], position: number): Promise<number> {
    if (!syncWrites.enabled(performance.now())) return writeFullyAt(this.fh, buffers, position);
    try {
      const start = performance.now();
      const n = writeFullyAtSync(this.fh.fd, buffers, position);
      syncWrites.record(start, performance.now());
      return Promise.resolve(n);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Bookkeeping after a successful write at `position` (the previous size): indexes, size, timestamps. */
  recordAppend(position: number, batches: readonly AppendedBatch[], nowMs: number, indexIntervalBytes: number): void {
    let pos = position;
    for (const b of batches) {
      this.track(pos, b.size, b.lastOffset, b.maxTimestamp, indexIntervalBytes);
      pos += b.size;
    }
    this.size = pos;
    this.lastModifiedMs = nowMs;
  }

  /** Kafka's per-batch index rule: an entry for the batch at `pos` when more than indexIntervalBytes were appended since the last one. */
  private track(pos: number, size: number, lastOffset: number, maxTimestamp: number, indexIntervalBytes: number): void {
    if (pos === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = maxTimestamp;
      this.offsetOfMaxTimestampSoFar = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, pos);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }

  /** The segment stops being the active one (roll, close): record its largest timestamp in the time index. */
  onBecomeInactive(): void {
    if (this.size > 0) this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
  }

  // ------------------------------------------------------------------------------------------------ read

  /** The first batch with lastOffset >= offset, found from the sparse index plus a short header scan. */
  async findBatch(offset: number, end = this.size, w?: FileWindow): Promise<BatchLocation | null> {
    const window = w ?? new FileWindow(this.fh, end, SCAN_CHUNK);
    let pos = this.offsetIndex.lookup(offset).position;
    while (pos < end) {
      if (!(await window.ensure(pos, BATCH_HEADER_SIZE))) return null;
      const batch = locate(window, pos);
      if (!batch) return null;
      if (batch.lastOffset >= offset) return batch;
      pos += batch.size;
    }
    return null;
  }

  /**
   * Whole batches from the one containing `offset`: at most `maxBytes` of them (at least the first when
   * `minOneMessage`), none whose lastOffset >= `maxOffset`. Null when no batch here has lastOffset >= offset.
   * `alloc` supplies the read buffers (pooled ones on the fetch path, see read-buffers.ts); the returned
   * records may be a view of one of them.
   */
  async read(offset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, indexIntervalBytes: number, alloc?: ReadAlloc): Promise<SegmentRead | null> {
    const end = this.size;
    const budget = Math.max(0, Math.min(maxBytes, 64 * 1024 * 1024));
    const w = new FileWindow(this.fh, end, budget + 2 * indexIntervalBytes + BATCH_HEADER_SIZE, alloc);
    const first = await this.findBatch(offset, end, w);
    if (!first) return null;
    let pos = first.position;
    let total = 0;
    let reachedEnd = false;
    for (;;) {
      if (pos >= end) {
        reachedEnd = true;
        break;
      }
      if (!(await w.ensure(pos, BATCH_HEADER_SIZE))) break;
      const batch = locate(w, pos);
      if (!batch || pos + batch.size > end) break;
      if (batch.lastOffset >= maxOffset) break;
      if (total + batch.size > maxBytes && !(total === 0 && minOneMessage)) break;
      total += batch.size;
      pos += batch.size;
    }
    if (total === 0) return { records: Buffer.alloc(0), reachedEnd };
    const start = first.position;
    const records = start >= w.start && start + total <= w.start + w.buf.length ? w.buf.subarray(w.at(start), w.at(start) + total) : await readAt(this.fh, start, total, alloc);
    // A concurrent truncation can shorten the file under us: return only whole batches.
    return { records: records.length === total ? records : trimToWholeBatches(records), reachedEnd };
  }

  /** The first batch with maxTimestamp >= timestamp and lastOffset >= startingOffset (Kafka's findOffsetByTimestamp, at batch granularity). */
  async findByTimestamp(timestamp: number, startingOffset: number): Promise<BatchLocation | null> {
    const end = this.size;
    const fromTime = this.timeIndex.lookup(timestamp);
    let pos = this.offsetIndex.lookup(Math.max(fromTime.offset, startingOffset)).position;
    const w = new FileWindow(this.fh, end, SCAN_CHUNK);
    while (pos < end) {
      if (!(await w.ensure(pos, BATCH_HEADER_SIZE))) return null;
      const batch = locate(w, pos);
      if (!batch) return null;
      if (batch.maxTimestamp >= timestamp && batch.lastOffset >= startingOffset) return batch;
      pos += batch.size;
    }
    return null;
  }

  /**
   * Scans from the last offset index entry to the end: sets nextOffset and folds the scanned batches into
   * maxTimestampSoFar. Returns false when the tail is not a sequence of whole batches (recovery needed).
   */
  async readNextOffset(): Promise<boolean> {
    const entry = this.offsetIndex.lastEntry();
    let pos = entry.position;
    const w = new FileWindow(this.fh, this.size, SCAN_CHUNK);
    let next = this.baseOffset;
    while (pos < this.size) {
      if (!(await w.ensure(pos, BATCH_HEADER_SIZE))) return false;
      const batch = locate(w, pos);
      if (!batch || pos + batch.size > this.size || batch.baseOffset < next || batch.lastOffset < batch.baseOffset) return false;
      if (batch.maxTimestamp > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = batch.maxTimestamp;
        this.offsetOfMaxTimestampSoFar = batch.lastOffset;
      }
      next = batch.lastOffset + 1;
      pos += batch.size;
    }
    this.nextOffset = next;
    this.bytesSinceLastIndexEntry = this.size - entry.position;
    return true;
  }

  /**
   * Validates every batch (length, magic 2, CRC-32C, increasing offsets within this segment) and rebuilds
   * both indexes from them; the file is truncated at the first invalid batch. Calls `onBatch` for each valid
   * batch (leader epoch cache rebuild). Returns the number of bytes truncated and why.
   */
  async recover(indexIntervalBytes: number, onBatch?: (b: RecoveredBatch) => void): Promise<{ truncatedBytes: number; reason: string | null }> {
    const fileSize = (await this.fh.stat()).size;
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestampSoFar = NO_TIMESTAMP;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    this.firstBatchTimestamp = NO_TIMESTAMP;
    const w = new FileWindow(this.fh, fileSize, RECOVERY_CHUNK);
    let pos = 0;
    let reason: string | null = null;
    while (pos < fileSize) {
      if (!(await w.ensure(pos, LOG_OVERHEAD))) {
        reason = `${fileSize - pos} trailing bytes, too few for a batch`;
        break;
      }
      const size = LOG_OVERHEAD + w.buf.readInt32BE(w.at(pos) + BATCH_LENGTH_POS);
      if (size < BATCH_HEADER_SIZE) {
        reason = `batch length ${size - LOG_OVERHEAD} at position ${pos} is too small`;
        break;
      }
      if (pos + size > fileSize || !(await w.ensure(pos, size))) {
        reason = `batch at position ${pos} of ${size} bytes runs past the end of the file (${fileSize})`;
        break;
      }
      const p = w.at(pos);
      const magic = w.buf.readInt8(p + MAGIC_POS);
      if (magic !== 2) {
        reason = `batch at position ${pos} has magic ${magic}`;
        break;
      }
      if (!isBatchCrcValid(w.buf, p)) {
        reason = `batch at position ${pos} fails its CRC-32C check`;
        break;
      }
      const batch = locate(w, pos)!;
      if (batch.baseOffset < this.nextOffset || batch.lastOffset < batch.baseOffset || batch.lastOffset - this.baseOffset > INT32_MAX || !Number.isSafeInteger(batch.lastOffset)) {
        reason = `batch at position ${pos} has offsets ${batch.baseOffset}..${batch.lastOffset}, expected >= ${this.nextOffset}`;
        break;
      }
      this.track(pos, size, batch.lastOffset, batch.maxTimestamp, indexIntervalBytes);
      onBatch?.({ baseOffset: batch.baseOffset, partitionLeaderEpoch: w.buf.readInt32BE(p + PARTITION_LEADER_EPOCH_POS) });
      pos += size;
    }
    const truncatedBytes = fileSize - pos;
    if (truncatedBytes > 0) {
      await this.fh.truncate(pos);
      await this.fh.datasync();
    }
    this.size = pos;
    // As Kafka's LogSegment.recover: end the time index with the segment's largest timestamp.
    this.onBecomeInactive();
    await this.offsetIndex.persist(true);
    await this.timeIndex.persist(true);
    return { truncatedBytes, reason };
  }

  /**
   * Drops every batch with lastOffset >= offset (a batch containing `offset` goes whole). Returns the bytes
   * removed. Afterwards nextOffset is the end of the last kept batch.
   */
  async truncateTo(offset: number): Promise<number> {
    const batch = await this.findBatch(offset);
    if (!batch) return 0;
    const removed = this.size - batch.position;
    await this.fh.truncate(batch.position);
    this.size = batch.position;
    this.offsetIndex.truncate(batch.baseOffset, batch.position);
    this.timeIndex.truncate(batch.baseOffset);
    const last = this.timeIndex.lastEntry();
    this.maxTimestampSoFar = last.timestamp;
    this.offsetOfMaxTimestampSoFar = last.offset;
    if (this.size === 0) this.firstBatchTimestamp = NO_TIMESTAMP;
    if (!(await this.readNextOffset())) throw new Error(`segment ${this.baseOffset}: unreadable batches after truncation`);
    return removed;
  }

  // --------------------------------------------------------------------------------------------- files

  /** Largest timestamp for retention: the largest batch timestamp, or the file's last modification time. */
  get largestTimestamp(): number {
    return this.maxTimestampSoFar >= 0 ? this.maxTimestampSoFar : this.lastModifiedMs;
  }

  /** fsync the .log data only (the hot-path flush; indexes are rebuilt after a crash). */
  async flushData(): Promise<void> {
    await this.fh.datasync();
  }

  /** Writes pending index entries and fsyncs all three files. */
  async flushAll(): Promise<void> {
    await this.offsetIndex.persist(true);
    await this.timeIndex.persist(true);
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** First step of deletion: rename the three files to `*.deleted`; reads in flight keep working. */
  async markDeleted(): Promise<void> {
    if (this.deleted) return;
    const paths = Segment.paths(this.dir, this.baseOffset);
    for (const path of [paths.log, paths.index, paths.timeIndex]) {
      try {
        await rename(path, path + DELETED_SUFFIX);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.offsetIndex.path = paths.index + DELETED_SUFFIX;
    this.timeIndex.path = paths.timeIndex + DELETED_SUFFIX;
    this.deleted = true;
  }

  /** Last step of deletion: close and unlink the `*.deleted` files. */
  async deleteFiles(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    const paths = Segment.paths(this.dir, this.baseOffset);
    const suffix = this.deleted ? DELETED_SUFFIX : '';
    for (const path of [paths.log, paths.index, paths.timeIndex]) {
      try {
        await unlink(path + suffix);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
}

/**
 * The offset after the last whole batch at the start of a segment file (headers only; stops at the first
 * batch that does not fit or goes back), or `baseOffset` when there is none. Used on `.swap` files.
 */
export async function scanNextOffset(path: string, baseOffset: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const w = new FileWindow(fh, size, SCAN_CHUNK);
    let pos = 0;
    let next = baseOffset;
    while (pos < size) {
      if (!(await w.ensure(pos, BATCH_HEADER_SIZE))) break;
      const batch = locate(w, pos);
      if (!batch || pos + batch.size > size || batch.baseOffset < next || batch.lastOffset < batch.baseOffset) break;
      next = batch.lastOffset + 1;
      pos += batch.size;
    }
    return next;
  } finally {
    await fh.close();
  }
}

/** Cuts a buffer that a concurrent truncation shortened back to its whole batches. */
function trimToWholeBatches(buf: Buffer): Buffer {
  let pos = 0;
  while (buf.length - pos >= BATCH_HEADER_SIZE) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_POS);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) break;
    pos += size;
  }
  return buf.subarray(0, pos);
}

/**
 * Checks that a segment file (a `.log.swap` before its swap is completed) is whole, valid batches: every
 * length in bounds, magic 2, CRC-32C correct, offsets at or above `baseOffset` and increasing, no bytes
 * after the last batch. Returns the offset after the last batch and the batch count, or why it is not.
 */
export async function verifySegmentFile(path: string, baseOffset: number): Promise<{ ok: true; nextOffset: number; batches: number } | { ok: false; reason: string }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const w = new FileWindow(fh, size, RECOVERY_CHUNK);
    let pos = 0;
    let next = baseOffset;
    let batches = 0;
    while (pos < size) {
      if (!(await w.ensure(pos, BATCH_HEADER_SIZE))) return { ok: false, reason: `${size - pos} trailing bytes at position ${pos}, too few for a batch` };
      const batch = locate(w, pos);
      if (!batch) return { ok: false, reason: `batch length at position ${pos} is too small` };
      if (pos + batch.size > size || !(await w.ensure(pos, batch.size))) return { ok: false, reason: `batch at position ${pos} of ${batch.size} bytes runs past the end of the file (${size})` };
      const p = w.at(pos);
      const magic = w.buf.readInt8(p + MAGIC_POS);
      if (magic !== 2) return { ok: false, reason: `batch at position ${pos} has magic ${magic}` };
      if (!isBatchCrcValid(w.buf, p)) return { ok: false, reason: `batch at position ${pos} fails its CRC-32C check` };
      if (batch.baseOffset < next || batch.lastOffset < batch.baseOffset || !Number.isSafeInteger(batch.lastOffset) || batch.lastOffset - baseOffset > INT32_MAX) {
        return { ok: false, reason: `batch at position ${pos} has offsets ${batch.baseOffset}..${batch.lastOffset}, expected >= ${next}` };
      }
      next = batch.lastOffset + 1;
      pos += batch.size;
      batches++;
    }
    return { ok: true, nextOffset: next, batches };
  } finally {
    await fh.close();
  }
}
