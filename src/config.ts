/**
 * Broker configuration with Kafka's property names and defaults (suited to a local broker).
 *
 * Sources, lowest precedence first: built-in defaults, a server.properties-style file (`--config FILE`),
 * environment variables (`SAMSA_LOG_DIRS=...` sets `log.dirs`: upper case, dots and dashes as
 * underscores, as Confluent's images do with KAFKA_), then command-line `--override key=value`.
 */
import { readFileSync } from 'node:fs';
import { IGNORED_STATIC_CONFIGS, KEPT_DYNAMIC_CONFIGS, LISTENER_PREFIXED } from './kafka-broker-configs.js';
import { REGISTRY_PROPERTIES } from './registry/properties.js';

export interface PropertyDef {
  readonly name: string;
  readonly type: 'string' | 'int' | 'long' | 'boolean' | 'list' | 'double';
  readonly default: string;
  readonly doc: string;
  /** Kafka's ConfigDef.Range bounds. */
  readonly atLeast?: number;
  readonly atMost?: number;
  /** Kafka's ValidString.in / ValidList.in: the allowed values (of each entry, for a list). */
  readonly validValues?: readonly string[];
}

/** Kafka's broker properties that Samsa honours, with Kafka's defaults unless said otherwise. */
export const BROKER_PROPERTIES: readonly PropertyDef[] = [
  { name: 'node.id', type: 'int', default: '1', doc: 'This node\'s id (Kafka: required; here 1).', atLeast: 0 },
  { name: 'process.roles', type: 'list', default: 'broker,controller', doc: 'Single node: both roles in one process.', validValues: ['broker', 'controller'] },
  { name: 'listeners', type: 'list', default: 'PLAINTEXT://127.0.0.1:9092', doc: 'Where to accept clients (port 0 picks a free port).' },
  { name: 'advertised.listeners', type: 'list', default: '', doc: 'Address given to clients in Metadata; defaults to listeners.' },
  { name: 'log.dirs', type: 'string', default: './data', doc: 'Directories of partition logs, comma-separated: new partitions go to the one holding the fewest; Samsa\'s metadata files live in the first (Kafka: /tmp/kafka-logs).' },
  { name: 'num.partitions', type: 'int', default: '1', doc: 'Partitions of an auto-created topic or of CreateTopics with -1.', atLeast: 1 },
  { name: 'default.replication.factor', type: 'int', default: '1', doc: 'Replication factor of auto-created topics.' },
  { name: 'auto.create.topics.enable', type: 'boolean', default: 'true', doc: 'Create a topic on Metadata or Produce for an unknown name.' },
  { name: 'delete.topic.enable', type: 'boolean', default: 'true', doc: 'Allow DeleteTopics.' },
  { name: 'min.insync.replicas', type: 'int', default: '1', doc: 'Replicas that must have a record before acks=all succeeds.', atLeast: 1 },
  { name: 'message.max.bytes', type: 'int', default: '1048588', doc: 'Largest record batch accepted (topic: max.message.bytes).', atLeast: 0 },
  { name: 'socket.request.max.bytes', type: 'int', default: '104857600', doc: 'Largest request frame; larger frames close the connection.', atLeast: 1 },
  { name: 'log.segment.bytes', type: 'int', default: '1073741824', doc: 'Segment size before rolling.', atLeast: 14 },
  { name: 'log.roll.ms', type: 'long', default: '604800000', doc: 'Segment age before rolling (Kafka: log.roll.hours=168).', atLeast: 1 },
  { name: 'log.index.interval.bytes', type: 'int', default: '4096', doc: 'Bytes between offset index entries.', atLeast: 0 },
  { name: 'log.index.size.max.bytes', type: 'int', default: '10485760', doc: 'Maximum index file size.', atLeast: 4 },
  { name: 'log.retention.ms', type: 'long', default: '604800000', doc: 'Delete segments older than this (-1: never). Kafka: log.retention.hours=168.', atLeast: -1 },
  { name: 'log.retention.bytes', type: 'long', default: '-1', doc: 'Delete old segments beyond this size per partition (-1: no limit).' },
  { name: 'log.retention.check.interval.ms', type: 'long', default: '300000', doc: 'How often retention runs.', atLeast: 1 },
  { name: 'log.flush.interval.messages', type: 'long', default: '9223372036854775807', doc: 'fsync after this many messages (default: leave it to the OS page cache).', atLeast: 1 },
  { name: 'log.flush.interval.ms', type: 'long', default: '9223372036854775807', doc: 'fsync after this long (default: leave it to the OS page cache).', atLeast: 0 },
  { name: 'log.cleanup.policy', type: 'list', default: 'delete', doc: 'delete, compact or both.', validValues: ['compact', 'delete'] },
  { name: 'log.cleaner.enable', type: 'boolean', default: 'true', doc: 'Compact the logs of cleanup.policy=compact topics.' },
  { name: 'log.cleaner.backoff.ms', type: 'long', default: '15000', doc: 'Pause of the log cleaner when no log needs cleaning.', atLeast: 0 },
  { name: 'log.cleaner.io.max.bytes.per.second', type: 'double', default: '1.7976931348623157E308', doc: 'Log cleaner read+write rate limit (default: none).' },
  { name: 'log.cleaner.dedupe.buffer.size', type: 'long', default: '134217728', doc: 'Memory for the cleaner\'s key -> offset map; a pass stops where it fills.', atLeast: 0 },
  { name: 'log.cleaner.min.cleanable.ratio', type: 'double', default: '0.5', doc: 'Dirty share of a log that makes it cleanable (topic: min.cleanable.dirty.ratio).', atLeast: 0, atMost: 1 },
  { name: 'log.cleaner.delete.retention.ms', type: 'long', default: '86400000', doc: 'How long tombstones survive after their first cleaning (topic: delete.retention.ms).', atLeast: 0 },
  { name: 'log.cleaner.min.compaction.lag.ms', type: 'long', default: '0', doc: 'Records younger than this are not compacted (topic: min.compaction.lag.ms).', atLeast: 0 },
  { name: 'log.cleaner.max.compaction.lag.ms', type: 'long', default: '9223372036854775807', doc: 'A dirty segment older than this is compacted whatever the ratio (topic: max.compaction.lag.ms).', atLeast: 1 },
  { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime', doc: 'CreateTime or LogAppendTime.', validValues: ['CreateTime', 'LogAppendTime'] },
  { name: 'log.message.timestamp.before.max.ms', type: 'long', default: '9223372036854775807', doc: 'CreateTime topics refuse records stamped further than this in the past (topic: message.timestamp.before.max.ms).', atLeast: 0 },
  { name: 'log.message.timestamp.after.max.ms', type: 'long', default: '9223372036854775807', doc: 'CreateTime topics refuse records stamped further than this in the future (topic: message.timestamp.after.max.ms).', atLeast: 0 },
  { name: 'group.initial.rebalance.delay.ms', type: 'int', default: '3000', doc: 'Delay before the first rebalance of an empty group.', atLeast: 0 },
  { name: 'offsets.topic.num.partitions', type: 'int', default: '50', doc: 'Partitions of __consumer_offsets.', atLeast: 1 },
  { name: 'offsets.retention.minutes', type: 'int', default: '10080', doc: 'Committed offsets of empty groups expire after this.', atLeast: 1 },
  { name: 'offsets.retention.check.interval.ms', type: 'long', default: '600000', doc: 'How often expired committed offsets are removed.', atLeast: 1 },
  { name: 'offset.metadata.max.bytes', type: 'int', default: '4096', doc: 'Largest metadata string of a committed offset.' },
  { name: 'group.min.session.timeout.ms', type: 'int', default: '6000', doc: 'Smallest session timeout a group member may ask for.' },
  { name: 'group.max.session.timeout.ms', type: 'int', default: '1800000', doc: 'Largest session timeout a group member may ask for.' },
  { name: 'group.max.size', type: 'int', default: '2147483647', doc: 'Most members a consumer group may have.', atLeast: 1 },
  { name: 'producer.id.expiration.ms', type: 'int', default: '86400000', doc: 'A partition forgets an idempotent producer idle this long.', atLeast: 1 },
  { name: 'producer.id.expiration.check.interval.ms', type: 'int', default: '600000', doc: 'How often idle producers are looked for.', atLeast: 1 },
  { name: 'transaction.max.timeout.ms', type: 'int', default: '900000', doc: 'Largest transaction timeout InitProducerId accepts.', atLeast: 1 },
  { name: 'cluster.id', type: 'string', default: 'samsa-local-cluster-0001', doc: 'Cluster id reported in Metadata (Kafka: from storage format).' },
  { name: 'samsa.protocol.trace', type: 'boolean', default: 'false', doc: 'Log every decoded request and response (for studying the protocol).' },
  { name: 'samsa.protocol.capture.dir', type: 'string', default: '', doc: 'Save the first request and response of each api/version/client as .bin files here (test vectors).' },
  { name: 'samsa.log.tail.cache.bytes', type: 'long', default: '1048576', doc: 'Recent batches kept in memory per partition, so fetches at the end of the log read no file (0: off).', atLeast: 0 },
  { name: 'samsa.http.listeners', type: 'string', default: 'http://127.0.0.1:8080', doc: 'The HTTP listener serving /metrics (Prometheus) and /health; port 0 picks a free one; empty: off.' },
  { name: 'samsa.log.level', type: 'string', default: 'info', doc: 'pino log level: fatal, error, warn, info, debug, trace, silent.', validValues: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
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

/**
 * SAMSA_<NAME> variables that name a property. SAMSA_ is shared with other switches (SAMSA_CRC32C, the test
 * suites' SAMSA_TEST_LOG, ...), so a name that is no property is left out, unless it is close to one: that
 * is a typo, kept so that buildConfig warns with the property meant.
 */
export function envToProperties(env: NodeJS.ProcessEnv): Properties {
  const out: Properties = new Map();
  const known = new Map(BROKER_PROPERTIES.map((p) => [p.name.toUpperCase().replace(/[.-]/g, '_'), p.name]));
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('SAMSA_') || v === undefined) continue;
    const key = k.slice('SAMSA_'.length);
    const name = known.get(key) ?? key.toLowerCase().replace(/_/g, '.');
    if (known.has(key) || isKnownProperty(name) || closestPropertyName(name) !== null) out.set(name, v);
  }
  return out;
}

export interface BrokerConfig {
  readonly nodeId: number;
  readonly listeners: { name: string; host: string; port: number }[];
  readonly advertisedListeners: { name: string; host: string; port: number }[];
  /** The first log directory: Samsa's metadata files (topics, producer ids, broker configs) live there. */
  readonly logDirs: string;
  /** Every directory of log.dirs; partitions are spread over them (storage/log-manager.ts). */
  readonly logDirList: readonly string[];
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
  /** Start-up notes for the log: unknown property names (with the closest known one), unopened listeners. */
  readonly warnings: readonly string[];
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

/** Kafka's ConfigException text: "Invalid value V for configuration N: why". */
function invalid(name: string, value: string, why: string): ConfigError {
  return new ConfigError(`Invalid value ${value} for configuration ${name}: ${why}`);
}

const INT_BOUNDS: Record<'int' | 'long', [bigint, bigint]> = { int: [-(1n << 31n), (1n << 31n) - 1n], long: [-(1n << 63n), (1n << 63n) - 1n] };

/**
 * Parses one property as Kafka's ConfigDef.parseType and checks its validator (Range, ValidString,
 * ValidList), with Kafka's messages. Returns the value as stored in `props` (trimmed, as Kafka parses it).
 */
export function parseProperty(def: PropertyDef, raw: string): string {
  const value = raw.trim();
  let number: number | null = null;
  switch (def.type) {
    case 'int':
    case 'long': {
      const [min, max] = INT_BOUNDS[def.type];
      if (!/^[-+]?\d+$/.test(value) || BigInt(value) < min || BigInt(value) > max) throw invalid(def.name, raw, `Not a number of type ${def.type.toUpperCase()}`);
      number = Number(value);
      break;
    }
    case 'double':
      // Double.parseDouble: decimal or exponent notation, NaN, Infinity; not hex, not empty.
      if (!/^[-+]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[dDfF]?)$/.test(value)) throw invalid(def.name, raw, 'Not a number of type DOUBLE');
      number = Number(value.replace(/[dDfF]$/, ''));
      break;
    case 'boolean':
      if (value.toLowerCase() !== 'true' && value.toLowerCase() !== 'false') throw invalid(def.name, raw, 'Expected value to be either true or false');
      return value.toLowerCase();
    case 'list':
    case 'string':
      break;
  }
  if (number !== null) {
    if (def.atLeast !== undefined && number < def.atLeast) throw invalid(def.name, value, `Value must be at least ${def.atLeast}`);
    if (def.atMost !== undefined && number > def.atMost) throw invalid(def.name, value, `Value must be no more than ${def.atMost}`);
  }
  if (def.validValues) {
    const entries = def.type === 'list' ? value.split(/\s*,\s*/).filter((e) => e !== '') : [value];
    // ValidList checks each entry with ValidString, whose message names the entry, not the whole list.
    for (const e of entries) if (!def.validValues.includes(e)) throw invalid(def.name, e, `String must be one of: ${def.validValues.join(', ')}`);
  }
  return value;
}

/** Levenshtein distance, for "did you mean" on misspelled property names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** Topic-config broker synonyms read from `props` (src/broker/topic-config.ts) beyond BROKER_PROPERTIES. */
const TOPIC_SYNONYMS_READ = ['compression.type', 'log.segment.delete.delay.ms', 'unclean.leader.election.enable'];
/** Kafka's older spellings, honoured when the newer one is not set (KafkaConfig's synonym order). */
const TIME_SYNONYMS = ['log.retention.minutes', 'log.retention.hours', 'log.roll.hours', 'log.dir', 'broker.id'];

/** Every property name Samsa recognises: its own, Kafka's that it keeps or ignores, listener-prefixed ones. */
function isKnownProperty(name: string): boolean {
  return (
    BROKER_PROPERTIES.some((p) => p.name === name) || REGISTRY_PROPERTIES.some((p) => p.name === name) || TOPIC_SYNONYMS_READ.includes(name) || TIME_SYNONYMS.includes(name) ||
    KEPT_DYNAMIC_CONFIGS.has(name) || IGNORED_STATIC_CONFIGS.has(name) || LISTENER_PREFIXED.test(name)
  );
}

/** The closest known property name, when it is close enough to be a typo of `name`. */
export function closestPropertyName(name: string): string | null {
  const candidates = [...BROKER_PROPERTIES.map((p) => p.name), ...REGISTRY_PROPERTIES.map((p) => p.name), ...TOPIC_SYNONYMS_READ, ...TIME_SYNONYMS, ...KEPT_DYNAMIC_CONFIGS.keys(), ...IGNORED_STATIC_CONFIGS];
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name, c);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : null;
}

/** Kafka's default listener.security.protocol.map: a listener name maps to its security protocol. */
const DEFAULT_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

function parseListener(spec: string, property: string): { name: string; host: string; port: number } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(spec.trim());
  if (!m) throw new ConfigError(`Invalid value ${spec} for configuration ${property}: expected NAME://host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`Invalid value ${spec} for configuration ${property}: port ${port} is not between 0 and 65535`);
  return { name: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * Kafka's listener checks, and what a single-process Samsa serves: one PLAINTEXT client listener. A listener
 * named in controller.listener.names is the KRaft quorum's port, which Samsa (an in-process controller) does
 * not open: noted in `warnings`. A second client listener or another security protocol is refused.
 */
function checkListeners(
  listeners: { name: string; host: string; port: number }[],
  advertised: { name: string; host: string; port: number }[],
  get: (name: string) => string,
  warnings: string[],
): { name: string; host: string; port: number }[] {
  const protocolMap = new Map<string, string>();
  for (const entry of (get('listener.security.protocol.map') || DEFAULT_PROTOCOL_MAP).split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const [name, protocol] = entry.split(':').map((x) => x.trim().toUpperCase());
    if (!name || !protocol) throw new ConfigError(`Invalid value ${entry} for configuration listener.security.protocol.map: expected NAME:PROTOCOL`);
    protocolMap.set(name, protocol);
  }
  const controllerNames = new Set(get('controller.listener.names').split(',').map((n) => n.trim().toUpperCase()).filter((n) => n !== ''));
  const seen = new Set<string>();
  const served: { name: string; host: string; port: number }[] = [];
  for (const l of listeners) {
    if (seen.has(l.name)) throw new ConfigError(`Each listener must have a different name, listeners: ${get('listeners')}`);
    seen.add(l.name);
    // KRaft maps an unmapped controller listener to PLAINTEXT (KafkaConfig.effectiveListenerSecurityProtocolMap).
    const protocol = protocolMap.get(l.name) ?? (controllerNames.has(l.name) ? 'PLAINTEXT' : undefined);
    if (protocol === undefined) throw new ConfigError(`No security protocol defined for listener ${l.name}`);
    if (controllerNames.has(l.name)) {
      warnings.push(`listener ${l.name}://${l.host}:${l.port} is a controller listener (controller.listener.names): not opened, this node's controller runs in-process`);
      continue;
    }
    if (protocol !== 'PLAINTEXT') throw new ConfigError(`listener ${l.name} uses security protocol ${protocol}: Samsa serves PLAINTEXT only`);
    served.push(l);
  }
  if (served.length === 0) throw new ConfigError(`listeners has no client listener: ${get('listeners')}`);
  if (served.length > 1) {
    throw new ConfigError(`listeners names ${served.length} client listeners (${served.map((l) => l.name).join(', ')}): Samsa serves one, with one advertised address; use one listener`);
  }
  for (const a of advertised) {
    if (!seen.has(a.name)) throw new ConfigError(`advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found ${a.name}. The valid options based on the current configuration are ${[...seen].join(',')}`);
  }
  return served;
}

export function buildConfig(...sources: Properties[]): BrokerConfig {
  const props = new Map<string, string>();
  const explicit = new Set<string>();
  const warnings: string[] = [];
  for (const p of BROKER_PROPERTIES) props.set(p.name, p.default);
  for (const source of sources) {
    for (const [k, v] of source) {
      props.set(k, v);
      explicit.add(k);
    }
  }
  for (const name of explicit) {
    if (isKnownProperty(name)) continue;
    const near = closestPropertyName(name);
    warnings.push(`The configuration '${name}' was supplied but isn't a known config.${near !== null ? ` Did you mean '${near}'?` : ''}`);
  }
  // Kafka's older spellings count when the newer property is not set.
  const synonym = (target: string, from: string, toValue: (v: string) => string): void => {
    if (explicit.has(target) || !explicit.has(from)) return;
    props.set(target, toValue(props.get(from)!));
    explicit.add(target);
  };
  const scaled = (name: string, factor: bigint) => (v: string): string => {
    const def: PropertyDef = { name, type: 'long', default: '', doc: '', atLeast: name === 'log.roll.hours' ? 1 : undefined };
    return String(BigInt(parseProperty(def, v)) * factor);
  };
  synonym('log.retention.ms', 'log.retention.minutes', scaled('log.retention.minutes', 60_000n));
  synonym('log.retention.ms', 'log.retention.hours', scaled('log.retention.hours', 3_600_000n));
  synonym('log.roll.ms', 'log.roll.hours', scaled('log.roll.hours', 3_600_000n));
  synonym('log.dirs', 'log.dir', (v) => v);
  synonym('node.id', 'broker.id', (v) => v);
  for (const def of BROKER_PROPERTIES) props.set(def.name, parseProperty(def, props.get(def.name)!));

  const get = (name: string): string => props.get(name) ?? '';
  const num = (name: string): number => Number(get(name));
  const listeners = get('listeners').split(',').filter((s) => s.trim() !== '').map((s) => parseListener(s, 'listeners'));
  if (listeners.length === 0) throw new ConfigError('listeners is empty');
  const advertised = get('advertised.listeners').split(',').filter((s) => s.trim() !== '').map((s) => parseListener(s, 'advertised.listeners'));
  const served = checkListeners(listeners, advertised, get, warnings);
  const advertisedServed = advertised.filter((a) => a.name === served[0]!.name);
  const logDirs = get('log.dirs').split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (logDirs.length === 0) throw new ConfigError('Invalid value for configuration log.dirs: no directory given');
  if (new Set(logDirs).size !== logDirs.length) throw new ConfigError(`Invalid value ${get('log.dirs')} for configuration log.dirs: a directory is named twice`);
  return {
    nodeId: num('node.id'),
    listeners: served,
    advertisedListeners: advertisedServed.length > 0 ? advertisedServed : served,
    logDirs: logDirs[0]!,
    logDirList: logDirs,
    numPartitions: num('num.partitions'),
    defaultReplicationFactor: num('default.replication.factor'),
    autoCreateTopicsEnable: get('auto.create.topics.enable') === 'true',
    deleteTopicEnable: get('delete.topic.enable') === 'true',
    minInsyncReplicas: num('min.insync.replicas'),
    messageMaxBytes: num('message.max.bytes'),
    socketRequestMaxBytes: num('socket.request.max.bytes'),
    clusterId: get('cluster.id'),
    protocolTrace: get('samsa.protocol.trace') === 'true',
    protocolCaptureDir: get('samsa.protocol.capture.dir'),
    logLevel: get('samsa.log.level'),
    props,
    explicit,
    warnings,
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
