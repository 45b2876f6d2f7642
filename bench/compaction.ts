/**
 * Compaction benchmark: how fast the log cleaner cleans, and what it does to the event loop.
 *
 *   node --import tsx bench/compaction.ts [--records 1000000] [--keys 10000] [--value-bytes 100]
 *        [--batch 100] [--codec none|gzip|snappy|lz4|zstd] [--segment-bytes 16777216]
 *        [--throttle BYTES_PER_SEC] [--dir DIR] [--skip-in-process]
 *
 * Writes a compacted log (records over `keys` keys, every 50th a tombstone, `batch` records per batch)
 * straight through storage's Log.append, then cleans it with LogCleaner twice on fresh copies: once in
 * the worker thread (how the broker runs it) and once on the main thread (for comparison). While each pass
 * runs, perf_hooks.monitorEventLoopDelay (1 ms resolution) samples the event loop and a producer loop keeps
 * appending 1 KiB batches to another log, as a broker would serve produce requests meanwhile; a baseline
 * runs the same appends for as long without cleaning. Prints the
 * pass's figures (input MB/s, records/s, sizes) and the event-loop delay percentiles with the concurrent
 * appends per second, as a table and as JSON. It reports; nothing is asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Compression, readBatchHeader } from '../protocol/records/batch.js';
import { loadCodecs } from '../protocol/records/compression.js';
import { buildBatchSync, type RecordInput } from '../protocol/records/record.js';
import { logConfig } from '../storage/log-config.js';
import { LogCleaner, type CleanSummary } from '../storage/log-cleaner.js';
import { LogManager } from '../storage/log-manager.js';
import type { Log } from '../storage/log.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '10000' },
    'value-bytes': { type: 'string', default: '100' },
    batch: { type: 'string', default: '100' },
    codec: { type: 'string', default: 'none' },
    'segment-bytes': { type: 'string', default: String(16 * 1024 * 1024) },
    throttle: { type: 'string' },
    dir: { type: 'string' },
    'skip-in-process': { type: 'boolean', default: false },
  },
});

const RECORDS = Number(args.records);
const KEYS = Number(args.keys);
const VALUE_BYTES = Number(args['value-bytes']);
const BATCH = Number(args.batch);
const CODECS: Record<string, number> = { none: Compression.NONE, gzip: Compression.GZIP, snappy: Compression.SNAPPY, lz4: Compression.LZ4, zstd: Compression.ZSTD };
const CODEC = CODECS[args.codec];
if (CODEC === undefined) throw new Error(`unknown codec ${args.codec}`);

async function appendBatch(log: Log, batch: Buffer): Promise<void> {
  const h = readBatchHeader(batch);
  await log.append(batch, [{ pos: 0, size: batch.length, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp }], 0);
}

/** Writes the compacted topic's log; returns its size in bytes. */
async function fill(log: Log): Promise<number> {
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  const now = Date.now();
  let n = 0;
  let pending: Promise<void>[] = [];
  while (n < RECORDS) {
    const records: RecordInput[] = [];
    for (let i = 0; i < BATCH && n < RECORDS; i++, n++) {
      const key = Buffer.from(`key-${(n * 7919) % KEYS}`);
      records.push({ key, value: n % 50 === 0 ? null : value, timestamp: now });
    }
    pending.push(appendBatch(log, buildBatchSync(records, { compression: CODEC })));
    if (pending.length >= 64) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await log.roll();
  await appendBatch(log, buildBatchSync([{ key: Buffer.from('active'), value, timestamp: now }]));
  return log.size;
}

interface PassFigures {
  mode: 'worker' | 'main-thread' | 'no cleaning (baseline)';
  inputBytes: number;
  outputBytes: number;
  records: number;
  retained: number;
  passMs: number;
  inputMBPerSec: number;
  recordsPerSec: number;
  eventLoopDelayMs: { p50: number; p99: number; p999: number; max: number; mean: number };
  concurrentAppendsPerSec: number;
  throttledMs: number;
}

async function pass(mode: 'worker' | 'main-thread'): Promise<PassFigures> {
  const dir = await mkdtemp(join(args.dir ?? tmpdir(), 'samsa-bench-compaction-'));
  const manager = new LogManager(dir);
  try {
    const config = logConfig({ cleanupPolicy: 'compact', segmentBytes: Number(args['segment-bytes']), minCleanableDirtyRatio: 0, fileDeleteDelayMs: 0 });
    const log = await manager.getOrCreate('compacted', 0, config);
    const other = await manager.getOrCreate('produce-load', 0, logConfig({ segmentBytes: 64 * 1024 * 1024, fileDeleteDelayMs: 0 }));
    const inputBytes = await fill(log);
    const cleaner = new LogCleaner(manager, {
      inProcess: mode === 'main-thread',
      ioMaxBytesPerSecond: args.throttle ? Number(args.throttle) : undefined,
    });
    // Start the worker first, so its start-up (tsx compiling the cleaner) is not counted.
    if (mode === 'worker') await cleaner.cleanLog('produce-load', 0).catch(() => undefined);

    const loadBatch = buildBatchSync([{ key: null, value: Buffer.alloc(1024, 'p') }]);
    let appends = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await appendBatch(other, Buffer.from(loadBatch));
        appends++;
      }
    })();
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    const summary: CleanSummary | null = await cleaner.cleanLog('compacted', 0);
    const passMs = performance.now() - started;
    histogram.disable();
    producing = false;
    await producer;
    await cleaner.stop();
    if (!summary) throw new Error('the pass did nothing');
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    return {
      mode,
      inputBytes,
      outputBytes: log.size,
      records: summary.result.stats.recordsRead,
      retained: summary.result.stats.recordsRetained,
      passMs: Math.round(passMs),
      inputMBPerSec: Math.round((inputBytes / (1024 * 1024) / (passMs / 1000)) * 10) / 10,
      recordsPerSec: Math.round(summary.result.stats.recordsRead / (passMs / 1000)),
      eventLoopDelayMs: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), p999: ms(histogram.percentile(99.9)), max: ms(histogram.max), mean: ms(histogram.mean) },
      concurrentAppendsPerSec: Math.round(appends / (passMs / 1000)),
      throttledMs: summary.result.stats.throttledMs,
    };
  } finally {
    await manager.closeAll();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same producer loop for `ms` without any cleaning: the delay the appends and the machine cause alone. */
async function baseline(ms: number): Promise<PassFigures> {
  const dir = await mkdtemp(join(args.dir ?? tmpdir(), 'samsa-bench-compaction-'));
  const manager = new LogManager(dir);
  try {
    const other = await manager.getOrCreate('produce-load', 0, logConfig({ segmentBytes: 64 * 1024 * 1024, fileDeleteDelayMs: 0 }));
    const loadBatch = buildBatchSync([{ key: null, value: Buffer.alloc(1024, 'p') }]);
    let appends = 0;
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    while (performance.now() - started < ms) {
      await appendBatch(other, Buffer.from(loadBatch));
      appends++;
    }
    histogram.disable();
    const elapsed = performance.now() - started;
    const f = (ns: number): number => Math.round(ns / 1e4) / 100;
    return {
      mode: 'no cleaning (baseline)', inputBytes: 0, outputBytes: 0, records: 0, retained: 0, passMs: Math.round(elapsed), inputMBPerSec: 0, recordsPerSec: 0,
      eventLoopDelayMs: { p50: f(histogram.percentile(50)), p99: f(histogram.percentile(99)), p999: f(histogram.percentile(99.9)), max: f(histogram.max), mean: f(histogram.mean) },
      concurrentAppendsPerSec: Math.round(appends / (elapsed / 1000)),
      throttledMs: 0,
    };
  } finally {
    await manager.closeAll();
    await rm(dir, { recursive: true, force: true });
  }
}

await loadCodecs();
const results: PassFigures[] = [await pass('worker')];
results.unshift(await baseline(results[0]!.passMs));
if (!args['skip-in-process']) results.push(await pass('main-thread'));

const load = `${RECORDS} records over ${KEYS} keys, ${VALUE_BYTES}-byte values, ${BATCH} per batch, codec ${args.codec}, segment.bytes ${args['segment-bytes']}${args.throttle ? `, throttle ${args.throttle} B/s` : ''}`;
console.log(`\nCompaction: ${load}\n`);
console.log('| cleaner runs on | input MiB | output MiB | pass s | input MiB/s | records/s | loop delay p50 / p99 / p99.9 / max ms | appends/s meanwhile |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const d = r.eventLoopDelayMs;
  console.log(
    `| ${r.mode} | ${(r.inputBytes / 1048576).toFixed(1)} | ${(r.outputBytes / 1048576).toFixed(2)} | ${(r.passMs / 1000).toFixed(2)} | ${r.inputMBPerSec} | ${r.recordsPerSec} | ${d.p50} / ${d.p99} / ${d.p999} / ${d.max} | ${r.concurrentAppendsPerSec} |`,
  );
}
console.log(`\n${JSON.stringify({ load, results }, null, 2)}`);
