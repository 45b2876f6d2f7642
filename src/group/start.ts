/**
 * Builds the broker's group coordinator from its configuration (Kafka's property names) and loads the
 * groups and offsets kept in `__consumer_offsets`.
 */
import type { Logger } from 'pino';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, GroupCoordinator, type GroupCoordinatorConfig } from './coordinator.js';
import { OffsetsTopicStore, type OffsetsTopicHost } from './offsets-topic-store.js';
import { systemScheduler, type Scheduler } from './scheduler.js';

function numberProp(props: ReadonlyMap<string, string>, name: string, fallback: number): number {
  const raw = props.get(name);
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

export function groupCoordinatorConfig(props: ReadonlyMap<string, string>): GroupCoordinatorConfig {
  const d = DEFAULT_GROUP_COORDINATOR_CONFIG;
  return {
    initialRebalanceDelayMs: numberProp(props, 'group.initial.rebalance.delay.ms', d.initialRebalanceDelayMs),
    minSessionTimeoutMs: numberProp(props, 'group.min.session.timeout.ms', d.minSessionTimeoutMs),
    maxSessionTimeoutMs: numberProp(props, 'group.max.session.timeout.ms', d.maxSessionTimeoutMs),
    maxGroupSize: numberProp(props, 'group.max.size', d.maxGroupSize),
    newMemberJoinTimeoutMs: d.newMemberJoinTimeoutMs,
    offsetMetadataMaxBytes: numberProp(props, 'offset.metadata.max.bytes', d.offsetMetadataMaxBytes),
    offsetsRetentionMs: numberProp(props, 'offsets.retention.minutes', d.offsetsRetentionMs / 60_000) * 60_000,
    offsetsRetentionCheckIntervalMs: numberProp(props, 'offsets.retention.check.interval.ms', d.offsetsRetentionCheckIntervalMs),
  };
}

export async function startGroupCoordinator(
  host: OffsetsTopicHost,
  props: ReadonlyMap<string, string>,
  parentLogger: Logger,
  clock: Scheduler = systemScheduler,
  /** singleVoter: the node is the single-node default, a quorum of one (no controller.quorum.voters). */
  options: { singleVoter: boolean } = { singleVoter: true },
): Promise<{ coordinator: GroupCoordinator; store: OffsetsTopicStore }> {
  const logger = parentLogger.child({ component: 'group-coordinator' });
  const store = new OffsetsTopicStore(
    host,
    numberProp(props, 'offsets.topic.num.partitions', 50),
    logger,
    // Kafka's default is 3, and "internal topic creation will fail until the cluster size meets this
    // replication factor requirement" (its docs); its single-node quickstart (config/server.properties)
    // sets 1. The single-node default here is that quickstart: 1 unless set.
    numberProp(props, 'offsets.topic.replication.factor', options.singleVoter ? 1 : 3),
    numberProp(props, 'offsets.commit.timeout.ms', 5000),
  );
  const coordinator = new GroupCoordinator(groupCoordinatorConfig(props), store, clock, logger);
  // The partitions are taken as the metadata images make this node their leader (Broker.publishImage).
  await coordinator.startup(false);
  return { coordinator, store };
}
