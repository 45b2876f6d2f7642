/**
 * All partition logs of a broker, across its log directories (`log.dirs`, comma-separated).
 *
 * Each log lives in `<log dir>/<topic>-<partition>/`. A topic name may itself contain '-', so the partition
 * number is what follows the last '-'. Directories named `<...>-delete` are partitions whose deletion was
 * interrupted: loadAll() finishes removing them. A new partition goes to the log directory holding the
 * fewest partitions (Kafka's placement rule). Logs are opened a few at a time (Kafka's
 * num.recovery.threads.per.data.dir).
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { fileExists, fsyncDir, partitionDirNameWithSuffix } from './file-util.js';
import { defaultLogConfig, type LogConfig } from './log-config.js';
import { InconsistentTopicIdError, LogDirFailureError } from './errors.js';
import { parseKafkaUuidString, toKafkaUuidString } from './kafka-uuid.js';
import { Log, readPartitionMetadataFile, writePartitionMetadataFile } from './log.js';

export interface LogManagerOptions {
  logger?: Logger;
  now?: () => number;
  /** The config of a topic's logs found on disk by loadAll(); defaults to `defaultConfig`. */
  configFor?: (topic: string, partition: number) => LogConfig;
  defaultConfig?: LogConfig;
  /** How many logs are opened (recovered) at once. */
  recoveryConcurrency?: number;
}

const PARTITION_DIR = /^(.+)-(\d+)$/;

/** The KRaft metadata log's topic (Kafka's Topic.CLUSTER_METADATA_TOPIC_NAME). */
export const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

export function logKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits a partition directory name into topic and partition, or null for other directories. */
export function parsePartitionDir(name: string): { topic: string; partition: number } | null {
  if (name.endsWith('-delete') || name.endsWith('-future') || name.endsWith('-stray')) return null;
  const m = PARTITION_DIR.exec(name);
  if (!m) return null;
  const partition = Number(m[2]);
  if (!Number.isSafeInteger(partition)) return null;
  return { topic: m[1]!, partition };
}

export class LogManager {
  readonly logDirs: string[];
  private readonly logs = new Map<string, Log>();
  private readonly opening = new Map<string, Promise<Log>>();
  private readonly logger: Logger;
  /** Partition directories per log dir, for placing new partitions (loaded on first use). */
  private partitionsPerDir: Map<string, number> | null = null;
  private readonly deleteListeners: ((topic: string, partition: number) => Promise<void> | void)[] = [];

  constructor(
    logDirs: string | readonly string[],
    private readonly options: LogManagerOptions = {},
  ) {
    const dirs = typeof logDirs === 'string' ? logDirs.split(',') : [...logDirs];
    this.logDirs = dirs.map((d) => d.trim()).filter((d) => d.length > 0);
    if (this.logDirs.length === 0) throw new RangeError('no log directory given');
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  private configFor(topic: string, partition: number): LogConfig {
    return this.options.configFor?.(topic, partition) ?? this.options.defaultConfig ?? defaultLogConfig;
  }

  /** Opens every partition log found in the log directories (recovering as needed). */
  async loadAll(): Promise<Map<string, Log>> {
    const found: { topic: string; partition: number; dir: string }[] = [];
    for (const logDir of this.logDirs) {
      await mkdir(logDir, { recursive: true });
      for (const entry of await readdir(logDir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        if (entry.name.endsWith('-delete')) {
          this.logger.info({ dir: entry.name }, 'finishing an interrupted partition deletion');
          await rm(join(logDir, entry.name), { recursive: true, force: true });
          continue;
        }
        const parsed = parsePartitionDir(entry.name);
        if (!parsed) continue;
        const key = logKey(parsed.topic, parsed.partition);
        if (this.logs.has(key) || found.some((f) => logKey(f.topic, f.partition) === key)) {
          if (!this.logs.has(key)) this.logger.error({ key, dir: join(logDir, entry.name) }, 'partition found in two log directories; using the first');
          continue;
        }
        found.push({ ...parsed, dir: join(logDir, entry.name) });
      }
    }
    const started = Date.now();
    const concurrency = Math.max(1, this.options.recoveryConcurrency ?? 8);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < found.length) {
        const f = found[next++]!;
        const key = logKey(f.topic, f.partition);
        const log = await Log.open(f.dir, this.configFor(f.topic, f.partition), { logger: this.logger, now: this.options.now });
        this.logs.set(key, log);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, found.length) }, worker));
    this.logger.info({ logs: found.length, ms: Date.now() - started }, 'logs loaded');
    return new Map(this.logs);
  }

  /**
   * Start-up, before any log is opened (Kafka's LogManager.loadLogs with findStrayReplicas): finishes
   * interrupted deletions (`-delete` directories), and moves aside as `<dir>.<uuid>-stray` every partition
   * directory that the metadata does not expect: `expectedTopicId(topic, partition)` returns the topic id
   * (RFC 4122 form) the partition should have, or null when no such partition exists. A directory whose
   * partition.metadata names another topic id is a deleted incarnation of the topic and is moved aside too,
   * so a re-created topic never inherits its records. Stray directories are kept, never deleted (as Kafka
   * 3.7+). Returns the directories moved aside.
   */
  async moveAsideStrayLogs(expectedTopicId: (topic: string, partition: number) => string | null): Promise<string[]> {
    const moved: string[] = [];
    for (const logDir of this.logDirs) {
      await mkdir(logDir, { recursive: true });
      let changed = false;
      for (const entry of await readdir(logDir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const dir = join(logDir, entry.name);
        if (entry.name.endsWith('-delete')) {
          this.logger.info({ dir }, 'finishing an interrupted partition deletion');
          await rm(dir, { recursive: true, force: true });
          changed = true;
          continue;
        }
        const parsed = parsePartitionDir(entry.name);
        if (!parsed || this.logs.has(logKey(parsed.topic, parsed.partition))) continue;
        // The KRaft metadata log (`__cluster_metadata-0`) is the Raft node's, never a partition of the image
        // (Kafka's LogManager leaves it out the same way).
        if (parsed.topic === CLUSTER_METADATA_TOPIC) continue;
        const expected = expectedTopicId(parsed.topic, parsed.partition);
        const written = await readPartitionMetadataFile(dir);
        const writtenId = written === null ? null : parseKafkaUuidString(written.topicId);
        if (written !== null && writtenId === null) {
          throw new LogDirFailureError(`Malformed partition.metadata file ${join(dir, 'partition.metadata')}: topic_id ${written.topicId} is not a Kafka Uuid`, join(dir, 'partition.metadata'));
        }
        if (expected !== null && (writtenId === null || writtenId === expected.toLowerCase())) continue;
        const stray = join(logDir, partitionDirNameWithSuffix(entry.name, '-stray'));
        await rename(dir, stray);
        changed = true;
        moved.push(stray);
        this.logger.warn(
          { dir, renamedTo: stray, topicId: written?.topicId ?? null, expectedTopicId: expected === null ? null : toKafkaUuidString(expected) },
          expected === null ? 'log directory of a partition that does not exist is marked as stray and moved aside' : 'log directory of another incarnation of the topic (topic id differs) is marked as stray and moved aside',
        );
      }
      if (changed) await fsyncDir(logDir);
    }
    this.partitionsPerDir = null;
    return moved;
  }

  get(topic: string, partition: number): Log | undefined {
    return this.logs.get(logKey(topic, partition));
  }

  all(): Map<string, Log> {
    return new Map(this.logs);
  }

  /**
   * The log of a partition, opened (and its directory created) if needed. An already open log gets
   * `config` as its new config.
   */
  getOrCreate(topic: string, partition: number, config: LogConfig, topicId?: string): Promise<Log> {
    const key = logKey(topic, partition);
    const existing = this.logs.get(key);
    if (existing) {
      existing.config = config;
      return Promise.resolve(existing);
    }
    const pending = this.opening.get(key);
    if (pending) return pending;
    const open = (async () => {
      try {
        const dir = await this.dirFor(key);
        // Kafka's UnifiedLog.initializeTopicId: a directory of another incarnation is never opened as this one.
        const written = topicId === undefined ? null : await readPartitionMetadataFile(dir);
        if (topicId !== undefined && written !== null && parseKafkaUuidString(written.topicId) !== topicId.toLowerCase()) {
          throw new InconsistentTopicIdError(
            `Tried to assign topic ID ${toKafkaUuidString(topicId)} to log for topic partition ${key},but log already contained topic ID ${written.topicId}`,
          );
        }
        const existed = await fileExists(dir);
        const log = await Log.open(dir, config, { logger: this.logger, now: this.options.now });
        this.logs.set(key, log);
        if (topicId !== undefined && written?.topicId !== toKafkaUuidString(topicId)) {
          try {
            await writePartitionMetadataFile(dir, toKafkaUuidString(topicId));
          } catch (err) {
            // A directory this call created holds nothing yet: it goes (e.g. a full disk), an older one stays.
            this.logs.delete(key);
            if (existed) await log.close({ cleanShutdown: false });
            else await log.delete().catch((e: unknown) => this.logger.warn({ err: e, log: key }, 'removing a new partition directory failed'));
            throw err;
          }
        }
        return log;
      } finally {
        this.opening.delete(key);
      }
    })();
    this.opening.set(key, open);
    return open;
  }

  /** The existing directory of a partition, or a new one in the least loaded log dir. */
  private async dirFor(key: string): Promise<string> {
    for (const logDir of this.logDirs) {
      if (await fileExists(join(logDir, key))) return join(logDir, key);
    }
    if (!this.partitionsPerDir) {
      const counts = new Map<string, number>();
      for (const logDir of this.logDirs) {
        await mkdir(logDir, { recursive: true });
        counts.set(logDir, (await readdir(logDir)).filter((n) => parsePartitionDir(n) !== null).length);
      }
      this.partitionsPerDir = counts;
    }
    let best = this.logDirs[0]!;
    for (const logDir of this.logDirs) if (this.partitionsPerDir.get(logDir)! < this.partitionsPerDir.get(best)!) best = logDir;
    this.partitionsPerDir.set(best, this.partitionsPerDir.get(best)! + 1);
    return join(best, key);
  }

  /** Calls `listener` after a partition's log is deleted (the log cleaner drops its checkpoint). */
  onDelete(listener: (topic: string, partition: number) => Promise<void> | void): void {
    this.deleteListeners.push(listener);
  }

  /** Deletes a partition's log and its directory (topic deletion). */
  async delete(topic: string, partition: number): Promise<void> {
    const key = logKey(topic, partition);
    const log = this.logs.get(key) ?? (await this.opening.get(key)?.catch(() => undefined));
    this.logs.delete(key);
    this.partitionsPerDir = null;
    if (log) await log.delete();
    else {
      for (const logDir of this.logDirs) {
        // Kafka's order: renamed `<dir>.<uuid>-delete` first (a crash then leaves nothing to reopen), then removed.
        const doomed = join(logDir, partitionDirNameWithSuffix(key, '-delete'));
        try {
          await rename(join(logDir, key), doomed);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        await fsyncDir(logDir);
        await rm(doomed, { recursive: true, force: true });
      }
    }
    for (const listener of this.deleteListeners) {
      try {
        await listener(topic, partition);
      } catch (err) {
        this.logger.warn({ err, log: key }, 'a log deletion listener failed');
      }
    }
  }

  /** Runs retention over every log now; returns the number of segments deleted. */
  async applyRetention(): Promise<number> {
    let deleted = 0;
    for (const [key, log] of this.logs) {
      try {
        deleted += await log.applyRetention();
      } catch (err) {
        this.logger.warn({ err, log: key }, 'retention failed');
      }
    }
    return deleted;
  }

  /** fsyncs every log. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.flush()));
  }

  /**
   * Closes every log cleanly (each writes its clean-shutdown marker); `{ cleanShutdown: false }` only
   * closes the files, leaving the directories as a killed process would (Log.close).
   */
  async closeAll(options: { cleanShutdown?: boolean } = {}): Promise<void> {
    await Promise.all([...this.opening.values()].map((p) => p.catch(() => undefined)));
    const logs = [...this.logs.entries()];
    this.logs.clear();
    const results = await Promise.allSettled(logs.map(([, log]) => log.close(options)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.logger.error({ err: r.reason, log: logs[i]![0] }, 'closing a log failed');
    });
  }
}
