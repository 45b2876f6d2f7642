/**
 * The ApiKey table: every API whose messages are declared, by key. Which of them the broker serves, and at
 * which versions, is the handler registry's business (src/handlers/index.ts), which drives ApiVersions.
 */
import type { ApiMessages } from './schema.js';
import { AllocateProducerIds } from './messages/allocate-producer-ids.js';
import { AlterPartition } from './messages/alter-partition.js';
import { BrokerHeartbeat } from './messages/broker-heartbeat.js';
import { BrokerRegistration } from './messages/broker-registration.js';
import { ControllerRegistration } from './messages/controller-registration.js';
import { ElectLeaders } from './messages/elect-leaders.js';
import { UnregisterBroker } from './messages/unregister-broker.js';
import { AddOffsetsToTxn } from './messages/add-offsets-to-txn.js';
import { AddPartitionsToTxn } from './messages/add-partitions-to-txn.js';
import { AlterConfigs } from './messages/alter-configs.js';
import { ApiVersions } from './messages/api-versions.js';
import { CreatePartitions } from './messages/create-partitions.js';
import { CreateTopics } from './messages/create-topics.js';
import { DeleteGroups } from './messages/delete-groups.js';
import { DeleteRecords } from './messages/delete-records.js';
import { DeleteTopics } from './messages/delete-topics.js';
import { BeginQuorumEpoch } from './messages/begin-quorum-epoch.js';
import { DescribeQuorum } from './messages/describe-quorum.js';
import { EndQuorumEpoch } from './messages/end-quorum-epoch.js';
import { FetchSnapshot } from './messages/fetch-snapshot.js';
import { Vote } from './messages/vote.js';
import { DescribeCluster } from './messages/describe-cluster.js';
import { DescribeConfigs } from './messages/describe-configs.js';
import { DescribeGroups } from './messages/describe-groups.js';
import { EndTxn } from './messages/end-txn.js';
import { Fetch } from './messages/fetch.js';
import { FindCoordinator } from './messages/find-coordinator.js';
import { Heartbeat } from './messages/heartbeat.js';
import { IncrementalAlterConfigs } from './messages/incremental-alter-configs.js';
import { InitProducerId } from './messages/init-producer-id.js';
import { JoinGroup } from './messages/join-group.js';
import { LeaveGroup } from './messages/leave-group.js';
import { ListGroups } from './messages/list-groups.js';
import { ListOffsets } from './messages/list-offsets.js';
import { Metadata } from './messages/metadata.js';
import { OffsetCommit } from './messages/offset-commit.js';
import { OffsetDelete } from './messages/offset-delete.js';
import { OffsetFetch } from './messages/offset-fetch.js';
import { OffsetForLeaderEpoch } from './messages/offset-for-leader-epoch.js';
import { Produce } from './messages/produce.js';
import { SaslAuthenticate } from './messages/sasl-authenticate.js';
import { SaslHandshake } from './messages/sasl-handshake.js';
import { SyncGroup } from './messages/sync-group.js';
import { TxnOffsetCommit } from './messages/txn-offset-commit.js';
import { WriteTxnMarkers } from './messages/write-txn-markers.js';

export const ALL_APIS: readonly ApiMessages[] = [
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  AllocateProducerIds,
  AlterConfigs,
  AlterPartition,
  ApiVersions,
  BeginQuorumEpoch,
  BrokerHeartbeat,
  BrokerRegistration,
  ControllerRegistration,
  CreatePartitions,
  CreateTopics,
  DeleteGroups,
  DeleteRecords,
  DeleteTopics,
  DescribeCluster,
  DescribeConfigs,
  DescribeGroups,
  DescribeQuorum,
  ElectLeaders,
  EndQuorumEpoch,
  EndTxn,
  Fetch,
  FetchSnapshot,
  FindCoordinator,
  Heartbeat,
  IncrementalAlterConfigs,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  OffsetForLeaderEpoch,
  Produce,
  SaslAuthenticate,
  SaslHandshake,
  SyncGroup,
  TxnOffsetCommit,
  UnregisterBroker,
  Vote,
  WriteTxnMarkers,
].sort((a, b) => a.apiKey - b.apiKey);

export const API_BY_KEY: ReadonlyMap<number, ApiMessages> = new Map(ALL_APIS.map((a) => [a.apiKey, a]));
