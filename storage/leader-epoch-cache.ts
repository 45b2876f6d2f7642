/**
 * The leader epoch cache of one partition: epoch -> start offset (the first offset written in that epoch),
 * used to answer OffsetForLeaderEpoch and to truncate diverged followers (KIP-101, KIP-279).
 *
 * Persisted as `leader-epoch-checkpoint`, Kafka's checkpoint text format:
 *
 *   0                 version
 *   2                 number of entries
 *   0 0               "epoch startOffset", one line per entry, ascending
 *   3 1042
 *
 * written whole to `leader-epoch-checkpoint.tmp`, fsynced and renamed over the old file (atomic replace).
 *
 * Invariant: entries are strictly increasing in both epoch and start offset. assign() keeps it the way
 * Kafka's LeaderEpochFileCache does: a new entry removes every entry at its end with an epoch or start
 * offset >= its own.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from './file-util.js';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private epochs: EpochEntry[] = [];
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown = null;

  private constructor(
    readonly dir: string,
    private readonly logEndOffset: () => number,
    private readonly logger: Logger,
  ) {}

  get path(): string {
    return join(this.dir, LEADER_EPOCH_CHECKPOINT);
  }

  /** Loads the checkpoint (a missing file is an empty cache; a malformed one is logged and ignored). */
  static async load(dir: string, logEndOffset: () => number, logger: Logger): Promise<LeaderEpochCache> {
    const cache = new LeaderEpochCache(dir, logEndOffset, logger);
    let text: string;
    try {
      text = await readFile(cache.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return cache;
      throw err;
    }
    const parsed = parseCheckpoint(text);
    if (typeof parsed === 'string') {
      logger.warn({ file: cache.path, problem: parsed }, 'ignoring malformed leader epoch checkpoint');
      cache.dirty = true;
      return cache;
    }
    for (const e of parsed) cache.assignEntry(e.epoch, e.startOffset);
    cache.dirty = false;
    return cache;
  }

  /**
   * Records that `epoch` starts at `startOffset`; returns false when that changes nothing. Persisted
   * asynchronously: flush() waits for the checkpoint file.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0) throw new RangeError(`invalid leader epoch entry (${epoch}, ${startOffset})`);
    if (!this.assignEntry(epoch, startOffset)) return false;
    this.scheduleWrite();
    return true;
  }

  private assignEntry(epoch: number, startOffset: number): boolean {
    const latest = this.epochs[this.epochs.length - 1];
    if (latest && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    const removed: EpochEntry[] = [];
    while (this.epochs.length > 0) {
      const last = this.epochs[this.epochs.length - 1]!;
      if (last.epoch < epoch && last.startOffset < startOffset) break;
      removed.push(this.epochs.pop()!);
    }
    if (removed.length > 1 || (removed.length === 1 && removed[0]!.startOffset !== startOffset)) {
      this.logger.warn({ epoch, startOffset, removed }, 'new leader epoch entry removed non-monotonic entries');
    }
    this.epochs.push({ epoch, startOffset });
    this.dirty = true;
    return true;
  }

  latestEpoch(): number {
    return this.epochs[this.epochs.length - 1]?.epoch ?? UNDEFINED_EPOCH;
  }

  /** Kafka's endOffsetFor: the largest epoch <= `epoch` we know and the start offset of the next epoch (LEO for the latest). */
  endOffsetFor(epoch: number): { epoch: number; endOffset: number } {
    if (epoch === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (this.epochs.length > 0 && this.latestEpoch() === epoch) return { epoch, endOffset: this.logEndOffset() };
    const higherIndex = this.epochs.findIndex((e) => e.epoch > epoch);
    if (higherIndex < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const higher = this.epochs[higherIndex]!;
    if (higherIndex === 0) return { epoch, endOffset: higher.startOffset };
    return { epoch: this.epochs[higherIndex - 1]!.epoch, endOffset: higher.startOffset };
  }

  entries(): EpochEntry[] {
    return this.epochs.map((e) => ({ ...e }));
  }

  /** Removes entries starting at or after endOffset (log truncation). */
  truncateFromEnd(endOffset: number): void {
    const before = this.epochs.length;
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1]!.startOffset >= endOffset) this.epochs.pop();
    if (this.epochs.length !== before) {
      this.dirty = true;
      this.scheduleWrite();
    }
  }

  /** The log start moved to startOffset: drop entries below it, the last of them restarting at startOffset. */
  truncateFromStart(startOffset: number): void {
    let lastRemoved: EpochEntry | undefined;
    let removed = 0;
    while (this.epochs.length > 0 && this.epochs[0]!.startOffset <= startOffset) {
      lastRemoved = this.epochs.shift();
      removed++;
    }
    if (!lastRemoved) return;
    this.epochs.unshift({ epoch: lastRemoved.epoch, startOffset });
    if (removed > 1 || lastRemoved.startOffset !== startOffset) {
      this.dirty = true;
      this.scheduleWrite();
    }
  }

  clear(): void {
    if (this.epochs.length === 0) return;
    this.epochs = [];
    this.dirty = true;
    this.scheduleWrite();
  }

  /** Waits until the checkpoint file holds the current entries; rethrows a failed write. */
  async flush(): Promise<void> {
    if (this.dirty) this.scheduleWrite();
    await this.writing;
    if (this.writeError) {
      const err = this.writeError;
      this.writeError = null;
      throw err;
    }
  }

  private scheduleWrite(): void {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await writeFileAtomic(this.path, formatCheckpoint(this.epochs), this.dir);
      } catch (err) {
        this.dirty = true;
        this.writeError = err;
        this.logger.error({ err, file: this.path }, 'writing the leader epoch checkpoint failed');
      }
    });
  }
}

export function formatCheckpoint(entries: readonly EpochEntry[]): string {
  return `0\n${entries.length}\n${entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join('')}`;
}

/** Parses Kafka's checkpoint text; returns a problem description when malformed. */
export function parseCheckpoint(text: string): EpochEntry[] | string {
  const lines = text.split('\n').filter((l, i, all) => l.length > 0 || i < all.length - 1);
  if (lines[0]?.trim() !== '0') return `unsupported version line ${JSON.stringify(lines[0])}`;
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0) return `bad entry count ${JSON.stringify(lines[1])}`;
  if (lines.length - 2 !== count) return `expected ${count} entries, found ${lines.length - 2} lines`;
  const out: EpochEntry[] = [];
  for (let i = 0; i < count; i++) {
    const parts = lines[i + 2]!.trim().split(/\s+/);
    const epoch = Number(parts[0]);
    const startOffset = Number(parts[1]);
    if (parts.length !== 2 || !Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset) || epoch < 0 || startOffset < 0) {
      return `bad entry line ${JSON.stringify(lines[i + 2])}`;
    }
    out.push({ epoch, startOffset });
  }
  return out;
}
