/**
 * Dynamic broker configs (KIP-226): the broker-level defaults of topic configs (log.retention.ms,
 * log.segment.bytes, message.max.bytes, log.cleanup.policy, ...) changed at runtime with AlterConfigs or
 * IncrementalAlterConfigs on the BROKER resource, for this node (resource name = the node id; reported as
 * DYNAMIC_BROKER_CONFIG) or for the whole cluster (empty name; DYNAMIC_DEFAULT_BROKER_CONFIG).
 *
 * Precedence when a topic config is resolved (topic-config.ts): topic override > this node's dynamic
 * value > cluster-wide dynamic default > server.properties / environment / CLI > built-in default.
 *
 * Which names are dynamic: every name of Kafka's DynamicBrokerConfig.AllDynamicConfigs.
 * - The broker synonyms of the topic configs (DynamicLogConfig) are applied at once to every topic that
 *   does not override them.
 * - The others (listener, SSL and SASL settings, thread pools, connection limits, log cleaner threads,
 *   metric reporters, ...; src/kafka-broker-configs.ts) and `listener.name.<listener>.<config>` names are
 *   accepted, type-checked, kept and described with their source, as Kafka does, but change nothing here:
 *   Samsa has no SSL, SASL, thread pools or quotas to reconfigure.
 * Kafka's checks, in its order (DynamicBrokerConfig.validateConfigs), all INVALID_REQUEST (not
 * INVALID_CONFIG: Kafka's KAFKA-13609 behaviour):
 * - a static config: "Cannot update these configs dynamically: Set(name)"; unknown names, which Kafka
 *   stores and ignores, are refused with the same message;
 * - an SSL keystore/truststore setting without a listener prefix: "These security configs can be
 *   dynamically updated only per-listener using the listener prefix: Set(name)";
 * - a value of the wrong type or range: Kafka's ConfigException text;
 * - a per-broker config (listener and security settings) at the cluster default: "Cannot update these
 *   configs at default cluster level, broker id must be specified: Set(name)".
 *
 * Persisted in `<log.dirs>/samsa-broker-configs.json`, `{"perBroker": {...}, "clusterDefault": {...}}`,
 * rewritten whole (temp file + rename) on every change; it stands in for the ConfigRecords of the KRaft
 * metadata log.
 */
import { readFile } from 'node:fs/promises';
import { SerialQueue } from '../util/serial-queue.js';
import { dirname, join } from 'node:path';
import { LogDirFailureError } from '../../storage/errors.js';
import { writeFileAtomic } from '../../storage/file-util.js';
import { BROKER_PROPERTIES, parseProperty, type BrokerConfig, type DynamicBrokerConfigLayers } from '../config.js';
import { DYNAMIC_SECURITY_CONFIGS, isPerBrokerOnly, KEPT_DYNAMIC_CONFIGS, LISTENER_PREFIXED, type KafkaConfigDef } from '../kafka-broker-configs.js';
import { TOPIC_CONFIGS, validateConfigValue, type TopicConfigDef } from './topic-config.js';

export const DYNAMIC_BROKER_CONFIGS_FILE = 'samsa-broker-configs.json';

/** The dynamic broker config names, each with the topic config it is the default of. */
export const DYNAMIC_BROKER_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIGS.filter((d) => d.brokerSynonym !== null).map((d) => [d.brokerSynonym!, d]),
);

export type DynamicConfigLevel = 'perBroker' | 'clusterDefault';

/**
 * Dynamic in Kafka (LogCleaner.RECONFIGURABLE_CONFIGS, DynamicProducerStateManagerConfig) and used by
 * Samsa, which reads them when the log cleaner starts and when a partition opens: a change takes effect
 * at the next start (Kafka applies it at once).
 */
export const DYNAMIC_AT_START: ReadonlySet<string> = new Set(['log.cleaner.backoff.ms', 'log.cleaner.io.max.bytes.per.second', 'log.cleaner.dedupe.buffer.size', 'producer.id.expiration.ms']);

/** A broker property's value with its dynamic layers on top: this node's, the cluster default, then static. */
export function brokerPropertyValue(config: BrokerConfig, name: string): string | undefined {
  return config.dynamic?.perBroker.get(name) ?? config.dynamic?.clusterDefault.get(name) ?? config.props.get(name);
}

interface Persisted {
  perBroker?: Record<string, string>;
  clusterDefault?: Record<string, string>;
}

/** Scala's Set.toString, which Kafka's messages print. */
function scalaSet(names: readonly string[]): string {
  return `Set(${names.join(', ')})`;
}

/**
 * Kafka's DynamicBrokerConfig.validate for the whole new set of one level: static (or unknown) names
 * first, then each value. Returns the error message (an INVALID_REQUEST), or null.
 */
export function dynamicBrokerConfigsProblem(values: ReadonlyMap<string, string>, level: DynamicConfigLevel = 'perBroker'): string | null {
  const names = [...values.keys()];
  const nonDynamic = names.filter((k) => !DYNAMIC_BROKER_CONFIGS.has(k) && !DYNAMIC_AT_START.has(k) && !KEPT_DYNAMIC_CONFIGS.has(k) && !DYNAMIC_SECURITY_CONFIGS.has(k) && !LISTENER_PREFIXED.test(k));
  if (nonDynamic.length > 0) return `Cannot update these configs dynamically: ${scalaSet(nonDynamic)}`;
  const unprefixedSecurity = names.filter((k) => DYNAMIC_SECURITY_CONFIGS.has(k));
  if (unprefixedSecurity.length > 0) return `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(unprefixedSecurity)}`;
  for (const [name, value] of values) {
    const topicSynonym = DYNAMIC_BROKER_CONFIGS.get(name);
    try {
      if (topicSynonym) validateConfigValue(topicSynonym, name, value);
      else if (DYNAMIC_AT_START.has(name)) parseProperty(BROKER_PROPERTIES.find((p) => p.name === name)!, value);
      else {
        // A listener-prefixed name is checked as its base config (validateConfigTypes).
        const kept = KEPT_DYNAMIC_CONFIGS.get(LISTENER_PREFIXED.exec(name)?.[1] ?? name);
        if (kept) validateKeptValue(kept, name, value);
      }
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (level === 'clusterDefault') {
    const perBrokerOnly = names.filter(isPerBrokerOnly);
    if (perBrokerOnly.length > 0) return `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBrokerOnly)}`;
  }
  return null;
}

/** ConfigDef's type parse and Range check of a kept dynamic config, with Kafka's messages. */
function validateKeptValue(def: KafkaConfigDef, name: string, value: string): void {
  if (def.type !== 'int' && def.type !== 'long' && def.type !== 'double' && def.type !== 'boolean') return;
  parseProperty({ name, type: def.type, default: '', doc: '', ...(def.atLeast !== undefined ? { atLeast: def.atLeast } : {}) }, value);
}

/** The default of a LIST-typed dynamic broker config (APPEND / SUBTRACT start from it), or null. */
export function dynamicBrokerListDefault(name: string): string | null {
  const synonym = DYNAMIC_BROKER_CONFIGS.get(name);
  if (synonym) return synonym.configType === 7 ? synonym.default : null;
  const kept = KEPT_DYNAMIC_CONFIGS.get(LISTENER_PREFIXED.exec(name)?.[1] ?? name);
  return kept?.type === 'list' ? (kept.default ?? '') : null;
}

export class DynamicBrokerConfig {
  private readonly perBroker = new Map<string, string>();
  private readonly clusterDefault = new Map<string, string>();
  /** The live view handed to BrokerConfig.dynamic: it changes in place. */
  readonly layers: DynamicBrokerConfigLayers = { perBroker: this.perBroker, clusterDefault: this.clusterDefault };
  private readonly writing = new SerialQueue();

  private constructor(private readonly dir: string) {}

  private get path(): string {
    return join(this.dir, DYNAMIC_BROKER_CONFIGS_FILE);
  }

  static async load(dir: string): Promise<DynamicBrokerConfig> {
    const self = new DynamicBrokerConfig(dir);
    let persisted: Persisted = {};
    let text: string | null = null;
    try {
      text = await readFile(self.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      // Starting without them could undo a retention or cleanup change an operator made (and delete data
      // the change was keeping), so a file that does not read stops the start, naming it.
      const refuse = (why: string, cause?: unknown): never => {
        throw new LogDirFailureError(`Dynamic broker config file ${self.path} is corrupt (${why}); refusing to start without the configs it holds. Restore it from a backup, or remove it to drop every dynamic broker config.`, self.path, { cause });
      };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        return refuse((err as Error).message, err);
      }
      const isStringMap = (v: unknown): boolean => v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'));
      const o = parsed as Persisted | null;
      if (typeof o !== 'object' || o === null || Array.isArray(o) || !isStringMap(o.perBroker) || !isStringMap(o.clusterDefault)) {
        return refuse('expected {"perBroker": {...}, "clusterDefault": {...}} with string values');
      }
      persisted = o;
    }
    for (const [k, v] of Object.entries(persisted.perBroker ?? {})) self.perBroker.set(k, v);
    for (const [k, v] of Object.entries(persisted.clusterDefault ?? {})) self.clusterDefault.set(k, v);
    return self;
  }

  get(level: DynamicConfigLevel): ReadonlyMap<string, string> {
    return level === 'perBroker' ? this.perBroker : this.clusterDefault;
  }

  /** Replaces one level's values (validated by the caller) and persists them. */
  set(level: DynamicConfigLevel, values: ReadonlyMap<string, string>): Promise<void> {
    const target = level === 'perBroker' ? this.perBroker : this.clusterDefault;
    target.clear();
    for (const [k, v] of values) target.set(k, v);
    const text = JSON.stringify({ perBroker: Object.fromEntries(this.perBroker), clusterDefault: Object.fromEntries(this.clusterDefault) }, null, 2);
    const path = this.path;
    return this.writing.run(() => writeFileAtomic(path, text, dirname(path)));
  }
}
