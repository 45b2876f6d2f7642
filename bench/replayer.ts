/**
 * The replayer: a load generator that measures the broker alone. It builds its requests once, before the
 * clock starts, with Samsa's own codecs (protocol/messages/produce.ts, protocol/records/record.ts
 * buildBatchSync), then only rewrites the correlation id and resends them, keeping N requests in flight
 * per connection. The Java producer spends most of a 2-core machine's second core on building batches;
 * the replayer spends almost nothing, so what is left is the broker's own cost.
 *
 *   produce: every request holds one batch (about --batch-bytes, like the Java producer's batch.size) for
 *            each partition of the topic; --records records in all, acks as asked.
 *   fetch:   reads a topic's backlog from offset 0 to the high watermark seen by the first fetch, one fetch
 *            in flight (as the Java consumer keeps per broker), the Java consumer's default sizes.
 *
 * Usage: node --import tsx bench/replayer.ts --bootstrap 127.0.0.1:9092 --topic t --partitions 6
 *          [--mode produce|fetch] [--record-size 1024] [--batch-bytes 16384] [--acks 1]
 *          [--connections 1] [--in-flight 5] [--records 100000] [--create] [--json]
 * Works against Samsa and Apache Kafka alike (same request versions).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Produce } from '../protocol/messages/produce.js';
import { Fetch } from '../protocol/messages/fetch.js';
import { buildBatchSync } from '../protocol/records/record.js';
import { ErrorCode, errorInfo } from '../protocol/errors.js';
import { VERSIONS, WireConnection, createTopic } from './lib/wire.js';
import { percentile } from './lib/stats.js';

export interface ReplayOptions {
  host: string;
  port: number;
  mode: 'produce' | 'fetch';
  topic: string;
  partitions: number;
  recordSize: number;
  batchBytes: number;
  acks: number;
  connections: number;
  inFlight: number;
  records: number;
  create: boolean;
  timeLimitMs: number;
}

export interface ReplayResult {
  mode: 'produce' | 'fetch';
  records: number;
  /** Record batch bytes sent or received (what the log stores). */
  batchBytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  /** MiB/s of record values (records x record size), as Kafka's perf tools count "MB". */
  mbPerSec: number;
  requests: number;
  requestLatencyMs: { p50: number; p99: number; max: number };
  errors: number;
  firstError: string | null;
}

export const DEFAULTS: ReplayOptions = {
  host: '127.0.0.1',
  port: 9092,
  mode: 'produce',
  topic: 'replay',
  partitions: 1,
  recordSize: 1024,
  batchBytes: 16384,
  acks: 1,
  connections: 1,
  inFlight: 5,
  records: 100_000,
  create: false,
  timeLimitMs: 300_000,
};

/** Bytes a record of `valueSize` bytes (no key, no headers) takes inside a batch, approximately. */
function recordOverhead(valueSize: number): number {
  return valueSize + 8 + (valueSize > 63 ? 2 : 1) + 4;
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  if (opts.create) {
    const admin = await WireConnection.open(opts.port, opts.host);
    try {
      await createTopic(admin, opts.topic, opts.partitions);
    } finally {
      admin.close();
    }
  }
  return opts.mode === 'produce' ? replayProduce(opts) : replayFetch(opts);
}

async function replayProduce(opts: ReplayOptions): Promise<ReplayResult> {
  if (opts.acks === 0) throw new Error('acks=0 is not supported by the replayer (no responses to count)');
  const perBatch = Math.max(1, Math.floor(opts.batchBytes / recordOverhead(opts.recordSize)));
  const value = randomBytes(opts.recordSize);
  const batch = buildBatchSync(Array.from({ length: perBatch }, () => ({ key: null, value })));
  const perRequest = perBatch * opts.partitions;
  const totalRequests = Math.ceil(opts.records / perRequest);
  const body = {
    transactionalId: null,
    acks: opts.acks,
    timeoutMs: 30_000,
    topicData: [{ name: opts.topic, partitionData: Array.from({ length: opts.partitions }, (_, index) => ({ index, records: batch })) }],
  };
  const conns = await Promise.all(Array.from({ length: opts.connections }, () => WireConnection.open(opts.port, opts.host)));
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | null = null;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`produce replay did not finish within ${opts.timeLimitMs} ms (${done}/${totalRequests} requests)`)), opts.timeLimitMs);
    const finish = (): void => {
      clearTimeout(limit);
      resolve();
    };
    for (const conn of conns) {
      // One pre-built frame per in-flight slot: a slot's frame is rewritten only after its response came,
      // so it has left the socket by then.
      const slots = Array.from({ length: opts.inFlight }, () => WireConnection.encode(Produce, VERSIONS.produce, body, 0));
      const slotOf = new Map<number, number>();
      const sentAt = new Array<bigint>(opts.inFlight).fill(0n);
      const send = (slot: number): void => {
        const cid = conn.allocateCorrelationId();
        slots[slot]!.writeInt32BE(cid, 8);
        slotOf.set(cid, slot);
        sentAt[slot] = process.hrtime.bigint();
        sent++;
        conn.write(slots[slot]!);
      };
      conn.onClose = () => {
        if (done < totalRequests) reject(new Error(`broker closed the connection after ${done} responses`));
      };
      conn.onFrame = (cid, frame) => {
        const slot = slotOf.get(cid);
        if (slot === undefined) return;
        slotOf.delete(cid);
        latencies.push(Number(process.hrtime.bigint() - sentAt[slot]!) / 1e6);
        const res = WireConnection.decode(Produce, VERSIONS.produce, frame);
        for (const t of res.responses) {
          for (const p of t.partitionResponses) {
            if (p.errorCode !== ErrorCode.NONE) {
              errors++;
              firstError ??= `${t.name}-${p.index}: ${errorInfo(p.errorCode).name} ${p.errorMessage ?? ''}`;
            }
          }
        }
        done++;
        if (sent < totalRequests) send(slot);
        else if (done === totalRequests) finish();
      };
      for (let s = 0; s < opts.inFlight && sent < totalRequests; s++) send(s);
    }
  });
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  for (const c of conns) c.close();
  const records = totalRequests * perRequest;
  latencies.sort((a, b) => a - b);
  return {
    mode: 'produce',
    records,
    batchBytes: totalRequests * opts.partitions * batch.length,
    elapsedMs,
    recordsPerSec: records / (elapsedMs / 1000),
    mbPerSec: (records * opts.recordSize) / (1024 * 1024) / (elapsedMs / 1000),
    requests: totalRequests,
    requestLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? 0 },
    errors,
    firstError,
  };
}

/** Walks the complete batches of a fetched records blob: records counted and the next offset to fetch. */
function walkBatches(records: Buffer, fetchOffset: number): { next: number; records: number; bytes: number } {
  let pos = 0;
  let next = fetchOffset;
  let count = 0;
  while (pos + 61 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    const baseOffset = Number(records.readBigInt64BE(pos));
    const lastOffsetDelta = records.readInt32BE(pos + 23);
    if (baseOffset + lastOffsetDelta >= next) {
      count += records.readInt32BE(pos + 57);
      next = baseOffset + lastOffsetDelta + 1;
    }
    pos += size;
  }
  return { next, records: count, bytes: pos };
}

async function replayFetch(opts: ReplayOptions): Promise<ReplayResult> {
  const conn = await WireConnection.open(opts.port, opts.host);
  const offsets = new Array<number>(opts.partitions).fill(0);
  let targets: number[] | null = null;
  const latencies: number[] = [];
  let records = 0;
  let bytes = 0;
  let requests = 0;
  let errors = 0;
  let firstError: string | null = null;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + opts.timeLimitMs;
  try {
    for (;;) {
      if (targets && offsets.every((o, i) => o >= targets![i]!)) break;
      if (Date.now() > deadline) throw new Error(`fetch replay did not finish within ${opts.timeLimitMs} ms`);
      const partitions = [];
      for (let i = 0; i < opts.partitions; i++) {
        if (targets && offsets[i]! >= targets[i]!) continue;
        partitions.push({ partition: i, currentLeaderEpoch: -1, fetchOffset: BigInt(offsets[i]!), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1024 * 1024 });
      }
      const t0 = process.hrtime.bigint();
      const res = await conn.request(Fetch, VERSIONS.fetch, {
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 50 * 1024 * 1024,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: opts.topic, partitions }],
        forgottenTopicsData: [],
        rackId: '',
      });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      requests++;
      const seenTargets: number[] | null = targets === null ? new Array<number>(opts.partitions).fill(0) : null;
      for (const t of res.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== ErrorCode.NONE) {
            errors++;
            firstError ??= `${t.topic}-${p.partitionIndex}: ${errorInfo(p.errorCode).name}`;
            if (errors > 100) throw new Error(`fetch failing: ${firstError}`);
            continue;
          }
          if (seenTargets) seenTargets[p.partitionIndex] = Number(p.highWatermark);
          if (p.records && p.records.length > 0) {
            const w = walkBatches(p.records, offsets[p.partitionIndex]!);
            offsets[p.partitionIndex] = w.next;
            records += w.records;
            bytes += w.bytes;
          }
        }
      }
      if (seenTargets) targets = seenTargets;
    }
  } finally {
    conn.close();
  }
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  latencies.sort((a, b) => a - b);
  return {
    mode: 'fetch',
    records,
    batchBytes: bytes,
    elapsedMs,
    recordsPerSec: records / (elapsedMs / 1000),
    mbPerSec: (records * opts.recordSize) / (1024 * 1024) / (elapsedMs / 1000),
    requests,
    requestLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? 0 },
    errors,
    firstError,
  };
}

export function parseReplayArgs(argv: string[]): ReplayOptions & { json: boolean } {
  const o: ReplayOptions & { json: boolean } = { ...DEFAULTS, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--bootstrap': {
        const [h, p] = next().split(':');
        o.host = h!;
        o.port = Number(p);
        break;
      }
      case '--mode': {
        const m = next();
        if (m !== 'produce' && m !== 'fetch') throw new Error('--mode is produce or fetch');
        o.mode = m;
        break;
      }
      case '--topic': o.topic = next(); break;
      case '--partitions': o.partitions = Number(next()); break;
      case '--record-size': o.recordSize = Number(next()); break;
      case '--batch-bytes': o.batchBytes = Number(next()); break;
      case '--acks': {
        const v = next();
        o.acks = v === 'all' ? -1 : Number(v);
        break;
      }
      case '--connections': o.connections = Number(next()); break;
      case '--in-flight': o.inFlight = Number(next()); break;
      case '--records': o.records = Number(next()); break;
      case '--time-limit-ms': o.timeLimitMs = Number(next()); break;
      case '--create': o.create = true; break;
      case '--json': o.json = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = parseReplayArgs(process.argv.slice(2));
  replay(opts).then(
    (r) => {
      if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
      else {
        process.stdout.write(
          `${opts.mode}: ${r.records} records in ${r.elapsedMs.toFixed(0)} ms: ${r.recordsPerSec.toFixed(0)} records/s, ${r.mbPerSec.toFixed(2)} MB/s; ` +
            `${r.requests} requests, latency p50 ${r.requestLatencyMs.p50.toFixed(2)} ms, p99 ${r.requestLatencyMs.p99.toFixed(2)} ms; errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}\n`,
        );
      }
      process.exit(r.errors > 0 ? 1 : 0);
    },
    (err: unknown) => {
      process.stderr.write(`replayer: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
