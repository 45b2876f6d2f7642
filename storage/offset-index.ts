/**
 * The sparse offset index of one segment (`<base offset>.index`), in Kafka's format:
 *
 *   entry (8 bytes, big-endian) = relativeOffset int32 | position int32
 *
 * `relativeOffset` is `offset - segment base offset` where `offset` is the LAST offset of the batch that
 * starts at byte `position` of the `.log` file (what Kafka's LogSegment writes and kafka-dump-log checks).
 * Entries are strictly increasing in both fields. One entry is added when more than
 * `index.interval.bytes` of batches were appended since the previous one; the first batch of a segment
 * gets none (position 0 is implied). To find offset O: take the last entry with offset <= O (or position 0)
 * and scan batch headers forward from its position.
 *
 * Kafka preallocates the file to `segment.index.bytes` and trims it on close. Samsa keeps the file exactly
 * `entries * 8` bytes long at all times (the same bytes Kafka leaves after a clean shutdown), holds the
 * entries in memory, and writes the new tail lazily: on flush, roll and close. The index is not needed for
 * durability: after an unclean stop the active segment's indexes are rebuilt from the log.
 */
import { readFile } from 'node:fs/promises';
import { openReadWrite, writeFullyAt } from './file-util.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex {
  private relativeOffsets: Int32Array;
  private positions: Int32Array;
  private count = 0;
  /** Entries known to be in the file (a prefix of the in-memory ones); -1 = the file must be rewritten. */
  private fileEntries = -1;

  constructor(
    public path: string,
    readonly baseOffset: number,
    capacity = 64,
  ) {
    this.relativeOffsets = new Int32Array(capacity);
    this.positions = new Int32Array(capacity);
  }

  /** Loads the file; a missing file gives null. */
  static async load(path: string, baseOffset: number): Promise<{ index: OffsetIndex; problem: string | null } | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const n = Math.floor(bytes.length / OFFSET_INDEX_ENTRY_SIZE);
    const index = new OffsetIndex(path, baseOffset, Math.max(64, n));
    let problem: string | null =
      bytes.length % OFFSET_INDEX_ENTRY_SIZE === 0 ? null : `size ${bytes.length} is not a multiple of 8`;
    for (let i = 0; i < n && problem === null; i++) {
      const rel = bytes.readInt32BE(i * 8);
      const pos = bytes.readInt32BE(i * 8 + 4);
      if (rel < 0 || pos < 0) problem = `entry ${i} is negative`;
      else if (i > 0 && (rel <= index.relativeOffsets[i - 1]! || pos <= index.positions[i - 1]!))
        problem = `entry ${i} is not increasing`;
      index.relativeOffsets[i] = rel;
      index.positions[i] = pos;
      index.count = i + 1;
    }
    index.fileEntries = bytes.length / OFFSET_INDEX_ENTRY_SIZE === n ? n : -1;
    return { index, problem };
  }

  get entries(): number {
    return this.count;
  }

  isFull(segmentIndexBytes: number): boolean {
    return this.count >= Math.floor(segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE);
  }

  entry(i: number): OffsetPosition {
    return { offset: this.baseOffset + this.relativeOffsets[i]!, position: this.positions[i]! };
  }

  lastEntry(): OffsetPosition {
    return this.count === 0 ? { offset: this.baseOffset, position: 0 } : this.entry(this.count - 1);
  }

  /** The last entry with offset <= targetOffset, or (base offset, 0). */
  lookup(targetOffset: number): OffsetPosition {
    const rel = targetOffset - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relativeOffsets[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(found);
  }

  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff) throw new RangeError(`offset ${offset} does not fit segment ${this.baseOffset}`);
    if (this.count > 0 && (rel <= this.relativeOffsets[this.count - 1]! || position <= this.positions[this.count - 1]!)) {
      throw new RangeError(`index entry (${offset}, ${position}) is not after ${JSON.stringify(this.lastEntry())}`);
    }
    if (this.count === this.relativeOffsets.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.relativeOffsets = grow(this.relativeOffsets);
      this.positions = grow(this.positions);
    }
    this.relativeOffsets[this.count] = rel;
    this.positions[this.count] = position;
    this.count++;
  }

  /** Drops entries with offset >= offset or position >= position. */
  truncate(offset: number, position: number): void {
    while (this.count > 0) {
      const last = this.count - 1;
      if (this.baseOffset + this.relativeOffsets[last]! < offset && this.positions[last]! < position) break;
      this.count = last;
    }
    if (this.fileEntries > this.count) this.fileEntries = -1;
  }

  reset(): void {
    this.count = 0;
    this.fileEntries = -1;
  }

  /** Writes the entries not yet in the file (the whole file when it no longer matches), then optionally fsyncs. */
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
        const buf = Buffer.allocUnsafe((this.count - from) * OFFSET_INDEX_ENTRY_SIZE);
        for (let i = from; i < this.count; i++) {
          buf.writeInt32BE(this.relativeOffsets[i]!, (i - from) * 8);
          buf.writeInt32BE(this.positions[i]!, (i - from) * 8 + 4);
        }
        await writeFullyAt(fh, [buf], from * OFFSET_INDEX_ENTRY_SIZE);
      }
      await fh.truncate(this.count * OFFSET_INDEX_ENTRY_SIZE);
      if (sync) await fh.sync();
      this.fileEntries = this.count;
    } finally {
      await fh.close();
    }
  }
}

