/**
 * The `quorum-state` file (raft:FileQuorumStateStore.java): the election state a voter must never forget,
 * i.e. its epoch, the leader it knows in that epoch and the candidate it voted for. Kafka writes it as one
 * line of JSON, QuorumStateData (raft/src/main/resources/common/message/QuorumStateData.json) in its JSON
 * form plus a `data_version` field, via a temp file, fsync and atomic rename, before answering any request
 * that depends on it (a granted vote, an acknowledged epoch).
 *
 * Version 0 (what Kafka writes under kraft.version 0, i.e. static `controller.quorum.voters`):
 *   {"leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},...],"data_version":0}
 * Version 1 (KIP-853, dynamic quorums) drops appliedOffset and currentVoters and adds votedDirectoryId; we
 * read it, and write version 0 since our voters are static.
 */

export const QUORUM_STATE_FILE_NAME = 'quorum-state';

/** The election state as the core persists it. -1 means "none", as in Kafka. */
export interface QuorumStateData {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly votedId: number;
}

export class QuorumStateFormatError extends Error {
  override readonly name = 'QuorumStateFormatError';
}

/** The file's content (without a trailing newline, as Kafka writes it). */
export function encodeQuorumState(state: QuorumStateData, voters: readonly number[]): string {
  return JSON.stringify({
    leaderId: state.leaderId,
    leaderEpoch: state.leaderEpoch,
    votedId: state.votedId,
    appliedOffset: 0,
    currentVoters: voters.map((voterId) => ({ voterId })),
    data_version: 0,
  });
}

function int32(obj: Record<string, unknown>, name: string, dflt: number | undefined): number {
  const v = obj[name];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new QuorumStateFormatError(`quorum-state field ${name} is not an int32: ${JSON.stringify(v)}`);
  }
  return v;
}

/** Parses the file as Kafka's FileQuorumStateStore.readStateFromFile does (first line, data_version 0 or 1). */
export function decodeQuorumState(text: string): QuorumStateData {
  const line = text.split('\n')[0] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    throw new QuorumStateFormatError(`quorum-state is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new QuorumStateFormatError(`Deserialized node ${line} is not an object node`);
  }
  const obj = parsed as Record<string, unknown>;
  if (obj['data_version'] === undefined) throw new QuorumStateFormatError(`Deserialized node ${line} does not have data_version field`);
  const version = obj['data_version'];
  if (version !== 0 && version !== 1) {
    throw new QuorumStateFormatError(`data_version (${String(version)}) is not within the min (0) and max (1) supported version`);
  }
  // Defaults of QuorumStateData.json: LeaderId, LeaderEpoch and VotedId default to -1.
  const state = { leaderId: int32(obj, 'leaderId', -1), leaderEpoch: int32(obj, 'leaderEpoch', -1), votedId: int32(obj, 'votedId', -1) };
  if (state.leaderEpoch < 0 && (state.leaderId >= 0 || state.votedId >= 0)) {
    throw new QuorumStateFormatError(`quorum-state names a leader or a vote without an epoch: ${line}`);
  }
  return state;
}
