/**
 * IncrementalAlterConfigs (44), versions 0-1 (KIP-339): changes individual configs of a resource.
 * Operations: SET (0) sets a value, DELETE (1) removes it (back to the inherited value), APPEND (2) and
 * SUBTRACT (3) add or remove comma-separated items of a LIST config (cleanup.policy, log.cleanup.policy),
 * starting from the built-in default when it is unset; on another type they are INVALID_CONFIG ("Can't
 * APPEND to key x because its type is not LIST.").
 * - Topics (resource type 2): validated like Kafka's LogConfig (INVALID_CONFIG, Kafka's message) and applied
 *   live: each partition's log takes the new settings at once and the next produce obeys
 *   max.message.bytes / message.timestamp.type. Persisted with the topic.
 * - Broker (type 4): the dynamic broker configs (KIP-226) of this node (name = node id) or of the cluster
 *   default (empty name): the topic-config synonyms (applied live) and Kafka's other dynamic configs (kept
 *   and described, src/kafka-broker-configs.ts). Checked here, then the operations go to the active
 *   controller as they came, which applies them to its image and writes ConfigRecords; another node id is
 *   INVALID_REQUEST as in Kafka; a static config is INVALID_REQUEST "Cannot update these configs
 *   dynamically: Set(...)". See src/broker/dynamic-broker-config.ts.
 * - Request checks (Kafka's ConfigAdminManager.preprocess): a resource named twice, a config named twice, a
 *   null value for anything but DELETE, an unknown operation: INVALID_REQUEST. validateOnly changes nothing.
 * - v1 is the first flexible version (KIP-482).
 * Not implemented: BROKER_LOGGER (8), CLIENT_METRICS (16) and GROUP (32) resources (INVALID_REQUEST).
 */
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { alterResource, configEntriesProblem, duplicateResources, DUPLICATE_RESOURCE, type ConfigOutcome } from '../broker/config-changes.js';
import { defineHandler } from './types.js';

export const incrementalAlterConfigsHandler = defineHandler(IncrementalAlterConfigs, {
  minVersion: 0,
  maxVersion: 1,
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
          (await alterResource(ctx.broker, res, { kind: 'incremental', ops: res.configs }, req.validateOnly));
      }
      responses.push({ ...outcome, resourceType: res.resourceType, resourceName: res.resourceName });
    }
    return { throttleTimeMs: 0, responses };
  },
});
