/**
 * DescribeConfigs (32), versions 1-4, for topics (resource type 2) and this broker (4).
 * Topic configs report their source (KIP-226): DYNAMIC_TOPIC_CONFIG for a topic override,
 * DYNAMIC_BROKER_CONFIG / DYNAMIC_DEFAULT_BROKER_CONFIG when the broker's synonym was changed at runtime
 * (src/broker/dynamic-broker-config.ts), STATIC_BROKER_CONFIG when it was set in the broker's
 * configuration, else DEFAULT_CONFIG; synonyms when asked (v1+),
 * config types and documentation when asked (v3+, KIP-569). An unknown topic is UNKNOWN_TOPIC_OR_PARTITION;
 * another broker id is INVALID_REQUEST as this node only describes itself. Broker configs: readOnly unless
 * dynamic; the empty broker name (the cluster-wide default resource) lists only the dynamic default values,
 * as Kafka does.
 */
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BROKER_PROPERTIES, type PropertyDef } from '../config.js';
import { ConfigSource, resolveTopicConfig, TOPIC_CONFIGS, TOPIC_CONFIG_BY_NAME, type TopicConfigDef } from '../broker/topic-config.js';
import { DYNAMIC_BROKER_CONFIGS } from '../broker/dynamic-broker-config.js';
import { defineHandler } from './types.js';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const BROKER_CONFIG_TYPE: Record<string, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 };
const TOPIC_CONFIG_TYPE_NAMES: Record<number, PropertyDef['type']> = { 1: 'boolean', 2: 'string', 3: 'int', 5: 'long', 6: 'double', 7: 'list' };

/**
 * The broker configs described: Samsa's properties, then the dynamic ones (KIP-226) that are not among
 * them (the broker synonyms of topic configs such as log.cleaner.delete.retention.ms).
 */
const BROKER_CONFIG_DEFS: readonly PropertyDef[] = [
  ...BROKER_PROPERTIES,
  ...[...DYNAMIC_BROKER_CONFIGS].filter(([name]) => !BROKER_PROPERTIES.some((p) => p.name === name)).map(([name, def]) => dynamicDef(name, def)),
];

function dynamicDef(name: string, def: TopicConfigDef): PropertyDef {
  return { name, type: TOPIC_CONFIG_TYPE_NAMES[def.configType] ?? 'string', default: def.default, doc: `Broker default of the topic config ${def.name}. ${def.doc}` };
}

function brokerConfigDef(name: string): PropertyDef {
  return BROKER_CONFIG_DEFS.find((p) => p.name === name) ?? { name, type: 'string', default: '', doc: '' };
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
        const topic = broker.topics.get(res.resourceName);
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
        const all = clusterDefault ? [...dynamic.get('clusterDefault').keys()].map(brokerConfigDef) : BROKER_CONFIG_DEFS;
        const defs = keys === null ? all : all.filter((p) => keys.includes(p.name));
        return {
          ...base,
          configs: defs.map((p) => {
            const synonyms: { name: string; value: string; source: number }[] = [];
            const perBrokerValue = clusterDefault ? undefined : dynamic.get('perBroker').get(p.name);
            if (perBrokerValue !== undefined) synonyms.push({ name: p.name, value: perBrokerValue, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
            const defaultValue = dynamic.get('clusterDefault').get(p.name);
            if (defaultValue !== undefined) synonyms.push({ name: p.name, value: defaultValue, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
            if (!clusterDefault) {
              if (broker.config.explicit.has(p.name)) synonyms.push({ name: p.name, value: broker.config.props.get(p.name)!, source: ConfigSource.STATIC_BROKER_CONFIG });
              synonyms.push({ name: p.name, value: p.default, source: ConfigSource.DEFAULT_CONFIG });
            }
            const top = synonyms[0]!;
            return {
              name: p.name,
              value: top.value,
              readOnly: !DYNAMIC_BROKER_CONFIGS.has(p.name),
              configSource: top.source,
              isSensitive: false,
              synonyms: req.includeSynonyms ? synonyms : [],
              configType: BROKER_CONFIG_TYPE[p.type] ?? 0,
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
