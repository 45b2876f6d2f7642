/**
 * Dynamic broker configs (KIP-226): the broker-level defaults of topic configs (log.retention.ms,
 * log.segment.bytes, message.max.bytes, log.cleanup.policy, ...) changed at runtime with AlterConfigs or
 * IncrementalAlterConfigs on the BROKER resource, for this node (resource name = the node id; reported as
 * DYNAMIC_BROKER_CONFIG) or for the whole cluster (empty name; DYNAMIC_DEFAULT_BROKER_CONFIG).
 *
 * Precedence when a topic config is resolved (topic-config.ts): topic override > this node's dynamic
 * value > cluster-wide dynamic default > server.properties / environment / CLI > built-in default.
 *
 * Which names are dynamic: the broker synonyms of the topic configs, as in Kafka (DynamicLogConfig). Every
 * other broker property is static here; Kafka answers a change of a static config with INVALID_REQUEST
 * "Cannot update these configs dynamically: Set(name)" (ConfigAdminManager.validateBrokerConfigChange), and
 * so does Samsa. Kafka also dynamically reconfigures listeners, thread pools, quotas and the log cleaner,
 * which Samsa does not; unknown names, which Kafka stores and ignores, are refused with the same message.
 * Bad values are INVALID_REQUEST too (not INVALID_CONFIG: Kafka's KAFKA-13609 behaviour).
 *
 * Persisted in `<log.dirs>/samsa-broker-configs.json`, `{"perBroker": {...}, "clusterDefault": {...}}`,
 * rewritten whole (temp file + rename) on every change; it stands in for the ConfigRecords of the KRaft
 * metadata log.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../storage/file-util.js';
import type { DynamicBrokerConfigLayers } from '../config.js';
import { TOPIC_CONFIGS, validateConfigValue, type TopicConfigDef } from './topic-config.js';

export const DYNAMIC_BROKER_CONFIGS_FILE = 'samsa-broker-configs.json';

/** The dynamic broker config names, each with the topic config it is the default of. */
export const DYNAMIC_BROKER_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIGS.filter((d) => d.brokerSynonym !== null).map((d) => [d.brokerSynonym!, d]),
);

export type DynamicConfigLevel = 'perBroker' | 'clusterDefault';

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
export function dynamicBrokerConfigsProblem(values: ReadonlyMap<string, string>): string | null {
  const nonDynamic = [...values.keys()].filter((k) => !DYNAMIC_BROKER_CONFIGS.has(k));
  if (nonDynamic.length > 0) return `Cannot update these configs dynamically: ${scalaSet(nonDynamic)}`;
  for (const [name, value] of values) {
    try {
      validateConfigValue(DYNAMIC_BROKER_CONFIGS.get(name)!, name, value);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return null;
}

export class DynamicBrokerConfig {
  private readonly perBroker = new Map<string, string>();
  private readonly clusterDefault = new Map<string, string>();
  /** The live view handed to BrokerConfig.dynamic: it changes in place. */
  readonly layers: DynamicBrokerConfigLayers = { perBroker: this.perBroker, clusterDefault: this.clusterDefault };
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly dir: string) {}

  private get path(): string {
    return join(this.dir, DYNAMIC_BROKER_CONFIGS_FILE);
  }

  static async load(dir: string): Promise<DynamicBrokerConfig> {
    const self = new DynamicBrokerConfig(dir);
    let persisted: Persisted = {};
    try {
      persisted = JSON.parse(await readFile(self.path, 'utf8')) as Persisted;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
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
    const run = this.writing.then(() => writeFileAtomic(path, text, dirname(path)));
    this.writing = run.catch(() => undefined);
    return run;
  }
}
