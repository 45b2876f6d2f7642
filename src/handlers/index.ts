/**
 * The handler registry: every API this broker serves, with the versions it advertises. ApiVersions is
 * built from this list, so an API is advertised exactly when it has a handler here.
 */
import type { AnyHandler } from './types.js';
import { apiVersionsHandler } from './api-versions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeConfigsHandler } from './describe-configs.js';
import { fetchHandler } from './fetch.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import { joinGroupHandler } from './join-group.js';
import { syncGroupHandler } from './sync-group.js';
import { heartbeatHandler } from './heartbeat.js';
import { leaveGroupHandler } from './leave-group.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { listGroupsHandler } from './list-groups.js';
import { describeGroupsHandler } from './describe-groups.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { createPartitionsHandler } from './create-partitions.js';
import { alterConfigsHandler } from './alter-configs.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { describeClusterHandler } from './describe-cluster.js';
import { deleteRecordsHandler } from './delete-records.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { describeQuorumHandler } from './describe-quorum.js';
import { electLeadersHandler } from './elect-leaders.js';

export const HANDLERS: readonly AnyHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  describeConfigsHandler,
  // Idempotent producers (KIP-98); transactions are not implemented, their APIs not advertised.
  initProducerIdHandler,
  // Classic consumer groups and committed offsets (src/group).
  findCoordinatorHandler,
  joinGroupHandler,
  syncGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  listGroupsHandler,
  describeGroupsHandler,
  deleteGroupsHandler,
  offsetDeleteHandler,
  // Admin APIs (kafka-topics, kafka-configs, AdminClient) and leader-epoch lookups.
  createPartitionsHandler,
  alterConfigsHandler,
  incrementalAlterConfigsHandler,
  describeClusterHandler,
  deleteRecordsHandler,
  offsetForLeaderEpochHandler,
  // Preferred and unclean leader election (kafka-leader-election.sh), forwarded to the active controller in a cluster.
  electLeadersHandler,
  // The metadata quorum (kafka-metadata-quorum), forwarded to the active controller in a cluster.
  describeQuorumHandler,
] as unknown as readonly AnyHandler[];
