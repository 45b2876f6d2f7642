/**
 * Topic-level configs with Kafka's names, their broker-level synonyms and defaults (as DescribeConfigs
 * reports them: a topic value overrides the broker's, which overrides the built-in default).
 */
import type { BrokerConfig } from '../config.js';

export interface TopicConfigDef {
  readonly name: string;
  /** The broker property whose value is the default for this topic config. */
  readonly brokerSynonym: string | null;
  readonly default: string;
  /** Kafka's ConfigType in DescribeConfigs v3+: 1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE, 7 LIST, 8 CLASS, 9 PASSWORD. */
  readonly configType: number;
  readonly doc: string;
  /** Kafka's Range validator bounds (ConfigDef.Range.atLeast / between), checked by validateTopicConfig. */
  readonly atLeast?: number;
  readonly atMost?: number;
}

export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  { name: 'cleanup.policy', brokerSynonym: 'log.cleanup.policy', default: 'delete', configType: 7, doc: 'delete, compact, or both.' },
  { name: 'compression.type', brokerSynonym: 'compression.type', default: 'producer', configType: 2, doc: 'producer keeps the producer\'s codec.' },
  { name: 'delete.retention.ms', brokerSynonym: 'log.cleaner.delete.retention.ms', default: '86400000', configType: 5, doc: 'How long tombstones are kept on compacted topics.', atLeast: 0 },
  { name: 'file.delete.delay.ms', brokerSynonym: 'log.segment.delete.delay.ms', default: '60000', configType: 5, doc: 'Delay before a deleted segment\'s files are removed.', atLeast: 0 },
  { name: 'flush.messages', brokerSynonym: 'log.flush.interval.messages', default: '9223372036854775807', configType: 5, doc: 'fsync after this many messages.', atLeast: 1 },
  { name: 'flush.ms', brokerSynonym: 'log.flush.interval.ms', default: '9223372036854775807', configType: 5, doc: 'fsync after this long.', atLeast: 0 },
  { name: 'index.interval.bytes', brokerSynonym: 'log.index.interval.bytes', default: '4096', configType: 3, doc: 'Bytes between offset index entries.', atLeast: 0 },
  { name: 'max.compaction.lag.ms', brokerSynonym: 'log.cleaner.max.compaction.lag.ms', default: '9223372036854775807', configType: 5, doc: 'Longest a record stays uncompacted.', atLeast: 1 },
  { name: 'max.message.bytes', brokerSynonym: 'message.max.bytes', default: '1048588', configType: 3, doc: 'Largest record batch.', atLeast: 0 },
  { name: 'message.timestamp.after.max.ms', brokerSynonym: 'log.message.timestamp.after.max.ms', default: '9223372036854775807', configType: 5, doc: 'CreateTime topics refuse records stamped further than this in the future (KIP-937).', atLeast: 0 },
  { name: 'message.timestamp.before.max.ms', brokerSynonym: 'log.message.timestamp.before.max.ms', default: '9223372036854775807', configType: 5, doc: 'CreateTime topics refuse records stamped further than this in the past (KIP-937).', atLeast: 0 },
  { name: 'message.timestamp.type', brokerSynonym: 'log.message.timestamp.type', default: 'CreateTime', configType: 2, doc: 'CreateTime or LogAppendTime.' },
  { name: 'min.cleanable.dirty.ratio', brokerSynonym: 'log.cleaner.min.cleanable.ratio', default: '0.5', configType: 6, doc: 'Dirty share that makes a log cleanable.', atLeast: 0, atMost: 1 },
  { name: 'min.compaction.lag.ms', brokerSynonym: 'log.cleaner.min.compaction.lag.ms', default: '0', configType: 5, doc: 'Shortest a record stays uncompacted.', atLeast: 0 },
  { name: 'min.insync.replicas', brokerSynonym: 'min.insync.replicas', default: '1', configType: 3, doc: 'Replicas needed for acks=all.', atLeast: 1 },
  { name: 'retention.bytes', brokerSynonym: 'log.retention.bytes', default: '-1', configType: 5, doc: 'Size limit per partition.' },
  { name: 'retention.ms', brokerSynonym: 'log.retention.ms', default: '604800000', configType: 5, doc: 'Age limit.', atLeast: -1 },
  { name: 'segment.bytes', brokerSynonym: 'log.segment.bytes', default: '1073741824', configType: 3, doc: 'Segment size.', atLeast: 14 },
  { name: 'segment.index.bytes', brokerSynonym: 'log.index.size.max.bytes', default: '10485760', configType: 3, doc: 'Index size limit.', atLeast: 4 },
  { name: 'segment.ms', brokerSynonym: 'log.roll.ms', default: '604800000', configType: 5, doc: 'Segment age before rolling.', atLeast: 1 },
  { name: 'unclean.leader.election.enable', brokerSynonym: 'unclean.leader.election.enable', default: 'false', configType: 1, doc: 'Not used on a single node.' },
];

export const TOPIC_CONFIG_BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

export interface ResolvedConfig {
  readonly name: string;
  readonly value: string;
  /** DescribeConfigs ConfigSource (see ConfigSource below). */
  readonly source: number;
  readonly isDefault: boolean;
  readonly configType: number;
  readonly synonyms: { name: string; value: string; source: number }[];
}

/** Kafka's DescribeConfigsResponse ConfigSource values. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
} as const;

export function resolveTopicConfig(broker: BrokerConfig, overrides: ReadonlyMap<string, string>, name: string): ResolvedConfig | null {
  const def = TOPIC_CONFIG_BY_NAME.get(name);
  if (!def) return null;
  const synonyms: { name: string; value: string; source: number }[] = [];
  const override = overrides.get(name);
  if (override !== undefined) synonyms.push({ name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
  if (def.brokerSynonym && broker.dynamic) {
    const perBroker = broker.dynamic.perBroker.get(def.brokerSynonym);
    if (perBroker !== undefined) synonyms.push({ name: def.brokerSynonym, value: perBroker, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    const clusterDefault = broker.dynamic.clusterDefault.get(def.brokerSynonym);
    if (clusterDefault !== undefined) synonyms.push({ name: def.brokerSynonym, value: clusterDefault, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
  }
  if (def.brokerSynonym && broker.explicit.has(def.brokerSynonym)) {
    synonyms.push({ name: def.brokerSynonym, value: broker.props.get(def.brokerSynonym)!, source: ConfigSource.STATIC_BROKER_CONFIG });
  }
  const builtIn = def.brokerSynonym ? (broker.props.get(def.brokerSynonym) ?? def.default) : def.default;
  synonyms.push({ name: def.brokerSynonym ?? name, value: builtIn, source: ConfigSource.DEFAULT_CONFIG });
  const top = synonyms[0]!;
  return { name, value: top.value, source: top.source, isDefault: top.source === ConfigSource.DEFAULT_CONFIG, configType: def.configType, synonyms };
}

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** Validates a topic config value the way Kafka's LogConfig does for the names we know. */
export function validateTopicConfig(name: string, value: string): void {
  const def = TOPIC_CONFIG_BY_NAME.get(name);
  if (!def) throw new InvalidConfigError(`Unknown topic config name: ${name}`);
  validateConfigValue(def, name, value);
}

/**
 * Validates a value of `def`'s type and range; `name` is the name the message uses (the topic config, or
 * its broker synonym for a dynamic broker config).
 */
export function validateConfigValue(def: TopicConfigDef, name: string, value: string): void {
  if (def.configType === 3 || def.configType === 5) {
    const bits = def.configType === 3 ? 31n : 63n;
    const text = value.trim();
    if (!/^[-+]?\d+$/.test(text) || BigInt(text) < -(1n << bits) || BigInt(text) >= 1n << bits) {
      throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: Not a number of type ${def.configType === 3 ? 'INT' : 'LONG'}`);
    }
  }
  if (def.configType === 6 && (value.trim() === '' || !Number.isFinite(Number(value)))) throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: Not a number of type DOUBLE`);
  if (def.atLeast !== undefined && Number(value) < def.atLeast) throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: Value must be at least ${def.atLeast}`);
  if (def.atMost !== undefined && Number(value) > def.atMost) throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: Value must be no more than ${def.atMost}`);
  if (def.configType === 1 && value !== 'true' && value !== 'false') throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: Expected value to be either true or false`);
  if (def.name === 'cleanup.policy') {
    for (const p of value.split(',').map((s) => s.trim())) {
      if (p !== 'delete' && p !== 'compact') throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: String must be one of: compact, delete`);
    }
  }
  if (def.name === 'message.timestamp.type' && value !== 'CreateTime' && value !== 'LogAppendTime') {
    throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: String must be one of: CreateTime, LogAppendTime`);
  }
  if (def.name === 'compression.type' && !['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'].includes(value)) {
    throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer`);
  }
}

/**
 * Validates a topic's whole set of overrides: each value (validateTopicConfig), then Kafka's cross-config
 * rule (LogConfig.validateValues): min.compaction.lag.ms must not exceed max.compaction.lag.ms.
 */
export function validateTopicConfigs(overrides: ReadonlyMap<string, string>): void {
  for (const [name, value] of overrides) validateTopicConfig(name, value);
  const lag = (name: string): bigint => BigInt((overrides.get(name) ?? TOPIC_CONFIG_BY_NAME.get(name)!.default).trim());
  const min = lag('min.compaction.lag.ms');
  const max = lag('max.compaction.lag.ms');
  if (min > max) throw new InvalidConfigError(`conflict topic config setting min.compaction.lag.ms (${min}) > max.compaction.lag.ms (${max})`);
}

function longValue(v: string): number {
  const n = Number(v);
  return n >= Number.MAX_SAFE_INTEGER ? Infinity : n;
}

/** The storage settings of one topic's logs. */
export function topicLogSettings(broker: BrokerConfig, overrides: ReadonlyMap<string, string>) {
  const v = (name: string): string => resolveTopicConfig(broker, overrides, name)!.value;
  return {
    segmentBytes: Number(v('segment.bytes')),
    segmentMs: longValue(v('segment.ms')),
    indexIntervalBytes: Number(v('index.interval.bytes')),
    segmentIndexBytes: Number(v('segment.index.bytes')),
    retentionMs: longValue(v('retention.ms')),
    retentionBytes: longValue(v('retention.bytes')),
    flushMessages: longValue(v('flush.messages')),
    flushMs: longValue(v('flush.ms')),
    fileDeleteDelayMs: longValue(v('file.delete.delay.ms')),
    messageTimestampType: v('message.timestamp.type') === 'LogAppendTime' ? ('LogAppendTime' as const) : ('CreateTime' as const),
    cleanupPolicy: v('cleanup.policy'),
    deleteRetentionMs: longValue(v('delete.retention.ms')),
    minCleanableDirtyRatio: Number(v('min.cleanable.dirty.ratio')),
    minCompactionLagMs: longValue(v('min.compaction.lag.ms')),
    maxCompactionLagMs: longValue(v('max.compaction.lag.ms')),
    maxMessageBytes: Number(v('max.message.bytes')),
    timestampBeforeMaxMs: longValue(v('message.timestamp.before.max.ms')),
    timestampAfterMaxMs: longValue(v('message.timestamp.after.max.ms')),
    minInsyncReplicas: Number(v('min.insync.replicas')),
  };
}
