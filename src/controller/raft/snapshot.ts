/**
 * KRaft snapshots of the metadata log (KIP-630): `<endOffset>-<epoch>.checkpoint` files in
 * `__cluster_metadata-0/`, in Kafka's format (RecordsSnapshotWriter), so that kafka-dump-log.sh and Kafka
 * itself read ours and we read Kafka's:
 *
 *   control batch  SnapshotHeaderRecord (ControlRecordType 3: version 0, lastContainedLogTimestamp)
 *                  [KRaftVersionRecord, VotersRecord: only with kraft.version 1 (KIP-853); read and skipped]
 *   data batches   the image's metadata records (src/broker/metadata-image-records.ts imageToRecords)
 *   control batch  SnapshotFooterRecord (ControlRecordType 4: version 0)
 *
 * Offsets inside a snapshot run from 0; every batch's partitionLeaderEpoch is the snapshot's epoch. The
 * snapshot id (endOffset, epoch) is the offset just after the last record it contains and that record's
 * epoch, written into the file name as %020d-%010d (Snapshots.filenameFromSnapshotId).
 *
 * Writing is atomic as Kafka's FileRawSnapshotWriter does it: `<id>.checkpoint.part`, fsync, rename to
 * `<id>.checkpoint`, fsync the directory. A `.part` left by a crash is deleted on the next start; a
 * `.checkpoint.deleted` (Kafka renames before it deletes) too. A file without its footer, with a batch
 * failing its CRC or a record that does not decode is refused with SnapshotCorruptError: a node never
 * loads part of a snapshot.
 */
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeControlRecordValue, encodeControlRecordKey, encodeControlRecordValue, ControlRecordType } from '../../../protocol/metadata/serde.js';
import { SnapshotFooterRecord } from '../../../protocol/metadata/snapshot-footer-record.js';
import { SnapshotHeaderRecord } from '../../../protocol/metadata/snapshot-header-record.js';
import { isControl, splitBatches } from '../../../protocol/records/batch.js';
import { buildBatchSync, iterateRecords, type RecordInput } from '../../../protocol/records/record.js';
import { fsyncDir } from '../../../storage/file-util.js';
import type { OffsetAndEpoch } from './log.js';

export const SNAPSHOT_SUFFIX = '.checkpoint';
export const PARTIAL_SUFFIX = '.checkpoint.part';
export const DELETED_SUFFIX = '.checkpoint.deleted';

const SNAPSHOT_FILE = /^(\d{20})-(\d{10})\.checkpoint$/;

/** A snapshot's id: the offset after its last record (exclusive end) and that record's epoch. */
export type SnapshotId = OffsetAndEpoch;

/** Data bytes per snapshot batch (Kafka's writer cuts batches at its max batch size; any size reads). */
const SNAPSHOT_BATCH_BYTES = 1024 * 1024;

export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`invalid metadata snapshot ${file}: ${reason}`);
  }
}

/** Snapshots.filenameFromSnapshotId: `%020d-%010d.checkpoint`. */
export function snapshotFileName(id: SnapshotId): string {
  return `${String(id.offset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}${SNAPSHOT_SUFFIX}`;
}

export function parseSnapshotFileName(name: string): SnapshotId | null {
  const m = SNAPSHOT_FILE.exec(name);
  return m === null ? null : { offset: Number(m[1]), epoch: Number(m[2]) };
}

export interface SnapshotContent {
  /** The append time of the last record the snapshot covers (SnapshotHeaderRecord.lastContainedLogTimestamp). */
  readonly lastContainedLogTimestamp: number;
  /** The metadata record frames, in order. */
  readonly values: readonly Buffer[];
}

/** The bytes of a snapshot file; `timestampMs` is the batches' CreateTime (the writer's clock). */
export function encodeSnapshot(id: SnapshotId, content: SnapshotContent, timestampMs: number): Buffer {
  const epoch = id.epoch;
  const batches: Buffer[] = [];
  let offset = 0;
  const control = (type: number, value: Buffer): void => {
    batches.push(buildBatchSync([{ key: encodeControlRecordKey(type), value, timestamp: timestampMs }], { baseOffset: offset, partitionLeaderEpoch: epoch, isControl: true }));
    offset++;
  };
  control(ControlRecordType.SNAPSHOT_HEADER, encodeControlRecordValue(SnapshotHeaderRecord, { version: 0, lastContainedLogTimestamp: BigInt(content.lastContainedLogTimestamp) }));
  let run: RecordInput[] = [];
  let runBytes = 0;
  const cut = (): void => {
    if (run.length === 0) return;
    batches.push(buildBatchSync(run, { baseOffset: offset, partitionLeaderEpoch: epoch }));
    offset += run.length;
    run = [];
    runBytes = 0;
  };
  for (const v of content.values) {
    if (runBytes + v.length > SNAPSHOT_BATCH_BYTES) cut();
    run.push({ key: null, value: v, timestamp: timestampMs });
    runBytes += v.length;
  }
  cut();
  control(ControlRecordType.SNAPSHOT_FOOTER, encodeControlRecordValue(SnapshotFooterRecord, { version: 0 }));
  return Buffer.concat(batches);
}

/**
 * Reads a snapshot file's bytes: the header, the data records (KRaftVersion/Voters control records are
 * skipped: a static quorum's voters come from controller.quorum.voters), and a footer that must close it.
 */
export function decodeSnapshot(buf: Buffer, file = 'snapshot'): SnapshotContent {
  const split = splitBatches(buf);
  if (!split.ok) throw new SnapshotCorruptError(file, split.message);
  let header: bigint | null = null;
  let footer = false;
  const values: Buffer[] = [];
  for (const b of split.batches) {
    if (footer) throw new SnapshotCorruptError(file, `a batch at offset ${b.header.baseOffset} follows the footer`);
    const batch = buf.subarray(b.pos, b.pos + b.size);
    let records;
    try {
      records = [...iterateRecords(batch)];
    } catch (err) {
      throw new SnapshotCorruptError(file, `the batch at offset ${b.header.baseOffset}: ${(err as Error).message}`);
    }
    for (const rec of records) {
      if (isControl(b.header.attributes)) {
        const type = rec.key !== null && rec.key.length >= 4 ? rec.key.readInt16BE(2) : -1;
        let value: Record<string, unknown>;
        try {
          value = decodeControlRecordValue(type, rec.value ?? Buffer.alloc(0)) as Record<string, unknown>;
        } catch (err) {
          throw new SnapshotCorruptError(file, (err as Error).message);
        }
        if (type === ControlRecordType.SNAPSHOT_HEADER) {
          if (header !== null || values.length > 0) throw new SnapshotCorruptError(file, 'the SnapshotHeader is not the first record');
          header = value['lastContainedLogTimestamp'] as bigint;
        } else if (header === null) {
          throw new SnapshotCorruptError(file, 'the first record is not a SnapshotHeader');
        } else if (type === ControlRecordType.SNAPSHOT_FOOTER) {
          footer = true;
        } else if (type !== ControlRecordType.KRAFT_VERSION && type !== ControlRecordType.KRAFT_VOTERS) {
          throw new SnapshotCorruptError(file, `control record type ${type} does not belong in a snapshot`);
        }
      } else {
        if (header === null) throw new SnapshotCorruptError(file, 'the first record is not a SnapshotHeader');
        values.push(rec.value ?? Buffer.alloc(0));
      }
    }
  }
  if (header === null) throw new SnapshotCorruptError(file, 'no SnapshotHeader');
  if (!footer) throw new SnapshotCorruptError(file, 'no SnapshotFooter (an incomplete snapshot)');
  return { lastContainedLogTimestamp: Number(header), values };
}

/** Writes `<id>.checkpoint` atomically (`.part`, fsync, rename, fsync of the directory). */
export async function writeSnapshotFile(dir: string, id: SnapshotId, bytes: Buffer): Promise<string> {
  const path = join(dir, snapshotFileName(id));
  const part = path.replace(SNAPSHOT_SUFFIX, PARTIAL_SUFFIX);
  const fh = await open(part, 'w', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(part, path);
  await fsyncDir(dir);
  return path;
}

/** The complete snapshots in `dir`, oldest first; deletes leftovers of a crash (`.part`, `.deleted`). */
export async function listSnapshots(dir: string): Promise<SnapshotId[]> {
  const ids: SnapshotId[] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith(PARTIAL_SUFFIX) || name.endsWith(DELETED_SUFFIX)) {
      await unlink(join(dir, name)).catch(() => undefined);
      continue;
    }
    const id = parseSnapshotFileName(name);
    if (id !== null) ids.push(id);
  }
  return ids.sort((a, b) => a.offset - b.offset || a.epoch - b.epoch);
}

export async function readSnapshotFile(dir: string, id: SnapshotId): Promise<Buffer> {
  return readFile(join(dir, snapshotFileName(id)));
}

export async function snapshotSize(dir: string, id: SnapshotId): Promise<number> {
  return (await stat(join(dir, snapshotFileName(id)))).size;
}

/** Deletes a snapshot the way Kafka does: rename to `.checkpoint.deleted`, then unlink. */
export async function deleteSnapshotFile(dir: string, id: SnapshotId): Promise<void> {
  const path = join(dir, snapshotFileName(id));
  const deleted = path.replace(SNAPSHOT_SUFFIX, DELETED_SUFFIX);
  await rename(path, deleted);
  await unlink(deleted).catch(() => undefined);
}
