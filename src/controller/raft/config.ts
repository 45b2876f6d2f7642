/**
 * The quorum's configuration, under Kafka's names and with Kafka's defaults (raft:QuorumConfig.java):
 * `controller.quorum.voters` (`id@host:port,...`, KIP-595 static voters), or for a broker-only node
 * `controller.quorum.bootstrap.servers` (`host:port,...`, KIP-853) alone, and the timeouts that drive
 * elections and fetching. The core reads only the numbers (a bootstrap server is a node id, see
 * bootstrapServerId); host and port are for the network adapter.
 */

export const QUORUM_CONFIG_DEFAULTS = {
  'controller.quorum.election.timeout.ms': 1000,
  'controller.quorum.fetch.timeout.ms': 2000,
  'controller.quorum.election.backoff.max.ms': 1000,
  'controller.quorum.request.timeout.ms': 2000,
  'controller.quorum.retry.backoff.ms': 20,
  'controller.quorum.append.linger.ms': 25,
} as const;

/** Kafka's KafkaRaftClient.RETRY_BACKOFF_BASE_MS: the unit of the election backoffs. */
export const RETRY_BACKOFF_BASE_MS = 100;
/** Kafka's LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR: a leader resigns when no majority fetched for 1.5 x fetch timeout. */
export const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;
/** How long the leader holds a Fetch that has nothing to return (KafkaRaftClient's fetchMaxWaitMs, 500). */
export const FETCH_MAX_WAIT_MS = 500;
/** KafkaRaftClient.MAX_FETCH_SIZE_BYTES: the most a FetchSnapshot response carries. */
export const FETCH_SNAPSHOT_MAX_BYTES = 8 * 1024 * 1024;

export interface QuorumConfig {
  readonly nodeId: number;
  readonly clusterId: string;
  /**
   * The voter ids, from controller.quorum.voters. Empty only on an observer given bootstrap servers instead
   * (a broker-only node that knows no voter: it learns the leader from its Fetch answers).
   */
  readonly voters: readonly number[];
  /**
   * controller.quorum.bootstrap.servers as node ids (bootstrapServerId(i) for the i-th entry): where an
   * observer without voters sends its Fetch to find the leader. Unused when voters are known: the voters
   * are then the bootstrap servers (KafkaRaftClient does the same).
   */
  readonly bootstrapServers: readonly number[];
  readonly electionTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly electionBackoffMaxMs: number;
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly appendLingerMs: number;
  readonly fetchMaxWaitMs: number;
  /** How many records a Fetch response carries at most (the in-core stand-in for Kafka's fetch byte limit). */
  readonly fetchMaxRecords: number;
  /** FetchSnapshot MaxBytes: a snapshot travels in chunks of at most this (KafkaRaftClient MAX_FETCH_SIZE_BYTES, 8 MiB). */
  readonly fetchSnapshotMaxBytes: number;
}

export class QuorumConfigError extends Error {
  override readonly name = 'QuorumConfigError';
}

export interface VoterAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `controller.quorum.voters` as Kafka's QuorumConfig.parseVoterConnections does: comma-separated
 * `{id}@{host}:{port}` entries (an IPv6 host in brackets); a duplicate id or a malformed entry is refused.
 */
export function parseQuorumVoters(value: string): VoterAddress[] {
  const out: VoterAddress[] = [];
  const seen = new Set<number>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\d+)@(\[[^\]]+\]|[^:@\s]+):(\d+)$/.exec(entry);
    if (!m) {
      throw new QuorumConfigError(`Invalid configuration value for controller.quorum.voters: "${entry}" is not of the form {id}@{host}:{port}`);
    }
    const id = Number(m[1]);
    const port = Number(m[3]);
    if (!Number.isSafeInteger(id) || id > 0x7fffffff) throw new QuorumConfigError(`Invalid voter id in controller.quorum.voters: ${m[1]}`);
    if (port < 0 || port > 65535) throw new QuorumConfigError(`Invalid port in controller.quorum.voters: ${m[3]}`);
    if (seen.has(id)) throw new QuorumConfigError(`Duplicate voter id ${id} in controller.quorum.voters`);
    seen.add(id);
    const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
    out.push({ id, host, port });
  }
  return out;
}

/**
 * The node id standing for the index-th entry of controller.quorum.bootstrap.servers: -2, -3, ... (Kafka
 * gives its bootstrap Nodes these ids; -1 is "no node"). The core sends to it like to any node; the
 * network adapter knows its address.
 */
export function bootstrapServerId(index: number): number {
  return -2 - index;
}

/** A QuorumConfig with Kafka's defaults for everything not given. */
export function quorumConfig(c: Pick<QuorumConfig, 'nodeId' | 'clusterId' | 'voters'> & Partial<QuorumConfig>): QuorumConfig {
  const config: QuorumConfig = {
    electionTimeoutMs: QUORUM_CONFIG_DEFAULTS['controller.quorum.election.timeout.ms'],
    fetchTimeoutMs: QUORUM_CONFIG_DEFAULTS['controller.quorum.fetch.timeout.ms'],
    electionBackoffMaxMs: QUORUM_CONFIG_DEFAULTS['controller.quorum.election.backoff.max.ms'],
    requestTimeoutMs: QUORUM_CONFIG_DEFAULTS['controller.quorum.request.timeout.ms'],
    retryBackoffMs: QUORUM_CONFIG_DEFAULTS['controller.quorum.retry.backoff.ms'],
    appendLingerMs: QUORUM_CONFIG_DEFAULTS['controller.quorum.append.linger.ms'],
    fetchMaxWaitMs: FETCH_MAX_WAIT_MS,
    fetchMaxRecords: 256,
    fetchSnapshotMaxBytes: FETCH_SNAPSHOT_MAX_BYTES,
    ...c,
    voters: [...new Set(c.voters)].sort((a, b) => a - b),
    bootstrapServers: [...new Set(c.bootstrapServers ?? [])],
  };
  // A node.id outside the voters is an observer (a broker-only node): it fetches but never votes (raft-core.ts).
  if (config.voters.length === 0 && config.bootstrapServers.length === 0) throw new QuorumConfigError('controller.quorum.voters names no voter');
  if (config.bootstrapServers.some((id) => !Number.isSafeInteger(id) || id > bootstrapServerId(0))) throw new QuorumConfigError(`bootstrap server ids must be ${bootstrapServerId(0)} or below (bootstrapServerId)`);
  return config;
}
