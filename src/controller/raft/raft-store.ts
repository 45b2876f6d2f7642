/**
 * The disk adapter of the Raft core: the metadata log directory `__cluster_metadata-0/` in Kafka's layout
 * (KafkaMetadataLog over a UnifiedLog), so that Kafka's tools read it:
 *
 *   00000000000000000000.log / .index / .timeindex   record batches (storage/log.ts segments)
 *   leader-epoch-checkpoint                          the epochs' start offsets, kept by storage/log.ts
 *   partition.metadata                               topic_id AAAAAAAAAAAAAAAAAAAAAQ (Uuid.METADATA_TOPIC_ID)
 *   quorum-state                                     the election state (quorum-state.ts), atomic + fsynced
 *   <endOffset>-<epoch>.checkpoint                   snapshots (snapshot.ts, KIP-630); the log starts at the
 *                                                    oldest one kept (older segments deleted), a new one is
 *                                                    written through .checkpoint.part
 *
 * Each proposal is one record batch whose partitionLeaderEpoch is the Raft epoch it was appended in, its
 * records with a null key and a metadata record frame as value; a new leader's LeaderChange is a control
 * batch (wire.ts encodeRaftRecords, the same bytes a Fetch answer carries). Batches keep the leader's
 * append time, so every replica stores the same bytes.
 *
 * Recovery: storage/log.ts cuts a torn tail after an unclean stop (a batch cut short or failing its CRC at
 * the end of the active segment: it was never acknowledged, since the core only claims flushed offsets).
 * After a clean stop (the clean-shutdown marker) nothing can be torn, so a bad batch there is damage and
 * refuses the open before storage/log.ts could cut the log at it. Then every segment is read back and decoded here; a batch that does not decode, a gap in the offsets or a
 * data record that is not a metadata record stops the start with a RaftStoreCorruptError naming the file:
 * the node refuses to run on a log it cannot trust rather than build its state from part of it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeMetadataRecord } from '../../../protocol/metadata/serde.js';
import { splitBatches } from '../../../protocol/records/batch.js';
import { fileExists, offsetFileStem, writeFileAtomic } from '../../../storage/file-util.js';
import { toKafkaUuidString } from '../../../storage/kafka-uuid.js';
import { logConfig } from '../../../storage/log-config.js';
import { CLEAN_SHUTDOWN_FILE, Log, type AppendPosition } from '../../../storage/log.js';
import type { Clock } from '../../util/clock.js';
import type { OffsetAndEpoch, RaftRecord } from './log.js';
import type { RaftSnapshot } from './raft-core.js';
import { decodeSnapshot, deleteSnapshotFile, listSnapshots, readSnapshotFile, snapshotFileName, writeSnapshotFile, type SnapshotContent } from './snapshot.js';
import { decodeQuorumState, encodeQuorumState, QUORUM_STATE_FILE_NAME, type QuorumStateData } from './quorum-state.js';
import { decodeRaftRecords, encodeRaftRecords, METADATA_PARTITION, METADATA_TOPIC_ID, METADATA_TOPIC_NAME } from './wire.js';

/** The directory name of the metadata log inside a log dir (Kafka's `__cluster_metadata-0`). */
export const METADATA_LOG_DIR_NAME = `${METADATA_TOPIC_NAME}-${METADATA_PARTITION}`;

const SEGMENT_FILE = /^\d{20}\.log$/;

/** metadata.log.segment.bytes default (Kafka's KRaftConfigs: 1 GiB). */
export const DEFAULT_METADATA_SEGMENT_BYTES = 1024 * 1024 * 1024;

/** A file of the metadata log that cannot be read as Kafka's format: the node refuses to start on it. */
export class RaftStoreCorruptError extends Error {
  override readonly name = 'RaftStoreCorruptError';
  constructor(
    readonly file: string,
    reason: string,
    readonly offset: number | null = null,
  ) {
    super(`corrupt metadata log file ${file}${offset === null ? '' : ` at offset ${offset}`}: ${reason}; refusing to start on it (move the directory aside to let this node copy the log from the quorum again)`);
  }
}

export interface RaftStoreOptions {
  /** The `__cluster_metadata-0` directory (created if missing). */
  readonly dir: string;
  /** The voter ids, written into quorum-state (currentVoters) as Kafka does for static quorums. */
  readonly voters: readonly number[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** metadata.log.segment.bytes. */
  readonly segmentBytes?: number;
  /**
   * Checks one data record's value on load; throws when it is not one. Default: a metadata record
   * (protocol/metadata/serde.ts decodeMetadataRecord), as Kafka's MetadataRecordSerde reads the log.
   */
  readonly checkValue?: (value: Buffer) => void;
}

export interface RecoveredRaftState {
  readonly quorumState: QuorumStateData | null;
  /** Every record of the log from the log start offset, in order. */
  readonly records: readonly RaftRecord[];
  /** The log start offset and the epoch before it (the snapshot there; 0/0 without one). */
  readonly logStart: OffsetAndEpoch;
  /** The newest snapshot, its bytes and decoded content; null when none. */
  readonly latest: (RaftSnapshot & { readonly content: SnapshotContent }) | null;
}

export class RaftStore {
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly log: Log,
    private readonly voters: readonly number[],
    private readonly clock: Clock,
  ) {}

  /** Opens (creating if needed) the metadata log and quorum-state, recovering a torn tail. */
  static async open(o: RaftStoreOptions): Promise<{ store: RaftStore; recovered: RecoveredRaftState }> {
    const logger = o.logger.child({ component: 'raft-store' });
    const checkValue = o.checkValue ?? ((v: Buffer) => void decodeMetadataRecord(v));
    // After a clean stop nothing can be torn: a batch that fails its CRC is damage, and storage/log.ts would
    // silently cut the log there (records this node may have acknowledged). Check the files first.
    if (await fileExists(join(o.dir, CLEAN_SHUTDOWN_FILE))) {
      const bases = (await readdir(o.dir)).flatMap((n) => (SEGMENT_FILE.test(n) ? [Number(n.slice(0, 20))] : [])).sort((a, b) => a - b);
      await readSegments(o.dir, bases, checkValue);
    }
    const log = await Log.open(
      o.dir,
      // The metadata log is never deleted by time or size (snapshots will bound it) and is fsynced by the
      // core's flush effects only; nothing reads it through the tail cache.
      logConfig({ segmentBytes: o.segmentBytes ?? DEFAULT_METADATA_SEGMENT_BYTES, retentionMs: -1, retentionBytes: -1, fileDeleteDelayMs: 0, tailCacheBytes: 0 }),
      { logger, now: () => o.clock.now() },
    );
    try {
      if ((await log.readPartitionMetadata()) === null) await log.writePartitionMetadata(toKafkaUuidString(METADATA_TOPIC_ID));
      // Snapshots: leftovers of a crash (.part) are deleted; the newest must read whole.
      const ids = await listSnapshots(o.dir);
      let latest: RecoveredRaftState['latest'] = null;
      const newest = ids[ids.length - 1];
      if (newest !== undefined) {
        const bytes = await readSnapshotFile(o.dir, newest);
        let content: SnapshotContent;
        try {
          content = decodeSnapshot(bytes, join(o.dir, snapshotFileName(newest)));
          for (const v of content.values) checkValue(v);
        } catch (err) {
          throw new RaftStoreCorruptError(join(o.dir, snapshotFileName(newest)), (err as Error).message);
        }
        latest = { id: newest, bytes, content };
        // A fetched snapshot installed up to its write, but not the log's reset (a crash in between): finish it.
        if (newest.offset > log.logEndOffset) await log.truncateFullyAndStartAt(newest.offset);
      }
      const startOffset = log.logStartOffset;
      let logStart: OffsetAndEpoch = { offset: 0, epoch: 0 };
      if (startOffset > 0) {
        const at = ids.find((id) => id.offset === startOffset) ?? (latest !== null && latest.id.offset === startOffset ? latest.id : undefined);
        if (at === undefined) throw new RaftStoreCorruptError(o.dir, `the log starts at offset ${startOffset} but no snapshot ends there`);
        logStart = at;
      }
      const records = await readAll(log, o.dir, checkValue);
      const quorumState = await readQuorumState(o.dir);
      logger.info({ dir: o.dir, logStartOffset: startOffset, logEndOffset: startOffset + records.length, snapshot: latest?.id ?? null, quorumState }, 'metadata log loaded');
      return { store: new RaftStore(o.dir, log, o.voters, o.clock), recovered: { quorumState, records, logStart, latest } };
    } catch (err) {
      await log.close({ cleanShutdown: false }).catch(() => undefined);
      throw err;
    }
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /** Bytes of the log's segments (for metadata.max.retention.bytes). */
  get logSizeBytes(): number {
    return this.log.size;
  }

  /** Writes a snapshot file atomically (.checkpoint.part, fsync, rename). */
  async writeSnapshot(snapshot: RaftSnapshot): Promise<void> {
    await writeSnapshotFile(this.dir, snapshot.id, Buffer.from(snapshot.bytes.buffer, snapshot.bytes.byteOffset, snapshot.bytes.byteLength));
  }

  /** Moves the log start to a snapshot's end offset: whole segments below go, then the older snapshots. */
  async deleteBefore(id: OffsetAndEpoch): Promise<void> {
    await this.log.deleteRecordsBefore(id.offset);
    for (const old of await listSnapshots(this.dir)) if (old.offset < id.offset) await deleteSnapshotFile(this.dir, old);
  }

  /** A snapshot fetched from the leader replaces the log: the file first, then the log restarts empty at its end. */
  async installSnapshot(snapshot: RaftSnapshot): Promise<void> {
    await this.writeSnapshot(snapshot);
    await this.log.truncateFullyAndStartAt(snapshot.id.offset);
    for (const old of await listSnapshots(this.dir)) if (old.offset < snapshot.id.offset) await deleteSnapshotFile(this.dir, old);
  }

  /** Appends records at baseOffset (which must be the log end offset), one batch per proposal. Not durable until flush(). */
  async append(baseOffset: number, records: readonly RaftRecord[]): Promise<void> {
    if (baseOffset !== this.log.logEndOffset) throw new RangeError(`metadata log append at ${baseOffset}, but the log ends at ${this.log.logEndOffset}`);
    const buf = encodeRaftRecords(records, baseOffset, this.clock.now());
    const split = splitBatches(buf);
    if (!split.ok) throw new RangeError(`metadata log append: ${split.message}`);
    const positions: AppendPosition[] = split.batches.map((b) => ({ pos: b.pos, size: b.size, lastOffsetDelta: b.header.lastOffsetDelta, maxTimestamp: b.header.maxTimestamp }));
    await this.log.appendAsFollower(buf, positions);
  }

  /** Removes every record at or above offset, durably. */
  truncateTo(offset: number): Promise<void> {
    return this.log.truncateTo(offset);
  }

  /** fsyncs the log (data, indexes, leader-epoch-checkpoint). */
  flush(): Promise<void> {
    return this.log.flush();
  }

  /** Replaces quorum-state atomically: temp file, fsync, rename, fsync of the directory. */
  writeQuorumState(state: QuorumStateData): Promise<void> {
    return writeFileAtomic(join(this.dir, QUORUM_STATE_FILE_NAME), encodeQuorumState(state, this.voters), this.dir);
  }

  /** `{ clean: false }` (after a failure) leaves no clean-shutdown marker: the next open recovers the tail. */
  async close(options: { clean?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.log.close({ cleanShutdown: options.clean !== false });
  }
}

async function readQuorumState(dir: string): Promise<QuorumStateData | null> {
  const path = join(dir, QUORUM_STATE_FILE_NAME);
  if (!(await fileExists(path))) return null;
  try {
    return decodeQuorumState(await readFile(path, 'utf8'));
  } catch (err) {
    throw new RaftStoreCorruptError(path, (err as Error).message);
  }
}

/** Every segment, decoded; the records from the log start offset to the end, without a gap. */
async function readAll(log: Log, dir: string, checkValue: (value: Buffer) => void): Promise<RaftRecord[]> {
  const start = log.logStartOffset;
  const bases = log.segmentBaseOffsets();
  const all = await readSegments(dir, bases, checkValue, bases[0] ?? start);
  // The first segment may begin below the log start (segments are deleted whole): skip to it.
  const records = all.slice(Math.max(0, start - (bases[0] ?? start)));
  if (start + records.length !== log.logEndOffset) throw new RaftStoreCorruptError(dir, `the segments hold records up to offset ${start + records.length} but the log ends at offset ${log.logEndOffset}`);
  return records;
}

async function readSegments(dir: string, bases: readonly number[], checkValue: (value: Buffer) => void, firstOffset = bases[0] ?? 0): Promise<RaftRecord[]> {
  const records: RaftRecord[] = [];
  const next = (): number => firstOffset + records.length;
  for (const base of bases) {
    const file = join(dir, `${offsetFileStem(base)}.log`);
    const buf = await readFile(file);
    if (buf.length === 0) continue;
    let decoded: { baseOffset: number; records: RaftRecord[] };
    try {
      decoded = decodeRaftRecords(buf);
    } catch (err) {
      throw new RaftStoreCorruptError(file, (err as Error).message);
    }
    if (decoded.baseOffset !== next()) throw new RaftStoreCorruptError(file, `its first batch is at offset ${decoded.baseOffset}, but the log before it ends at ${next()}`, decoded.baseOffset);
    for (let i = 0; i < decoded.records.length; i++) {
      const r = decoded.records[i]!;
      if (r.value.kind !== 'data') continue;
      try {
        checkValue(Buffer.from(r.value.data.buffer, r.value.data.byteOffset, r.value.data.byteLength));
      } catch (err) {
        throw new RaftStoreCorruptError(file, `the record does not decode: ${(err as Error).message}`, decoded.baseOffset + i);
      }
    }
    records.push(...decoded.records);
  }
  return records;
}
