/**
 * The log cleaner: compacts the logs whose cleanup.policy includes "compact" (Kafka's LogCleaner and
 * LogCleanerManager, with one cleaner thread). The reading, decoding and rewriting run in a worker thread
 * (cleaner-worker.ts running cleaner.ts), so the event loop only schedules passes and swaps files.
 *
 * Scheduling: every `backoffMs` (log.cleaner.backoff.ms) when the previous round found nothing, at once
 * otherwise, the filthiest cleanable log is cleaned. For each compacted log:
 *   firstDirtyOffset        its cleaner checkpoint, or the log start offset (also when the checkpoint lies
 *                           outside [log start, log end]: the log was truncated or recreated)
 *   firstUncleanableOffset  the active segment's base offset, or earlier: the base offset of the first
 *                           segment from the dirty one on holding a record newer than min.compaction.lag.ms
 *   dirty ratio             bytes of the segments overlapping [firstDirty, firstUncleanable) / bytes of those
 *                           and the (clean) segments below
 * A log is cleanable when its ratio exceeds min.cleanable.dirty.ratio, or it has dirty bytes and its first
 * dirty segment is older than max.compaction.lag.ms, or (Samsa, not Kafka) a tombstone left by an earlier
 * pass has passed its delete horizon, so it is removed without waiting for new writes (known only since
 * this process started). The filthiest (largest ratio) goes first.
 *
 * A pass rewrites the segments below the end of its offset map, group by group; each group is swapped in
 * by Log.replaceWithCleaned as soon as it is written. Then the checkpoint moves to the end of the map, in
 * Kafka's `cleaner-offset-checkpoint` file in each log directory:
 *
 *   0                     version
 *   2                     number of entries
 *   orders 0 1200         "topic partition offset", one line per compacted partition
 *   __consumer_offsets 7 38
 *
 * written whole to a temp file, fsynced and renamed over. A crash mid-pass leaves the old checkpoint, so the
 * next pass redoes the work. A log whose pass fails for another reason than a vanished file is marked
 * uncleanable until restart (as Kafka does), with the error logged.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { runCleanJob, type CleanedGroup, type CleanJob, type CleanResult } from './cleaner.js';
import type { CleanerReply, CleanerRequest } from './cleaner-worker.js';
import { writeFileAtomic } from './file-util.js';
import { hasCompactPolicy } from './log-config.js';
import { logKey, parsePartitionDir, type LogManager } from './log-manager.js';
import type { CleanerSegmentView, Log, SwapFaultHook } from './log.js';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

export interface LogCleanerOptions {
  logger?: Logger;
  now?: () => number;
  /** log.cleaner.backoff.ms: the pause after a round that found nothing to clean (Kafka: 15000). */
  backoffMs?: number;
  /** log.cleaner.io.max.bytes.per.second: read plus write rate limit (Kafka: unlimited). */
  ioMaxBytesPerSecond?: number;
  /** log.cleaner.dedupe.buffer.size: the offset map's memory budget (Kafka: 128 MiB). */
  dedupeBufferSize?: number;
  /** Run passes on this thread instead of the worker (unit tests of the swap logic). */
  inProcess?: boolean;
  /** Tests: called at each swap step; throwing there stands for a crash. */
  swapFault?: SwapFaultHook;
  /**
   * A partition's active producers: producer id -> offset of its last data batch (Kafka's
   * lastRecordsOfActiveProducers); null or absent: the cleaner scans the log's batch headers instead.
   */
  activeProducers?: (topic: string, partition: number) => ReadonlyMap<number, number> | null;
}

/** What makes a log cleanable, as LogCleanerManager computes it. */
export interface CleanableInfo {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  ratio: number;
  needCompactionNow: boolean;
  tombstonesDue: boolean;
}

export interface CleanSummary {
  topic: string;
  partition: number;
  firstDirtyOffset: number;
  endOffset: number;
  groupsSwapped: number;
  groupsDiscarded: number;
  sizeBefore: number;
  sizeAfter: number;
  durationMs: number;
  result: CleanResult;
}

interface LogState {
  log: Log;
  /** Earliest delete horizon of a tombstone the last pass left; -1 = none known. */
  earliestDeleteHorizonMs: number;
}

/** Parses Kafka's offset checkpoint text; null when malformed. */
export function parseOffsetCheckpoint(text: string): Map<string, number> | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== '0') return null;
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0 || lines.length - 2 !== count) return null;
  const out = new Map<string, number>();
  for (const line of lines.slice(2)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) return null;
    const partition = Number(parts[1]);
    const offset = Number(parts[2]);
    if (!Number.isInteger(partition) || partition < 0 || !Number.isSafeInteger(offset)) return null;
    out.set(logKey(parts[0]!, partition), offset);
  }
  return out;
}

export function formatOffsetCheckpoint(entries: ReadonlyMap<string, number>): string {
  const lines = ['0', String(entries.size)];
  for (const [key, offset] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const parsed = parsePartitionDir(key);
    if (parsed) lines.push(`${parsed.topic} ${parsed.partition} ${offset}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts the worker: under tsx (a .ts URL) the worker registers tsx before importing the entry file; from
 * compiled files, cleaner-worker.js beside this one; from the bundle (scripts/bundle.mjs), its entry
 * cleaner-worker.mjs, in the same directory as every file of the bundle.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    const compiled = new URL('./cleaner-worker.js', here);
    const bundled = new URL('./cleaner-worker.mjs', here);
    return new Worker(existsSync(compiled) ? compiled : bundled, { name: 'samsa-log-cleaner', execArgv: fileWorkerExecArgv(process.execArgv) });
  }
  const entry = new URL('./cleaner-worker.ts', here).href;
  const resolved = createRequire(here).resolve('tsx/esm/api');
  const mjs = resolved.replace(/\.cjs$/, '.mjs');
  const tsxApi = pathToFileURL(existsSync(mjs) ? mjs : resolved).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, name: 'samsa-log-cleaner' });
}

/**
 * The process's Node options for a worker started from a file, without those about the main script's
 * source text: a worker inherits process.execArgv, and with `--input-type` (a process started as
 * `node --input-type=module -e ...`, as bench/embed-start.mjs and a user's script may be) Node refuses to
 * load the worker's file (ERR_INPUT_TYPE_NOT_ALLOWED).
 */
export function fileWorkerExecArgv(execArgv: readonly string[]): string[] {
  const withValue = new Set(['--input-type', '-e', '--eval', '-p', '--print']);
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (withValue.has(arg)) {
      i++; // and its value
      continue;
    }
    if (/^--(input-type|eval|print)=/.test(arg)) continue;
    out.push(arg);
  }
  return out;
}

/** The cleaner thread: one job at a time, group messages forwarded to the job's callback. */
class CleanerThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private current: { id: number; onGroup: (g: CleanedGroup) => Promise<void>; resolve: (r: CleanResult) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly logger: Logger) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.unref();
    worker.on('message', (m: CleanerReply) => this.onMessage(m));
    worker.on('error', (err: unknown) => {
      this.logger.error({ err }, 'log cleaner worker failed');
      this.fail(err instanceof Error ? err : new Error(String(err)));
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      this.fail(new Error(`log cleaner worker exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    const c = this.current;
    this.current = null;
    c?.reject(err);
  }

  private onMessage(m: CleanerReply): void {
    const c = this.current;
    if (!c || c.id !== m.id) return;
    if (m.type === 'group') {
      c.onGroup(m.group)
        .catch((err: unknown) => this.logger.error({ err }, 'swapping a cleaned segment failed'))
        .finally(() => this.worker?.postMessage({ type: 'swapped', id: m.id } satisfies CleanerRequest));
    } else if (m.type === 'done') {
      this.current = null;
      c.resolve(m.result);
    } else {
      this.current = null;
      const err = new Error(m.message);
      if (m.stack) err.stack = m.stack;
      c.reject(err);
    }
  }

  run(job: CleanJob, onGroup: (g: CleanedGroup) => Promise<void>): Promise<CleanResult> {
    if (this.current) return Promise.reject(new Error('a cleaning pass is already running'));
    const worker = this.ensure();
    return new Promise<CleanResult>((resolve, reject) => {
      const id = this.nextId++;
      this.current = { id, onGroup, resolve, reject };
      worker.postMessage({ type: 'clean', id, job } satisfies CleanerRequest);
    });
  }

  async terminate(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

export class LogCleaner {
  private readonly logger: Logger;
  private readonly now: () => number;
  private backoffMs: number;
  /** log.cleaner.io.max.bytes.per.second and log.cleaner.dedupe.buffer.size, read by each pass. */
  private ioMaxBytesPerSecond: number;
  private dedupeBufferSize: number;
  private readonly thread: CleanerThread;
  private readonly checkpoints = new Map<string, Map<string, number>>();
  private readonly states = new Map<string, LogState>();
  /** Logs a pass failed on (Kafka's uncleanable partitions), with the reason. */
  readonly uncleanable = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  /** Passes run one at a time (the background round and cleanLog calls alike). */
  private passes: Promise<unknown> = Promise.resolve();
  private stopped = true;
  /** stop() was called: a failing pass is the worker being ended, not a broken log. */
  private stopping = false;

  constructor(
    private readonly logManager: LogManager,
    private readonly options: LogCleanerOptions = {},
  ) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'log-cleaner' });
    this.now = options.now ?? Date.now;
    this.backoffMs = options.backoffMs ?? 15000;
    this.ioMaxBytesPerSecond = options.ioMaxBytesPerSecond ?? Infinity;
    this.dedupeBufferSize = options.dedupeBufferSize ?? 128 * 1024 * 1024;
    this.thread = new CleanerThread(this.logger);
    logManager.onDelete((topic, partition) => this.forget(topic, partition));
  }

  /**
   * New settings (Kafka's LogCleaner.reconfigure for its RECONFIGURABLE_CONFIGS, changed as dynamic broker
   * configs): the next pass uses them; the backoff applies from the next wait on.
   */
  reconfigure(settings: Pick<LogCleanerOptions, 'backoffMs' | 'ioMaxBytesPerSecond' | 'dedupeBufferSize'>): void {
    if (settings.backoffMs !== undefined) this.backoffMs = settings.backoffMs;
    if (settings.ioMaxBytesPerSecond !== undefined) this.ioMaxBytesPerSecond = settings.ioMaxBytesPerSecond;
    if (settings.dedupeBufferSize !== undefined) this.dedupeBufferSize = settings.dedupeBufferSize;
  }

  /** Starts cleaning in the background. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopping = false;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const round = this.cleanFilthiestLog().catch((err: unknown) => {
        this.logger.error({ err }, 'log cleaner round failed');
        return null;
      });
      this.running = round;
      void round.then((summary) => {
        this.running = null;
        this.schedule(summary && summary.groupsSwapped > 0 ? 0 : this.backoffMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Stops scheduling, waits for a pass in progress, and ends the worker thread. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A pass in the worker is abandoned (its .cleaned files are removed at the next open); a swap already
    // running on this thread finishes first.
    await this.thread.terminate();
    await this.running?.catch(() => undefined);
    await this.passes.catch(() => undefined);
  }

  /** The partition's checkpoint entry is dropped (topic deletion). */
  async forget(topic: string, partition: number): Promise<void> {
    const key = logKey(topic, partition);
    this.states.delete(key);
    this.uncleanable.delete(key);
    for (const [logDir, entries] of this.checkpoints) {
      if (entries.delete(key)) await this.writeCheckpoint(logDir);
    }
  }

  // ------------------------------------------------------------------------------------------ checkpoints

  private async checkpointsOf(logDir: string): Promise<Map<string, number>> {
    let entries = this.checkpoints.get(logDir);
    if (entries) return entries;
    entries = new Map();
    try {
      const text = await readFile(join(logDir, CLEANER_CHECKPOINT_FILE), 'utf8');
      const parsed = parseOffsetCheckpoint(text);
      if (parsed) entries = parsed;
      else this.logger.warn({ logDir }, `ignoring a malformed ${CLEANER_CHECKPOINT_FILE}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.checkpoints.set(logDir, entries);
    return entries;
  }

  private async writeCheckpoint(logDir: string): Promise<void> {
    const entries = this.checkpoints.get(logDir);
    if (!entries) return;
    await writeFileAtomic(join(logDir, CLEANER_CHECKPOINT_FILE), formatOffsetCheckpoint(entries), logDir);
  }

  /** The cleaner checkpoint of a log (null when it has none). */
  async checkpointOf(log: Log): Promise<number | null> {
    const key = basename(log.dir);
    const state = this.states.get(key);
    const entries = await this.checkpointsOf(dirname(log.dir));
    if (state && state.log !== log) {
      // The partition was deleted and created again: the old checkpoint says nothing about the new log.
      entries.delete(key);
      this.states.delete(key);
    }
    if (!this.states.has(key)) this.states.set(key, { log, earliestDeleteHorizonMs: -1 });
    return entries.get(key) ?? null;
  }

  // ------------------------------------------------------------------------------------------ selection

  /** Kafka's LogCleanerManager.cleanableOffsets and LogToClean, for one log. */
  async cleanableInfo(log: Log): Promise<CleanableInfo> {
    const checkpoint = await this.checkpointOf(log);
    const { segments } = log.cleanerView();
    return computeCleanable(log, segments, checkpoint, this.now(), this.states.get(basename(log.dir))?.earliestDeleteHorizonMs ?? -1);
  }

  /** Cleans the filthiest cleanable compacted log, if any; returns what was done. */
  async cleanFilthiestLog(): Promise<CleanSummary | null> {
    let best: { log: Log; key: string; info: CleanableInfo } | null = null;
    for (const [key, log] of this.logManager.all()) {
      if (!hasCompactPolicy(log.config) || this.uncleanable.has(key)) continue;
      let info: CleanableInfo;
      try {
        info = await this.cleanableInfo(log);
      } catch {
        continue; // closed or deleted meanwhile
      }
      const eligible = info.ratio > log.config.minCleanableDirtyRatio || (info.needCompactionNow && info.dirtyBytes > 0) || info.tombstonesDue;
      if (eligible && (!best || info.ratio > best.info.ratio)) best = { log, key, info };
    }
    if (!best) return null;
    return this.clean(best.log);
  }

  /** Cleans one log now, whatever its dirty ratio (tests, tools). */
  async cleanLog(topic: string, partition: number): Promise<CleanSummary | null> {
    const log = this.logManager.get(topic, partition);
    if (!log) return null;
    return this.clean(log);
  }

  /** Queues a pass over `log`; its dirty section is computed when the pass starts. */
  private clean(log: Log): Promise<CleanSummary | null> {
    const run = this.passes.then(async () => this.cleanNow(log, await this.cleanableInfo(log)));
    this.passes = run.catch(() => undefined);
    return run;
  }

  private async cleanNow(log: Log, info: CleanableInfo): Promise<CleanSummary | null> {
    const key = basename(log.dir);
    const parsed = parsePartitionDir(key);
    if (!parsed) return null;
    const started = Date.now();
    const view = log.cleanerView();
    const job: CleanJob = {
      dir: log.dir,
      segments: view.segments.map((s) => ({ baseOffset: s.baseOffset, path: s.path, size: s.size, lastModifiedMs: s.lastModifiedMs })),
      firstDirtyOffset: info.firstDirtyOffset,
      firstUncleanableOffset: Math.max(info.firstDirtyOffset, info.firstUncleanableOffset),
      nowMs: this.now(),
      deleteRetentionMs: log.config.deleteRetentionMs,
      segmentBytes: log.config.segmentBytes,
      indexIntervalBytes: log.config.indexIntervalBytes,
      maxMapBytes: this.dedupeBufferSize,
      ioMaxBytesPerSecond: this.ioMaxBytesPerSecond,
    };
    const producers = this.options.activeProducers?.(parsed.topic, parsed.partition);
    if (producers) job.activeProducers = [...producers];
    const byBase = new Map<number, CleanerSegmentView>(view.segments.map((s) => [s.baseOffset, s]));
    let swapped = 0;
    let discarded = 0;
    let sizeBefore = 0;
    let sizeAfter = 0;
    const onGroup = async (group: CleanedGroup): Promise<void> => {
      const replaced = group.replaces.map((b) => byBase.get(b)!.segment);
      let ok = false;
      try {
        ok = await log.replaceWithCleaned(view.generation, replaced, group, this.options.swapFault);
      } finally {
        if (ok) {
          swapped++;
          sizeBefore += group.sizeBefore;
          sizeAfter += group.sizeAfter;
        } else {
          discarded++;
        }
      }
    };
    let result: CleanResult;
    try {
      result = this.options.inProcess ? await runCleanJob(job, onGroup) : await this.thread.run(job, onGroup);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      let changed = true;
      try {
        changed = log.cleanerView().generation !== view.generation;
      } catch {
        // closed or deleted
      }
      if (this.stopping && !this.options.inProcess) {
        this.logger.info({ log: key }, 'cleaning pass abandoned: the cleaner is stopping');
        return null;
      }
      if (changed || e.code === 'ENOENT' || /ENOENT|is closed/.test(e.message)) {
        this.logger.info({ log: key, err: e.message }, 'cleaning pass abandoned: the log changed under it');
        return null;
      }
      this.uncleanable.set(key, e.message);
      this.logger.error({ log: key, err }, 'cleaning failed; the partition is marked uncleanable');
      return null;
    }
    const state = this.states.get(key);
    if (discarded === 0) {
      const entries = await this.checkpointsOf(dirname(log.dir));
      entries.set(key, result.endOffset);
      await this.writeCheckpoint(dirname(log.dir));
      if (state) state.earliestDeleteHorizonMs = result.earliestDeleteHorizonMs;
    }
    const durationMs = Date.now() - started;
    const s = result.stats;
    const mb = (s.bytesRead + s.mapBytesRead) / (1024 * 1024);
    this.logger.info(
      {
        log: key,
        dirtySection: [info.firstDirtyOffset, result.endOffset],
        dirtyRatio: Number(info.ratio.toFixed(3)),
        groupsSwapped: swapped,
        groupsDiscarded: discarded,
        sizeBefore,
        sizeAfter,
        recordsRead: s.recordsRead,
        recordsRetained: s.recordsRetained,
        tombstonesDropped: s.tombstonesDropped,
        mapKeys: s.mapKeys,
        durationMs,
        throttledMs: s.throttledMs,
        mbPerSec: Number((mb / Math.max(durationMs / 1000, 0.001)).toFixed(1)),
      },
      'cleaned log',
    );
    return {
      topic: parsed.topic,
      partition: parsed.partition,
      firstDirtyOffset: info.firstDirtyOffset,
      endOffset: result.endOffset,
      groupsSwapped: swapped,
      groupsDiscarded: discarded,
      sizeBefore,
      sizeAfter,
      durationMs,
      result,
    };
  }
}

/** Kafka's cleanableOffsets and LogToClean over the cleaner's view of a log. */
export function computeCleanable(log: Log, segments: readonly CleanerSegmentView[], checkpoint: number | null, now: number, earliestDeleteHorizonMs: number): CleanableInfo {
  const logStart = log.logStartOffset;
  const leo = log.logEndOffset;
  let firstDirty = checkpoint ?? logStart;
  if (firstDirty < logStart || firstDirty > leo) firstDirty = logStart;
  const active = segments[segments.length - 1]!;
  let firstUncleanable = active.baseOffset;
  const minLag = Math.max(log.config.minCompactionLagMs, 0);
  let firstDirtyIndex = -1;
  for (let i = 0; i < segments.length - 1; i++) {
    const next = segments[i + 1]!.baseOffset;
    if (next <= firstDirty) continue;
    if (firstDirtyIndex < 0) firstDirtyIndex = i;
    if (minLag > 0 && segments[i]!.largestTimestamp > now - minLag) {
      firstUncleanable = segments[i]!.baseOffset;
      break;
    }
  }
  let cleanBytes = 0;
  let dirtyBytes = 0;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const next = segments[i + 1]!.baseOffset;
    if (next <= firstDirty) cleanBytes += s.size;
    else if (s.baseOffset < firstUncleanable) dirtyBytes += s.size;
  }
  const total = cleanBytes + dirtyBytes;
  const ratio = total > 0 ? dirtyBytes / total : 0;
  let needCompactionNow = false;
  const maxLag = log.config.maxCompactionLagMs;
  if (Number.isFinite(maxLag) && firstDirtyIndex >= 0 && dirtyBytes > 0) {
    const first = segments[firstDirtyIndex]!;
    const ts = first.segment.firstBatchTimestamp;
    const earliest = ts !== undefined && ts >= 0 ? ts : first.lastModifiedMs;
    needCompactionNow = now - earliest > maxLag;
  }
  const tombstonesDue = earliestDeleteHorizonMs >= 0 && now >= earliestDeleteHorizonMs;
  return { firstDirtyOffset: firstDirty, firstUncleanableOffset: Math.max(firstDirty, firstUncleanable), cleanBytes, dirtyBytes, ratio, needCompactionNow, tombstonesDue };
}
