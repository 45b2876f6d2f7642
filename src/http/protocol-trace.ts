/**
 * The web console's live protocol trace: the last requests the dispatcher answered, decoded, in a ring
 * buffer of fixed size. The dispatcher already logs decoded requests with samsa.protocol.trace; this is the
 * same view kept in memory for the console's "Protocol trace" page (src/server/dispatcher.ts calls `record`).
 *
 * Bounded twice: at most `capacity` entries, each entry's decoded request and response cut to
 * `maxEntryChars` of JSON (a Metadata answer for thousands of topics would otherwise be megabytes), and
 * record bytes are never kept (traceValue turns a Buffer into "<N bytes>"; produce and fetch record sets
 * are summarised batch by batch from their headers instead).
 *
 * Decoding a request to JSON costs far more than serving it, so the buffer records only while someone
 * watches: `active` is true for `armMs` after the last read of the trace (the console polls it), and the
 * dispatcher skips the whole thing otherwise (one property read per request).
 */
import { BATCH_HEADER_SIZE, compressionOf, isControl, isTransactional, LOG_OVERHEAD, readBatchHeader } from '../../protocol/records/batch.js';
import { codecName } from '../../protocol/records/compression.js';
import { traceValue } from '../server/dispatcher.js';
import type { ProtocolTraceSink, TraceInput } from '../server/trace-sink.js';

/** One batch of a produce request or fetch response, from its 61-byte header. */
export interface TracedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly records: number;
  readonly bytes: number;
  readonly compression: string;
  readonly producerId: number;
  readonly transactional: boolean;
  readonly control: boolean;
}

export interface TraceEntry {
  /** Increasing from 1: the console asks for entries after the last one it has. */
  readonly seq: number;
  readonly time: number;
  readonly connection: number;
  readonly apiKey: number;
  readonly api: string;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly durationMs: number;
  /** The decoded request and response as JSON text (cut at maxEntryChars, then marked truncated). */
  readonly request: string;
  readonly response: string | null;
  readonly truncated: boolean;
  /** Record batches carried (produce requests, fetch responses), by topic-partition. */
  readonly batches: { readonly topic: string; readonly partition: number; readonly batches: readonly TracedBatch[] }[];
}

export type { ProtocolTraceSink, TraceInput };

const PRODUCE = 0;
const FETCH = 1;
/** Most batches summarised per partition: a fetch can return thousands. */
const MAX_BATCHES_LISTED = 20;

/** The batches of a record set, from their headers only (a cut-off last batch, as fetch may return, is left out). */
export function summariseBatches(records: Buffer): TracedBatch[] {
  const out: TracedBatch[] = [];
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= records.length && out.length < MAX_BATCHES_LISTED) {
    const h = readBatchHeader(records, pos);
    const size = LOG_OVERHEAD + h.batchLength;
    if (h.batchLength <= 0 || pos + size > records.length) break;
    out.push({
      baseOffset: h.baseOffset,
      lastOffset: h.baseOffset + h.lastOffsetDelta,
      records: h.recordCount,
      bytes: size,
      compression: codecName(compressionOf(h.attributes)),
      producerId: h.producerId,
      transactional: isTransactional(h.attributes),
      control: isControl(h.attributes),
    });
    pos += size;
  }
  return out;
}

interface RecordsCarrier {
  readonly topic: string;
  readonly partition: number;
  readonly records: Buffer | null;
}

/** Produce request partitions and fetch response partitions, whose `records` are record batches. */
function recordSets(apiKey: number, request: unknown, response: unknown, topicName: (topicId: string) => string | undefined): RecordsCarrier[] {
  const out: RecordsCarrier[] = [];
  if (apiKey === PRODUCE) {
    const req = request as { topicData?: { name: string; partitionData: { index: number; records: Buffer | null }[] }[] };
    for (const t of req.topicData ?? []) for (const p of t.partitionData) out.push({ topic: t.name, partition: p.index, records: p.records });
  } else if (apiKey === FETCH && response !== null && typeof response === 'object') {
    const res = response as { responses?: { topic?: string; topicId?: string; partitions: { partitionIndex: number; records: Buffer | null }[] }[] };
    for (const t of res.responses ?? []) for (const p of t.partitions) out.push({ topic: t.topic || (t.topicId === undefined ? '' : (topicName(t.topicId) ?? t.topicId)), partition: p.partitionIndex, records: p.records });
  }
  return out;
}

export class ProtocolTrace implements ProtocolTraceSink {
  private readonly ring: (TraceEntry | undefined)[];
  private next = 0;
  private seq = 0;
  private armedUntil = 0;

  constructor(
    readonly capacity = 200,
    readonly maxEntryChars = 16_384,
    private readonly armMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Fetch v13+ names topics by id. */
    private readonly topicName: (topicId: string) => string | undefined = () => undefined,
  ) {
    this.ring = new Array<TraceEntry | undefined>(capacity);
  }

  get active(): boolean {
    // Unwatched (the usual case): no clock read at all.
    if (this.armedUntil === 0) return false;
    if (this.now() < this.armedUntil) return true;
    this.armedUntil = 0;
    return false;
  }

  /** Starts (or keeps) recording for the next armMs. */
  arm(): void {
    this.armedUntil = this.now() + this.armMs;
  }

  get size(): number {
    return Math.min(this.seq, this.capacity);
  }

  record(input: TraceInput): void {
    let truncated = false;
    const cut = (v: unknown): string => {
      const s = JSON.stringify(traceValue(v));
      if (s.length <= this.maxEntryChars) return s;
      truncated = true;
      return s.slice(0, this.maxEntryChars);
    };
    const request = cut(input.request);
    const response = input.response === null ? null : cut(input.response);
    const batches = recordSets(input.apiKey, input.request, input.response, this.topicName)
      .filter((c) => c.records !== null && c.records.length > 0)
      .map((c) => ({ topic: c.topic, partition: c.partition, batches: summariseBatches(c.records!) }));
    const entry: TraceEntry = {
      seq: ++this.seq,
      time: this.now(),
      connection: input.connection,
      apiKey: input.apiKey,
      api: input.api,
      version: input.version,
      correlationId: input.correlationId,
      clientId: input.clientId,
      durationMs: input.durationMs,
      request,
      response,
      truncated,
      batches,
    };
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The entries after `afterSeq`, oldest first (at most `capacity`). */
  entries(afterSeq = 0): TraceEntry[] {
    const out: TraceEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.ring[(this.next + i) % this.capacity];
      if (e !== undefined && e.seq > afterSeq) out.push(e);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
  }
}
