/**
 * DescribeConfigs (32), versions 1-4, for topics (resource type 2) and this broker (4).
 * Topic configs report their source (KIP-226): DYNAMIC_TOPIC_CONFIG for a topic override,
 * DYNAMIC_BROKER_CONFIG / DYNAMIC_DEFAULT_BROKER_CONFIG when the broker's synonym was changed at runtime
 * (ConfigRecords of this node's id or of the default in the metadata image, as this node applied them;
 * src/broker/dynamic-broker-config.ts), STATIC_BROKER_CONFIG when it was set in the broker's
 * configuration, else DEFAULT_CONFIG; synonyms when asked (v1+),
 * config types and documentation when asked (v3+, KIP-569). An unknown topic is UNKNOWN_TOPIC_OR_PARTITION;
 * another broker id is INVALID_REQUEST as this node only describes itself. Broker configs: readOnly unless
 * dynamic; the empty broker name (the cluster-wide default resource) lists only the dynamic default values,
 * as Kafka does.
 */
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BROKER_PROPERTIES, type PropertyDef } from '../config.js';
import { DYNAMIC_SECURITY_CONFIGS, isSensitiveConfig, KEPT_DYNAMIC_CONFIGS, LISTENER_PREFIXED } from '../kafka-broker-configs.js';
import { ConfigSource, resolveTopicConfig, TOPIC_CONFIGS, TOPIC_CONFIG_BY_NAME } from '../broker/topic-config.js';
import { RECONFIGURABLE_CONFIGS, DYNAMIC_BROKER_CONFIGS } from '../broker/dynamic-broker-config.js';
import { defineHandler } from './types.js';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const BROKER_CONFIG_TYPE: Record<string, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7, class: 8, password: 9 };

function isDynamicBrokerConfig(name: string): boolean {
  return DYNAMIC_BROKER_CONFIGS.has(name) || RECONFIGURABLE_CONFIGS.has(name) || KEPT_DYNAMIC_CONFIGS.has(name) || DYNAMIC_SECURITY_CONFIGS.has(name) || LISTENER_PREFIXED.test(name);
}
const TOPIC_CONFIG_TYPE_NAMES: Record<number, PropertyDef['type']> = { 1: 'boolean', 2: 'string', 3: 'int', 5: 'long', 6: 'double', 7: 'list' };

/** A broker config as described: its type, Kafka's default (null: none) and whether it is a password. */
interface DescribedBrokerConfig {
  readonly name: string;
  readonly configType: number;
  readonly default: string | null;
  readonly doc: string;
}

/**
 * The broker configs described: Samsa's properties, then the dynamic ones (KIP-226) that are not among
 * them: the broker synonyms of topic configs (log.cleaner.delete.retention.ms, ...) and the dynamic configs
 * Kafka has and Samsa keeps without using (listener, SSL, SASL, thread pool settings).
 */
const BROKER_CONFIG_DEFS: readonly DescribedBrokerConfig[] = (() => {
  const defs = new Map<string, DescribedBrokerConfig>();
  for (const p of BROKER_PROPERTIES) defs.set(p.name, { name: p.name, configType: BROKER_CONFIG_TYPE[p.type] ?? 0, default: p.default, doc: p.doc });
  for (const [name, def] of DYNAMIC_BROKER_CONFIGS) {
    if (!defs.has(name)) defs.set(name, { name, configType: BROKER_CONFIG_TYPE[TOPIC_CONFIG_TYPE_NAMES[def.configType] ?? 'string'] ?? 0, default: def.default, doc: `Broker default of the topic config ${def.name}. ${def.doc}` });
  }
  for (const [name, def] of KEPT_DYNAMIC_CONFIGS) {
    if (!defs.has(name)) defs.set(name, { name, configType: BROKER_CONFIG_TYPE[def.type] ?? 0, default: def.default, doc: `Kafka's dynamic broker config ${name}: kept and described; Samsa does not use it.` });
  }
  return [...defs.values()];
})();

/** A listener-prefixed (or otherwise unlisted) dynamic name is described as its base config. */
function brokerConfigDef(name: string): DescribedBrokerConfig {
  const found = BROKER_CONFIG_DEFS.find((p) => p.name === name);
  if (found) return found;
  const base = BROKER_CONFIG_DEFS.find((p) => p.name === LISTENER_PREFIXED.exec(name)?.[1]);
  return { name, configType: base?.configType ?? BROKER_CONFIG_TYPE.string!, default: null, doc: base?.doc ?? '' };
}

export const describeConfigsHandler = defineHandler(DescribeConfigs, {
  minVersion: 1,
  maxVersion: 4,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const results = req.resources.map((res) => {
      const base = { errorCode: ErrorCode.NONE as number, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName, configs: [] as object[] };
      const keys = res.configurationKeys;
      if (res.resourceType === RESOURCE_TOPIC) {
        const topic = broker.image.topic(res.resourceName);
        if (!topic) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${res.resourceName} does not exist` };
        const names = keys === null ? TOPIC_CONFIGS.map((c) => c.name) : keys.filter((k) => TOPIC_CONFIG_BY_NAME.has(k));
        return {
          ...base,
          configs: names.map((name) => {
            const r = resolveTopicConfig(broker.config, topic.configs, name)!;
            return {
              name,
              value: r.value,
              readOnly: false,
              configSource: r.source,
              isSensitive: false,
              synonyms: req.includeSynonyms ? r.synonyms : [],
              configType: r.configType,
              documentation: req.includeDocumentation ? TOPIC_CONFIG_BY_NAME.get(name)!.doc : null,
            };
          }),
        };
      }
      if (res.resourceType === RESOURCE_BROKER) {
        if (res.resourceName !== '' && res.resourceName !== String(broker.nodeId)) {
          return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${res.resourceName}` };
        }
        const dynamic = broker.dynamicConfig;
        const clusterDefault = res.resourceName === '';
        // The empty name is the cluster-wide default resource: Kafka lists only its dynamic values.
        const listed = new Set(BROKER_CONFIG_DEFS.map((p) => p.name));
        const all = clusterDefault
          ? [...dynamic.get('clusterDefault').keys()].map(brokerConfigDef)
          : [...BROKER_CONFIG_DEFS, ...[...dynamic.get('perBroker').keys(), ...dynamic.get('clusterDefault').keys()].filter((n) => !listed.has(n) && listed.add(n)).map(brokerConfigDef)];
        const defs = keys === null ? all : all.filter((p) => keys.includes(p.name));
        return {
          ...base,
          configs: defs.map((p) => {
            const synonyms: { name: string; value: string | null; source: number }[] = [];
            const perBrokerValue = clusterDefault ? undefined : dynamic.get('perBroker').get(p.name);
            if (perBrokerValue !== undefined) synonyms.push({ name: p.name, value: perBrokerValue, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
            const defaultValue = dynamic.get('clusterDefault').get(p.name);
            if (defaultValue !== undefined) synonyms.push({ name: p.name, value: defaultValue, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
            if (!clusterDefault) {
              if (broker.config.explicit.has(p.name)) synonyms.push({ name: p.name, value: broker.config.props.get(p.name)!, source: ConfigSource.STATIC_BROKER_CONFIG });
              synonyms.push({ name: p.name, value: p.default, source: ConfigSource.DEFAULT_CONFIG });
            }
            // Passwords are described sensitive with no value, as Kafka does.
            const sensitive = isSensitiveConfig(p.name);
            if (sensitive) for (const syn of synonyms) syn.value = null;
            const top = synonyms[0]!;
            return {
              name: p.name,
              value: top.value,
              readOnly: !isDynamicBrokerConfig(p.name),
              configSource: top.source,
              isSensitive: sensitive,
              synonyms: req.includeSynonyms ? synonyms : [],
              configType: p.configType,
              documentation: req.includeDocumentation ? p.doc : null,
            };
          }),
        };
      }
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` };
    });
    return { throttleTimeMs: 0, results };
  },
});
