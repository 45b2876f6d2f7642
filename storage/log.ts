/**
 * The durable log of one partition: the ordered segments in `<log dir>/<topic>-<partition>/`.
 *
 * Directory layout (Kafka's, plus two small Samsa files):
 *   00000000000000000000.log / .index / .timeindex   one trio per segment, see segment.ts
 *   leader-epoch-checkpoint                          see leader-epoch-cache.ts
 *   partition.metadata                               "version: 0\ntopic_id: <id>\n" (Kafka's format)
 *   log-start-offset                                 "0\n<offset>\n": the start offset set by DeleteRecords
 *                                                    (Kafka keeps it in a log-dir-wide checkpoint file)
 *   clean-shutdown                                   present only while the log is cleanly closed
 *   *.deleted                                        segments waiting for file.delete.delay.ms
 *   *.cleaned, *.swap                                a cleaned segment being written / swapped in
 *                                                    (compaction, see cleaner.ts and replaceWithCleaned)
 *
 * Invariants:
 *   - segments are sorted by base offset; only the last one (the active segment) is written;
 *   - logStartOffset <= logEndOffset (LEO) = the active segment's nextOffset;
 *   - no closed segment lies wholly below logStartOffset: every segment after the first starts above it,
 *     the active one at or above it (DeleteRecords, retention and roll delete the rest; only a crash in the
 *     middle of DeleteRecords can leave one, until the next retention pass);
 *   - every segment before the active one was fsynced (data and indexes) when it was rolled, so after an
 *     unclean stop only the active segment (and any segment with missing or inconsistent indexes) is scanned;
 *   - offsets only grow: an empty log starts at the last start offset, deletion never resets the LEO.
 *
 * Durability: as in Kafka, by default an append resolves once its bytes are in the page cache; fsync happens
 * when a segment is rolled, on flush() and on close. A crash of the process loses nothing that append
 * resolved (the kernel still has it); a power loss or kernel crash can lose every append since the last
 * roll or flush, and the next open truncates whatever tail is torn (offsets after it are then assigned
 * again). With flush.messages=1 an append resolves only after fdatasync of the segment; appends that queue
 * up meanwhile share the next fdatasync. flush.ms bounds the time data stays unsynced.
 *
 * Concurrency: appends, rolls, truncation, retention, flush and close run one at a time, in call order, on
 * an internal queue. Appends that arrive while an earlier operation is still running are grouped and
 * written with one writev (and, with flush.messages, share one fsync: group commit). Reads run
 * concurrently; they see only batches whose write completed. Deleted segments are renamed `.deleted` and
 * unlinked after file.delete.delay.ms, so a read in flight keeps a valid file handle.
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { batchSize, setBaseOffset, setPartitionLeaderEpoch } from '../protocol/records/batch.js';
import { InvalidAppendError, KafkaStorageError, LogDirFailureError, OffsetOutOfRangeError } from './errors.js';
import {
  fileExists,
  fsyncDir,
  LAST_OFFSET_DELTA_POS,
  partitionDirNameWithSuffix,
  PARTITION_LEADER_EPOCH_POS,
  readInt64,
  unlinkIfExists,
  writeFileAtomic,
} from './file-util.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import type { ReadAlloc } from './read-buffers.js';
import { TailCache } from './tail-cache.js';
import { hasDeletePolicy, type LogConfig } from './log-config.js';
import { CLEANED_SUFFIX, type CleanedGroup, SWAP_SUFFIX, suffixedPaths } from './cleaner.js';
import { type AppendedBatch, DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, scanNextOffset, Segment, TIME_INDEX_SUFFIX, verifySegmentFile } from './segment.js';

export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';
export const LOG_START_OFFSET_FILE = 'log-start-offset';
export const PARTITION_METADATA_FILE = 'partition.metadata';

export interface LogOptions {
  logger?: Logger;
  now?: () => number;
}

/** Where one batch lies in the buffer handed to append, with the header facts the caller already parsed. */
export interface AppendPosition {
  pos: number;
  size: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
}

export interface AppendResult {
  firstOffset: number;
  lastOffset: number;
  logAppendTimeMs: number;
}

export interface ReadResult {
  records: Buffer[];
  sizeInBytes: number;
}

interface PendingAppend {
  batches: Buffer;
  positions: readonly AppendPosition[];
  /** The epoch to stamp; null for a follower append, which keeps the batches' offsets and epochs. */
  leaderEpoch: number | null;
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** Batches of one group waiting to be written to the active segment with one writev. */
interface Chunk {
  buffers: Buffer[];
  meta: AppendedBatch[];
  bytes: number;
  requests: { request: PendingAppend; result: AppendResult; epochs: { epoch: number; offset: number }[] }[];
}

const INT32_MAX = 0x7fffffff;
const SEGMENT_FILE = /^(\d{20})\.log$/;
const SEGMENT_FILE_ANY = /^(\d{20})\.(log|index|timeindex)$/;
const SWAP_LOG_FILE = /^(\d{20})\.log\.swap$/;
const SEGMENT_LOG_OR_DELETED = /^(\d{20})\.log(\.deleted)?$/;

/** One segment as the log cleaner sees it (see cleanerView). */
export interface CleanerSegmentView {
  readonly segment: Segment;
  readonly baseOffset: number;
  readonly size: number;
  readonly path: string;
  readonly largestTimestamp: number;
  readonly lastModifiedMs: number;
}

/** Fault injection for tests: called at each step of a swap; throwing there stands for a crash. */
export type SwapFaultHook = (step: 'swap' | 'deleted') => void;

export class Log {
  config: LogConfig;
  readonly leaderEpochCache: LeaderEpochCache;
  private segments: Segment[] = [];
  private startOffset = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private openGroup: PendingAppend[] | null = null;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly pendingDeletes = new Map<Segment, NodeJS.Timeout | null>();
  private closed = false;
  private failure: Error | null = null;
  /** Bumped by every truncation: a cleaning pass started before one must not swap its result in. */
  private layoutGeneration = 0;
  /** The last batches written to the active segment, for tail reads (tail-cache.ts). */
  readonly tailCache: TailCache;

  private constructor(
    readonly dir: string,
    config: LogConfig,
    private readonly logger: Logger,
    private readonly now: () => number,
    leaderEpochCache: LeaderEpochCache,
  ) {
    this.config = config;
    this.lastFlushMs = now();
    this.leaderEpochCache = leaderEpochCache;
    this.tailCache = new TailCache(config.tailCacheBytes ?? 0);
  }

  // ---------------------------------------------------------------------------------------------- open

  /** Opens (creating if needed) the log in `dir`, recovering it after an unclean stop. */
  static async open(dir: string, config: LogConfig, options: LogOptions = {}): Promise<Log> {
    const logger = (options.logger ?? pino({ level: 'silent' })).child({ log: basename(dir) });
    await mkdir(dir, { recursive: true });
    let log: Log | undefined;
    const cache = await LeaderEpochCache.load(dir, () => log?.logEndOffset ?? 0, logger);
    log = new Log(dir, config, logger, options.now ?? Date.now, cache);
    try {
      await log.load();
    } catch (err) {
      await Promise.all(log.segments.map((s) => s.close().catch(() => undefined)));
      throw err;
    }
    return log;
  }

  /**
   * Resolves what an interrupted deletion or compaction left (Kafka's LogLoader): `.tmp` and `.cleaned`
   * files go; a `<base>.log.swap` is a cleaned segment whose swap did not finish. It is verified first
   * (verifySwap); a verified one replaces the segment files it covers (base offsets in [base, its next
   * offset), live or already renamed `.deleted`) and is renamed into place with its index swaps. One that
   * does not verify is moved aside as `.log.swap.invalid` and the original segments are kept (restored from
   * `.deleted` if the swap had got that far): data is never deleted on the strength of an unverified file.
   * Then `.deleted` files and index swaps without their log swap go.
   */
  private async resolveLeftoverFiles(): Promise<void> {
    const swaps: number[] = [];
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp') || name.endsWith(CLEANED_SUFFIX)) {
        this.logger.info({ file: name }, 'removing leftover file');
        await unlinkIfExists(join(this.dir, name));
        continue;
      }
      const m = SWAP_LOG_FILE.exec(name);
      if (m) swaps.push(Number(m[1]));
    }
    for (const base of swaps.sort((a, b) => a - b)) await this.completeOrAbandonSwap(base);
    for (const name of await readdir(this.dir)) {
      if (name.endsWith(DELETED_SUFFIX)) {
        this.logger.info({ file: name }, 'removing leftover file');
        await unlinkIfExists(join(this.dir, name));
      } else if (name.endsWith(SWAP_SUFFIX)) {
        this.logger.warn({ file: name }, 'removing an index .swap file without its .log.swap');
        await unlinkIfExists(join(this.dir, name));
      }
    }
  }

  /** Segment base offsets present as `<base>.log` (live) or `<base>.log.deleted`. */
  private async segmentFiles(): Promise<{ live: Set<number>; deleted: Set<number> }> {
    const live = new Set<number>();
    const deleted = new Set<number>();
    for (const name of await readdir(this.dir)) {
      const m = SEGMENT_LOG_OR_DELETED.exec(name);
      if (m) (m[2] ? deleted : live).add(Number(m[1]));
    }
    return { live, deleted };
  }

  /**
   * Why the `.log.swap` at `base` cannot be trusted to replace segments, or null with the offset after its
   * last batch: it must be whole CRC-valid batches (none only when its index swaps are there too, as the
   * cleaner writes an emptied group), leave the active segment alone, and not reach past the last offset of
   * the segments it replaces. (A valid file cut exactly at a batch boundary cannot be told from a cleaned
   * one; it replaces only the segments its offsets reach.)
   */
  private async verifySwap(base: number, path: string): Promise<{ problem: string } | { next: number }> {
    const v = await verifySegmentFile(path, base);
    if (!v.ok) return { problem: v.reason };
    // A pass that dropped every record of a group swaps in an empty segment, written with its two index
    // swaps; an empty .log.swap alone (a truncated file) does not replace anything.
    const swapIndexes = suffixedPaths(this.dir, base, SWAP_SUFFIX);
    if (v.batches === 0 && !((await fileExists(swapIndexes.index)) && (await fileExists(swapIndexes.timeIndex)))) {
      return { problem: 'it holds no batch, and no index swaps were written with it' };
    }
    const next = Math.max(v.nextOffset, base + 1);
    const { live, deleted } = await this.segmentFiles();
    const originals = [...live, ...deleted].filter((b) => b >= base && b < next).sort((a, b) => a - b);
    if (![...live].some((b) => b >= next)) return { problem: `it covers offsets up to ${next - 1}, which would replace the active segment` };
    // With file.delete.delay.ms=0 the replaced segments may be gone already: the swap then replaces nothing.
    const last = originals[originals.length - 1];
    if (last !== undefined) {
      const lastPath = Segment.paths(this.dir, last).log + (live.has(last) ? '' : DELETED_SUFFIX);
      const originalsEnd = await scanNextOffset(lastPath, last);
      if (next > originalsEnd) return { problem: `it ends at offset ${next - 1}, past the last offset ${originalsEnd - 1} of the segments it replaces` };
    }
    return { next };
  }

  private async completeOrAbandonSwap(base: number): Promise<void> {
    const swap = suffixedPaths(this.dir, base, SWAP_SUFFIX);
    const verdict = await this.verifySwap(base, swap.log);
    if ('problem' in verdict) {
      const { live, deleted } = await this.segmentFiles();
      // Segments of this swap already renamed `.deleted` come back: from `base` up to the next live segment
      // (retention and DeleteRecords only ever delete segments below every live one).
      const nextLive = Math.min(...[...live].filter((b) => b > base));
      const restored: number[] = [];
      for (const b of [...deleted].filter((d) => d >= base && d < nextLive && !live.has(d))) {
        const paths = Segment.paths(this.dir, b);
        for (const p of [paths.log, paths.index, paths.timeIndex]) {
          if (await fileExists(p + DELETED_SUFFIX)) await rename(p + DELETED_SUFFIX, p);
        }
        restored.push(b);
      }
      const keptAs = `${swap.log}.invalid`;
      await rename(swap.log, keptAs);
      await unlinkIfExists(swap.index);
      await unlinkIfExists(swap.timeIndex);
      await fsyncDir(this.dir);
      this.logger.error(
        { segment: base, reason: verdict.problem, keptAs: basename(keptAs), restoredSegments: restored },
        'a .log.swap file failed verification: the segments it would replace are kept and the file is moved aside',
      );
      return;
    }
    const replaced: string[] = [];
    for (const name of await readdir(this.dir)) {
      const m = SEGMENT_FILE_ANY.exec(name);
      if (!m) continue;
      const offset = Number(m[1]);
      if (offset >= base && offset < verdict.next) {
        await unlinkIfExists(join(this.dir, name));
        replaced.push(name);
      }
    }
    const final = Segment.paths(this.dir, base);
    for (const [from, to] of [
      [swap.index, final.index],
      [swap.timeIndex, final.timeIndex],
      [swap.log, final.log],
    ] as const) {
      if (await fileExists(from)) await rename(from, to);
    }
    await fsyncDir(this.dir);
    this.logger.warn({ segment: base, replacedFiles: replaced, nextOffset: verdict.next }, 'completed an interrupted compaction swap: cleaned segment renamed into place');
  }

  private async load(): Promise<void> {
    const markerPath = join(this.dir, CLEAN_SHUTDOWN_FILE);
    const clean = await fileExists(markerPath);
    await this.resolveLeftoverFiles();
    const names = await readdir(this.dir);
    const bases: number[] = [];
    const stems = new Set<string>();
    for (const name of names) {
      const m = SEGMENT_FILE.exec(name);
      if (m) {
        bases.push(Number(m[1]));
        stems.add(m[1]!);
      }
    }
    for (const name of names) {
      for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
        if (name.endsWith(suffix) && !stems.has(name.slice(0, -suffix.length))) {
          this.logger.warn({ file: name }, 'removing an index file without its .log file');
          await unlinkIfExists(join(this.dir, name));
        }
      }
    }
    bases.sort((a, b) => a - b);

    let persistedStart = 0;
    try {
      const text = await readFile(join(this.dir, LOG_START_OFFSET_FILE), 'utf8');
      const lines = text.split('\n');
      const v = Number(lines[1]);
      if (lines[0] === '0' && lines[1] !== '' && Number.isSafeInteger(v) && v >= 0) persistedStart = v;
      else {
        // Written atomically, so only outside damage makes it unreadable. Ignoring it would serve again
        // the records DeleteRecords removed; Kafka fails the log dir on a corrupt checkpoint, so does this.
        const path = join(this.dir, LOG_START_OFFSET_FILE);
        throw new LogDirFailureError(
          `Malformed ${LOG_START_OFFSET_FILE} file ${path}: expected "0" and an offset; refusing to start rather than serve records deleted below the log start offset again. Restore it, or remove it to start the log at its first segment.`,
          path,
        );
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }

    const recovered: string[] = [];
    const onBatch = (b: { baseOffset: number; partitionLeaderEpoch: number }): void => {
      if (b.partitionLeaderEpoch >= 0 && b.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch()) {
        this.leaderEpochCache.assign(b.partitionLeaderEpoch, b.baseOffset);
      }
    };
    const recover = async (segment: Segment, why: string): Promise<void> => {
      const { truncatedBytes, reason } = await segment.recover(this.config.indexIntervalBytes, onBatch);
      recovered.push(`${segment.baseOffset}`);
      const info = { segment: segment.baseOffset, why, validBytes: segment.size, nextOffset: segment.nextOffset };
      if (truncatedBytes > 0) this.logger.warn({ ...info, truncatedBytes, reason }, 'recovered segment: truncated invalid bytes');
      else this.logger.info(info, 'recovered segment');
    };

    for (let i = 0; i < bases.length; i++) {
      const { segment, indexProblem } = await Segment.load(this.dir, bases[i]!);
      this.segments.push(segment);
      const isLast = i === bases.length - 1;
      if (indexProblem) {
        await recover(segment, `index rebuilt: ${indexProblem}`);
      } else if (isLast && !clean) {
        await recover(segment, 'unclean shutdown');
      } else if (isLast) {
        const ok = await segment.readNextOffset();
        const timeLast = segment.timeIndex.lastEntry();
        if (!ok) await recover(segment, 'clean shutdown marker present but the tail is not whole batches');
        else if (segment.timeIndex.entries > 0 && timeLast.offset >= segment.nextOffset) {
          await recover(segment, 'time index points past the last batch');
        }
      }
    }
    if (this.segments.length === 0) {
      this.segments.push(await Segment.create(this.dir, persistedStart, this.now(), this.logger));
      await fsyncDir(this.dir);
      await fsyncDir(dirname(this.dir));
    }
    await this.active.loadFirstBatchTimestamp();

    const leo = this.logEndOffset;
    this.startOffset = Math.min(Math.max(this.segments[0]!.baseOffset, persistedStart), leo);
    // Recovery cut the log below the saved start: the saved value must come down with it.
    if (persistedStart > this.startOffset) await this.setLogStartOffset(this.startOffset);
    this.leaderEpochCache.truncateFromEnd(leo);
    this.leaderEpochCache.truncateFromStart(this.startOffset);
    await this.leaderEpochCache.flush();

    if (clean) {
      await unlinkIfExists(markerPath);
      await fsyncDir(this.dir);
    }
    this.logger.debug(
      { segments: this.segments.length, logStartOffset: this.startOffset, logEndOffset: leo, cleanShutdown: clean, recovered },
      'log loaded',
    );
  }

  // ------------------------------------------------------------------------------------------- getters

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The log end offset (LEO): the offset the next appended record gets. */
  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  /** Bytes in all segments. */
  get size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get numberOfSegments(): number {
    return this.segments.length;
  }

  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  // -------------------------------------------------------------------------------------------- append

  /**
   * Appends whole, validated v2 batches (as a leader): stamps consecutive offsets from the LEO and
   * `leaderEpoch` into each batch header in place, then writes them (with any other appends queued at the
   * same time) in one write. Rolls first when the active segment is full or old. Resolves once written
   * (and fsynced when flush.messages says so).
   */
  append(batches: Buffer, positions: readonly AppendPosition[], leaderEpoch: number): Promise<AppendResult> {
    return this.enqueueAppend(batches, positions, leaderEpoch);
  }

  /**
   * Appends batches that already carry their offsets and leader epochs (a follower copying its leader, or
   * the Raft metadata log). The first base offset must be >= the LEO (gaps are allowed, as in Kafka);
   * offsets must increase from batch to batch.
   */
  appendAsFollower(batches: Buffer, positions: readonly AppendPosition[]): Promise<AppendResult> {
    return this.enqueueAppend(batches, positions, null);
  }

  private enqueueAppend(batches: Buffer, positions: readonly AppendPosition[], leaderEpoch: number | null): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      const request: PendingAppend = { batches, positions, leaderEpoch, resolve, reject };
      if (this.openGroup) {
        this.openGroup.push(request);
        return;
      }
      const group: PendingAppend[] = [request];
      this.openGroup = group;
      this.exclusive(() => {
        if (this.openGroup === group) this.openGroup = null;
        return this.appendGroup(group);
      }).catch((err: unknown) => {
        for (const r of group) r.reject(err);
      });
    });
  }

  /** Runs `fn` after every operation queued before it. Ends the current append group. */
  private exclusive<T>(fn: () => Promise<T>, closing = false): Promise<T> {
    const run = this.queue.then(() => {
      if (!closing) this.checkUsable();
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new KafkaStorageError(`log ${this.dir} is closed`);
  }

  private async appendGroup(group: PendingAppend[]): Promise<void> {
    const now = this.now();
    let chunk: Chunk = { buffers: [], meta: [], bytes: 0, requests: [] };
    const done: Chunk['requests'] = [];
    let nextOffset = this.logEndOffset;
    let index = 0;
    try {
      for (; index < group.length; index++) {
        const request = group[index]!;
        let prepared: ReturnType<typeof prepare>;
        try {
          prepared = prepare(request, nextOffset);
        } catch (err) {
          request.reject(err);
          continue;
        }
        const active = this.active;
        if (active.firstBatchTimestamp === undefined) await active.loadFirstBatchTimestamp();
        const rollReason = active.shouldRoll(
          this.config,
          chunk.bytes,
          prepared.bytes,
          prepared.firstOffset,
          prepared.lastOffset,
          prepared.maxTimestamp,
          now,
        );
        if (rollReason) {
          done.push(...(await this.writeChunk(chunk, now)));
          chunk = { buffers: [], meta: [], bytes: 0, requests: [] };
          await this.rollLocked(rollReason, prepared.firstOffset);
        }
        if (request.leaderEpoch !== null) {
          let offset = prepared.firstOffset;
          for (const p of request.positions) {
            setBaseOffset(request.batches, p.pos, offset);
            setPartitionLeaderEpoch(request.batches, p.pos, request.leaderEpoch);
            offset += p.lastOffsetDelta + 1;
          }
        }
        chunk.buffers.push(...prepared.buffers);
        chunk.meta.push(...prepared.meta);
        chunk.bytes += prepared.bytes;
        chunk.requests.push({
          request,
          result: { firstOffset: prepared.firstOffset, lastOffset: prepared.lastOffset, logAppendTimeMs: now },
          epochs: prepared.epochs,
        });
        nextOffset = prepared.lastOffset + 1;
      }
      done.push(...(await this.writeChunk(chunk, now)));
    } catch (err) {
      // Requests already written still complete below; the unwritten rest fail.
      for (const r of chunk.requests) r.request.reject(err);
      for (let i = index; i < group.length; i++) group[i]!.reject(err);
    }
    if (done.length === 0) return;

    let epochChanged = false;
    for (const d of done) {
      for (const e of d.epochs) {
        if (e.epoch >= 0 && this.leaderEpochCache.assign(e.epoch, e.offset)) epochChanged = true;
      }
      this.unflushedMessages += d.result.lastOffset - d.result.firstOffset + 1;
    }
    try {
      if (epochChanged) await this.leaderEpochCache.flush();
      await this.maybeFlush(now);
    } catch (err) {
      this.logger.error({ err }, 'flush after append failed');
      for (const d of done) d.request.reject(err);
      return;
    }
    for (const d of done) d.request.resolve(d.result);
  }

  /** Writes a chunk to the active segment in one writev; on failure restores the file size or fails the log. */
  private async writeChunk(chunk: Chunk, now: number): Promise<Chunk['requests']> {
    if (chunk.requests.length === 0) return [];
    const active = this.active;
    const position = active.size;
    try {
      await active.write(chunk.buffers, position);
    } catch (err) {
      this.logger.error({ err, segment: active.baseOffset, position, bytes: chunk.bytes }, 'append write failed');
      try {
        await active.rollbackTo(position);
      } catch (rollbackErr) {
        this.failure = new KafkaStorageError(`log ${this.dir} failed: write error then truncate error: ${(rollbackErr as Error).message}`);
        this.logger.error({ err: rollbackErr }, 'could not undo a failed append; the log is now offline');
        throw this.failure;
      }
      throw new KafkaStorageError(`append to ${this.dir} failed: ${(err as Error).message}`);
    }
    active.recordAppend(position, chunk.meta, now, this.config.indexIntervalBytes);
    this.cacheTail(chunk);
    return chunk.requests;
  }

  /** Adds a written chunk's runs of batches to the tail cache, each with its first and last offsets. */
  private cacheTail(chunk: Chunk): void {
    const cache = this.tailCache;
    cache.maxBytes = this.config.tailCacheBytes ?? 0;
    if (cache.maxBytes <= 0) {
      if (cache.size > 0) cache.clear();
      return;
    }
    let m = 0;
    for (const run of chunk.buffers) {
      let covered = 0;
      let lastOffset = -1;
      while (covered < run.length && m < chunk.meta.length) {
        covered += chunk.meta[m]!.size;
        lastOffset = chunk.meta[m]!.lastOffset;
        m++;
      }
      cache.add(run, readInt64(run, 0), lastOffset);
    }
  }

  /** fsync by flush.messages / flush.ms; arms the flush.ms timer. */
  private async maybeFlush(now: number): Promise<void> {
    if (this.unflushedMessages === 0) return;
    const { flushMessages, flushMs } = this.config;
    if (this.unflushedMessages >= flushMessages || now - this.lastFlushMs >= flushMs) {
      await this.active.flushData();
      this.unflushedMessages = 0;
      this.lastFlushMs = now;
      return;
    }
    if (Number.isFinite(flushMs) && !this.flushTimer) {
      const delay = Math.max(0, Math.min(this.lastFlushMs + flushMs - now, INT32_MAX));
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        if (this.closed || this.unflushedMessages === 0) return;
        this.exclusive(() => this.maybeFlush(this.now())).catch((err: unknown) => this.logger.error({ err }, 'scheduled flush failed'));
      }, delay);
      this.flushTimer.unref();
    }
  }

  // ---------------------------------------------------------------------------------------------- roll

  /** Closes the active segment (if it holds data) and starts a new one at the LEO. */
  roll(): Promise<void> {
    this.openGroup = null;
    return this.exclusive(async () => {
      await this.rollLocked('requested', this.logEndOffset);
    });
  }

  private async rollLocked(reason: string, atLeastOffset: number): Promise<void> {
    const old = this.active;
    const base = Math.max(old.nextOffset, atLeastOffset);
    if (old.size === 0) {
      if (base === old.baseOffset) return;
      // An empty active segment cannot hold base offsets this far ahead: replace it.
      this.segments.pop();
      await old.deleteFiles();
    } else {
      old.onBecomeInactive();
      await old.flushAll();
    }
    this.segments.push(await Segment.create(this.dir, base, this.now(), this.logger));
    this.tailCache.clear();
    await fsyncDir(this.dir);
    this.unflushedMessages = 0;
    this.lastFlushMs = this.now();
    // Kafka's log-start-offset rule (deleteLogStartOffsetBreachedSegments): a segment whose next segment
    // starts at or below the log start offset holds only deleted records and goes. deleteRecordsBefore and
    // applyRetention apply it when the start moves, but never to the active segment; after DeleteRecords up
    // to the LEO the active segment lies wholly below the start, and it only becomes deletable now, when the
    // new segment starts at that offset. Without this it lingered (a later DeleteRecords that does not move
    // the start returns early) until a retention pass, as a closed segment below the log start.
    const doomed: Segment[] = [];
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.startOffset) doomed.push(this.segments.shift()!);
    await this.deleteSegments(doomed, 'log start offset');
    this.logger.info({ reason, previous: old.baseOffset, previousBytes: old.size, baseOffset: base }, 'rolled segment');
  }

  // ---------------------------------------------------------------------------------------------- read

  /**
   * Whole batches from the one containing `offset`: up to `maxBytes` (at least one batch when
   * `minOneMessage`, KIP-74), none whose last offset is >= `maxOffset` (the high watermark). Raw bytes, as
   * stored. Throws OffsetOutOfRangeError when offset < logStartOffset or offset > logEndOffset.
   */
  async read(offset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, alloc?: ReadAlloc): Promise<ReadResult> {
    this.checkUsable();
    const leo = this.logEndOffset;
    if (offset < this.startOffset || offset > leo) throw new OffsetOutOfRangeError(offset, this.startOffset, leo);
    const records: Buffer[] = [];
    let sizeInBytes = 0;
    if (offset >= leo || offset >= maxOffset) return { records, sizeInBytes };
    const segments = this.segments.slice(this.floorSegmentIndex(offset));
    let from = offset;
    let minOne = minOneMessage;
    for (let i = 0; i < segments.length; i++) {
      if (i === segments.length - 1 && segments[i] === this.active) {
        // The end of the log: from memory when the tail cache reaches back far enough.
        const cached = this.tailCache.read(from, maxBytes - sizeInBytes, maxOffset, minOne);
        if (cached) {
          records.push(...cached.records);
          sizeInBytes += cached.bytes;
          break;
        }
      }
      const r = await segments[i]!.read(from, maxBytes - sizeInBytes, maxOffset, minOne, this.config.indexIntervalBytes, alloc);
      if (r === null) {
        from = segments[i + 1]?.baseOffset ?? from;
        continue;
      }
      if (r.records.length > 0) {
        records.push(r.records);
        sizeInBytes += r.records.length;
        minOne = false;
      }
      if (!r.reachedEnd || sizeInBytes >= maxBytes) break;
      from = segments[i + 1]?.baseOffset ?? from;
    }
    return { records, sizeInBytes };
  }

  private floorSegmentIndex(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * ListOffsets by timestamp, at batch granularity: the first batch (at or after the log start) whose
   * maxTimestamp >= timestampMs, found through the time index. Returns its base offset (or the log start
   * offset when the batch straddles it) and its maxTimestamp; null when no batch qualifies.
   * `startingOffset` (default: the log start) skips batches whose last offset is below it.
   */
  async offsetForTimestamp(timestampMs: number, startingOffset = 0): Promise<{ offset: number; timestamp: number } | null> {
    this.checkUsable();
    const start = Math.max(this.startOffset, startingOffset);
    const segments = this.segments.slice(this.floorSegmentIndex(start));
    for (const segment of segments) {
      if (segment.size === 0 || segment.maxTimestampSoFar < timestampMs) continue;
      const batch = await segment.findByTimestamp(timestampMs, start);
      if (batch) return { offset: Math.max(batch.baseOffset, start), timestamp: batch.maxTimestamp };
    }
    return null;
  }

  /** ListOffsets MAX_TIMESTAMP (KIP-734), at batch granularity: the first batch with the largest maxTimestamp. */
  async offsetOfMaxTimestamp(): Promise<{ offset: number; timestamp: number } | null> {
    this.checkUsable();
    const start = this.startOffset;
    let best: Segment | null = null;
    for (const segment of this.segments.slice(this.floorSegmentIndex(start))) {
      if (segment.size > 0 && segment.maxTimestampSoFar >= 0 && (!best || segment.maxTimestampSoFar > best.maxTimestampSoFar)) best = segment;
    }
    if (!best) return null;
    const batch = await best.findBatch(Math.max(best.offsetOfMaxTimestampSoFar, start));
    if (!batch) return null;
    return { offset: Math.max(batch.baseOffset, start), timestamp: batch.maxTimestamp };
  }

  // ------------------------------------------------------------------------------------ truncate / delete

  /**
   * Removes every batch containing an offset >= `offset` (replication: a follower dropping its diverged
   * tail). A batch straddling `offset` goes whole, so the LEO ends at or below `offset`. Truncating below
   * the first segment empties the log and restarts it at `offset`.
   */
  truncateTo(offset: number): Promise<void> {
    this.openGroup = null;
    return this.exclusive(async () => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cannot truncate to ${offset}`);
      if (offset >= this.logEndOffset) return;
      this.layoutGeneration++;
      this.tailCache.clear();
      if (this.segments[0]!.baseOffset > offset) {
        await this.truncateFullyAndStartAtLocked(offset);
        return;
      }
      const doomed: Segment[] = [];
      while (this.active.baseOffset > offset) doomed.push(this.segments.pop()!);
      await this.deleteSegments(doomed.reverse(), 'truncation');
      const active = this.active;
      if (active.firstBatchTimestamp === undefined) await active.loadFirstBatchTimestamp();
      const removed = await active.truncateTo(offset);
      await active.flushAll();
      const leo = this.logEndOffset;
      this.leaderEpochCache.truncateFromEnd(leo);
      if (this.startOffset > leo) await this.setLogStartOffset(leo);
      await this.leaderEpochCache.flush();
      this.logger.info({ offset, logEndOffset: leo, removedBytes: removed, deletedSegments: doomed.length }, 'truncated log');
    });
  }

  /** Deletes every segment and restarts the log, empty, at `offset` (a follower far behind its leader's start). */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    this.openGroup = null;
    return this.exclusive(() => this.truncateFullyAndStartAtLocked(offset));
  }

  private async truncateFullyAndStartAtLocked(offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cannot restart at ${offset}`);
    this.layoutGeneration++;
    this.tailCache.clear();
    const doomed = this.segments;
    // The start offset file first: if we crash after the deletion, the reopened empty log starts there.
    await writeFileAtomic(join(this.dir, LOG_START_OFFSET_FILE), `0\n${offset}\n`, this.dir);
    // Renaming the old files to *.deleted first frees the name in case the new base offset equals an old one.
    await this.deleteSegments(doomed, 'truncate fully');
    this.segments = [await Segment.create(this.dir, offset, this.now(), this.logger)];
    this.startOffset = offset;
    this.leaderEpochCache.clear();
    await fsyncDir(this.dir);
    await this.leaderEpochCache.flush();
    this.unflushedMessages = 0;
    this.logger.info({ offset }, 'truncated the whole log');
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (never down) and deletes the segments wholly
   * below it. Throws OffsetOutOfRangeError when offset > LEO.
   */
  deleteRecordsBefore(offset: number): Promise<void> {
    this.openGroup = null;
    return this.exclusive(async () => {
      const leo = this.logEndOffset;
      if (!Number.isSafeInteger(offset) || offset > leo || offset < 0) throw new OffsetOutOfRangeError(offset, this.startOffset, leo);
      if (offset <= this.startOffset) return;
      await this.setLogStartOffset(offset);
      this.leaderEpochCache.truncateFromStart(offset);
      const doomed: Segment[] = [];
      while (this.segments.length > 1 && this.segments[1]!.baseOffset <= offset) doomed.push(this.segments.shift()!);
      await this.deleteSegments(doomed, 'log start offset');
      await this.leaderEpochCache.flush();
      this.logger.info({ logStartOffset: offset, deletedSegments: doomed.length }, 'log start offset advanced');
    });
  }

  /**
   * Deletes the oldest closed segments (never the active one) while any of these holds: the next segment
   * starts at or below the log start offset; (cleanup.policy has "delete") the segment's largest timestamp
   * is older than retention.ms; the log without it is still >= retention.bytes. Returns segments deleted.
   */
  applyRetention(): Promise<number> {
    this.openGroup = null;
    return this.exclusive(async () => {
      const now = this.now();
      const { retentionMs, retentionBytes } = this.config;
      const deletePolicy = hasDeletePolicy(this.config);
      let total = this.size;
      const doomed: Segment[] = [];
      const reasons = new Set<string>();
      while (this.segments.length > 1) {
        const segment = this.segments[0]!;
        const next = this.segments[1]!;
        let reason: string | null = null;
        if (next.baseOffset <= this.startOffset) reason = 'log start offset';
        else if (deletePolicy && retentionMs >= 0 && now - segment.largestTimestamp > retentionMs) reason = 'retention.ms';
        else if (deletePolicy && retentionBytes >= 0 && total - segment.size >= retentionBytes) reason = 'retention.bytes';
        if (!reason) break;
        reasons.add(reason);
        total -= segment.size;
        doomed.push(this.segments.shift()!);
      }
      if (doomed.length === 0) return 0;
      const first = this.segments[0]!.baseOffset;
      if (first > this.startOffset) {
        this.startOffset = first;
        this.leaderEpochCache.truncateFromStart(first);
      }
      await this.deleteSegments(doomed, [...reasons].join(', '));
      await this.leaderEpochCache.flush();
      this.logger.info({ deleted: doomed.map((s) => s.baseOffset), reasons: [...reasons], logStartOffset: this.startOffset }, 'retention deleted segments');
      return doomed.length;
    });
  }

  /** Renames segments to `.deleted` now and unlinks them after file.delete.delay.ms. */
  private async deleteSegments(segments: Segment[], reason: string): Promise<void> {
    if (segments.length === 0) return;
    for (const s of segments) await s.markDeleted();
    await fsyncDir(this.dir);
    const delay = this.config.fileDeleteDelayMs;
    for (const s of segments) {
      if (!(delay > 0)) {
        await s.deleteFiles();
        continue;
      }
      const timer = setTimeout(() => {
        this.pendingDeletes.delete(s);
        s.deleteFiles().catch((err: unknown) => this.logger.warn({ err, segment: s.baseOffset }, 'deleting segment files failed'));
      }, Math.min(delay, INT32_MAX));
      timer.unref();
      this.pendingDeletes.set(s, timer);
    }
    this.logger.debug({ segments: segments.map((s) => s.baseOffset), reason }, 'segments scheduled for deletion');
  }

  private async setLogStartOffset(offset: number): Promise<void> {
    this.startOffset = offset;
    await writeFileAtomic(join(this.dir, LOG_START_OFFSET_FILE), `0\n${offset}\n`, this.dir);
  }

  // ------------------------------------------------------------------------------------------ cleaning

  /** The segments as the log cleaner sees them now (the last is the active one), and the layout generation. */
  cleanerView(): { generation: number; segments: CleanerSegmentView[] } {
    this.checkUsable();
    return {
      generation: this.layoutGeneration,
      segments: this.segments.map((segment) => ({
        segment,
        baseOffset: segment.baseOffset,
        size: segment.size,
        path: Segment.paths(this.dir, segment.baseOffset).log,
        largestTimestamp: segment.largestTimestamp,
        lastModifiedMs: segment.lastModifiedMs,
      })),
    };
  }

  /**
   * Swaps a cleaned segment (its `.cleaned` files, written by cleaner.ts) in for the segments it was made
   * from, as Kafka's replaceSegments: rename the `.cleaned` files to `.swap` (fsync the directory), rename
   * the old segments to `.deleted` (unlinked after file.delete.delay.ms; reads in flight keep their
   * handles), rename the `.swap` files to their final names. A crash at any point leaves either the old
   * segments or the cleaned one, never neither (see resolveLeftoverFiles). Returns false, deleting the
   * cleaned files, when the log changed meanwhile (truncation, retention): the pass's result is stale.
   */
  replaceWithCleaned(generation: number, replaced: readonly Segment[], group: CleanedGroup, fault?: SwapFaultHook): Promise<boolean> {
    this.openGroup = null;
    return this.exclusive(async () => {
      const cleaned = suffixedPaths(this.dir, group.baseOffset, CLEANED_SUFFIX);
      const discard = async (why: string): Promise<boolean> => {
        for (const p of [cleaned.log, cleaned.index, cleaned.timeIndex]) await unlinkIfExists(p);
        this.logger.info({ segment: group.baseOffset, why }, 'cleaned segment discarded');
        return false;
      };
      if (generation !== this.layoutGeneration) return discard('the log was truncated during cleaning');
      const first = this.segments.indexOf(replaced[0]!);
      if (first < 0 || replaced[0]!.baseOffset !== group.baseOffset) return discard('its first segment is gone');
      for (let i = 0; i < replaced.length; i++) {
        if (this.segments[first + i] !== replaced[i]) return discard('its segments changed');
      }
      if (first + replaced.length >= this.segments.length) return discard('it would replace the active segment');
      const swap = suffixedPaths(this.dir, group.baseOffset, SWAP_SUFFIX);
      await rename(cleaned.index, swap.index);
      await rename(cleaned.timeIndex, swap.timeIndex);
      await rename(cleaned.log, swap.log);
      await fsyncDir(this.dir);
      fault?.('swap');
      await this.deleteSegments([...replaced], 'log cleaning');
      fault?.('deleted');
      const final = Segment.paths(this.dir, group.baseOffset);
      await rename(swap.index, final.index);
      await rename(swap.timeIndex, final.timeIndex);
      await rename(swap.log, final.log);
      await fsyncDir(this.dir);
      const { segment, indexProblem } = await Segment.load(this.dir, group.baseOffset);
      if (indexProblem) await segment.recover(this.config.indexIntervalBytes);
      this.segments.splice(first, replaced.length, segment);
      return true;
    });
  }

  // ------------------------------------------------------------------------------------ flush / close

  /** fsyncs everything written so far (data, indexes, leader epoch checkpoint). */
  flush(): Promise<void> {
    this.openGroup = null;
    return this.exclusive(async () => {
      await this.active.flushAll();
      await this.leaderEpochCache.flush();
      this.unflushedMessages = 0;
      this.lastFlushMs = this.now();
    });
  }

  /**
   * Waits for queued operations, fsyncs and closes the files. A clean close (the default) then writes the
   * clean-shutdown marker so the next open skips recovery; `{ cleanShutdown: false }` only closes the file
   * handles, leaving the directory as a crash would (tests use it).
   */
  async close(options: { cleanShutdown?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.openGroup = null;
    const clean = options.cleanShutdown !== false;
    await this.exclusive(async () => {
      if (this.closed) return;
      this.stopTimers();
      try {
        if (clean && !this.failure) {
          this.active.onBecomeInactive();
          await this.active.flushAll();
          await this.leaderEpochCache.flush();
        }
      } finally {
        await this.closeFiles();
      }
      if (clean && !this.failure) await writeFileAtomic(join(this.dir, CLEAN_SHUTDOWN_FILE), '', this.dir);
    }, true);
  }

  /** Deletes the partition directory (topic deletion): renames it `<name>.<id>-delete`, then removes it. */
  async delete(): Promise<void> {
    this.openGroup = null;
    const run = async (): Promise<void> => {
      this.stopTimers();
      await this.closeFiles();
      const doomed = join(dirname(this.dir), partitionDirNameWithSuffix(basename(this.dir), '-delete'));
      try {
        await rename(this.dir, doomed);
        await fsyncDir(dirname(this.dir));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      await rm(doomed, { recursive: true, force: true });
      this.logger.info('deleted log directory');
    };
    await this.exclusive(run, true);
  }

  private stopTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private async closeFiles(): Promise<void> {
    this.closed = true;
    this.tailCache.clear();
    for (const [segment, timer] of this.pendingDeletes) {
      if (timer) clearTimeout(timer);
      await segment.deleteFiles().catch(() => undefined);
    }
    this.pendingDeletes.clear();
    for (const s of this.segments) await s.close().catch(() => undefined);
  }

  // --------------------------------------------------------------------------------- partition.metadata

  /** Writes Kafka's partition.metadata (version 0); `topicId` in Kafka's text form (base64url, Uuid.toString). */
  writePartitionMetadata(topicId: string): Promise<void> {
    return writePartitionMetadataFile(this.dir, topicId);
  }

  readPartitionMetadata(): Promise<PartitionMetadata | null> {
    return readPartitionMetadataFile(this.dir);
  }
}

export interface PartitionMetadata {
  version: number;
  /** As written in the file: Kafka's base64url text (or the RFC 4122 form older Samsa versions wrote). */
  topicId: string;
}

/** Kafka's PartitionMetadataFile: `version: 0\ntopic_id: <id>\n`, fsynced and renamed into place. */
export function writePartitionMetadataFile(dir: string, topicId: string): Promise<void> {
  return writeFileAtomic(join(dir, PARTITION_METADATA_FILE), `version: 0\ntopic_id: ${topicId}\n`, dir);
}

/**
 * Reads a partition directory's partition.metadata: null when there is none; a file that does not read as
 * Kafka's format throws LogDirFailureError (Kafka's PartitionMetadataReadBuffer throws, failing the log
 * dir): its topic id cannot be trusted either way.
 */
export async function readPartitionMetadataFile(dir: string): Promise<PartitionMetadata | null> {
  const path = join(dir, PARTITION_METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const m = /^version: (\d+)\ntopic_id: (\S+)\n?$/.exec(text);
  if (!m || m[1] !== '0') throw new LogDirFailureError(`Malformed ${PARTITION_METADATA_FILE} file ${path}: expected "version: 0" and a "topic_id" line`, path);
  return { version: 0, topicId: m[2]! };
}

/**
 * Checks one append request against its positions (cheap: header fields only), computes its offsets and
 * the byte slices to write (one slice per run of adjacent batches).
 */
function prepare(
  request: PendingAppend,
  nextOffset: number,
): {
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  bytes: number;
  buffers: Buffer[];
  meta: AppendedBatch[];
  epochs: { epoch: number; offset: number }[];
} {
  const { batches, positions } = request;
  if (positions.length === 0) throw new InvalidAppendError('append without batches');
  const follower = request.leaderEpoch === null;
  const buffers: Buffer[] = [];
  const meta: AppendedBatch[] = [];
  const epochs: { epoch: number; offset: number }[] = [];
  let offset = nextOffset;
  let firstOffset = nextOffset;
  let maxTimestamp = -1;
  let bytes = 0;
  let runStart = -1;
  let runEnd = -1;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    if (!Number.isInteger(p.pos) || p.pos < 0 || p.pos + p.size > batches.length || batchSize(batches, p.pos) !== p.size) {
      throw new InvalidAppendError(`batch ${i} at ${p.pos} does not have the declared size ${p.size}`);
    }
    if (p.lastOffsetDelta < 0 || batches.readInt32BE(p.pos + LAST_OFFSET_DELTA_POS) !== p.lastOffsetDelta) {
      throw new InvalidAppendError(`batch ${i} at ${p.pos} does not have the declared lastOffsetDelta ${p.lastOffsetDelta}`);
    }
    let base = offset;
    if (follower) {
      base = readInt64(batches, p.pos);
      if (base < offset) {
        throw new InvalidAppendError(
          i === 0 ? `follower append starts at offset ${base}, below the log end offset ${offset}` : `batch ${i} base offset ${base} goes back from ${offset}`,
          -1,
        );
      }
      if (i === 0) firstOffset = base;
      epochs.push({ epoch: batches.readInt32BE(p.pos + PARTITION_LEADER_EPOCH_POS), offset: base });
    } else if (i === 0) {
      epochs.push({ epoch: request.leaderEpoch!, offset: base });
    }
    const lastOffset = base + p.lastOffsetDelta;
    meta.push({ size: p.size, lastOffset, maxTimestamp: p.maxTimestamp });
    if (p.maxTimestamp > maxTimestamp) maxTimestamp = p.maxTimestamp;
    bytes += p.size;
    offset = lastOffset + 1;
    if (p.pos === runEnd) {
      runEnd += p.size;
    } else {
      if (runStart >= 0) buffers.push(batches.subarray(runStart, runEnd));
      runStart = p.pos;
      runEnd = p.pos + p.size;
    }
  }
  buffers.push(batches.subarray(runStart, runEnd));
  if (!Number.isSafeInteger(offset)) throw new InvalidAppendError(`offsets overflow at ${offset}`);
  return { firstOffset, lastOffset: offset - 1, maxTimestamp, bytes, buffers, meta, epochs };
}
