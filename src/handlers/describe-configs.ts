/**
 * DescribeConfigs (32), versions 1-4, for topics (resource type 2) and this broker (4).
 * Topic configs report their source (KIP-226): DYNAMIC_TOPIC_CONFIG for a topic override,
 * STATIC_BROKER_CONFIG when the broker's synonym was set, else DEFAULT_CONFIG; synonyms when asked (v1+),
 * config types and documentation when asked (v3+, KIP-569). An unknown topic is UNKNOWN_TOPIC_OR_PARTITION;
 * another broker id is INVALID_REQUEST as this node only describes itself.
 */
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BROKER_PROPERTIES } from '../config.js';
import { ConfigSource, resolveTopicConfig, TOPIC_CONFIGS, TOPIC_CONFIG_BY_NAME } from '../broker/topic-config.js';
import { defineHandler } from './types.js';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const BROKER_CONFIG_TYPE: Record<string, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 };

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
        const defs = keys === null ? BROKER_PROPERTIES : BROKER_PROPERTIES.filter((p) => keys.includes(p.name));
        return {
          ...base,
          configs: defs.map((p) => {
            const explicit = broker.config.explicit.has(p.name);
            const value = broker.config.props.get(p.name) ?? p.default;
            const source = explicit ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
            return {
              name: p.name,
              value,
              readOnly: true,
              configSource: source,
              isSensitive: false,
              synonyms: req.includeSynonyms ? [{ name: p.name, value, source }] : [],
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
