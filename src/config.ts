/**
 * Broker configuration with Kafka's property names and defaults (suited to a local broker).
 *
 * Sources, lowest precedence first: built-in defaults, a server.properties-style file (`--config FILE`),
 * environment variables (`SAMSA_LOG_DIRS=...` sets `log.dirs`: upper case, dots and dashes as
 * underscores, as Confluent's images do with KAFKA_), then command-line `--override key=value`.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { IGNORED_STATIC_CONFIGS, KEPT_DYNAMIC_CONFIGS, LISTENER_PREFIXED } from './kafka-broker-configs.js';
import { REGISTRY_PROPERTIES } from './registry/properties.js';
import { parseQuorumVoters, QuorumConfigError, type VoterAddress } from './controller/raft/config.js';

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
  { name: 'node.id', type: 'int', default: '1', doc: 'This node\'s id (Kafka: required; here 1 for a single node, required once controller.quorum.voters or controller.quorum.bootstrap.servers is set).', atLeast: 0 },
  { name: 'process.roles', type: 'list', default: 'broker,controller', doc: 'broker, controller, or broker,controller (combined, Kafka\'s quickstart). Kafka: required; here both roles.', validValues: ['broker', 'controller'] },
  { name: 'listeners', type: 'list', default: 'PLAINTEXT://127.0.0.1:9092', doc: 'One client listener, plus the CONTROLLER listener of a controller in a cluster (port 0 picks a free port).' },
  { name: 'controller.listener.names', type: 'list', default: 'CONTROLLER', doc: 'The name of the listener the controller quorum uses (Kafka: required; here CONTROLLER). Without controller.quorum.voters it defaults to CONTROLLER://127.0.0.1:0 when listeners does not name it.' },
  { name: 'inter.broker.listener.name', type: 'string', default: 'PLAINTEXT', doc: 'The listener brokers use to reach each other; one of the advertised client listeners.' },
  { name: 'listener.security.protocol.map', type: 'list', default: 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL', doc: 'Listener name -> security protocol; Samsa serves PLAINTEXT. Unset, controller listeners map to PLAINTEXT.' },
  { name: 'controller.quorum.voters', type: 'list', default: '', doc: 'The static controller quorum, id@host:port of each voter\'s CONTROLLER listener. Empty on a combined node: it is the only voter (a single-node cluster); a broker-only node may give controller.quorum.bootstrap.servers instead.' },
  { name: 'controller.quorum.bootstrap.servers', type: 'list', default: '', doc: 'host:port of controllers\' CONTROLLER listeners, for a node to find the quorum (KIP-853). A broker-only node needs only these: it asks one for the leader and fetches from the leader at the endpoint the answer names (list several, so one down does not cut the node off). Ignored when controller.quorum.voters is set. On a combined node only its own controller listener may be named (a quorum of one); the voters of a cluster are static (controller.quorum.voters).' },
  { name: 'controller.quorum.election.timeout.ms', type: 'int', default: '1000', doc: 'Time without a leader before a voter starts an election (randomised up to twice this).', atLeast: 0 },
  { name: 'controller.quorum.fetch.timeout.ms', type: 'int', default: '2000', doc: 'Time without a successful fetch from the leader before a follower becomes a candidate.', atLeast: 0 },
  { name: 'controller.quorum.election.backoff.max.ms', type: 'int', default: '1000', doc: 'Largest backoff before a candidate retries an election (exponential, randomised).', atLeast: 0 },
  { name: 'controller.quorum.request.timeout.ms', type: 'int', default: '2000', doc: 'How long a quorum RPC waits for its response.', atLeast: 0 },
  { name: 'controller.quorum.retry.backoff.ms', type: 'int', default: '20', doc: 'Pause before retrying a failed quorum RPC.', atLeast: 0 },
  { name: 'controller.quorum.append.linger.ms', type: 'int', default: '25', doc: 'How long the leader gathers proposed records before writing them as one batch.', atLeast: 0 },
  { name: 'broker.session.timeout.ms', type: 'int', default: '9000', doc: 'A broker that sends no heartbeat this long is fenced by the controller.' },
  { name: 'broker.heartbeat.interval.ms', type: 'int', default: '2000', doc: 'Time between a broker\'s heartbeats to the controller (at most half of broker.session.timeout.ms).' },
  { name: 'auto.leader.rebalance.enable', type: 'boolean', default: 'true', doc: 'The active controller moves leadership back to each partition\'s preferred (first) replica when it is in the ISR, every leader.imbalance.check.interval.seconds while leaders are imbalanced.' },
  { name: 'leader.imbalance.check.interval.seconds', type: 'long', default: '300', doc: 'Time between the controller\'s automatic preferred leader elections (auto.leader.rebalance.enable).', atLeast: 1 },
  { name: 'replica.lag.time.max.ms', type: 'long', default: '30000', doc: 'A follower that has not caught up with its leader for this long is removed from the ISR (docs/replication.md).', atLeast: 0 },
  { name: 'replica.fetch.wait.max.ms', type: 'int', default: '500', doc: 'How long a follower\'s fetch waits at the leader for new records (keep below replica.lag.time.max.ms).', atLeast: 0 },
  { name: 'replica.fetch.min.bytes', type: 'int', default: '1', doc: 'Bytes a follower\'s fetch waits for at the leader.', atLeast: 0 },
  { name: 'replica.fetch.max.bytes', type: 'int', default: '1048576', doc: 'Bytes a follower fetches per partition (the first batch is fetched even when larger).', atLeast: 0 },
  { name: 'replica.fetch.response.max.bytes', type: 'int', default: '10485760', doc: 'Bytes a follower fetches in one response.', atLeast: 0 },
  { name: 'replica.fetch.backoff.ms', type: 'int', default: '1000', doc: 'Pause of a follower\'s fetching after an error.', atLeast: 0 },
  { name: 'replica.socket.timeout.ms', type: 'int', default: '30000', doc: 'How long a follower waits for its leader\'s fetch answer.' },
  { name: 'replica.high.watermark.checkpoint.interval.ms', type: 'long', default: '5000', doc: 'How often each replica\'s high watermark is saved to replication-offset-checkpoint in its log dir (also at a clean shutdown), so a restarted replica starts from it (docs/replication.md).' },
  { name: 'metadata.log.dir', type: 'string', default: '', doc: 'Where __cluster_metadata-0 lives; empty: the first of log.dirs.' },
  { name: 'metadata.log.segment.bytes', type: 'int', default: '1073741824', doc: 'Size of a metadata log segment before rolling.', atLeast: 12 },
  { name: 'metadata.log.segment.ms', type: 'long', default: '604800000', doc: 'Age of a metadata log segment before rolling.' },
  { name: 'metadata.max.retention.bytes', type: 'long', default: '104857600', doc: 'Metadata log and snapshots beyond this size are deleted once a newer snapshot covers them (-1: no limit).' },
  { name: 'metadata.max.retention.ms', type: 'long', default: '604800000', doc: 'Metadata log segments and snapshots older than this are deleted once a newer snapshot covers them (-1: no limit).' },
  { name: 'metadata.log.max.record.bytes.between.snapshots', type: 'long', default: '20971520', doc: 'Committed metadata bytes after the latest snapshot that trigger a new snapshot.', atLeast: 1 },
  { name: 'metadata.log.max.snapshot.interval.ms', type: 'long', default: '3600000', doc: 'Time after which committed records not in a snapshot trigger one (0: off).', atLeast: 0 },
  { name: 'metadata.max.idle.interval.ms', type: 'int', default: '500', doc: 'How often an idle active controller writes a NoOpRecord, so the quorum sees progress (0: never).', atLeast: 0 },
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
  { name: 'samsa.console.enable', type: 'boolean', default: 'true', doc: 'Serve the web console (/ and /api/) on the samsa.http.listeners listener (docs/console.md).' },
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

export interface ListenerAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export type ProcessRole = 'broker' | 'controller';

/** The KRaft quorum this node belongs to, from the controller.quorum.* properties. */
export interface ClusterQuorumConfig {
  /**
   * The voters (their CONTROLLER listeners), in the order given. Without controller.quorum.voters (and
   * without bootstrap servers) this node is the only voter, at its own controller listener: port 0 there
   * means "the port that listener is bound to".
   */
  readonly voters: readonly VoterAddress[];
  /**
   * True on a node of a configured cluster: controller.quorum.voters given, or a broker-only node finding the
   * quorum through controller.quorum.bootstrap.servers (then `voters` is empty). False for a quorum of one
   * implied by the node itself (the single-node default, or a combined node bootstrapping from its own
   * controller listener).
   */
  readonly votersConfigured: boolean;
  /**
   * controller.quorum.bootstrap.servers (KIP-853): where a broker-only node without voters finds the quorum
   * (src/kraft.ts); on a combined node, only its own controller listener.
   */
  readonly bootstrapServers: readonly { host: string; port: number }[];
  readonly electionTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly electionBackoffMaxMs: number;
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly appendLingerMs: number;
}

/** The metadata log's own settings (KRaftConfigs / MetadataLogConfig). */
export interface MetadataLogSettings {
  /** metadata.log.dir, or the first of log.dirs: `__cluster_metadata-0` goes there. */
  readonly dir: string;
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly maxRetentionBytes: number;
  readonly maxRetentionMs: number;
  readonly snapshotMaxNewRecordBytes: number;
  readonly snapshotMaxIntervalMs: number;
  readonly maxIdleIntervalMs: number;
}

export interface BrokerConfig {
  readonly nodeId: number;
  /** process.roles, in Kafka's order (broker before controller). */
  readonly processRoles: readonly ProcessRole[];
  /** The client listener (one; empty for a controller-only node). */
  readonly listeners: ListenerAddress[];
  readonly advertisedListeners: ListenerAddress[];
  /**
   * The CONTROLLER listener this node opens for the quorum's RPCs (Vote, Fetch, BrokerRegistration...):
   * null on a broker-only node. Single-node default: 127.0.0.1:0 (an ephemeral port).
   */
  readonly controllerListener: ListenerAddress | null;
  /** controller.listener.names, upper-cased (Kafka's ListenerName.normalised); a broker dials the first. */
  readonly controllerListenerNames: readonly string[];
  readonly interBrokerListenerName: string;
  readonly quorum: ClusterQuorumConfig;
  readonly brokerSessionTimeoutMs: number;
  readonly brokerHeartbeatIntervalMs: number;
  readonly metadataLog: MetadataLogSettings;
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

function parseListener(spec: string, property: string): ListenerAddress {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(spec.trim());
  if (!m) throw new ConfigError(`Invalid value ${spec} for configuration ${property}: expected NAME://host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`Invalid value ${spec} for configuration ${property}: port ${port} is not between 0 and 65535`);
  return { name: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/** A comma-separated list property's entries, trimmed, empty ones dropped (Kafka's ConfigDef LIST parsing). */
function listOf(value: string): string[] {
  return value.split(',').map((e) => e.trim()).filter((e) => e !== '');
}

/**
 * Kafka's ValidList checks that come before the entries' own (KIP-1161, Kafka 4.1+): `process.roles` may be
 * neither empty nor hold an entry twice.
 */
function checkNonEmptyUniqueList(name: string, entries: string[], validValues: readonly string[]): void {
  if (entries.length === 0) throw new ConfigError(`Configuration '${name}' must not be empty. Valid values include: [${validValues.join(', ')}]`);
  if (new Set(entries).size !== entries.length) throw new ConfigError(`Configuration '${name}' values must not be duplicated.`);
}

/**
 * Utils.getHost / getPort as Kafka's QuorumConfig uses them (HOST_PORT_PATTERN): `host:port`, an IPv6 host
 * in brackets; null when the address does not match or the host is empty.
 */
function hostAndPort(address: string): { host: string; port: number } | null {
  const m = /^.*?\[?([0-9a-zA-Z\-%._:]*)\]?:([0-9]+)$/.exec(address);
  return m && m[1] !== '' ? { host: m[1]!, port: Number(m[2]) } : null;
}

/**
 * controller.quorum.voters, checked first with Kafka's messages (QuorumConfig.parseVoterConnections, run
 * by its ControllerQuorumVotersValidator), then parsed by the Raft layer's parser, which also refuses a
 * voter id given twice (Kafka's map would silently keep the last address).
 */
function parseVoters(value: string): VoterAddress[] {
  const name = 'controller.quorum.voters';
  for (const entry of listOf(value)) {
    const parts = entry.split('@');
    if (parts.length !== 2) throw new ConfigError(`Invalid configuration value for ${name}. Each entry should be in the form \`{id}@{host}:{port}\`.`);
    if (!/^[-+]?\d+$/.test(parts[0]!) || Math.abs(Number(parts[0])) > 0x7fffffff) throw new ConfigError(`Failed to parse voter ID as an integer from ${parts[0]}`);
    // Kafka's host and port patterns are one regex, so an entry without a port fails on its host name.
    if (hostAndPort(parts[1]!) === null) throw new ConfigError(`Failed to parse host name from entry ${entry} for the configuration ${name}. Each entry should be in the form \`{id}@{host}:{port}\`.`);
  }
  try {
    return parseQuorumVoters(value);
  } catch (err) {
    if (err instanceof QuorumConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

/** controller.quorum.bootstrap.servers, with Kafka's messages (QuorumConfig.parseBootstrapServer). */
/** Whether `host` (a bootstrap server's) names this machine's listener bound at `listenHost` ('' or 0.0.0.0: every interface). */
function isOwnHost(host: string, listenHost: string): boolean {
  const loopback = (h: string): boolean => h === 'localhost' || h === '::1' || /^127\./.test(h);
  if (host === listenHost) return true;
  if (listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::') return loopback(host);
  return loopback(host) && loopback(listenHost);
}

function parseBootstrapServers(value: string): { host: string; port: number }[] {
  const name = 'controller.quorum.bootstrap.servers';
  return listOf(value).map((entry) => {
    const hp = hostAndPort(entry);
    if (hp === null) throw new ConfigError(`Failed to parse host name from ${entry} for the configuration ${name}. Each entry should be in the form "{host}:{port}"`);
    return hp;
  });
}

/** A Scala Set's toString, as Kafka's messages print the voter ids: `Set(1, 2, 3)`. */
function scalaSet(ids: readonly number[]): string {
  return `Set(${ids.join(', ')})`;
}

/**
 * Kafka's listener and KRaft role checks (KafkaConfig.validateValues, AbstractKafkaConfig's effective
 * security protocol map), and what Samsa serves: one PLAINTEXT client listener on a broker, one PLAINTEXT
 * controller listener on a controller. Messages are Kafka's where Kafka has the rule; Samsa's own limits
 * say so.
 */
function checkListenersAndRoles(
  roles: readonly ProcessRole[],
  listeners: ListenerAddress[],
  advertised: ListenerAddress[],
  get: (name: string) => string,
  explicit: ReadonlySet<string>,
  nodeId: number,
  voters: readonly VoterAddress[],
  bootstrapServers: readonly { host: string; port: number }[],
): { client: ListenerAddress[]; advertisedClient: ListenerAddress[]; controller: ListenerAddress | null; controllerNames: string[] } {
  const isBroker = roles.includes('broker');
  const isController = roles.includes('controller');
  const controllerNames = listOf(get('controller.listener.names')).map((n) => n.toUpperCase());

  // AbstractKafkaConfig.effectiveListenerSecurityProtocolMap: when the map is not set explicitly (and nothing
  // uses SSL or SASL), every controller listener name maps to PLAINTEXT.
  const protocolMap = new Map<string, string>();
  for (const entry of listOf(get('listener.security.protocol.map'))) {
    const [name, protocol] = entry.split(':').map((x) => x.trim().toUpperCase());
    if (!name || !protocol) throw new ConfigError(`Invalid value ${entry} for configuration listener.security.protocol.map: expected NAME:PROTOCOL`);
    protocolMap.set(name, protocol);
  }
  const sslOrSasl = (n: string): boolean => n === 'SSL' || n === 'SASL_SSL' || n === 'SASL_PLAINTEXT';
  if (!explicit.has('listener.security.protocol.map') && !controllerNames.some(sslOrSasl) && !listeners.some((l) => sslOrSasl(l.name))) {
    for (const n of controllerNames) if (!protocolMap.has(n)) protocolMap.set(n, 'PLAINTEXT');
  }

  const seen = new Set<string>();
  for (const l of listeners) {
    if (seen.has(l.name)) throw new ConfigError(`Each listener must have a different name, listeners: ${get('listeners')}`);
    seen.add(l.name);
    const protocol = protocolMap.get(l.name);
    if (protocol === undefined) throw new ConfigError(`No security protocol defined for listener ${l.name}`);
    if (protocol !== 'PLAINTEXT') throw new ConfigError(`listener ${l.name} uses security protocol ${protocol}: Samsa serves PLAINTEXT only`);
  }
  // Kafka's listenerListToEndPoints: one port per listener (port 0, any free port, excepted), unless exactly
  // two share it, one on an IPv4 and the other on an IPv6 address.
  const byPort = new Map<number, ListenerAddress[]>();
  for (const l of listeners) if (l.port !== 0) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  for (const [port, same] of byPort) {
    if (same.length < 2) continue;
    const v4v6 = same.length === 2 && ((isIPv4(same[0]!.host) && isIPv6(same[1]!.host)) || (isIPv6(same[0]!.host) && isIPv4(same[1]!.host)));
    if (!v4v6) throw new ConfigError(`Each listener must have a different port unless exactly one listener has an IPv4 address and the other IPv6 address, listeners: ${get('listeners')}, port: ${port}`);
  }
  const controllerListeners = listeners.filter((l) => controllerNames.includes(l.name));
  const client = listeners.filter((l) => !controllerNames.includes(l.name));
  const votersOrBootstrap = voters.length > 0 || bootstrapServers.length > 0;

  const requireVotersOrBootstrap = (): void => {
    if (!votersOrBootstrap) {
      throw new ConfigError('If using process.roles, either controller.quorum.bootstrap.servers must contain the set of bootstrap controllers or controller.quorum.voters must contain a parseable set of controllers.');
    }
  };
  if (isBroker && !isController) {
    requireVotersOrBootstrap();
    const ids = voters.map((v) => v.id);
    if (ids.includes(nodeId)) throw new ConfigError(`If process.roles contains just the 'broker' role, the node id ${nodeId} must not be included in the set of voters controller.quorum.voters=${scalaSet(ids)}`);
    if (controllerNames.length === 0) throw new ConfigError('controller.listener.names must contain at least one value when running KRaft with just the broker role');
    if (controllerListeners.length > 0) throw new ConfigError("controller.listener.names must not contain a value appearing in the 'listeners' configuration when running KRaft with just the broker role");
    for (const n of controllerNames) {
      if (!protocolMap.has(n)) {
        throw new ConfigError(`Controller listener with name ${n} defined in controller.listener.names not found in listener.security.protocol.map  (an explicit security mapping for each controller listener is required if listener.security.protocol.map is non-empty, or if there are security protocols other than PLAINTEXT in use)`);
      }
    }
  }

  let controller: ListenerAddress | null = null;
  if (isController) {
    if (controllerNames.length > 1) {
      throw new ConfigError(`controller.listener.names names ${controllerNames.length} listeners (${controllerNames.join(', ')}): Samsa's controller serves one`);
    }
    if (!isBroker && controllerListeners.length !== listeners.length) {
      throw new ConfigError('The listeners config must only contain KRaft controller listeners from controller.listener.names when process.roles=controller');
    }
    if (!isBroker && explicit.has('inter.broker.listener.name') && controllerNames.includes(get('inter.broker.listener.name').toUpperCase())) {
      throw new ConfigError("controller.listener.names must not contain an explicitly set inter.broker.listener.name configuration value when process.roles=controller'");
    }
    const ids = voters.map((v) => v.id);
    if (ids.length > 0 && !ids.includes(nodeId)) {
      throw new ConfigError(`If process.roles contains the 'controller' role, the node id ${nodeId} must be included in the set of voters controller.quorum.voters=${scalaSet(ids)}`);
    }
    if (!votersOrBootstrap && controllerNames.length === 1 && controllerListeners.length === 0) {
      // Single-node default: a quorum of one, nobody else dials its controller listener, so any free port does.
      controller = { name: controllerNames[0]!, host: '127.0.0.1', port: 0 };
    } else {
      if (controllerListeners.length === 0) throw new ConfigError("controller.listener.names must contain at least one value appearing in the 'listeners' configuration when running the KRaft controller role");
      controller = controllerListeners[0]!;
    }
    // Kafka 4's quickstart (config/server.properties, formatted with `kafka-storage format --standalone`): a
    // combined node whose bootstrap servers are only its own controller listener is a quorum of one, the
    // same as Samsa's default. Anything else is a dynamic quorum of several (KIP-853), not supported.
    const standalone = voters.length === 0 && bootstrapServers.length > 0 && isBroker && bootstrapServers.every((s) => s.port === controller!.port && isOwnHost(s.host, controller!.host));
    if (voters.length === 0 && bootstrapServers.length > 0 && !standalone) {
      throw new ConfigError('controller.quorum.voters is empty: Samsa\'s controllers form a static quorum (KIP-595); dynamic quorums found through controller.quorum.bootstrap.servers (KIP-853) are not supported, set controller.quorum.voters (a combined node whose bootstrap servers name only its own controller listener runs as a quorum of one)');
    }
  }

  // Advertised listeners: only client ones are handed to clients (effectiveAdvertisedBrokerListeners).
  const advertisedClient = (advertised.length > 0 ? advertised : listeners).filter((a) => !controllerNames.includes(a.name));
  if (isBroker) {
    if (client.length === 0) throw new ConfigError('There must be at least one broker advertised listener. Perhaps all listeners appear in controller.listener.names?');
    if (client.length > 1) {
      throw new ConfigError(`listeners names ${client.length} client listeners (${client.map((l) => l.name).join(', ')}): Samsa serves one, with one advertised address; use one listener`);
    }
    const advertisedNames = [...new Set(advertisedClient.map((a) => a.name))];
    const interBroker = get('inter.broker.listener.name').toUpperCase();
    if (!advertisedNames.includes(interBroker)) {
      throw new ConfigError(`inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are ${advertisedNames.join(',')}`);
    }
    if (!advertisedNames.every((n) => seen.has(n))) {
      throw new ConfigError(`advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found ${advertisedNames.join(',')}. The valid options based on the current configuration are ${[...seen].join(',')}`);
    }
  }
  return { client, advertisedClient, controller, controllerNames };
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

  const roleList = listOf(get('process.roles'));
  checkNonEmptyUniqueList('process.roles', roleList, ['broker', 'controller']);
  const processRoles = (['broker', 'controller'] as const).filter((r) => roleList.includes(r));
  // The quorum's validators run with the ConfigDef, before KafkaConfig's cross-property checks.
  const voters = parseVoters(get('controller.quorum.voters'));
  const bootstrapServers = parseBootstrapServers(get('controller.quorum.bootstrap.servers'));
  // Kafka has no default node.id; Samsa's 1 is for the single-node default only: a node of a cluster must
  // say which one it is.
  if ((voters.length > 0 || bootstrapServers.length > 0) && !explicit.has('node.id')) {
    throw new ConfigError('Missing required configuration "node.id" which has no default value.');
  }
  const nodeId = num('node.id');

  const listeners = listOf(get('listeners')).map((s) => parseListener(s, 'listeners'));
  if (listeners.length === 0 && processRoles.includes('broker')) throw new ConfigError('listeners is empty');
  const advertised = listOf(get('advertised.listeners')).map((s) => parseListener(s, 'advertised.listeners'));
  const { client, advertisedClient, controller, controllerNames } = checkListenersAndRoles(processRoles, listeners, advertised, get, explicit, nodeId, voters, bootstrapServers);
  if (processRoles.length === 1 && processRoles[0] === 'controller') {
    // Kafka's rules for it pass above; serving it needs a node without a client listener, not built yet.
    throw new ConfigError('process.roles=controller (a controller-only node) is not supported yet: use process.roles=broker,controller');
  }

  const ownVoter = voters.find((v) => v.id === nodeId);
  if (controller !== null && ownVoter !== undefined && controller.port !== 0 && (ownVoter.port !== controller.port || ownVoter.host !== controller.host)) {
    // Kafka does not check this (the voters' addresses are only dialled), but the other voters would then
    // knock at a port this node does not listen on: said at start rather than found out by a silent quorum.
    warnings.push(
      `controller.quorum.voters gives node ${nodeId} the address ${ownVoter.host}:${ownVoter.port}, but its ${controller.name} listener is ${controller.host}:${controller.port}: the other voters will not reach it there`,
    );
  }

  const heartbeatMs = num('broker.heartbeat.interval.ms');
  const sessionMs = num('broker.session.timeout.ms');
  if (heartbeatMs * 2 > sessionMs) {
    // Kafka logs this as an error and starts anyway: the two live on different nodes.
    warnings.push(
      `broker.heartbeat.interval.ms (${heartbeatMs} ms) must be less than or equal to half of the broker.session.timeout.ms (${sessionMs} ms). ` +
        'The broker.session.timeout.ms is configured on controller. The broker.heartbeat.interval.ms is configured on broker. ' +
        "If a broker doesn't send heartbeat request within broker.session.timeout.ms, it loses broker lease. " +
        'Please increase broker.session.timeout.ms or decrease broker.heartbeat.interval.ms.',
    );
  }

  const logDirs = get('log.dirs').split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (logDirs.length === 0) throw new ConfigError('Invalid value for configuration log.dirs: no directory given');
  if (new Set(logDirs).size !== logDirs.length) throw new ConfigError(`Invalid value ${get('log.dirs')} for configuration log.dirs: a directory is named twice`);
  const advertisedServed = advertisedClient.filter((a) => a.name === client[0]?.name);
  const votersConfigured = voters.length > 0 || (controller === null && bootstrapServers.length > 0);
  return {
    nodeId,
    processRoles,
    listeners: client,
    advertisedListeners: advertisedServed.length > 0 ? advertisedServed : client,
    controllerListener: controller,
    controllerListenerNames: controllerNames,
    interBrokerListenerName: get('inter.broker.listener.name').toUpperCase(),
    quorum: {
      voters: votersConfigured || controller === null ? voters : [{ id: nodeId, host: controller.host, port: controller.port }],
      votersConfigured,
      bootstrapServers,
      electionTimeoutMs: num('controller.quorum.election.timeout.ms'),
      fetchTimeoutMs: num('controller.quorum.fetch.timeout.ms'),
      electionBackoffMaxMs: num('controller.quorum.election.backoff.max.ms'),
      requestTimeoutMs: num('controller.quorum.request.timeout.ms'),
      retryBackoffMs: num('controller.quorum.retry.backoff.ms'),
      appendLingerMs: num('controller.quorum.append.linger.ms'),
    },
    brokerSessionTimeoutMs: sessionMs,
    brokerHeartbeatIntervalMs: heartbeatMs,
    metadataLog: {
      dir: get('metadata.log.dir') || logDirs[0]!,
      segmentBytes: num('metadata.log.segment.bytes'),
      segmentMs: num('metadata.log.segment.ms'),
      maxRetentionBytes: num('metadata.max.retention.bytes'),
      maxRetentionMs: num('metadata.max.retention.ms'),
      snapshotMaxNewRecordBytes: num('metadata.log.max.record.bytes.between.snapshots'),
      snapshotMaxIntervalMs: num('metadata.log.max.snapshot.interval.ms'),
      maxIdleIntervalMs: num('metadata.max.idle.interval.ms'),
    },
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
