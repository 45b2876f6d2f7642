/**
 * The time index of one segment (`<base offset>.timeindex`), in Kafka's format:
 *
 *   entry (12 bytes, big-endian) = timestamp int64 | relativeOffset int32
 *
 * An entry (T, O) says: T is the largest batch maxTimestamp in the segment up to and including the batch
 * whose last offset is O, and that batch is the first to reach T. Entries are appended together with
 * offset index entries (every `index.interval.bytes`) and once more when the segment becomes inactive
 * (roll, close), only when T grew, so both fields are strictly increasing and the last entry of a closed
 * segment holds the segment's largest timestamp. To find the first batch with maxTimestamp >= ts: take the
 * last entry with T <= ts (or the segment start) and scan batch headers forward from the offset index
 * position of its offset.
 *
 * Like the offset index, the file is kept exactly `entries * 12` bytes (Kafka preallocates and trims on
 * close), the entries live in memory and the tail is written on flush, roll and close.
 */
import { readFile } from 'node:fs/promises';
import { openReadWrite, readInt64, writeFullyAt, writeInt64 } from './file-util.js';

export const TIME_INDEX_ENTRY_SIZE = 12;
/** RecordBatch.NO_TIMESTAMP. */
export const NO_TIMESTAMP = -1;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex {
  private timestamps: Float64Array;
  private relativeOffsets: Int32Array;
  private count = 0;
  /** Entries known to be in the file (a prefix of the in-memory ones); -1 = the file must be rewritten. */
  private fileEntries = -1;

  constructor(
    public path: string,
    readonly baseOffset: number,
    capacity = 16,
  ) {
    this.timestamps = new Float64Array(capacity);
    this.relativeOffsets = new Int32Array(capacity);
  }

  static async load(path: string, baseOffset: number): Promise<{ index: TimeIndex; problem: string | null } | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const n = Math.floor(bytes.length / TIME_INDEX_ENTRY_SIZE);
    const index = new TimeIndex(path, baseOffset, Math.max(16, n));
    let problem: string | null =
      bytes.length % TIME_INDEX_ENTRY_SIZE === 0 ? null : `size ${bytes.length} is not a multiple of 12`;
    for (let i = 0; i < n && problem === null; i++) {
      const ts = readInt64(bytes, i * 12);
      const rel = bytes.readInt32BE(i * 12 + 8);
      if (rel < 0) problem = `entry ${i} has a negative offset`;
      else if (i > 0 && (ts <= index.timestamps[i - 1]! || rel < index.relativeOffsets[i - 1]!))
        problem = `entry ${i} is not increasing`;
      index.timestamps[i] = ts;
      index.relativeOffsets[i] = rel;
      index.count = i + 1;
    }
    index.fileEntries = bytes.length % TIME_INDEX_ENTRY_SIZE === 0 ? n : -1;
    return { index, problem };
  }

  get entries(): number {
    return this.count;
  }

  isFull(segmentIndexBytes: number): boolean {
    return this.count >= Math.floor(segmentIndexBytes / TIME_INDEX_ENTRY_SIZE);
  }

  entry(i: number): TimestampOffset {
    return { timestamp: this.timestamps[i]!, offset: this.baseOffset + this.relativeOffsets[i]! };
  }

  lastEntry(): TimestampOffset {
    return this.count === 0 ? { timestamp: NO_TIMESTAMP, offset: this.baseOffset } : this.entry(this.count - 1);
  }

  /** The last entry with timestamp <= targetTimestamp, or (NO_TIMESTAMP, base offset). */
  lookup(targetTimestamp: number): TimestampOffset {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! <= targetTimestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { timestamp: NO_TIMESTAMP, offset: this.baseOffset } : this.entry(found);
  }

  /** Appends (timestamp, offset) when timestamp is larger than the last entry's (Kafka's maybeAppend). */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.lastEntry();
    if (timestamp <= last.timestamp) return;
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff) throw new RangeError(`offset ${offset} does not fit segment ${this.baseOffset}`);
    if (this.count > 0 && offset < last.offset) {
      throw new RangeError(`time index entry (${timestamp}, ${offset}) goes back from offset ${last.offset}`);
    }
    if (this.count === this.timestamps.length) {
      const ts = new Float64Array(this.count * 2);
      ts.set(this.timestamps);
      this.timestamps = ts;
      const rels = new Int32Array(this.count * 2);
      rels.set(this.relativeOffsets);
      this.relativeOffsets = rels;
    }
    this.timestamps[this.count] = timestamp;
    this.relativeOffsets[this.count] = rel;
    this.count++;
  }

  /** Drops entries with offset >= offset. */
  truncate(offset: number): void {
    while (this.count > 0 && this.baseOffset + this.relativeOffsets[this.count - 1]! >= offset) this.count--;
    if (this.fileEntries > this.count) this.fileEntries = -1;
  }

  reset(): void {
    this.count = 0;
    this.fileEntries = -1;
  }

  async persist(sync: boolean): Promise<void> {
    if (this.fileEntries === this.count && !sync) return;
    const fh = await openReadWrite(this.path);
    try {
      let from = this.fileEntries;
      if (from < 0 || from > this.count) {
        await fh.truncate(0);
        from = 0;
      }
      if (from < this.count) {
        const buf = Buffer.allocUnsafe((this.count - from) * TIME_INDEX_ENTRY_SIZE);
        for (let i = from; i < this.count; i++) {
          writeInt64(buf, (i - from) * 12, this.timestamps[i]!);
          buf.writeInt32BE(this.relativeOffsets[i]!, (i - from) * 12 + 8);
        }
        await writeFullyAt(fh, [buf], from * TIME_INDEX_ENTRY_SIZE);
      }
      await fh.truncate(this.count * TIME_INDEX_ENTRY_SIZE);
      if (sync) await fh.sync();
      this.fileEntries = this.count;
    } finally {
      await fh.close();
    }
  }
}
