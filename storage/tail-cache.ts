/**
 * The tail cache of one log: the batches most recently written to the active segment, kept in memory as
 * the buffers they were appended from, so that consumers at the end of the log are served without a file
 * read per fetch (ARCHITECTURE.md: "recent data from an in-memory tail cache").
 *
 * It mirrors a suffix of the active segment: entries are whole runs of batches, in file order, each added
 * only after its write succeeded (so it never holds bytes the file lacks), with the base offset of its
 * first batch and the last offset of its last. The oldest entries go when the cache holds more than
 * `maxBytes`. It is emptied when the active segment changes (roll) or loses bytes (truncation), and when
 * the log closes.
 *
 * Memory: an entry is a view into the buffer the batches arrived in (a produce request frame or a socket
 * chunk), which stays alive as long as the entry does. A produce request to several partitions is one
 * frame whose runs go to several partitions' caches, so each cache counts only its run's bytes: when the
 * partitions of a request are all cached, the frame is counted exactly once across their caches, and no
 * produced byte is copied a second time (ARCHITECTURE.md: one copy per direction). A run whose buffer is
 * more than `SHARE_FACTOR` times larger than the run is copied instead (a small batch must not pin a huge
 * frame or socket chunk), so one cache keeps at most `SHARE_FACTOR` x `maxBytes` alive in the worst case
 * (partitions of one frame evicted from the other caches), and about `maxBytes` in the usual one. Cached
 * bytes are never changed afterwards (offsets and epochs are stamped before the write).
 */
import { BATCH_HEADER_SIZE, LOG_OVERHEAD } from '../protocol/records/batch.js';
import { BATCH_LENGTH_POS, LAST_OFFSET_DELTA_POS, readInt64 } from './file-util.js';

/** A run is kept as a view only when its underlying buffer is at most this many times its size. */
export const SHARE_FACTOR = 16;

interface Entry {
  buf: Buffer;
  firstOffset: number;
  lastOffset: number;
  /** Bytes this entry is counted for: its own length (a view shares its frame with other partitions' entries). */
  held: number;
}

export interface TailRead {
  records: Buffer[];
  bytes: number;
}

export class TailCache {
  private entries: Entry[] = [];
  private heldBytes = 0;
  hits = 0;
  misses = 0;

  constructor(public maxBytes: number) {}

  get size(): number {
    return this.heldBytes;
  }

  get firstOffset(): number {
    return this.entries[0]?.firstOffset ?? -1;
  }

  clear(): void {
    this.entries = [];
    this.heldBytes = 0;
  }

  /** Adds a run of whole batches just written at the end of the active segment. */
  add(run: Buffer, firstOffset: number, lastOffset: number): void {
    if (this.maxBytes <= 0 || run.length === 0) return;
    if (run.length > this.maxBytes) {
      this.clear();
      return;
    }
    const buf = run.buffer.byteLength > SHARE_FACTOR * run.length ? Buffer.from(run) : run;
    const held = run.length;
    this.entries.push({ buf, firstOffset, lastOffset, held });
    this.heldBytes += held;
    let drop = 0;
    while (this.heldBytes > this.maxBytes && drop < this.entries.length) this.heldBytes -= this.entries[drop++]!.held;
    if (drop > 0) this.entries.splice(0, drop);
  }

  /**
   * Whole batches from the one containing `offset`, as Segment.read chooses them: at most `maxBytes` (at
   * least the first batch when `minOneMessage`), none whose last offset is >= `maxOffset`. Null when the
   * cache does not reach back to `offset` (the caller reads the file).
   */
  read(offset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean): TailRead | null {
    const entries = this.entries;
    if (entries.length === 0 || offset < entries[0]!.firstOffset || offset > entries[entries.length - 1]!.lastOffset) {
      this.misses++;
      return null;
    }
    // The first entry with lastOffset >= offset (binary search: entries are in offset order).
    let lo = 0;
    let hi = entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    const records: Buffer[] = [];
    let bytes = 0;
    let first = true;
    for (; i < entries.length; i++) {
      const { buf } = entries[i]!;
      let pos = 0;
      let start = -1;
      let end = 0;
      while (pos + BATCH_HEADER_SIZE <= buf.length) {
        const size = LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_POS);
        const lastOffset = readInt64(buf, pos) + buf.readInt32BE(pos + LAST_OFFSET_DELTA_POS);
        if (lastOffset < offset) {
          pos += size;
          continue;
        }
        if (lastOffset >= maxOffset || (bytes + size > maxBytes && !(first && minOneMessage))) {
          if (start >= 0) records.push(buf.subarray(start, end));
          this.hits++;
          return { records, bytes };
        }
        if (start < 0) start = pos;
        first = false;
        bytes += size;
        pos += size;
        end = pos;
      }
      if (start >= 0) records.push(buf.subarray(start, end));
    }
    this.hits++;
    return { records, bytes };
  }
}
