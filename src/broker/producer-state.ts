/**
 * Idempotent producer state of one partition (KIP-98): for each producer id, its epoch and the metadata of
 * its last five batches, so a retried batch is answered with the offset it already has and a gap or a stale
 * epoch is refused. The rules are Kafka's (storage/.../ProducerAppendInfo.java, ProducerStateEntry.java,
 * UnifiedLog.analyzeAndValidateProducerState, LogValidator), checked in this order for each batch with a
 * producer id (>= 0) of a client's produce request:
 *
 *   1. baseSequence < 0                               -> INVALID_RECORD (LogValidator)
 *   2. same epoch as the producer's entry and the same (firstSeq, lastSeq) as one of its last 5 batches
 *                                                     -> duplicate: the whole request is answered NONE with
 *      that batch's original base offset, and nothing is appended (Kafka returns NONE, not
 *      DUPLICATE_SEQUENCE_NUMBER)
 *   3. transactional batch                            -> INVALID_TXN_STATE: no transaction can be ongoing
 *      (transactions are not supported yet; Kafka's answer to a transactional batch outside a transaction
 *      when transaction.partition.verification.enable is true, its default)
 *   4. epoch < the entry's epoch                      -> INVALID_PRODUCER_EPOCH (47)
 *   5. epoch > the entry's epoch (a bump, KIP-360)    -> the batch must start at sequence 0, else
 *      OUT_OF_ORDER_SEQUENCE_NUMBER (45); an unknown producer (no entry) is accepted at any sequence
 *      (Kafka 2.5+, KIP-360: UNKNOWN_PRODUCER_ID is no longer returned for produce)
 *   6. same epoch: firstSeq must be lastSeq + 1 of the producer's last batch (0 after Int32 max: sequences
 *      wrap), else OUT_OF_ORDER_SEQUENCE_NUMBER
 *
 * A new epoch clears the retained batches. Batches with producer id -1 are not checked (kafkajs sends
 * epoch 0, sequence 0 for them). Several batches of one request are checked one after the other, each
 * against the state the earlier ones leave (Kafka's ProducerAppendInfo), and any failure rejects the request.
 *
 * Snapshot file `<20-digit offset>.snapshot` in the partition directory: the state of every producer after
 * all batches below `offset`. Kafka's own format (version 1) keeps only each producer's last batch; this one
 * (version 2) keeps all five, so a retry of any in-flight batch is still a duplicate after a restart.
 * Big-endian:
 *
 *   version        int16   2 (version 1, Kafka's ProducerSnapshot, is read too)
 *   crc            uint32  CRC-32C of every byte after this field
 *   count          int32   producers
 *   per producer:
 *     producerId     int64
 *     producerEpoch  int16
 *     lastTimestamp  int64   max timestamp of its last batch (producer.id.expiration.ms counts from it)
 *     batchCount     int8    1..5, oldest first:
 *       firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64, timestamp int64
 *
 * Kafka's version 1 entry: producerId int64, epoch int16, lastSequence int32, lastOffset int64,
 * offsetDelta int32, timestamp int64, coordinatorEpoch int32, currentTxnFirstOffset int64.
 */
import CRC32C from 'crc-32/crc32c.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isControl, isTransactional, type RecordBatchHeader } from '../../protocol/records/batch.js';

export const NUM_BATCHES_TO_RETAIN = 5;
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
const INT32_MAX = 0x7fffffff;

export const SNAPSHOT_SUFFIX = '.snapshot';
export const SNAPSHOT_VERSION = 2;
const KAFKA_SNAPSHOT_VERSION = 1;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's max timestamp (the log append time on LogAppendTime topics). */
  timestamp: number;
}

export interface ProducerStateEntry {
  readonly producerId: number;
  producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
  lastTimestamp: number;
}

/** The header fields the checks use (a RecordBatchHeader has them all). */
export type ProducerBatch = Pick<RecordBatchHeader, 'producerId' | 'producerEpoch' | 'baseSequence' | 'lastOffsetDelta' | 'attributes'>;

export type AppendCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; errorMessage: string };

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int32 max to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

export function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT32_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}

export function lastSequenceOf(batch: Pick<ProducerBatch, 'baseSequence' | 'lastOffsetDelta'>): number {
  if (batch.baseSequence === NO_SEQUENCE) return NO_SEQUENCE;
  return incrementSequence(batch.baseSequence, batch.lastOffsetDelta);
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function lastSeqOf(entry: ProducerStateEntry): number {
  return entry.batches.length === 0 ? NO_SEQUENCE : entry.batches[entry.batches.length - 1]!.lastSeq;
}

function cloneEntry(e: ProducerStateEntry): ProducerStateEntry {
  return { producerId: e.producerId, producerEpoch: e.producerEpoch, batches: e.batches.slice(), lastTimestamp: e.lastTimestamp };
}

function addBatch(entry: ProducerStateEntry, epoch: number, batch: BatchMetadata): void {
  if (entry.producerEpoch !== epoch) {
    entry.batches = [];
    entry.producerEpoch = epoch;
  }
  if (entry.batches.length >= NUM_BATCHES_TO_RETAIN) entry.batches.shift();
  entry.batches.push(batch);
  entry.lastTimestamp = batch.timestamp;
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerStateEntry>();

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<ProducerStateEntry> {
    return this.producers.values();
  }

  clear(): void {
    this.producers.clear();
  }

  /**
   * Checks a client's batches (already split and CRC-checked) against the state, without changing it.
   * Rules 1-6 of the file header.
   */
  check(batches: readonly ProducerBatch[]): AppendCheck {
    const updated = new Map<number, ProducerStateEntry>();
    for (const b of batches) {
      if (b.producerId < 0) continue;
      const pid = b.producerId;
      if (b.baseSequence < 0) {
        return { kind: 'error', errorCode: ErrorCode.INVALID_RECORD, errorMessage: `Invalid sequence number ${b.baseSequence} in record batch with producerId ${pid}` };
      }
      const current = this.producers.get(pid);
      const lastSeq = lastSequenceOf(b);
      if (current && current.producerEpoch === b.producerEpoch) {
        const duplicate = current.batches.find((m) => m.firstSeq === b.baseSequence && m.lastSeq === lastSeq);
        if (duplicate) return { kind: 'duplicate', batch: duplicate };
      }
      if (isTransactional(b.attributes)) {
        return { kind: 'error', errorCode: ErrorCode.INVALID_TXN_STATE, errorMessage: 'Record was not part of an ongoing transaction (transactions are not supported)' };
      }
      let working = updated.get(pid);
      if (!working) {
        working = current ? cloneEntry(current) : { producerId: pid, producerEpoch: NO_PRODUCER_EPOCH, batches: [], lastTimestamp: -1 };
        updated.set(pid, working);
      }
      if (b.producerEpoch < working.producerEpoch) {
        return {
          kind: 'error',
          errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
          errorMessage: `Epoch of producer ${pid} is ${b.producerEpoch}, which is smaller than the last seen epoch ${working.producerEpoch}`,
        };
      }
      if (b.producerEpoch !== working.producerEpoch) {
        if (b.baseSequence !== 0 && working.producerEpoch !== NO_PRODUCER_EPOCH) {
          return {
            kind: 'error',
            errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            errorMessage: `Invalid sequence number for new epoch of producer ${pid}: ${b.producerEpoch} (request epoch), ${b.baseSequence} (seq. number), ${working.producerEpoch} (current producer epoch)`,
          };
        }
      } else {
        const currentLastSeq = lastSeqOf(working);
        // An entry without an epoch (none so far) accepts any sequence.
        if (!(current === undefined || current.producerEpoch === NO_PRODUCER_EPOCH || inSequence(currentLastSeq, b.baseSequence))) {
          return {
            kind: 'error',
            errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            errorMessage: `Out of order sequence number for producer ${pid}: ${b.baseSequence} (incoming seq. number), ${currentLastSeq} (current end sequence number)`,
          };
        }
      }
      // Offsets are not known yet; only the sequences matter for the following batches of this request.
      addBatch(working, b.producerEpoch, { firstSeq: b.baseSequence, lastSeq, firstOffset: -1, lastOffset: -1, timestamp: -1 });
    }
    return { kind: 'append' };
  }

  /**
   * Records a batch that is now in the log (after a checked append, or while rebuilding from the log).
   * A batch at or below the producer's last known offset was already recorded (a rebuild scanning past a
   * snapshot's offset) and is skipped. Control batches carry no sequence and are not recorded.
   */
  apply(batch: ProducerBatch, baseOffset: number, maxTimestamp: number): void {
    if (batch.producerId < 0 || isControl(batch.attributes)) return;
    const lastOffset = baseOffset + batch.lastOffsetDelta;
    let entry = this.producers.get(batch.producerId);
    if (entry) {
      const last = entry.batches[entry.batches.length - 1];
      if (last && last.lastOffset >= lastOffset) return;
    } else {
      entry = { producerId: batch.producerId, producerEpoch: NO_PRODUCER_EPOCH, batches: [], lastTimestamp: -1 };
      this.producers.set(batch.producerId, entry);
    }
    addBatch(entry, batch.producerEpoch, {
      firstSeq: batch.baseSequence,
      lastSeq: lastSequenceOf(batch),
      firstOffset: baseOffset,
      lastOffset,
      timestamp: maxTimestamp,
    });
  }

  /**
   * Forgets producers whose last batch is older than producer.id.expiration.ms (Kafka's
   * removeExpiredProducers); they start over as unknown producers. Returns how many were removed.
   */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [pid, e] of this.producers) {
      if (nowMs - e.lastTimestamp >= expirationMs) {
        this.producers.delete(pid);
        removed++;
      }
    }
    return removed;
  }

  // ------------------------------------------------------------------------------------------ snapshot

  /** The snapshot file bytes (format in the file header). */
  encodeSnapshot(): Buffer {
    let size = 2 + 4 + 4;
    for (const e of this.producers.values()) size += 8 + 2 + 8 + 1 + e.batches.length * 32;
    const buf = Buffer.alloc(size);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(this.producers.size, 6);
    let pos = 10;
    for (const e of this.producers.values()) {
      writeInt64(buf, pos, e.producerId);
      buf.writeInt16BE(e.producerEpoch, pos + 8);
      writeInt64(buf, pos + 10, e.lastTimestamp);
      buf.writeInt8(e.batches.length, pos + 18);
      pos += 19;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, pos);
        buf.writeInt32BE(b.lastSeq, pos + 4);
        writeInt64(buf, pos + 8, b.firstOffset);
        writeInt64(buf, pos + 16, b.lastOffset);
        writeInt64(buf, pos + 24, b.timestamp);
        pos += 32;
      }
    }
    buf.writeUInt32BE(CRC32C.buf(buf.subarray(6), 0) >>> 0, 2);
    return buf;
  }

  /** Replaces the state with a snapshot's; throws SnapshotError on a bad file (the caller falls back). */
  loadSnapshot(buf: Buffer): void {
    if (buf.length < 10) throw new SnapshotError(`snapshot of ${buf.length} bytes is too short`);
    const version = buf.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION && version !== KAFKA_SNAPSHOT_VERSION) throw new SnapshotError(`unknown snapshot version ${version}`);
    const crc = buf.readUInt32BE(2);
    if ((CRC32C.buf(buf.subarray(6), 0) >>> 0) !== crc) throw new SnapshotError('snapshot CRC mismatch');
    const count = buf.readInt32BE(6);
    const loaded: ProducerStateEntry[] = [];
    let pos = 10;
    const need = (n: number): void => {
      if (pos + n > buf.length) throw new SnapshotError('snapshot is truncated');
    };
    for (let i = 0; i < count; i++) {
      if (version === KAFKA_SNAPSHOT_VERSION) {
        need(46);
        const producerId = readInt64(buf, pos);
        const producerEpoch = buf.readInt16BE(pos + 8);
        const lastSeq = buf.readInt32BE(pos + 10);
        const lastOffset = readInt64(buf, pos + 14);
        const offsetDelta = buf.readInt32BE(pos + 22);
        const timestamp = readInt64(buf, pos + 26);
        pos += 46;
        const batches = lastOffset >= 0 ? [{ firstSeq: decrementSequence(lastSeq, offsetDelta), lastSeq, firstOffset: lastOffset - offsetDelta, lastOffset, timestamp }] : [];
        loaded.push({ producerId, producerEpoch, batches, lastTimestamp: timestamp });
        continue;
      }
      need(19);
      const producerId = readInt64(buf, pos);
      const producerEpoch = buf.readInt16BE(pos + 8);
      const lastTimestamp = readInt64(buf, pos + 10);
      const n = buf.readInt8(pos + 18);
      pos += 19;
      if (n < 0 || n > NUM_BATCHES_TO_RETAIN) throw new SnapshotError(`producer ${producerId} has ${n} batches`);
      need(n * 32);
      const batches: BatchMetadata[] = [];
      for (let j = 0; j < n; j++) {
        batches.push({
          firstSeq: buf.readInt32BE(pos),
          lastSeq: buf.readInt32BE(pos + 4),
          firstOffset: readInt64(buf, pos + 8),
          lastOffset: readInt64(buf, pos + 16),
          timestamp: readInt64(buf, pos + 24),
        });
        pos += 32;
      }
      loaded.push({ producerId, producerEpoch, batches, lastTimestamp });
    }
    if (pos !== buf.length) throw new SnapshotError(`${buf.length - pos} trailing bytes in snapshot`);
    this.producers.clear();
    for (const e of loaded) this.producers.set(e.producerId, e);
  }
}

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

function readInt64(buf: Buffer, at: number): number {
  const v = buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(v)) throw new SnapshotError(`int64 at byte ${at} is outside the safe integer range`);
  return v;
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}
