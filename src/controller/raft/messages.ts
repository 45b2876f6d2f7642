/**
 * The Raft RPCs as the core sees them (KIP-595): Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot (KIP-630) on the
 * metadata partition, with the fields of Kafka's messages that the algorithm uses (names as in
 * clients/src/main/resources/common/message/*.json). The wire adapter maps these to and from the encoded
 * requests; the simulation carries them as they are. Every request names its source and destination and
 * carries a correlation id that its response echoes, as a Kafka connection does.
 */
import type { OffsetAndEpoch, RaftRecord } from './log.js';

/** The Kafka error codes the Raft RPCs answer with (protocol/errors.ts has the full list). */
export const RaftError = {
  NONE: 0,
  NOT_LEADER_OR_FOLLOWER: 6,
  BROKER_NOT_AVAILABLE: 8,
  INVALID_REQUEST: 42,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  INCONSISTENT_VOTER_SET: 94,
  SNAPSHOT_NOT_FOUND: 98,
  POSITION_OUT_OF_RANGE: 99,
  INCONSISTENT_CLUSTER_ID: 104,
} as const;
export type RaftErrorCode = (typeof RaftError)[keyof typeof RaftError];

export interface VoteRequest {
  readonly kind: 'VoteRequest';
  readonly clusterId: string | null;
  readonly candidateEpoch: number;
  readonly candidateId: number;
  readonly lastOffsetEpoch: number;
  readonly lastOffset: number;
  /** KIP-996: a non-binding poll for epoch candidateEpoch; the voter neither changes epoch nor persists. */
  readonly preVote: boolean;
}
export interface VoteResponse {
  readonly kind: 'VoteResponse';
  readonly errorCode: number;
  readonly partitionErrorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly voteGranted: boolean;
}
export interface BeginQuorumEpochRequest {
  readonly kind: 'BeginQuorumEpochRequest';
  readonly clusterId: string | null;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}
export interface BeginQuorumEpochResponse {
  readonly kind: 'BeginQuorumEpochResponse';
  readonly errorCode: number;
  readonly partitionErrorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}
export interface EndQuorumEpochRequest {
  readonly kind: 'EndQuorumEpochRequest';
  readonly clusterId: string | null;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** Voters ranked by how far their logs reach, best first (EndQuorumEpoch v0 PreferredSuccessors). */
  readonly preferredSuccessors: readonly number[];
}
export interface EndQuorumEpochResponse {
  readonly kind: 'EndQuorumEpochResponse';
  readonly errorCode: number;
  readonly partitionErrorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}
export interface FetchRequest {
  readonly kind: 'FetchRequest';
  readonly clusterId: string | null;
  readonly replicaId: number;
  readonly maxWaitMs: number;
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
}
export interface FetchResponse {
  readonly kind: 'FetchResponse';
  readonly errorCode: number;
  readonly partitionErrorCode: number;
  readonly highWatermark: number;
  readonly currentLeader: { readonly leaderId: number; readonly leaderEpoch: number };
  /** Set when the follower's (FetchOffset, LastFetchedEpoch) is not on the leader's log: truncate to it. */
  readonly divergingEpoch: OffsetAndEpoch | null;
  /** Set when FetchOffset is below the leader's log start: fetch this snapshot (KIP-630 SnapshotId). */
  readonly snapshotId?: OffsetAndEpoch | null;
  /** Records starting at the request's FetchOffset. */
  readonly records: readonly RaftRecord[];
}
/** KIP-630: a chunk of the leader's snapshot `snapshotId` from byte `position`. */
export interface FetchSnapshotRequest {
  readonly kind: 'FetchSnapshotRequest';
  readonly clusterId: string | null;
  readonly replicaId: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly snapshotId: OffsetAndEpoch;
  readonly position: number;
}
export interface FetchSnapshotResponse {
  readonly kind: 'FetchSnapshotResponse';
  readonly errorCode: number;
  readonly partitionErrorCode: number;
  readonly currentLeader: { readonly leaderId: number; readonly leaderEpoch: number };
  readonly snapshotId: OffsetAndEpoch;
  /** The snapshot's total size in bytes. */
  readonly size: number;
  readonly position: number;
  /** The bytes from position (not aligned on batches: UnalignedRecords). */
  readonly bytes: Uint8Array;
}

export type RaftRequest = VoteRequest | BeginQuorumEpochRequest | EndQuorumEpochRequest | FetchRequest | FetchSnapshotRequest;
export type RaftResponse = VoteResponse | BeginQuorumEpochResponse | EndQuorumEpochResponse | FetchResponse | FetchSnapshotResponse;
export type RaftBody = RaftRequest | RaftResponse;

export interface RaftMessage<B extends RaftBody = RaftBody> {
  readonly source: number;
  readonly destination: number;
  readonly correlationId: number;
  readonly body: B;
}
