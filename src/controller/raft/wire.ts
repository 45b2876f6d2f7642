/**
 * The codec adapter between Kafka's wire messages (protocol/messages: vote.ts, begin-quorum-epoch.ts,
 * end-quorum-epoch.ts, fetch.ts) and the core's messages (messages.ts). The wire forms carry topics and
 * partitions; the quorum has exactly one, `__cluster_metadata-0`, and a request naming anything else gets
 * INVALID_REQUEST as a top-level error, as KafkaRaftClient answers (hasValidTopicPartition). Pre-votes
 * (KIP-996) travel as Vote v2 with PreVote set.
 *
 * Records travel as Kafka record batches: each proposal is one batch whose partitionLeaderEpoch is its
 * epoch, an entry being one record with a null key (the value is the metadata record frame); a LeaderChange is a control batch holding one LEADER_CHANGE
 * control record (protocol/records/control.ts), as LeaderState.appendStartOfEpochControlRecords writes it.
 */
import type { BeginQuorumEpochRequest as WireBeginRequestCodec, BeginQuorumEpochResponse as WireBeginResponseCodec } from '../../../protocol/messages/begin-quorum-epoch.js';
import type { EndQuorumEpochRequest as WireEndRequestCodec, EndQuorumEpochResponse as WireEndResponseCodec } from '../../../protocol/messages/end-quorum-epoch.js';
import type { FetchRequest as WireFetchRequestCodec, FetchResponse as WireFetchResponseCodec } from '../../../protocol/messages/fetch.js';
import type { FetchSnapshotRequest as WireFetchSnapshotRequestCodec, FetchSnapshotResponse as WireFetchSnapshotResponseCodec } from '../../../protocol/messages/fetch-snapshot.js';
import type { VoteRequest as WireVoteRequestCodec, VoteResponse as WireVoteResponseCodec } from '../../../protocol/messages/vote.js';
import { ProtocolError } from '../../../protocol/primitives.js';
import { isControl, splitBatches } from '../../../protocol/records/batch.js';
import { ControlRecordType, controlRecordKey, controlRecordType, decodeLeaderChange, encodeLeaderChange } from '../../../protocol/records/control.js';
import { buildBatchSync, iterateRecords, type RecordInput } from '../../../protocol/records/record.js';
import type { MessageInput, MessageValue } from '../../../protocol/schema.js';
import type { RaftRecord } from './log.js';
import {
  RaftError,
  type BeginQuorumEpochRequest,
  type BeginQuorumEpochResponse,
  type EndQuorumEpochRequest,
  type EndQuorumEpochResponse,
  type FetchRequest,
  type FetchResponse,
  type FetchSnapshotRequest,
  type FetchSnapshotResponse,
  type VoteRequest,
  type VoteResponse,
} from './messages.js';

export const METADATA_TOPIC_NAME = '__cluster_metadata';
export const METADATA_PARTITION = 0;
/** Uuid.METADATA_TOPIC_ID (Uuid.ONE_UUID), "AAAAAAAAAAAAAAAAAAAAAQ" in Kafka's base64. */
export const METADATA_TOPIC_ID = '00000000-0000-0000-0000-000000000001';

type In<C extends { decl: unknown }> = C['decl'] extends infer D extends import('../../../protocol/schema.js').MessageDecl ? MessageInput<D> : never;
type Out<C extends { decl: unknown }> = C['decl'] extends infer D extends import('../../../protocol/schema.js').MessageDecl ? MessageValue<D> : never;

export type WireVoteRequest = Out<typeof WireVoteRequestCodec>;
export type WireVoteResponse = Out<typeof WireVoteResponseCodec>;
export type WireBeginQuorumEpochRequest = Out<typeof WireBeginRequestCodec>;
export type WireBeginQuorumEpochResponse = Out<typeof WireBeginResponseCodec>;
export type WireEndQuorumEpochRequest = Out<typeof WireEndRequestCodec>;
export type WireEndQuorumEpochResponse = Out<typeof WireEndResponseCodec>;
export type WireFetchRequest = Out<typeof WireFetchRequestCodec>;
export type WireFetchResponse = Out<typeof WireFetchResponseCodec>;
export type WireFetchSnapshotRequest = Out<typeof WireFetchSnapshotRequestCodec>;
export type WireFetchSnapshotResponse = Out<typeof WireFetchSnapshotResponseCodec>;

/**
 * Where a node's CONTROLLER listener is: what a Fetch (v16+) or FetchSnapshot (v1+) response's tagged
 * NodeEndpoints say of the leader it names (KIP-853, KIP-951), so that an observer that only knew its
 * bootstrap servers can fetch from the leader next.
 */
export interface NodeEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** The NodeEndpoints of a decoded response (none when the version has no such field, or the sender gave none). */
export function nodeEndpointsOf(w: { readonly nodeEndpoints?: readonly { readonly nodeId: number; readonly host: string; readonly port: number }[] }): NodeEndpoint[] {
  return (w.nodeEndpoints ?? []).filter((e) => e.nodeId >= 0 && e.host !== '' && e.port > 0 && e.port <= 65535).map((e) => ({ nodeId: e.nodeId, host: e.host, port: e.port }));
}

/** A decoded request: the core's form, or the answer to send back without involving the core. */
export type FromWire<Req, Res> = { readonly ok: true; readonly request: Req } | { readonly ok: false; readonly response: Res };

/** The one partition of a request that must name `__cluster_metadata-0`, or null. */
function onlyPartition<P>(topics: readonly { topicName: string; partitions: readonly P[] }[], index: (p: P) => number): P | null {
  if (topics.length !== 1 || topics[0]!.topicName !== METADATA_TOPIC_NAME || topics[0]!.partitions.length !== 1) return null;
  const p = topics[0]!.partitions[0]!;
  return index(p) === METADATA_PARTITION ? p : null;
}

function int64(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new ProtocolError(`${what} ${v} is out of range`);
  return Number(v);
}

// ---------------------------------------------------------------------------------------------------
// Vote

/** A pre-vote needs Vote v2: encoding one at v0-1 is refused by the encoder (PreVote is not ignorable). */
export function voteRequestToWire(m: VoteRequest, voterId: number): In<typeof WireVoteRequestCodec> {
  return {
    clusterId: m.clusterId,
    voterId,
    topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [{ partitionIndex: METADATA_PARTITION, replicaEpoch: m.candidateEpoch, replicaId: m.candidateId, lastOffsetEpoch: m.lastOffsetEpoch, lastOffset: BigInt(m.lastOffset), preVote: m.preVote }] }],
  };
}

export function voteRequestFromWire(w: WireVoteRequest): FromWire<VoteRequest, VoteResponse> {
  const p = onlyPartition(w.topics, (x) => x.partitionIndex);
  if (p === null) return { ok: false, response: { kind: 'VoteResponse', errorCode: RaftError.INVALID_REQUEST, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1, voteGranted: false } };
  return {
    ok: true,
    request: { kind: 'VoteRequest', clusterId: w.clusterId, candidateEpoch: p.replicaEpoch, candidateId: p.replicaId, lastOffsetEpoch: p.lastOffsetEpoch, lastOffset: int64(p.lastOffset, 'LastOffset'), preVote: p.preVote },
  };
}

export function voteResponseToWire(m: VoteResponse): In<typeof WireVoteResponseCodec> {
  if (m.errorCode !== RaftError.NONE) return { errorCode: m.errorCode, topics: [] };
  return {
    errorCode: 0,
    topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: m.partitionErrorCode, leaderId: m.leaderId, leaderEpoch: m.leaderEpoch, voteGranted: m.voteGranted }] }],
  };
}

export function voteResponseFromWire(w: WireVoteResponse): VoteResponse {
  const p = w.errorCode === 0 ? onlyPartition(w.topics, (x) => x.partitionIndex) : null;
  if (p === null) return { kind: 'VoteResponse', errorCode: w.errorCode || RaftError.INVALID_REQUEST, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1, voteGranted: false };
  return { kind: 'VoteResponse', errorCode: 0, partitionErrorCode: p.errorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, voteGranted: p.voteGranted };
}

// ---------------------------------------------------------------------------------------------------
// BeginQuorumEpoch

export function beginQuorumEpochRequestToWire(m: BeginQuorumEpochRequest, voterId: number): In<typeof WireBeginRequestCodec> {
  return { clusterId: m.clusterId, voterId, topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [{ partitionIndex: METADATA_PARTITION, leaderId: m.leaderId, leaderEpoch: m.leaderEpoch }] }] };
}

export function beginQuorumEpochRequestFromWire(w: WireBeginQuorumEpochRequest): FromWire<BeginQuorumEpochRequest, BeginQuorumEpochResponse> {
  const p = onlyPartition(w.topics, (x) => x.partitionIndex);
  if (p === null) return { ok: false, response: { kind: 'BeginQuorumEpochResponse', errorCode: RaftError.INVALID_REQUEST, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 } };
  return { ok: true, request: { kind: 'BeginQuorumEpochRequest', clusterId: w.clusterId, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch } };
}

export function beginQuorumEpochResponseToWire(m: BeginQuorumEpochResponse): In<typeof WireBeginResponseCodec> {
  if (m.errorCode !== RaftError.NONE) return { errorCode: m.errorCode, topics: [] };
  return { errorCode: 0, topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: m.partitionErrorCode, leaderId: m.leaderId, leaderEpoch: m.leaderEpoch }] }] };
}

export function beginQuorumEpochResponseFromWire(w: WireBeginQuorumEpochResponse): BeginQuorumEpochResponse {
  const p = w.errorCode === 0 ? onlyPartition(w.topics, (x) => x.partitionIndex) : null;
  if (p === null) return { kind: 'BeginQuorumEpochResponse', errorCode: w.errorCode || RaftError.INVALID_REQUEST, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 };
  return { kind: 'BeginQuorumEpochResponse', errorCode: 0, partitionErrorCode: p.errorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
}

// ---------------------------------------------------------------------------------------------------
// EndQuorumEpoch

/** v0 carries PreferredSuccessors (ids); v1 PreferredCandidates (id and directory id, unknown here: zero). */
export function endQuorumEpochRequestToWire(m: EndQuorumEpochRequest): In<typeof WireEndRequestCodec> {
  return {
    clusterId: m.clusterId,
    topics: [
      {
        topicName: METADATA_TOPIC_NAME,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            leaderId: m.leaderId,
            leaderEpoch: m.leaderEpoch,
            preferredSuccessors: [...m.preferredSuccessors],
            preferredCandidates: m.preferredSuccessors.map((candidateId) => ({ candidateId, candidateDirectoryId: '00000000-0000-0000-0000-000000000000' })),
          },
        ],
      },
    ],
  };
}

export function endQuorumEpochRequestFromWire(w: WireEndQuorumEpochRequest, version: number): FromWire<EndQuorumEpochRequest, EndQuorumEpochResponse> {
  const p = onlyPartition(w.topics, (x) => x.partitionIndex);
  if (p === null) return { ok: false, response: { kind: 'EndQuorumEpochResponse', errorCode: RaftError.INVALID_REQUEST, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 } };
  const preferredSuccessors = version === 0 ? p.preferredSuccessors : p.preferredCandidates.map((c) => c.candidateId);
  return { ok: true, request: { kind: 'EndQuorumEpochRequest', clusterId: w.clusterId, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, preferredSuccessors } };
}

export function endQuorumEpochResponseToWire(m: EndQuorumEpochResponse): In<typeof WireEndResponseCodec> {
  if (m.errorCode !== RaftError.NONE) return { errorCode: m.errorCode, topics: [] };
  return { errorCode: 0, topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: m.partitionErrorCode, leaderId: m.leaderId, leaderEpoch: m.leaderEpoch }] }] };
}

export function endQuorumEpochResponseFromWire(w: WireEndQuorumEpochResponse): EndQuorumEpochResponse {
  const p = w.errorCode === 0 ? onlyPartition(w.topics, (x) => x.partitionIndex) : null;
  if (p === null) return { kind: 'EndQuorumEpochResponse', errorCode: w.errorCode || RaftError.INVALID_REQUEST, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 };
  return { kind: 'EndQuorumEpochResponse', errorCode: 0, partitionErrorCode: p.errorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
}

// ---------------------------------------------------------------------------------------------------
// Fetch (v12+, the versions with LastFetchedEpoch and the tagged DivergingEpoch / CurrentLeader)

export const MIN_RAFT_FETCH_VERSION = 12;

export function fetchRequestToWire(m: FetchRequest, version: number): In<typeof WireFetchRequestCodec> {
  if (version < MIN_RAFT_FETCH_VERSION) throw new RangeError(`Raft fetches need Fetch v${MIN_RAFT_FETCH_VERSION}+, not v${version}`);
  return {
    clusterId: m.clusterId,
    // ReplicaId until v14, the tagged ReplicaState from v15 (KIP-903); each is refused where it does not exist.
    ...(version >= 15 ? { replicaState: { replicaId: m.replicaId, replicaEpoch: -1n } } : { replicaId: m.replicaId }),
    maxWaitMs: m.maxWaitMs,
    minBytes: 0,
    maxBytes: 8 * 1024 * 1024,
    topics: [
      {
        topic: METADATA_TOPIC_NAME,
        topicId: METADATA_TOPIC_ID,
        partitions: [{ partition: METADATA_PARTITION, currentLeaderEpoch: m.currentLeaderEpoch, fetchOffset: BigInt(m.fetchOffset), lastFetchedEpoch: m.lastFetchedEpoch, partitionMaxBytes: 8 * 1024 * 1024 }],
      },
    ],
  };
}

export function fetchRequestFromWire(w: WireFetchRequest, version: number): FromWire<FetchRequest, FetchResponse> {
  const invalid: FromWire<FetchRequest, FetchResponse> = {
    ok: false,
    response: { kind: 'FetchResponse', errorCode: RaftError.INVALID_REQUEST, partitionErrorCode: 0, highWatermark: -1, currentLeader: { leaderId: -1, leaderEpoch: -1 }, divergingEpoch: null, records: [] },
  };
  if (version < MIN_RAFT_FETCH_VERSION || w.topics.length !== 1) return invalid;
  const t = w.topics[0]!;
  const named = version >= 13 ? t.topicId === METADATA_TOPIC_ID : t.topic === METADATA_TOPIC_NAME;
  if (!named || t.partitions.length !== 1 || t.partitions[0]!.partition !== METADATA_PARTITION) return invalid;
  const p = t.partitions[0]!;
  const replicaId = version >= 15 ? (w.replicaState?.replicaId ?? -1) : w.replicaId;
  return {
    ok: true,
    request: { kind: 'FetchRequest', clusterId: w.clusterId, replicaId, maxWaitMs: w.maxWaitMs, currentLeaderEpoch: p.currentLeaderEpoch, fetchOffset: int64(p.fetchOffset, 'FetchOffset'), lastFetchedEpoch: p.lastFetchedEpoch },
  };
}

/**
 * The response for `request`; records are encoded as batches starting at the request's FetchOffset.
 * `leaderEndpoint`: where the leader named in CurrentLeader listens (its CONTROLLER listener), sent as
 * NodeEndpoints from v16 (RaftUtil.singletonFetchResponse does the same for the leader it names).
 */
export function fetchResponseToWire(m: FetchResponse, fetchOffset: number, timestampMs: number, version = 17, leaderEndpoint: NodeEndpoint | null = null): In<typeof WireFetchResponseCodec> {
  if (m.errorCode !== RaftError.NONE) return { throttleTimeMs: 0, errorCode: m.errorCode, sessionId: 0, responses: [] };
  const named = leaderEndpoint !== null && version >= 16 && leaderEndpoint.nodeId === m.currentLeader.leaderId;
  return {
    ...(named ? { nodeEndpoints: [{ nodeId: leaderEndpoint.nodeId, host: leaderEndpoint.host, port: leaderEndpoint.port, rack: null }] } : {}),
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: METADATA_TOPIC_NAME,
        topicId: METADATA_TOPIC_ID,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            errorCode: m.partitionErrorCode,
            highWatermark: BigInt(m.highWatermark),
            divergingEpoch: m.divergingEpoch === null ? { epoch: -1, endOffset: -1n } : { epoch: m.divergingEpoch.epoch, endOffset: BigInt(m.divergingEpoch.offset) },
            snapshotId: m.snapshotId == null ? { endOffset: -1n, epoch: -1 } : { endOffset: BigInt(m.snapshotId.offset), epoch: m.snapshotId.epoch },
            currentLeader: { leaderId: m.currentLeader.leaderId, leaderEpoch: m.currentLeader.leaderEpoch },
            records: encodeRaftRecords(m.records, fetchOffset, timestampMs),
          },
        ],
      },
    ],
  };
}

export function fetchResponseFromWire(w: WireFetchResponse, version: number): FetchResponse {
  const failed = (errorCode: number): FetchResponse => ({
    kind: 'FetchResponse',
    errorCode,
    partitionErrorCode: 0,
    highWatermark: -1,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    divergingEpoch: null,
    records: [],
  });
  if (w.errorCode !== 0) return failed(w.errorCode);
  const t = w.responses.length === 1 ? w.responses[0]! : null;
  const named = t !== null && (version >= 13 ? t.topicId === METADATA_TOPIC_ID : t.topic === METADATA_TOPIC_NAME);
  if (!named || t.partitions.length !== 1 || t.partitions[0]!.partitionIndex !== METADATA_PARTITION) return failed(RaftError.INVALID_REQUEST);
  const p = t.partitions[0]!;
  const diverging = p.divergingEpoch.epoch >= 0 && p.divergingEpoch.endOffset >= 0n ? { epoch: p.divergingEpoch.epoch, offset: int64(p.divergingEpoch.endOffset, 'EndOffset') } : null;
  const snapshotId = p.snapshotId.epoch >= 0 && p.snapshotId.endOffset >= 0n ? { epoch: p.snapshotId.epoch, offset: int64(p.snapshotId.endOffset, 'SnapshotId.EndOffset') } : null;
  return {
    kind: 'FetchResponse',
    errorCode: 0,
    partitionErrorCode: p.errorCode,
    highWatermark: int64(p.highWatermark, 'HighWatermark'),
    currentLeader: { leaderId: p.currentLeader.leaderId, leaderEpoch: p.currentLeader.leaderEpoch },
    divergingEpoch: diverging,
    ...(snapshotId !== null ? { snapshotId } : {}),
    records: p.records === null ? [] : decodeRaftRecords(p.records).records,
  };
}

// ---------------------------------------------------------------------------------------------------
// FetchSnapshot (KIP-630): the snapshot's bytes travel as UnalignedRecords, cut anywhere

export function fetchSnapshotRequestToWire(m: FetchSnapshotRequest): In<typeof WireFetchSnapshotRequestCodec> {
  return {
    clusterId: m.clusterId,
    replicaId: m.replicaId,
    maxBytes: m.maxBytes,
    topics: [
      {
        name: METADATA_TOPIC_NAME,
        partitions: [{ partition: METADATA_PARTITION, currentLeaderEpoch: m.currentLeaderEpoch, snapshotId: { endOffset: BigInt(m.snapshotId.offset), epoch: m.snapshotId.epoch }, position: BigInt(m.position) }],
      },
    ],
  };
}

function fetchSnapshotFailure(errorCode: number, partitionErrorCode = 0): FetchSnapshotResponse {
  return { kind: 'FetchSnapshotResponse', errorCode, partitionErrorCode, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { offset: -1, epoch: -1 }, size: -1, position: -1, bytes: new Uint8Array(0) };
}

export function fetchSnapshotRequestFromWire(w: WireFetchSnapshotRequest): FromWire<FetchSnapshotRequest, FetchSnapshotResponse> {
  const p = w.topics.length === 1 && w.topics[0]!.name === METADATA_TOPIC_NAME && w.topics[0]!.partitions.length === 1 ? w.topics[0]!.partitions[0]! : null;
  if (p === null || p.partition !== METADATA_PARTITION) return { ok: false, response: fetchSnapshotFailure(RaftError.INVALID_REQUEST) };
  let position: number;
  let endOffset: number;
  try {
    position = int64(p.position, 'Position');
    endOffset = int64(p.snapshotId.endOffset, 'SnapshotId.EndOffset');
  } catch {
    return { ok: false, response: fetchSnapshotFailure(RaftError.INVALID_REQUEST) };
  }
  return {
    ok: true,
    request: { kind: 'FetchSnapshotRequest', clusterId: w.clusterId, replicaId: w.replicaId, maxBytes: w.maxBytes, currentLeaderEpoch: p.currentLeaderEpoch, snapshotId: { offset: endOffset, epoch: p.snapshotId.epoch }, position },
  };
}

/** `leaderEndpoint`: as for fetchResponseToWire, sent as NodeEndpoints from v1. */
export function fetchSnapshotResponseToWire(m: FetchSnapshotResponse, version = 1, leaderEndpoint: NodeEndpoint | null = null): In<typeof WireFetchSnapshotResponseCodec> {
  if (m.errorCode !== RaftError.NONE) return { throttleTimeMs: 0, errorCode: m.errorCode, topics: [] };
  const named = leaderEndpoint !== null && version >= 1 && leaderEndpoint.nodeId === m.currentLeader.leaderId;
  return {
    ...(named ? { nodeEndpoints: [{ nodeId: leaderEndpoint.nodeId, host: leaderEndpoint.host, port: leaderEndpoint.port }] } : {}),
    throttleTimeMs: 0,
    errorCode: 0,
    topics: [
      {
        name: METADATA_TOPIC_NAME,
        partitions: [
          {
            index: METADATA_PARTITION,
            errorCode: m.partitionErrorCode,
            snapshotId: { endOffset: BigInt(m.snapshotId.offset), epoch: m.snapshotId.epoch },
            currentLeader: { leaderId: m.currentLeader.leaderId, leaderEpoch: m.currentLeader.leaderEpoch },
            size: BigInt(m.size),
            position: BigInt(m.position),
            unalignedRecords: Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength),
          },
        ],
      },
    ],
  };
}

export function fetchSnapshotResponseFromWire(w: WireFetchSnapshotResponse): FetchSnapshotResponse {
  if (w.errorCode !== 0) return fetchSnapshotFailure(w.errorCode);
  const p = w.topics.length === 1 && w.topics[0]!.name === METADATA_TOPIC_NAME && w.topics[0]!.partitions.length === 1 ? w.topics[0]!.partitions[0]! : null;
  if (p === null || p.index !== METADATA_PARTITION) return fetchSnapshotFailure(RaftError.INVALID_REQUEST);
  return {
    kind: 'FetchSnapshotResponse',
    errorCode: 0,
    partitionErrorCode: p.errorCode,
    currentLeader: { leaderId: p.currentLeader.leaderId, leaderEpoch: p.currentLeader.leaderEpoch },
    snapshotId: { offset: int64(p.snapshotId.endOffset, 'SnapshotId.EndOffset'), epoch: p.snapshotId.epoch },
    size: int64(p.size, 'Size'),
    position: int64(p.position, 'Position'),
    bytes: p.unalignedRecords ?? new Uint8Array(0),
  };
}

// ---------------------------------------------------------------------------------------------------
// Records

/**
 * Entries as record batches from baseOffset: each batch is the run of records up to one without
 * `batchContinues` (one proposal), each LeaderChange a control batch. A batch's timestamp is its records'
 * appendTimeMs (the leader's append time, so every replica writes the same bytes), else timestampMs.
 */
export function encodeRaftRecords(records: readonly RaftRecord[], baseOffset: number, timestampMs: number): Buffer {
  const batches: Buffer[] = [];
  let i = 0;
  while (i < records.length) {
    const r = records[i]!;
    const timestamp = r.appendTimeMs ?? timestampMs;
    if (r.value.kind === 'leader-change') {
      const value = encodeLeaderChange(r.value.leaderId, r.value.voters, r.value.grantingVoters);
      batches.push(buildBatchSync([{ key: controlRecordKey(ControlRecordType.LEADER_CHANGE), value, timestamp }], { baseOffset: baseOffset + i, partitionLeaderEpoch: r.epoch, isControl: true }));
      i++;
      continue;
    }
    const run: RecordInput[] = [];
    const start = i;
    for (;;) {
      const x = records[i]!;
      if (x.value.kind !== 'data' || x.epoch !== r.epoch) throw new RangeError(`record ${baseOffset + i} continues a batch of epoch ${r.epoch} data records but is not one`);
      const v = x.value;
      run.push({ key: null, value: Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength), timestamp });
      i++;
      if (x.batchContinues !== true || i >= records.length) break;
    }
    batches.push(buildBatchSync(run, { baseOffset: baseOffset + start, partitionLeaderEpoch: r.epoch }));
  }
  return Buffer.concat(batches);
}

/**
 * Batches back to entries, with the offset of the first one; every record of a batch but its last gets
 * `batchContinues`. Bad input (a corrupt batch, a gap between batches, a control record of another type, a
 * compressed batch) is a ProtocolError: the follower drops the response rather than appending anything from it.
 */
export function decodeRaftRecords(buf: Buffer): { baseOffset: number; records: RaftRecord[] } {
  const split = splitBatches(buf);
  if (!split.ok) throw new ProtocolError(`metadata log records: ${split.message}`);
  const records: RaftRecord[] = [];
  let baseOffset = -1;
  for (const b of split.batches) {
    const h = b.header;
    if (baseOffset < 0) baseOffset = h.baseOffset;
    if (h.baseOffset !== baseOffset + records.length) throw new ProtocolError(`metadata log records: batch at offset ${h.baseOffset} does not follow offset ${baseOffset + records.length - 1}`);
    const batch = buf.subarray(b.pos, b.pos + b.size);
    const first = records.length;
    for (const rec of iterateRecords(batch)) {
      if (isControl(h.attributes)) {
        const type = controlRecordType(rec.key);
        if (type !== ControlRecordType.LEADER_CHANGE) throw new ProtocolError(`metadata log records: control record type ${type} is not supported here`);
        if (rec.value === null) throw new ProtocolError('metadata log records: LeaderChange without a value');
        const m = decodeLeaderChange(rec.value);
        records.push({
          epoch: h.partitionLeaderEpoch,
          value: { kind: 'leader-change', leaderId: m.leaderId, voters: m.voters.map((v) => v.voterId), grantingVoters: m.grantingVoters.map((v) => v.voterId) },
          appendTimeMs: rec.timestamp,
        });
      } else {
        records.push({ epoch: h.partitionLeaderEpoch, value: { kind: 'data', data: rec.value ?? new Uint8Array() }, batchContinues: true, appendTimeMs: rec.timestamp });
      }
    }
    if (records.length === first) throw new ProtocolError(`metadata log records: batch at offset ${h.baseOffset} holds no record`);
    const last = records[records.length - 1]!;
    if (last.batchContinues === true) records[records.length - 1] = { epoch: last.epoch, value: last.value, appendTimeMs: last.appendTimeMs };
  }
  return { baseOffset: Math.max(0, baseOffset), records };
}
