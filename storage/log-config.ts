/**
 * Per-partition log settings, in Kafka's words (topic config name / broker default in the comments).
 * A `Log` reads its `config` at the moment it needs a value, so a topic config change applies live
 * (new index intervals, roll sizes and retention from the next append or retention pass on).
 */

export interface LogConfig {
  /** segment.bytes / log.segment.bytes: roll the active segment before it would grow past this. */
  segmentBytes: number;
  /** segment.ms / log.roll.ms: roll when the segment's first batch is older than this (by batch timestamps). */
  segmentMs: number;
  /** index.interval.bytes: bytes of batches between two sparse index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: index capacity; a full offset or time index rolls the segment. */
  segmentIndexBytes: number;
  /** retention.ms: delete closed segments whose largest timestamp is older than this; -1 = keep forever. */
  retentionMs: number;
  /** retention.bytes: delete the oldest closed segments while the partition is larger than this; -1 = no limit. */
  retentionBytes: number;
  /** flush.messages: fsync after this many offsets were appended (Kafka's Long.MAX_VALUE default = Infinity). */
  flushMessages: number;
  /** flush.ms: fsync when the oldest unflushed append is this old (default Infinity: leave it to the page cache). */
  flushMs: number;
  /** file.delete.delay.ms: deleted segments are renamed `.deleted` and unlinked after this delay. */
  fileDeleteDelayMs: number;
  /** message.timestamp.type. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** cleanup.policy: "delete", "compact" or "compact,delete". Time/size retention applies only with "delete". */
  cleanupPolicy: string;
  /** delete.retention.ms: a tombstone survives this long after the first cleaning that saw it (KIP-534). */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: clean when dirty bytes / (clean + dirty bytes) reaches this. */
  minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms: segments holding a record younger than this are not cleaned. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty segment older than this is cleaned whatever the dirty ratio (Infinity = never forced). */
  maxCompactionLagMs: number;
  /** samsa.log.tail.cache.bytes (broker-wide): recent batches kept in memory per partition for tail reads; 0 = off. */
  tailCacheBytes: number;
}

export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10485760,
  retentionMs: 604800000,
  retentionBytes: -1,
  flushMessages: Infinity,
  flushMs: Infinity,
  fileDeleteDelayMs: 60000,
  messageTimestampType: 'CreateTime',
  cleanupPolicy: 'delete',
  deleteRetentionMs: 86400000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Infinity,
  tailCacheBytes: 1024 * 1024,
});

/** The default config with some settings replaced. */
export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, ...overrides };
}

export function hasDeletePolicy(config: LogConfig): boolean {
  return config.cleanupPolicy
    .split(',')
    .map((p) => p.trim())
    .includes('delete');
}

export function hasCompactPolicy(config: LogConfig): boolean {
  return config.cleanupPolicy
    .split(',')
    .map((p) => p.trim())
    .includes('compact');
}
