/**
 * Dynamic broker configs (KIP-226): the broker-level defaults of topic configs (log.retention.ms,
 * log.segment.bytes, message.max.bytes, log.cleanup.policy, ...) changed at runtime with AlterConfigs or
 * IncrementalAlterConfigs on the BROKER resource, for one node (resource name = its node id; reported as
 * DYNAMIC_BROKER_CONFIG) or for the whole cluster (empty name; DYNAMIC_DEFAULT_BROKER_CONFIG).
 *
 * Where they live: in the KRaft metadata log, as Kafka 4 keeps them. The receiving broker checks a change
 * (config-changes.ts, Kafka's ConfigAdminManager.preprocess) and forwards it to the active controller,
 * which checks it again and writes one ConfigRecord{ResourceType=4, ResourceName="<id>" or "", Name,
 * Value (null: deleted)} per changed key (QuorumController.alterConfigs). Every node replays them into
 * its image (`image.brokerConfigs`, metadata-replay.ts; snapshots carry them, metadata-image-records.ts),
 * and a broker takes the values of its own id and of the default from each image it applies
 * (DynamicBrokerConfig.update, called by Broker.applyImage): at once on a change, and on every start
 * from the replayed log, which is the only copy.
 *
 * Precedence when a topic config is resolved (topic-config.ts): topic override > this node's dynamic
 * value > cluster-wide dynamic default > server.properties / environment / CLI > built-in default.
 *
 * Which names are dynamic: every name of Kafka's DynamicBrokerConfig.AllDynamicConfigs.
 * - The broker synonyms of the topic configs (DynamicLogConfig) are applied at once to every topic that
 *   does not override them.
 * - log.cleaner.backoff.ms, log.cleaner.io.max.bytes.per.second, log.cleaner.dedupe.buffer.size
 *   (LogCleaner.RECONFIGURABLE_CONFIGS) and producer.id.expiration.ms (DynamicProducerStateManagerConfig)
 *   are applied at once too (RECONFIGURABLE_CONFIGS below).
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
 * Before this, Samsa kept them per node in `<log.dirs>/samsa-broker-configs.json`,
 * `{"perBroker": {...}, "clusterDefault": {...}}`. Such a file is read at start (a corrupt one stops the
 * start, naming it), its values stay in force while the node starts, and once the node is unfenced
 * (its image caught up) Broker.migrateLegacyDynamicConfigs writes the keys the metadata log does not have
 * yet through the controller, as IncrementalAlterConfigs SET (its node's values under its own id, its
 * defaults under ""), and renames the file `samsa-broker-configs.json.migrated` (the way legacy-topics.ts
 * migrates samsa-topics.json). A key the log already has keeps the log's value (logged): in a cluster the
 * first node to migrate a cluster default sets it.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LogDirFailureError } from '../../storage/errors.js';
import { fsyncDir } from '../../storage/file-util.js';
import { BROKER_PROPERTIES, parseProperty, type BrokerConfig, type DynamicBrokerConfigLayers } from '../config.js';
import { DYNAMIC_SECURITY_CONFIGS, isPerBrokerOnly, KEPT_DYNAMIC_CONFIGS, LISTENER_PREFIXED, type KafkaConfigDef } from '../kafka-broker-configs.js';
import type { MetadataImage } from './metadata-image.js';
import { TOPIC_CONFIGS, validateConfigValue, type TopicConfigDef } from './topic-config.js';

/** The old per-node file, read only to migrate it into the metadata log. */
export const DYNAMIC_BROKER_CONFIGS_FILE = 'samsa-broker-configs.json';

/** The dynamic broker config names, each with the topic config it is the default of. */
export const DYNAMIC_BROKER_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIGS.filter((d) => d.brokerSynonym !== null).map((d) => [d.brokerSynonym!, d]),
);

export type DynamicConfigLevel = 'perBroker' | 'clusterDefault';

/**
 * Dynamic in Kafka (LogCleaner.RECONFIGURABLE_CONFIGS, DynamicProducerStateManagerConfig) and used by
 * Samsa's log cleaner and producer state: applied at once, as Kafka reconfigures them (Broker.applyImage).
 */
export const RECONFIGURABLE_CONFIGS: ReadonlySet<string> = new Set(['log.cleaner.backoff.ms', 'log.cleaner.io.max.bytes.per.second', 'log.cleaner.dedupe.buffer.size', 'producer.id.expiration.ms']);

/** A broker property's value with its dynamic layers on top: this node's, the cluster default, then static. */
export function brokerPropertyValue(config: BrokerConfig, name: string): string | undefined {
  return config.dynamic?.perBroker.get(name) ?? config.dynamic?.clusterDefault.get(name) ?? config.props.get(name);
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
  const nonDynamic = names.filter((k) => !DYNAMIC_BROKER_CONFIGS.has(k) && !RECONFIGURABLE_CONFIGS.has(k) && !KEPT_DYNAMIC_CONFIGS.has(k) && !DYNAMIC_SECURITY_CONFIGS.has(k) && !LISTENER_PREFIXED.test(k));
  if (nonDynamic.length > 0) return `Cannot update these configs dynamically: ${scalaSet(nonDynamic)}`;
  const unprefixedSecurity = names.filter((k) => DYNAMIC_SECURITY_CONFIGS.has(k));
  if (unprefixedSecurity.length > 0) return `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(unprefixedSecurity)}`;
  for (const [name, value] of values) {
    const topicSynonym = DYNAMIC_BROKER_CONFIGS.get(name);
    try {
      if (topicSynonym) validateConfigValue(topicSynonym, name, value);
      else if (RECONFIGURABLE_CONFIGS.has(name)) parseProperty(BROKER_PROPERTIES.find((p) => p.name === name)!, value);
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

/**
 * A change of one BROKER resource as the client asked for it, forwarded to the controller as it came:
 * the whole new set (AlterConfigs) or operations on single keys (IncrementalAlterConfigs, KIP-339).
 */
export type BrokerConfigChange =
  | { readonly kind: 'replace'; readonly configs: ReadonlyMap<string, string> }
  | { readonly kind: 'incremental'; readonly ops: readonly { readonly name: string; readonly configOperation: number; readonly value: string | null }[] };

/**
 * Whether a resource's values in an image show `change` done, whatever they were before (the controller
 * applied it to its own image, which this node's may not have caught up with): the same set; each SET
 * value, no DELETEd key, every APPENDed item and no SUBTRACTed one (AlterConfigOp ids 0-3).
 */
export function showsBrokerConfigChange(configs: ReadonlyMap<string, string>, change: BrokerConfigChange): boolean {
  if (change.kind === 'replace') return sameEntries(configs, change.configs);
  return change.ops.every((op) => {
    if (op.configOperation === 0) return configs.get(op.name) === op.value;
    if (op.configOperation === 1) return !configs.has(op.name);
    const items = (configs.get(op.name) ?? '').split(',');
    const wanted = (op.value ?? '').split(',');
    return op.configOperation === 2 ? wanted.every((i) => items.includes(i)) : wanted.every((i) => !items.includes(i));
  });
}

/** What an old `samsa-broker-configs.json` held, waiting to be written into the metadata log. */
export interface LegacyDynamicBrokerConfigs {
  readonly path: string;
  readonly perBroker: ReadonlyMap<string, string>;
  readonly clusterDefault: ReadonlyMap<string, string>;
}

/**
 * Reads `<logDir>/samsa-broker-configs.json`: null when there is none (a new directory, or one already
 * migrated). One that does not read stops the start (LogDirFailureError naming it): starting without its
 * values could undo a retention or cleanup change an operator made, and delete data it was keeping.
 */
export async function readLegacyDynamicBrokerConfigs(logDir: string): Promise<LegacyDynamicBrokerConfigs | null> {
  const path = join(logDir, DYNAMIC_BROKER_CONFIGS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const refuse = (why: string, cause?: unknown): never => {
    throw new LogDirFailureError(`Dynamic broker config file ${path} is corrupt (${why}); refusing to start without the configs it holds. Restore it from a backup, or remove it to drop every dynamic broker config it holds.`, path, { cause });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return refuse((err as Error).message, err);
  }
  const isStringMap = (v: unknown): boolean => v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'));
  const o = parsed as { perBroker?: Record<string, string>; clusterDefault?: Record<string, string> } | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o) || !isStringMap(o.perBroker) || !isStringMap(o.clusterDefault)) {
    return refuse('expected {"perBroker": {...}, "clusterDefault": {...}} with string values');
  }
  return { path, perBroker: new Map(Object.entries(o.perBroker ?? {})), clusterDefault: new Map(Object.entries(o.clusterDefault ?? {})) };
}

/** Renames the migrated file aside (directory fsynced), so the next start reads the metadata log only. */
export async function markLegacyDynamicBrokerConfigsMigrated(legacy: LegacyDynamicBrokerConfigs, logDir: string): Promise<string> {
  const to = `${legacy.path}.migrated`;
  await rename(legacy.path, to);
  await fsyncDir(logDir);
  return to;
}

const NONE: ReadonlyMap<string, string> = new Map();

/**
 * This node's dynamic broker configs, as its last applied image has them (plus, until it is migrated, an
 * old file's values for the keys the image does not have). `layers` is the live view BrokerConfig.dynamic
 * reads: its maps change in place.
 */
export class DynamicBrokerConfig {
  private readonly perBroker = new Map<string, string>();
  private readonly clusterDefault = new Map<string, string>();
  readonly layers: DynamicBrokerConfigLayers = { perBroker: this.perBroker, clusterDefault: this.clusterDefault };
  /** The image's maps last taken (compared by identity: an image replaces a resource's map when it changes). */
  private fromImage: { perBroker: ReadonlyMap<string, string> | undefined; clusterDefault: ReadonlyMap<string, string> | undefined } = { perBroker: undefined, clusterDefault: undefined };

  /**
   * `resourceName`: this node's id as the BROKER resource names it. `legacy`: an old file's values, in
   * force until finishMigration.
   */
  constructor(
    readonly resourceName: string,
    private legacyConfigs: LegacyDynamicBrokerConfigs | null = null,
  ) {
    this.rebuild();
  }

  /** The old file waiting to be migrated, if any. */
  get legacy(): LegacyDynamicBrokerConfigs | null {
    return this.legacyConfigs;
  }

  /** The values in force at one level. */
  get(level: DynamicConfigLevel): ReadonlyMap<string, string> {
    return level === 'perBroker' ? this.perBroker : this.clusterDefault;
  }

  /** Takes this node's and the cluster default's values from `image`; returns the levels that changed. */
  update(image: MetadataImage): DynamicConfigLevel[] {
    const perBroker = image.brokerConfigs.get(this.resourceName);
    const clusterDefault = image.brokerConfigs.get('');
    const changed: DynamicConfigLevel[] = [];
    if (perBroker !== this.fromImage.perBroker && !sameEntries(perBroker ?? NONE, this.fromImage.perBroker ?? NONE)) changed.push('perBroker');
    if (clusterDefault !== this.fromImage.clusterDefault && !sameEntries(clusterDefault ?? NONE, this.fromImage.clusterDefault ?? NONE)) changed.push('clusterDefault');
    this.fromImage = { perBroker, clusterDefault };
    if (changed.length > 0) this.rebuild();
    return changed;
  }

  /** The old file's values are in the metadata log now: only the image's count. */
  finishMigration(): void {
    this.legacyConfigs = null;
    this.rebuild();
  }

  private rebuild(): void {
    fill(this.perBroker, this.legacyConfigs?.perBroker ?? NONE, this.fromImage.perBroker ?? NONE);
    fill(this.clusterDefault, this.legacyConfigs?.clusterDefault ?? NONE, this.fromImage.clusterDefault ?? NONE);
  }
}

/** `target` becomes `legacy` overlaid with `image` (the metadata log wins a key both have). */
function fill(target: Map<string, string>, legacy: ReadonlyMap<string, string>, image: ReadonlyMap<string, string>): void {
  target.clear();
  for (const [k, v] of legacy) target.set(k, v);
  for (const [k, v] of image) target.set(k, v);
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
