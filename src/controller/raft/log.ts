/**
 * The core's view of the replicated log (`__cluster_metadata-0` once wired): its records with their epochs,
 * the leader-epoch cache derived from them, and the flushed end. The adapter holds the real log and applies
 * the core's append/truncate/flush effects to it; on start the core is given what the log recovered.
 *
 * Offsets start at 0 (snapshots and a moving log start offset come with FetchSnapshot, later).
 *
 * Batches: one proposal is one record batch (Kafka's controller writes each event's records as one batch,
 * and a batch is what the log appends, truncates and ships whole). Every record of a multi-record batch
 * but its last carries `batchContinues`; the log never splits a batch, so a Fetch answer, a truncation and
 * the high watermark only ever land between batches and a state machine above never sees half a proposal.
 */

/** The LeaderChange control record a new leader appends at the start of its epoch (LeaderChangeMessage.json). */
export interface LeaderChangeValue {
  readonly kind: 'leader-change';
  readonly leaderId: number;
  readonly voters: readonly number[];
  readonly grantingVoters: readonly number[];
}

/** An entry proposed by the state machine above Raft (a metadata record batch, once wired). */
export interface DataValue {
  readonly kind: 'data';
  readonly data: Uint8Array;
}

export type RaftValue = LeaderChangeValue | DataValue;

export interface RaftRecord {
  /** The leader epoch the record was appended in (a record batch's partitionLeaderEpoch). */
  readonly epoch: number;
  readonly value: RaftValue;
  /** The next record belongs to the same batch (absent: the batch ends with this record). */
  readonly batchContinues?: boolean;
  /** The batch's timestamp (the leader's clock when it appended), kept so every replica stores the same bytes. */
  readonly appendTimeMs?: number;
}

export interface OffsetAndEpoch {
  readonly offset: number;
  readonly epoch: number;
}

export type OffsetValidation = { readonly valid: true } | { readonly valid: false; readonly diverging: OffsetAndEpoch };

export class RaftLog {
  private readonly records: RaftRecord[] = [];
  /** (epoch, start offset) for each epoch present, ascending: the leader-epoch cache. */
  private readonly epochs: { epoch: number; startOffset: number }[] = [];
  private flushed = 0;

  constructor(recovered: readonly RaftRecord[] = []) {
    this.append(recovered);
    this.flushed = this.records.length;
  }

  get endOffset(): number {
    return this.records.length;
  }

  get flushedEndOffset(): number {
    return this.flushed;
  }

  /** The epoch of the last record, 0 for an empty log (KIP-595: lastFetchedEpoch of an empty log). */
  get lastEpoch(): number {
    return this.epochs.length === 0 ? 0 : this.epochs[this.epochs.length - 1]!.epoch;
  }

  get(offset: number): RaftRecord | undefined {
    return this.records[offset];
  }

  /** Up to maxRecords records from fromOffset, extended to the end of the last batch begun (batches go whole). */
  read(fromOffset: number, maxRecords: number): RaftRecord[] {
    let end = Math.min(this.records.length, fromOffset + maxRecords);
    while (end < this.records.length && this.records[end - 1]?.batchContinues === true) end++;
    return this.records.slice(fromOffset, end);
  }

  /** The largest batch boundary <= offset (offset itself when no batch straddles it). */
  batchBoundaryAtOrBelow(offset: number): number {
    let o = Math.min(offset, this.records.length);
    while (o > 0 && this.records[o - 1]!.batchContinues === true) o--;
    return o;
  }

  append(records: readonly RaftRecord[]): void {
    for (const r of records) {
      const last = this.epochs[this.epochs.length - 1];
      if (last && r.epoch < last.epoch) throw new Error(`append of epoch ${r.epoch} after epoch ${last.epoch}`);
      if (!last || r.epoch > last.epoch) this.epochs.push({ epoch: r.epoch, startOffset: this.records.length });
      this.records.push(r);
    }
  }

  /** Drops every record at or above offset; a batch straddling offset goes whole (as Kafka's Log.truncateTo). */
  truncateTo(offset: number): void {
    offset = this.batchBoundaryAtOrBelow(offset);
    if (offset >= this.records.length) return;
    this.records.length = Math.max(0, offset);
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1]!.startOffset >= this.records.length) this.epochs.pop();
    this.flushed = Math.min(this.flushed, this.records.length);
  }

  flush(): void {
    this.flushed = this.records.length;
  }

  /**
   * Kafka's LeaderEpochFileCache.endOffsetFor: the largest epoch <= `epoch` present in the log and the
   * offset where it ends (the start of the next epoch, or the log end offset). An epoch below every epoch
   * present ends where the first one starts; an epoch above the latest answers the latest with the log end.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    const n = this.epochs.length;
    if (n === 0) return { epoch, offset: 0 };
    if (epoch >= this.epochs[n - 1]!.epoch) return { epoch: this.epochs[n - 1]!.epoch, offset: this.records.length };
    let i = n - 1;
    while (i >= 0 && this.epochs[i]!.epoch > epoch) i--;
    const next = this.epochs[i + 1]!;
    return { epoch: i >= 0 ? this.epochs[i]!.epoch : epoch, offset: next.startOffset };
  }

  /**
   * The leader's check of a follower's (FetchOffset, LastFetchedEpoch) (Kafka's validateOffsetAndEpoch):
   * valid when the leader's log has that epoch and it reaches at least FetchOffset; otherwise the answer is
   * the DivergingEpoch the follower truncates to.
   */
  validateOffsetAndEpoch(fetchOffset: number, lastFetchedEpoch: number): OffsetValidation {
    if (fetchOffset === 0) return { valid: true };
    const end = this.endOffsetForEpoch(lastFetchedEpoch);
    if (end.epoch !== lastFetchedEpoch || end.offset < fetchOffset) return { valid: false, diverging: end };
    return { valid: true };
  }
}
