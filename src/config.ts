/**
 * Broker configuration with Kafka's property names and defaults (suited to a local broker).
 *
 * Sources, lowest precedence first: built-in defaults, a server.properties-style file (`--config FILE`),
 * environment variables (`SAMSA_LOG_DIRS=...` sets `log.dirs`: upper case, dots and dashes as
 * underscores, as Confluent's images do with KAFKA_), then command-line `--override key=value`.
 */
import { readFileSync } from 'node:fs';

export interface PropertyDef {
  readonly name: string;
  readonly type: 'string' | 'int' | 'long' | 'boolean' | 'list' | 'double';
  readonly default: string;
  readonly doc: string;
}

/** Kafka's broker properties that Samsa honours, with Kafka's defaults unless said otherwise. */
export const BROKER_PROPERTIES: readonly PropertyDef[] = [
  { name: 'node.id', type: 'int', default: '1', doc: 'This node\'s id (Kafka: required; here 1).' },
  { name: 'process.roles', type: 'list', default: 'broker,controller', doc: 'Single node: both roles in one process.' },
  { name: 'listeners', type: 'list', default: 'PLAINTEXT://127.0.0.1:9092', doc: 'Where to accept clients (port 0 picks a free port).' },
  { name: 'advertised.listeners', type: 'list', default: '', doc: 'Address given to clients in Metadata; defaults to listeners.' },
  { name: 'log.dirs', type: 'string', default: './data', doc: 'Directory of partition logs (Kafka: /tmp/kafka-logs).' },
  { name: 'num.partitions', type: 'int', default: '1', doc: 'Partitions of an auto-created topic or of CreateTopics with -1.' },
  { name: 'default.replication.factor', type: 'int', default: '1', doc: 'Replication factor of auto-created topics.' },
  { name: 'auto.create.topics.enable', type: 'boolean', default: 'true', doc: 'Create a topic on Metadata or Produce for an unknown name.' },
  { name: 'delete.topic.enable', type: 'boolean', default: 'true', doc: 'Allow DeleteTopics.' },
  { name: 'min.insync.replicas', type: 'int', default: '1', doc: 'Replicas that must have a record before acks=all succeeds.' },
  { name: 'message.max.bytes', type: 'int', default: '1048588', doc: 'Largest record batch accepted (topic: max.message.bytes).' },
  { name: 'socket.request.max.bytes', type: 'int', default: '104857600', doc: 'Largest request frame; larger frames close the connection.' },
  { name: 'log.segment.bytes', type: 'int', default: '1073741824', doc: 'Segment size before rolling.' },
  { name: 'log.roll.ms', type: 'long', default: '604800000', doc: 'Segment age before rolling (Kafka: log.roll.hours=168).' },
  { name: 'log.index.interval.bytes', type: 'int', default: '4096', doc: 'Bytes between offset index entries.' },
  { name: 'log.index.size.max.bytes', type: 'int', default: '10485760', doc: 'Maximum index file size.' },
  { name: 'log.retention.ms', type: 'long', default: '604800000', doc: 'Delete segments older than this (-1: never). Kafka: log.retention.hours=168.' },
  { name: 'log.retention.bytes', type: 'long', default: '-1', doc: 'Delete old segments beyond this size per partition (-1: no limit).' },
  { name: 'log.retention.check.interval.ms', type: 'long', default: '300000', doc: 'How often retention runs.' },
  { name: 'log.flush.interval.messages', type: 'long', default: '9223372036854775807', doc: 'fsync after this many messages (default: leave it to the OS page cache).' },
  { name: 'log.flush.interval.ms', type: 'long', default: '9223372036854775807', doc: 'fsync after this long (default: leave it to the OS page cache).' },
  { name: 'log.cleanup.policy', type: 'list', default: 'delete', doc: 'delete, compact or both.' },
  { name: 'log.cleaner.enable', type: 'boolean', default: 'true', doc: 'Compact the logs of cleanup.policy=compact topics.' },
  { name: 'log.cleaner.backoff.ms', type: 'long', default: '15000', doc: 'Pause of the log cleaner when no log needs cleaning.' },
  { name: 'log.cleaner.io.max.bytes.per.second', type: 'double', default: '1.7976931348623157E308', doc: 'Log cleaner read+write rate limit (default: none).' },
  { name: 'log.cleaner.dedupe.buffer.size', type: 'long', default: '134217728', doc: 'Memory for the cleaner\'s key -> offset map; a pass stops where it fills.' },
  { name: 'log.cleaner.min.cleanable.ratio', type: 'double', default: '0.5', doc: 'Dirty share of a log that makes it cleanable (topic: min.cleanable.dirty.ratio).' },
  { name: 'log.cleaner.delete.retention.ms', type: 'long', default: '86400000', doc: 'How long tombstones survive after their first cleaning (topic: delete.retention.ms).' },
  { name: 'log.cleaner.min.compaction.lag.ms', type: 'long', default: '0', doc: 'Records younger than this are not compacted (topic: min.compaction.lag.ms).' },
  { name: 'log.cleaner.max.compaction.lag.ms', type: 'long', default: '9223372036854775807', doc: 'A dirty segment older than this is compacted whatever the ratio (topic: max.compaction.lag.ms).' },
  { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime', doc: 'CreateTime or LogAppendTime.' },
  { name: 'log.message.timestamp.before.max.ms', type: 'long', default: '9223372036854775807', doc: 'CreateTime topics refuse records stamped further than this in the past (topic: message.timestamp.before.max.ms).' },
  { name: 'log.message.timestamp.after.max.ms', type: 'long', default: '9223372036854775807', doc: 'CreateTime topics refuse records stamped further than this in the future (topic: message.timestamp.after.max.ms).' },
  { name: 'group.initial.rebalance.delay.ms', type: 'int', default: '3000', doc: 'Delay before the first rebalance of an empty group.' },
  { name: 'offsets.topic.num.partitions', type: 'int', default: '50', doc: 'Partitions of __consumer_offsets.' },
  { name: 'offsets.retention.minutes', type: 'int', default: '10080', doc: 'Committed offsets of empty groups expire after this.' },
  { name: 'offsets.retention.check.interval.ms', type: 'long', default: '600000', doc: 'How often expired committed offsets are removed.' },
  { name: 'offset.metadata.max.bytes', type: 'int', default: '4096', doc: 'Largest metadata string of a committed offset.' },
  { name: 'group.min.session.timeout.ms', type: 'int', default: '6000', doc: 'Smallest session timeout a group member may ask for.' },
  { name: 'group.max.session.timeout.ms', type: 'int', default: '1800000', doc: 'Largest session timeout a group member may ask for.' },
  { name: 'group.max.size', type: 'int', default: '2147483647', doc: 'Most members a consumer group may have.' },
  { name: 'producer.id.expiration.ms', type: 'int', default: '86400000', doc: 'A partition forgets an idempotent producer idle this long.' },
  { name: 'producer.id.expiration.check.interval.ms', type: 'int', default: '600000', doc: 'How often idle producers are looked for.' },
  { name: 'transaction.max.timeout.ms', type: 'int', default: '900000', doc: 'Largest transaction timeout InitProducerId accepts.' },
  { name: 'cluster.id', type: 'string', default: 'samsa-local-cluster-0001', doc: 'Cluster id reported in Metadata (Kafka: from storage format).' },
  { name: 'samsa.protocol.trace', type: 'boolean', default: 'false', doc: 'Log every decoded request and response (for studying the protocol).' },
  { name: 'samsa.protocol.capture.dir', type: 'string', default: '', doc: 'Save the first request and response of each api/version/client as .bin files here (test vectors).' },
  { name: 'samsa.log.tail.cache.bytes', type: 'long', default: '1048576', doc: 'Recent batches kept in memory per partition, so fetches at the end of the log read no file (0: off).' },
  { name: 'samsa.log.level', type: 'string', default: 'info', doc: 'pino log level: fatal, error, warn, info, debug, trace, silent.' },
];

export type Properties = Map<string, string>;

export function parseProperties(text: string): Properties {
  const out: Properties = new Map();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

export function envToProperties(env: NodeJS.ProcessEnv): Properties {
  const out: Properties = new Map();
  const known = new Map(BROKER_PROPERTIES.map((p) => [p.name.toUpperCase().replace(/[.-]/g, '_'), p.name]));
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('SAMSA_') || v === undefined) continue;
    const key = k.slice('SAMSA_'.length);
    out.set(known.get(key) ?? key.toLowerCase().replace(/_/g, '.'), v);
  }
  return out;
}

export interface BrokerConfig {
  readonly nodeId: number;
  readonly listeners: { name: string; host: string; port: number }[];
  readonly advertisedListeners: { name: string; host: string; port: number }[];
  readonly logDirs: string;
  readonly numPartitions: number;
  readonly defaultReplicationFactor: number;
  readonly autoCreateTopicsEnable: boolean;
  readonly deleteTopicEnable: boolean;
  readonly minInsyncReplicas: number;
  readonly messageMaxBytes: number;
  readonly socketRequestMaxBytes: number;
  readonly clusterId: string;
  readonly protocolTrace: boolean;
  readonly protocolCaptureDir: string;
  readonly logLevel: string;
  /** Every property, as strings, after merging all sources (for DescribeConfigs). */
  readonly props: ReadonlyMap<string, string>;
  /** Which properties were set explicitly (DescribeConfigs reports their source). */
  readonly explicit: ReadonlySet<string>;
  /**
   * Dynamic broker configs (KIP-226), set at runtime by AlterConfigs / IncrementalAlterConfigs on the broker
   * resource: for this node, and the cluster-wide default. They override `props` for the topic-config
   * synonyms (src/broker/dynamic-broker-config.ts). Absent outside a running broker.
   */
  readonly dynamic?: DynamicBrokerConfigLayers;
}

export interface DynamicBrokerConfigLayers {
  readonly perBroker: ReadonlyMap<string, string>;
  readonly clusterDefault: ReadonlyMap<string, string>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parseListener(spec: string): { name: string; host: string; port: number } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(spec.trim());
  if (!m) throw new ConfigError(`bad listener "${spec}": expected NAME://host:port`);
  return { name: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}

export function buildConfig(...sources: Properties[]): BrokerConfig {
  const props = new Map<string, string>();
  const explicit = new Set<string>();
  for (const p of BROKER_PROPERTIES) props.set(p.name, p.default);
  for (const source of sources) {
    for (const [k, v] of source) {
      props.set(k, v);
      explicit.add(k);
    }
  }
  const get = (name: string): string => props.get(name) ?? '';
  const int = (name: string): number => {
    const n = Number(get(name));
    if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got "${get(name)}"`);
    return n;
  };
  const bool = (name: string): boolean => {
    const v = get(name).toLowerCase();
    if (v !== 'true' && v !== 'false') throw new ConfigError(`${name} must be true or false, got "${get(name)}"`);
    return v === 'true';
  };
  const listeners = get('listeners').split(',').filter((s) => s.trim() !== '').map(parseListener);
  if (listeners.length === 0) throw new ConfigError('listeners is empty');
  const advertised = get('advertised.listeners').split(',').filter((s) => s.trim() !== '').map(parseListener);
  return {
    nodeId: int('node.id'),
    listeners,
    advertisedListeners: advertised.length > 0 ? advertised : listeners,
    logDirs: get('log.dirs').split(',')[0]!,
    numPartitions: int('num.partitions'),
    defaultReplicationFactor: int('default.replication.factor'),
    autoCreateTopicsEnable: bool('auto.create.topics.enable'),
    deleteTopicEnable: bool('delete.topic.enable'),
    minInsyncReplicas: int('min.insync.replicas'),
    messageMaxBytes: int('message.max.bytes'),
    socketRequestMaxBytes: int('socket.request.max.bytes'),
    clusterId: get('cluster.id'),
    protocolTrace: bool('samsa.protocol.trace'),
    protocolCaptureDir: get('samsa.protocol.capture.dir'),
    logLevel: get('samsa.log.level'),
    props,
    explicit,
  };
}

export function loadConfig(args: { configFile?: string; overrides?: string[]; env?: NodeJS.ProcessEnv }): BrokerConfig {
  const sources: Properties[] = [];
  if (args.configFile) sources.push(parseProperties(readFileSync(args.configFile, 'utf8')));
  sources.push(envToProperties(args.env ?? process.env));
  const cli: Properties = new Map();
  for (const o of args.overrides ?? []) {
    const i = o.indexOf('=');
    if (i <= 0) throw new ConfigError(`bad override "${o}": expected key=value`);
    cli.set(o.slice(0, i).trim(), o.slice(i + 1).trim());
  }
  sources.push(cli);
  return buildConfig(...sources);
}
