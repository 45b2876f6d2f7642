/**
 * A partition's idempotent producer state at run time and on disk: the checks of producer-state.ts made
 * atomic with the append, snapshots beside the log, and the rebuild after a restart or a truncation.
 *
 * Check and append: the rules compare a batch with the producer's previous batches, so two requests of one
 * producer must not both be checked before either is recorded. A request with producer ids first waits
 * until no earlier append of the same producer ids is outstanding (and no rebuild is running), then is
 * checked and handed to Log.append in the same synchronous step, and its producers stay marked
 * outstanding until that append is written and recorded (or failed). Different producers never wait for
 * each other, so the Log still groups their appends into one write. One connection's requests are handled
 * one at a time already, so in practice only a retry on a new connection (the old request still in flight)
 * ever waits.
 *
 * Recording: every append (with or without producer ids) records its batches when the Log resolves it.
 * The Log resolves appends in offset order and the callbacks are attached directly to its promises, so the
 * state always reflects exactly the batches below `appliedEnd`, which is where a snapshot is taken.
 *
 * Disk: `<20-digit offset>.snapshot` files in the partition directory (format in producer-state.ts),
 * written when the Log rolls a segment (seen at the first append recorded after the roll), at a clean
 * shutdown, and after a rebuild that scanned batches; the newest KEEP_SNAPSHOTS are kept. Rebuild, as
 * Kafka's ProducerStateManager.truncateAndReload plus the log scan:
 *   1. snapshots above the log end offset are deleted (the log lost its tail, or was truncated);
 *   2. the newest remaining snapshot that reads back whole (version, CRC) is loaded; a broken one is deleted
 *      and the next older one tried;
 *   3. the batch headers from that offset (or the log start offset, if it is higher) to the log end are
 *      recorded. Records are never decoded. Without any snapshot (a log written before producer state
 *      existed) only the last two segments are scanned, as Kafka does on upgrade: older producers are
 *      forgotten, which is harmless since an unknown producer is accepted at any sequence.
 * A snapshot below the log start offset is still usable: the scan then starts at the log start. Producers
 * idle for producer.id.expiration.ms are dropped on load and every producer.id.expiration.check.interval.ms.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { BATCH_HEADER_SIZE, batchSize, readBatchHeader, type RecordBatchHeader } from '../../protocol/records/batch.js';
import type { AppendResult as LogAppendResult, Log } from '../../storage/log.js';
import { unlinkIfExists, writeFileAtomic } from '../../storage/file-util.js';
import { ProducerStateManager, SNAPSHOT_SUFFIX, type BatchMetadata } from './producer-state.js';

export const KEEP_SNAPSHOTS = 3;
const SNAPSHOT_FILE = /^(\d{20})\.snapshot$/;
const SCAN_BYTES = 1024 * 1024;

export interface ProducerStateOptions {
  logger?: Logger;
  /** producer.id.expiration.ms (Kafka default: one day). */
  producerIdExpirationMs?: number;
  /** producer.id.expiration.check.interval.ms (Kafka default: ten minutes). */
  producerIdExpirationCheckIntervalMs?: number;
  now?: () => number;
}

/** One batch of an append: its header and the max timestamp it is stored with (LogAppendTime rewrites it). */
export interface AppendingBatch {
  header: RecordBatchHeader;
  maxTimestamp: number;
}

export type CheckedAppend =
  | { kind: 'appended'; result: LogAppendResult }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; errorMessage: string };

export interface RebuildResult {
  /** Offset of the snapshot loaded, or null. */
  snapshotOffset: number | null;
  /** Where the header scan started, and the log end offset it ran to. */
  scannedFrom: number;
  scannedTo: number;
  batches: number;
}

export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
}

/** Offsets of the snapshot files in `dir`, ascending. */
export async function listSnapshots(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const offsets: number[] = [];
  for (const name of names) {
    const m = SNAPSHOT_FILE.exec(name);
    if (m) offsets.push(Number(m[1]));
  }
  return offsets.sort((a, b) => a - b);
}

export class PartitionProducerState {
  readonly state = new ProducerStateManager();
  private readonly logger: Logger;
  /** producer.id.expiration.ms is read from it at each use: a dynamic broker config, changed in place. */
  private readonly options: ProducerStateOptions;
  private readonly expirationCheckIntervalMs: number;
  private readonly now: () => number;
  /** Settles when the producer's last outstanding append is written and recorded, or failed. */
  private readonly outstanding = new Map<number, Promise<void>>();
  private rebuilding: Promise<void> | null = null;
  /** Bumped by a rebuild: appends started before it are not recorded (the rebuild reads them from the log). */
  private generation = 0;
  /** The state reflects exactly the batches below this offset. */
  private appliedEnd = 0;
  private segmentCount = 0;
  private activeSegmentBase = 0;
  private snapshotWrites: Promise<void> = Promise.resolve();
  private lastExpiryCheckMs: number;
  private closed = false;

  constructor(
    private readonly log: Log,
    options: ProducerStateOptions = {},
  ) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.options = options;
    this.expirationCheckIntervalMs = options.producerIdExpirationCheckIntervalMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.lastExpiryCheckMs = this.now();
    this.noteSegments();
  }

  /** Loads the state from the snapshots and the log (broker start). */
  async load(): Promise<RebuildResult> {
    const result = await this.rebuild();
    this.state.removeExpiredProducers(this.now(), this.expirationMs);
    // After a scan, a snapshot at the log end spares the next start from scanning again.
    if (result.batches > 0) await this.takeSnapshot();
    return result;
  }

  /**
   * Checks the batches (producer-state.ts rules), then calls `append` in the same synchronous step and
   * records the batches once it resolves. Requests without producer ids are not checked, only recorded.
   */
  async append(batches: readonly AppendingBatch[], append: () => Promise<LogAppendResult>): Promise<CheckedAppend> {
    const ids: number[] = [];
    for (const b of batches) if (b.header.producerId >= 0 && !ids.includes(b.header.producerId)) ids.push(b.header.producerId);
    if (ids.length > 0) {
      while (this.mustWait(ids)) await Promise.all(this.waitsFor(ids));
      this.maybeExpireProducers();
      const check = this.state.check(batches.map((b) => b.header));
      if (check.kind === 'duplicate') {
        const { firstSeq, lastSeq, firstOffset } = check.batch;
        this.logger.info({ log: this.log.dir, producerIds: ids, firstSeq, lastSeq, firstOffset }, 'retried batch answered with its original offset');
      }
      if (check.kind !== 'append') return check;
    }
    const generation = this.generation;
    const appending = append();
    const recorded = appending.then((result) => {
      if (generation === this.generation) this.record(batches, ids.length > 0, result);
      return result;
    });
    if (ids.length > 0) {
      const settled = recorded.then(
        () => undefined,
        () => undefined,
      );
      for (const id of ids) this.outstanding.set(id, settled);
      void settled.then(() => {
        for (const id of ids) if (this.outstanding.get(id) === settled) this.outstanding.delete(id);
      });
    }
    return { kind: 'appended', result: await recorded };
  }

  /**
   * A follower's append (the replica fetcher): the leader checked the batches already, so they are only
   * recorded, at the offsets they carry, once written. The state then answers a retried batch with its
   * original offset should this replica become leader (issue 12: exactly-once across a failover).
   */
  async appendAsFollower(batches: readonly AppendingBatch[], append: () => Promise<LogAppendResult>): Promise<LogAppendResult> {
    while (this.rebuilding) await this.rebuilding;
    const generation = this.generation;
    const result = await append();
    if (generation === this.generation) {
      for (const b of batches) if (b.header.producerId >= 0) this.state.apply(b.header, b.header.baseOffset, b.maxTimestamp);
      this.appliedEnd = Math.max(this.appliedEnd, result.lastOffset + 1);
      if (this.log.numberOfSegments !== this.segmentCount && this.noteSegments()) void this.takeSnapshot();
    }
    return result;
  }

  private mustWait(ids: readonly number[]): boolean {
    if (this.rebuilding) return true;
    for (const id of ids) if (this.outstanding.has(id)) return true;
    return false;
  }

  private waitsFor(ids: readonly number[]): Promise<void>[] {
    const waits: Promise<void>[] = [];
    if (this.rebuilding) waits.push(this.rebuilding);
    for (const id of ids) {
      const p = this.outstanding.get(id);
      if (p) waits.push(p);
    }
    return waits;
  }

  private record(batches: readonly AppendingBatch[], hasProducers: boolean, result: LogAppendResult): void {
    if (hasProducers) {
      let offset = result.firstOffset;
      for (const b of batches) {
        this.state.apply(b.header, offset, b.maxTimestamp);
        offset += b.header.lastOffsetDelta + 1;
      }
    }
    this.appliedEnd = Math.max(this.appliedEnd, result.lastOffset + 1);
    if (this.log.numberOfSegments !== this.segmentCount && this.noteSegments()) void this.takeSnapshot();
  }

  /** Remembers the segment count and active segment; true when the active segment changed (a roll). */
  private noteSegments(): boolean {
    this.segmentCount = this.log.numberOfSegments;
    const bases = this.log.segmentBaseOffsets();
    const active = bases[bases.length - 1] ?? 0;
    if (active === this.activeSegmentBase) return false;
    this.activeSegmentBase = active;
    return true;
  }

  private get expirationMs(): number {
    return this.options.producerIdExpirationMs ?? 86_400_000;
  }

  private maybeExpireProducers(): void {
    const now = this.now();
    if (now - this.lastExpiryCheckMs < this.expirationCheckIntervalMs) return;
    this.lastExpiryCheckMs = now;
    const removed = this.state.removeExpiredProducers(now, this.expirationMs);
    if (removed > 0) this.logger.debug({ log: this.log.dir, removed }, 'expired idle producers');
  }

  /** Writes a snapshot of the state as it is now, at `appliedEnd` (after earlier snapshot writes). */
  takeSnapshot(): Promise<void> {
    const offset = this.appliedEnd;
    const bytes = this.state.encodeSnapshot();
    const dir = this.log.dir;
    const run = this.snapshotWrites.then(async () => {
      try {
        await writeFileAtomic(join(dir, snapshotFileName(offset)), bytes, dir);
        const offsets = await listSnapshots(dir);
        for (const o of offsets.slice(0, Math.max(0, offsets.length - KEEP_SNAPSHOTS))) await unlinkIfExists(join(dir, snapshotFileName(o)));
      } catch (err) {
        // A deleted topic's directory is gone: nothing to keep. Otherwise the next start scans further.
        const code = (err as NodeJS.ErrnoException).code;
        this.logger[code === 'ENOENT' ? 'debug' : 'warn']({ err, log: dir, offset }, 'writing a producer state snapshot failed');
      }
    });
    this.snapshotWrites = run;
    return run;
  }

  /** Clean shutdown: waits for outstanding appends, then writes a snapshot at the end of what is recorded. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.rebuilding || this.outstanding.size > 0) await Promise.all([...this.outstanding.values(), this.rebuilding]);
    this.closed = true;
    await this.takeSnapshot();
  }

  /**
   * Runs `change` (a log truncation) and rebuilds the state from the snapshots at or below the new log end
   * and the log; `discardSnapshots` (a log emptied and restarted elsewhere) deletes every snapshot first.
   * Checks of new appends wait until it is done.
   */
  async rebuildAfter(change: () => Promise<void>, options: { discardSnapshots?: boolean } = {}): Promise<RebuildResult> {
    this.generation++;
    const run = (async () => {
      if (this.rebuilding) await this.rebuilding;
      await change();
      if (options.discardSnapshots) {
        await this.snapshotWrites;
        for (const o of await listSnapshots(this.log.dir)) await unlinkIfExists(join(this.log.dir, snapshotFileName(o)));
      }
      return this.rebuild();
    })();
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.rebuilding = done;
    void done.then(() => {
      if (this.rebuilding === done) this.rebuilding = null;
    });
    return run;
  }

  /** Replaces the state with the log's, from its snapshots and batch headers (see the file header). */
  private async rebuild(): Promise<RebuildResult> {
    const log = this.log;
    const dir = log.dir;
    const logEndOffset = log.logEndOffset;
    const logStartOffset = log.logStartOffset;
    const state = this.state;
    state.clear();
    let snapshotOffset: number | null = null;
    const offsets = await listSnapshots(dir);
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      const path = join(dir, snapshotFileName(offset));
      if (offset > logEndOffset) {
        this.logger.info({ log: dir, snapshot: offset, logEndOffset }, 'deleting a producer state snapshot beyond the log end');
        await unlinkIfExists(path);
        continue;
      }
      try {
        state.loadSnapshot(await readFile(path));
        snapshotOffset = offset;
        break;
      } catch (err) {
        this.logger.warn({ log: dir, snapshot: offset, err: (err as Error).message }, 'deleting an unreadable producer state snapshot');
        state.clear();
        await unlinkIfExists(path);
      }
    }
    let from = snapshotOffset;
    if (from === null) {
      const bases = log.segmentBaseOffsets();
      from = bases.length >= 2 ? bases[bases.length - 2]! : logStartOffset;
    }
    from = Math.max(from, logStartOffset);
    let batches = 0;
    let next = from;
    while (next < logEndOffset) {
      const { records } = await log.read(next, SCAN_BYTES, logEndOffset, true);
      let progressed = false;
      for (const buf of records) {
        let pos = 0;
        while (buf.length - pos >= BATCH_HEADER_SIZE) {
          const size = batchSize(buf, pos);
          if (size < BATCH_HEADER_SIZE || pos + size > buf.length) break;
          const header = readBatchHeader(buf, pos);
          const lastOffset = header.baseOffset + header.lastOffsetDelta;
          if (lastOffset >= next) {
            state.apply(header, header.baseOffset, header.maxTimestamp);
            batches++;
            next = lastOffset + 1;
            progressed = true;
          }
          pos += size;
        }
      }
      if (!progressed) break;
    }
    this.appliedEnd = logEndOffset;
    this.noteSegments();
    const result = { snapshotOffset, scannedFrom: from, scannedTo: logEndOffset, batches };
    this.logger.debug({ log: dir, ...result, producers: state.size }, 'producer state loaded');
    return result;
  }
}
