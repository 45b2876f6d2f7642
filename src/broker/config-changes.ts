/**
 * What AlterConfigs (33) and IncrementalAlterConfigs (44) share: Kafka's checks of a request before any
 * change (ConfigAdminManager.preprocess), the incremental operations (KIP-339), and sending one resource's
 * change to the active controller: a topic's new overrides (Broker.setTopicConfigs), or a BROKER
 * resource's change as the client asked it (Broker.alterBrokerConfigs), checked here first against this
 * node's image as Kafka's forwarding broker does. Outcomes are values: { errorCode, errorMessage }.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { topicNameError, TopicError, type Broker } from './broker.js';
import { dynamicBrokerConfigsProblem, dynamicBrokerListDefault, type BrokerConfigChange } from './dynamic-broker-config.js';
import { TOPIC_CONFIG_BY_NAME } from './topic-config.js';

/** Kafka's ConfigResource.Type ids. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;

/** Kafka's AlterConfigOp.OpType ids. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const;

/** LIST-typed configs (APPEND / SUBTRACT apply to them only), by topic config name. */
const LIST_TYPE = 7;

export interface ConfigOutcome {
  errorCode: number;
  errorMessage: string | null;
}

export const CONFIG_OK: ConfigOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

function failure(errorCode: number, errorMessage: string): ConfigOutcome {
  return { errorCode, errorMessage };
}

/** Resources named twice in one request: every copy fails (Kafka: "Each resource must appear at most once."). */
export function duplicateResources(resources: readonly { resourceType: number; resourceName: string }[]): Set<number> {
  const seen = new Map<string, number>();
  const duplicates = new Set<number>();
  resources.forEach((r, i) => {
    const key = `${r.resourceType}\u0000${r.resourceName}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, i);
    } else {
      duplicates.add(first);
      duplicates.add(i);
    }
  });
  return duplicates;
}

export const DUPLICATE_RESOURCE: ConfigOutcome = failure(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');

/**
 * The per-resource checks of ConfigAdminManager.preprocess: a config named twice, a null value (except for
 * an incremental DELETE), an unknown incremental operation. Null when the resource passes.
 */
export function configEntriesProblem(configs: readonly { name: string; value: string | null; configOperation?: number }[]): ConfigOutcome | null {
  const names = new Set<string>();
  for (const c of configs) {
    if (names.has(c.name)) return failure(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
    names.add(c.name);
  }
  const unknownOp = configs.find((c) => c.configOperation !== undefined && (c.configOperation < 0 || c.configOperation > 3));
  if (unknownOp) return failure(ErrorCode.INVALID_REQUEST, `Unknown operations type ${unknownOp.configOperation}`);
  const nulls = configs.filter((c) => c.value === null && c.configOperation !== AlterConfigOp.DELETE).map((c) => c.name);
  if (nulls.length > 0) return failure(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  return null;
}

/**
 * Applies incremental operations to a resource's current config set (Kafka's
 * ConfigurationControlManager.incrementalAlterConfigResource): SET replaces, DELETE removes (back to the
 * inherited value), APPEND / SUBTRACT add or remove comma-separated items of a LIST config, starting from
 * the config's built-in default when it is not set.
 */
export function applyIncrementalOps(
  resourceType: number,
  current: ReadonlyMap<string, string>,
  ops: readonly { name: string; configOperation: number; value: string | null }[],
): Map<string, string> | ConfigOutcome {
  const next = new Map(current);
  for (const op of ops) {
    if (op.configOperation === AlterConfigOp.SET) {
      next.set(op.name, op.value!);
    } else if (op.configOperation === AlterConfigOp.DELETE) {
      next.delete(op.name);
    } else {
      const topicDef = resourceType === ConfigResourceType.TOPIC ? TOPIC_CONFIG_BY_NAME.get(op.name) : undefined;
      const listDefault = resourceType === ConfigResourceType.TOPIC ? (topicDef?.configType === LIST_TYPE ? topicDef.default : null) : dynamicBrokerListDefault(op.name);
      const opName = OP_NAMES[op.configOperation]!;
      if (listDefault === null) {
        return resourceType === ConfigResourceType.TOPIC
          ? failure(ErrorCode.INVALID_CONFIG, `Can't ${opName} to key ${op.name} because its type is not LIST.`)
          : failure(ErrorCode.INVALID_CONFIG, `Config value ${opName.toLowerCase()} is not allowed for config key: ${op.name}`);
      }
      const items = (next.get(op.name) ?? listDefault).split(',').filter((s) => s !== '');
      for (const item of op.value!.split(',')) {
        if (op.configOperation === AlterConfigOp.APPEND) {
          if (!items.includes(item)) items.push(item);
        } else {
          const at = items.indexOf(item);
          if (at >= 0) items.splice(at, 1);
        }
      }
      next.set(op.name, items.join(','));
    }
  }
  return next;
}

/** The config set `change` makes of `current`. */
function nextConfigs(resourceType: number, current: ReadonlyMap<string, string>, change: BrokerConfigChange): Map<string, string> | ConfigOutcome {
  return change.kind === 'replace' ? new Map(change.configs) : applyIncrementalOps(resourceType, current, change.ops);
}

/**
 * Alters one resource. A topic: its new overrides are computed from this node's image, validated, and
 * sent as its whole set (AlterConfigs). A BROKER resource (Kafka's ConfigAdminManager.preprocess): the
 * name must be empty (the cluster default) or this node's id, as in Kafka (whose admin client sends a
 * node's resource to that node); the new set of the level is computed from this node's image and
 * validated (DynamicBrokerConfig.validate); then the change goes to the controller as the client asked it,
 * which writes it as ConfigRecords (QuorumController.alterConfigs) that every node applies.
 */
export async function alterResource(
  broker: Broker,
  resource: { resourceType: number; resourceName: string },
  change: BrokerConfigChange,
  validateOnly: boolean,
): Promise<ConfigOutcome> {
  const { resourceType, resourceName } = resource;
  try {
    if (resourceType === ConfigResourceType.TOPIC) {
      if (resourceName === '') return failure(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
      const nameError = topicNameError(resourceName);
      if (nameError !== null) return failure(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
      const next = nextConfigs(resourceType, broker.image.topic(resourceName)?.configs ?? new Map<string, string>(), change);
      if (!(next instanceof Map)) return next;
      await broker.setTopicConfigs(resourceName, next, validateOnly);
      return CONFIG_OK;
    }
    if (resourceType === ConfigResourceType.BROKER) {
      if (resourceName !== '') {
        if (!/^-?\d+$/.test(resourceName)) return failure(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${resourceName}`);
        if (Number(resourceName) !== broker.nodeId) {
          return failure(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId}, but received ${resourceName}`);
        }
      }
      const next = nextConfigs(resourceType, broker.image.brokerConfigs.get(resourceName) ?? new Map<string, string>(), change);
      if (!(next instanceof Map)) return next;
      const problem = dynamicBrokerConfigsProblem(next, resourceName === '' ? 'clusterDefault' : 'perBroker');
      if (problem !== null) return failure(ErrorCode.INVALID_REQUEST, problem);
      await broker.alterBrokerConfigs(resourceName, change, validateOnly);
      return CONFIG_OK;
    }
    const known = Object.entries(ConfigResourceType).find(([, id]) => id === resourceType)?.[0];
    return failure(ErrorCode.INVALID_REQUEST, known ? `Altering ${known} configs is not supported by this broker` : `Unknown resource type ${resourceType}`);
  } catch (err) {
    if (err instanceof TopicError) return failure(err.errorCode, err.message);
    throw err;
  }
}
