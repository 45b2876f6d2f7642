/**
 * AlterConfigs (33), versions 0-2: replaces the whole config set of a resource (KIP-133; deprecated in
 * favour of IncrementalAlterConfigs, KIP-339). Configs not named in the request go back to their inherited
 * value, as in Kafka.
 * - Topics (resource type 2): the new overrides are validated as Kafka's LogConfig does (INVALID_CONFIG
 *   with Kafka's message), then applied live: each partition's log takes the new roll, index, retention and
 *   flush settings, and the next produce reads max.message.bytes / message.timestamp.type. Persisted with
 *   the topic. An unknown topic is UNKNOWN_TOPIC_OR_PARTITION, an empty name INVALID_REQUEST, an illegal
 *   one INVALID_TOPIC_EXCEPTION.
 * - Broker (type 4): the dynamic broker configs (KIP-226) of this node (name = node id) or of the cluster
 *   default (empty name): the topic-config synonyms (log.retention.ms, message.max.bytes, ...), applied
 *   live, and Kafka's other dynamic configs (listener, SASL, thread pools), kept and described. Checked
 *   here, then forwarded to the active controller, which writes them as ConfigRecords to the metadata log
 *   (every node applies its own id's and the default's). A static config is INVALID_REQUEST "Cannot update
 *   these configs dynamically: Set(...)", as Kafka answers; another node id is INVALID_REQUEST, as in
 *   Kafka (its admin client sends a node's resource to that node). See src/broker/dynamic-broker-config.ts.
 * - Request checks (Kafka's ConfigAdminManager): a resource named twice, a config named twice, a null
 *   value: INVALID_REQUEST. validateOnly checks everything and changes nothing.
 * - v1 answers before throttling (KIP-219); v2 is flexible (KIP-482).
 * Not implemented: BROKER_LOGGER (8), CLIENT_METRICS (16) and GROUP (32) resources (INVALID_REQUEST);
 * alter-config policies (alter.config.policy.class.name).
 */
import { AlterConfigs } from '../../protocol/messages/alter-configs.js';
import { alterResource, configEntriesProblem, duplicateResources, DUPLICATE_RESOURCE, type ConfigOutcome } from '../broker/config-changes.js';
import { defineHandler } from './types.js';

export const alterConfigsHandler = defineHandler(AlterConfigs, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const duplicates = duplicateResources(req.resources);
    const responses = [];
    for (const [i, res] of req.resources.entries()) {
      let outcome: ConfigOutcome;
      if (duplicates.has(i)) {
        outcome = DUPLICATE_RESOURCE;
      } else {
        outcome =
          configEntriesProblem(res.configs) ??
          (await alterResource(ctx.broker, res, { kind: 'replace', configs: new Map(res.configs.map((c) => [c.name, c.value!])) }, req.validateOnly));
      }
      responses.push({ ...outcome, resourceType: res.resourceType, resourceName: res.resourceName });
    }
    return { throttleTimeMs: 0, responses };
  },
});
