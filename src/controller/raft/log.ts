/**
 * The core's view of the replicated log (`__cluster_metadata-0` once wired): its records with their epochs,
 * the leader-epoch cache derived from them, and the flushed end. The adapter holds the real log and applies
 * the core's append/truncate/flush effects to it; on start the core is given what the log recovered.
 *
 * The log starts at its log start offset: 0, or the end offset of a snapshot (KIP-630) once the records
 * before it were deleted. The snapshot at the log start stands for them: its epoch is the log's last epoch
 * while no record follows it, and an epoch below it ends at the log start (KafkaMetadataLog.endOffsetForEpoch).
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

export type OffsetValidation =
  | { readonly valid: true }
  | { readonly valid: false; readonly snapshot?: undefined; readonly diverging: OffsetAndEpoch }
  /** The follower is behind the log start: it must fetch the latest snapshot (KIP-630). */
  | { readonly valid: false; readonly snapshot: true };

export class RaftLog {
  /** records[i] is the record at offset start + i. */
  private records: RaftRecord[] = [];
  /** (epoch, start offset) for each epoch present, ascending: the leader-epoch cache. */
  private epochs: { epoch: number; startOffset: number }[] = [];
  private flushed: number;
  /** The log start offset, and the epoch of the record just before it (the snapshot there; 0 at offset 0). */
  private start: number;
  private startEpoch: number;

  /** `recovered` are the records from `logStart.offset` on (the log start snapshot's id, or offset 0 epoch 0). */
  constructor(recovered: readonly RaftRecord[] = [], logStart: OffsetAndEpoch = { offset: 0, epoch: 0 }) {
    this.start = logStart.offset;
    this.startEpoch = logStart.epoch;
    this.flushed = this.start;
    this.append(recovered);
    this.flushed = this.endOffset;
  }

  get endOffset(): number {
    return this.start + this.records.length;
  }

  /** The first offset the log holds (records before it are in a snapshot). */
  get startOffset(): number {
    return this.start;
  }

  /** (log start offset, epoch of the record before it): the snapshot the log starts from. */
  get startId(): OffsetAndEpoch {
    return { offset: this.start, epoch: this.startEpoch };
  }

  get flushedEndOffset(): number {
    return this.flushed;
  }

  /** The epoch of the last record, 0 for an empty log (KIP-595: lastFetchedEpoch of an empty log). */
  get lastEpoch(): number {
    return this.epochs.length === 0 ? this.startEpoch : this.epochs[this.epochs.length - 1]!.epoch;
  }

  /** The record at offset, undefined below the log start or at/after the end. */
  get(offset: number): RaftRecord | undefined {
    return offset < this.start ? undefined : this.records[offset - this.start];
  }

  /** Up to maxRecords records from fromOffset (>= the log start), extended to the end of the last batch begun (batches go whole). */
  read(fromOffset: number, maxRecords: number): RaftRecord[] {
    const from = fromOffset - this.start;
    if (from < 0) throw new RangeError(`read at ${fromOffset} below the log start offset ${this.start}`);
    let end = Math.min(this.records.length, from + maxRecords);
    while (end < this.records.length && this.records[end - 1]?.batchContinues === true) end++;
    return this.records.slice(from, end);
  }

  /** The largest batch boundary <= offset (offset itself when no batch straddles it); never below the log start. */
  batchBoundaryAtOrBelow(offset: number): number {
    let o = Math.min(offset, this.endOffset) - this.start;
    if (o <= 0) return this.start;
    while (o > 0 && this.records[o - 1]!.batchContinues === true) o--;
    return this.start + o;
  }

  append(records: readonly RaftRecord[]): void {
    for (const r of records) {
      const last = this.epochs[this.epochs.length - 1];
      const lastEpoch = last?.epoch ?? this.startEpoch;
      if (r.epoch < lastEpoch) throw new Error(`append of epoch ${r.epoch} after epoch ${lastEpoch}`);
      if (!last || r.epoch > last.epoch) this.epochs.push({ epoch: r.epoch, startOffset: this.endOffset });
      this.records.push(r);
    }
  }

  /** Drops every record at or above offset; a batch straddling offset goes whole (as Kafka's Log.truncateTo). */
  truncateTo(offset: number): void {
    offset = this.batchBoundaryAtOrBelow(offset);
    if (offset >= this.endOffset) return;
    this.records.length = offset - this.start;
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1]!.startOffset >= this.endOffset) this.epochs.pop();
    this.flushed = Math.min(this.flushed, this.endOffset);
  }

  /**
   * Moves the log start to a snapshot's end offset (<= the end offset, on a batch boundary): the records
   * before it are deleted (Kafka's deleteBeforeSnapshot / truncateFromStart). The epoch cache keeps the
   * epochs that reach past it, the one straddling it starting at the new log start.
   */
  deleteBefore(snapshot: OffsetAndEpoch): void {
    if (snapshot.offset <= this.start) return;
    if (snapshot.offset > this.endOffset) throw new RangeError(`log start ${snapshot.offset} past the log end offset ${this.endOffset}`);
    this.records = this.records.slice(snapshot.offset - this.start);
    this.start = snapshot.offset;
    this.startEpoch = snapshot.epoch;
    const kept = this.epochs.filter((e, i) => (this.epochs[i + 1]?.startOffset ?? Infinity) > this.start && e.epoch >= snapshot.epoch);
    this.epochs = kept.map((e) => ({ epoch: e.epoch, startOffset: Math.max(e.startOffset, this.start) }));
    if (this.records.length === 0) this.epochs = [];
    this.flushed = Math.max(this.flushed, this.start);
  }

  /** Replaces the whole log by a snapshot: empty, starting at its end offset (Kafka's truncateFullyAndStartAt). */
  resetTo(snapshot: OffsetAndEpoch): void {
    this.records = [];
    this.epochs = [];
    this.start = snapshot.offset;
    this.startEpoch = snapshot.epoch;
    this.flushed = this.start;
  }

  flush(): void {
    this.flushed = this.endOffset;
  }

  /**
   * Kafka's LeaderEpochFileCache.endOffsetFor: the largest epoch <= `epoch` present in the log and the
   * offset where it ends (the start of the next epoch, or the log end offset). An epoch below every epoch
   * present ends where the first one starts; an epoch above the latest answers the latest with the log end.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    // The snapshot at the log start counts as an epoch that ends there (when no record of it follows).
    const epochs = this.start > 0 && (this.epochs.length === 0 || this.epochs[0]!.epoch > this.startEpoch) ? [{ epoch: this.startEpoch, startOffset: this.start }, ...this.epochs] : this.epochs;
    const n = epochs.length;
    if (n === 0) return { epoch, offset: this.start };
    if (epoch >= epochs[n - 1]!.epoch) return { epoch: epochs[n - 1]!.epoch, offset: this.endOffset };
    let i = n - 1;
    while (i >= 0 && epochs[i]!.epoch > epoch) i--;
    const next = epochs[i + 1]!;
    // Below the log start: the snapshot's id (KafkaMetadataLog.endOffsetForEpoch).
    if (i < 0 && this.start > 0) return { epoch: this.startEpoch, offset: this.start };
    return { epoch: i >= 0 ? epochs[i]!.epoch : epoch, offset: next.startOffset };
  }

  /**
   * The leader's check of a follower's (FetchOffset, LastFetchedEpoch) (Kafka's validateOffsetAndEpoch):
   * valid when the leader's log has that epoch and it reaches at least FetchOffset; otherwise the answer is
   * the DivergingEpoch the follower truncates to.
   */
  validateOffsetAndEpoch(fetchOffset: number, lastFetchedEpoch: number): OffsetValidation {
    if (this.start === 0 && fetchOffset === 0) return { valid: true };
    // Below the log start, or at it in another epoch: the follower must fetch the snapshot (KIP-630).
    if (this.start > 0 && (fetchOffset < this.start || (fetchOffset === this.start && lastFetchedEpoch !== this.startEpoch) || lastFetchedEpoch < this.startEpoch)) {
      return { valid: false, snapshot: true };
    }
    const end = this.endOffsetForEpoch(lastFetchedEpoch);
    if (end.epoch !== lastFetchedEpoch || end.offset < fetchOffset) return { valid: false, diverging: end };
    return { valid: true };
  }
}
