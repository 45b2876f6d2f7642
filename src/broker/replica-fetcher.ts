/**
 * The follower side of partition replication (Kafka's ReplicaFetcherManager + ReplicaFetcherThread,
 * ../shared/design/cluster.md A.6, docs/replication.md): one fetcher per leader node
 * (num.replica.fetchers = 1), each a loop sending ONE Fetch for every partition this node follows from that
 * leader, to the leader's inter-broker listener (its registration in the metadata image).
 *
 * - The request is Fetch v12 with ReplicaId = this node (v12 names topics, which both sides know; Kafka
 *   allows any version for replication and v12 has lastFetchedEpoch/DivergingEpoch, KIP-320). Per
 *   partition: FetchOffset = our log end offset, LastFetchedEpoch = the latest epoch of our leader epoch
 *   cache, CurrentLeaderEpoch = the epoch of the image that made us follower, our log start offset.
 *   MaxWaitMs = replica.fetch.wait.max.ms, MinBytes = replica.fetch.min.bytes: the leader long-polls.
 * - Records are appended as they are (Partition.appendAsFollower keeps the leader's offsets and epochs and
 *   records producer state), then the HW becomes min(leader HW, our LEO).
 * - Truncation (KIP-101/279/320): a partition starts fetching with its last fetched epoch; when our log
 *   diverges from the leader's, the leader answers DivergingEpoch (its end offset for the largest epoch <=
 *   ours) instead of records, and we truncate to min(that end offset, our own end offset for that epoch,
 *   our LEO) as Kafka's AbstractFetcherThread.getOffsetTruncationState, then fetch again: if we did not know
 *   that epoch, the next answer narrows further. Never to the HW alone (KIP-101's data loss).
 * - OFFSET_OUT_OF_RANGE below the leader's log start: our log restarts empty there
 *   (truncateFullyAndStartAt); above the leader's end (only after an unclean election): truncate to the
 *   leader's HW, the best lower bound the answer carries, and let the epoch check refine.
 * - NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION: the
 *   partition waits replica.fetch.backoff.ms (the metadata image will say what changed); a failed
 *   connection backs the whole fetcher off as long.
 *
 * The connection to the leader is a BrokerConnection (TCP) unless `ReplicaFetcherManager.connector` is
 * replaced: the replication simulation (test/broker/replication-simulation.test.ts) substitutes an in-memory
 * network whose messages it delivers, delays, cuts and resets on its own seeded schedule.
 *
 * A partition leaves its fetcher (becomeLeader, a new leader, stopReplica) only once no answer is being
 * applied to it: `removePartition` resolves after the append or truncation in progress, so a new leader
 * never has a follower append land after its own epoch started.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { Fetch, FetchRequest, FetchResponse } from '../../protocol/messages/fetch.js';
import type { MessageInput, MessageValue } from '../../protocol/schema.js';
import { BrokerConnection, ConnectionError } from '../client/connection.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Partition } from './partition.js';

export interface ReplicaFetcherConfig {
  /** replica.fetch.wait.max.ms (500) */
  readonly waitMaxMs: number;
  /** replica.fetch.min.bytes (1) */
  readonly minBytes: number;
  /** replica.fetch.max.bytes (1 MiB), per partition; the first batch is returned even when larger. */
  readonly maxBytes: number;
  /** replica.fetch.response.max.bytes (10 MiB) */
  readonly responseMaxBytes: number;
  /** replica.fetch.backoff.ms (1000) */
  readonly backoffMs: number;
  /** replica.socket.timeout.ms (30000): must exceed waitMaxMs. */
  readonly socketTimeoutMs: number;
}

export const DEFAULT_REPLICA_FETCHER_CONFIG: ReplicaFetcherConfig = {
  waitMaxMs: 500,
  minBytes: 1,
  maxBytes: 1_048_576,
  responseMaxBytes: 10_485_760,
  backoffMs: 1000,
  socketTimeoutMs: 30_000,
};

/** Reads replica.* properties with Kafka's defaults. */
export function replicaFetcherConfig(props: ReadonlyMap<string, string>): ReplicaFetcherConfig {
  const num = (name: string, dflt: number): number => {
    const v = Number(props.get(name) ?? dflt);
    return Number.isFinite(v) && v >= 0 ? v : dflt;
  };
  return {
    waitMaxMs: num('replica.fetch.wait.max.ms', 500),
    minBytes: num('replica.fetch.min.bytes', 1),
    maxBytes: num('replica.fetch.max.bytes', 1_048_576),
    responseMaxBytes: num('replica.fetch.response.max.bytes', 10_485_760),
    backoffMs: num('replica.fetch.backoff.ms', 1000),
    socketTimeoutMs: num('replica.socket.timeout.ms', 30_000),
  };
}

/** What a fetcher needs of its connection to the leader (BrokerConnection has it). */
export type ReplicaFetchConnection = Pick<BrokerConnection, 'send' | 'close' | 'isClosed'>;

/**
 * Opens a fetcher's connection to a leader's endpoint; rejects with ConnectionError when it cannot be
 * reached (or `signal` abandons the attempt).
 */
export type ReplicaConnector = (endpoint: { host: string; port: number }, options: { clientId: string; timeoutMs: number; signal: AbortSignal }) => Promise<ReplicaFetchConnection>;

/** TCP, as Kafka's ReplicaFetcherThread (its NetworkClient) connects. */
export const tcpReplicaConnector: ReplicaConnector = (endpoint, options) => BrokerConnection.open(endpoint.host, endpoint.port, options);

export interface ReplicaFetcherManagerOptions {
  readonly nodeId: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: ReplicaFetcherConfig;
  /** The leader's inter-broker endpoint from the current image, null while it is not registered. */
  readonly leaderEndpoint: (leaderId: number) => { host: string; port: number } | null;
}

/** One followed partition's fetch state in its fetcher. */
interface FetchState {
  readonly partition: Partition;
  /** The leader epoch of the image that made us follower; sent as CurrentLeaderEpoch. */
  readonly leaderEpoch: number;
  /** Not fetched before this time (an error answer's backoff). */
  delayedUntilMs: number;
}

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  /** Which fetcher each followed partition is in. */
  private readonly leaderOf = new Map<Partition, number>();
  private closed = false;
  /** How fetchers reach leaders; set before the first partition is added (fetchers keep the one they started with). */
  connector: ReplicaConnector = tcpReplicaConnector;

  constructor(private readonly options: ReplicaFetcherManagerOptions) {}

  /** The leader a partition is fetched from, or undefined. */
  leaderFor(partition: Partition): number | undefined {
    return this.leaderOf.get(partition);
  }

  /** Starts fetching `partition` from `leaderId` at its current leader epoch (replacing any earlier fetch state). */
  async addPartition(partition: Partition, leaderId: number): Promise<void> {
    if (this.closed) return;
    await this.removePartition(partition);
    let fetcher = this.fetchers.get(leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher(leaderId, this.options, this.connector);
      this.fetchers.set(leaderId, fetcher);
    }
    this.leaderOf.set(partition, leaderId);
    fetcher.add({ partition, leaderEpoch: partition.leaderEpoch, delayedUntilMs: 0 });
  }

  /** Stops fetching `partition`; resolves once no fetch answer is being applied to it. */
  async removePartition(partition: Partition): Promise<void> {
    const leaderId = this.leaderOf.get(partition);
    if (leaderId === undefined) return;
    this.leaderOf.delete(partition);
    const fetcher = this.fetchers.get(leaderId);
    if (!fetcher) return;
    await fetcher.remove(partition);
    if (fetcher.isEmpty) {
      this.fetchers.delete(leaderId);
      await fetcher.close();
    }
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    this.leaderOf.clear();
    await Promise.all(all.map((f) => f.close()));
  }
}

/** The fetch loop for one leader (Kafka's ReplicaFetcherThread). */
class ReplicaFetcher {
  private readonly states = new Map<Partition, FetchState>();
  private connection: ReplicaFetchConnection | null = null;
  private closed = false;
  /** Abandons a connection being opened when the fetcher closes (see close()). */
  private readonly closing = new AbortController();
  private loop: Promise<void> | null = null;
  /** Settles when the answer being applied now is done. */
  private applying: Promise<void> = Promise.resolve();
  /** The last fetch failed to reach the leader: repeated failures log at debug, not once a backoff. */
  private unreachable = false;
  /** Wakes the loop when it sleeps (no partitions ready, or a backoff). */
  private wake: (() => void) | null = null;
  private readonly logger: Logger;

  constructor(
    readonly leaderId: number,
    private readonly options: ReplicaFetcherManagerOptions,
    private readonly connector: ReplicaConnector,
  ) {
    this.logger = options.logger.child({ component: 'replica-fetcher', leader: leaderId });
  }

  get isEmpty(): boolean {
    return this.states.size === 0;
  }

  add(state: FetchState): void {
    this.states.set(state.partition, state);
    this.wake?.();
    this.loop ??= this.run().catch((err: unknown) => this.logger.error({ err }, 'replica fetcher stopped'));
  }

  async remove(partition: Partition): Promise<void> {
    this.states.delete(partition);
    await this.applying;
  }

  /**
   * Stops the loop without waiting for the leader: an answer being applied finishes, but a connection being
   * opened or a Fetch in flight is abandoned. Image publication waits for this (a partition leaves its
   * fetcher before it changes role), and a leader still starting holds requests until it serves, which
   * it may only do once its own image is published: waiting for it here made every node of a cluster
   * restarted at once wait on another until replica.socket.timeout.ms (the 30 s stop-all outages of
   * docs/faults.md before this).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    this.connection?.close();
    this.connection = null;
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: Timer | null = null;
      const done = (): void => {
        timer?.cancel();
        this.wake = null;
        resolve();
      };
      this.wake = done;
      timer = this.options.clock.schedule(ms, done);
    });
  }

  private async connect(): Promise<ReplicaFetchConnection | null> {
    if (this.connection && !this.connection.isClosed) return this.connection;
    this.connection = null;
    const endpoint = this.options.leaderEndpoint(this.leaderId);
    if (!endpoint) return null;
    this.connection = await this.connector(endpoint, { clientId: `broker-${this.options.nodeId}-fetcher-0`, timeoutMs: this.options.config.socketTimeoutMs, signal: this.closing.signal });
    return this.connection;
  }

  private async run(): Promise<void> {
    const { config, clock, nodeId } = this.options;
    while (!this.closed) {
      const now = clock.now();
      const sent: FetchState[] = [];
      let nextReady = Infinity;
      for (const s of this.states.values()) {
        if (s.delayedUntilMs <= now) sent.push(s);
        else nextReady = Math.min(nextReady, s.delayedUntilMs);
      }
      if (sent.length === 0) {
        await this.sleep(Number.isFinite(nextReady) ? nextReady - now : config.backoffMs);
        continue;
      }
      const byTopic = new Map<string, { topic: string; topicId: string; partitions: object[] }>();
      for (const s of sent) {
        const p = s.partition;
        let t = byTopic.get(p.topic);
        if (!t) byTopic.set(p.topic, (t = { topic: p.topic, topicId: p.topicId, partitions: [] }));
        t.partitions.push({
          partition: p.partition,
          currentLeaderEpoch: s.leaderEpoch,
          fetchOffset: BigInt(p.logEndOffset),
          lastFetchedEpoch: p.log.leaderEpochCache.latestEpoch(),
          logStartOffset: BigInt(p.logStartOffset),
          partitionMaxBytes: config.maxBytes,
        });
      }
      let response: MessageValue<typeof FetchResponse.decl>;
      try {
        const conn = await this.connect();
        if (conn === null) {
          await this.sleep(config.backoffMs);
          continue;
        }
        response = await conn.send(Fetch, 12, {
          replicaId: nodeId,
          maxWaitMs: config.waitMaxMs,
          minBytes: config.minBytes,
          maxBytes: config.responseMaxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...byTopic.values()],
          forgottenTopicsData: [],
          rackId: '',
        } as MessageInput<typeof FetchRequest.decl>);
      } catch (err) {
        if (this.closed) return;
        if (!(err instanceof ConnectionError)) throw err;
        this.logger[this.unreachable ? 'debug' : 'info']({ err: err.message }, `fetching from leader ${this.leaderId} failed; retrying every ${config.backoffMs} ms`);
        this.unreachable = true;
        this.connection?.close();
        this.connection = null;
        await this.sleep(config.backoffMs);
        continue;
      }
      if (this.closed) return;
      if (this.unreachable) this.logger.info(`fetching from leader ${this.leaderId} again`);
      this.unreachable = false;
      const applied = this.apply(sent, response);
      this.applying = applied.catch(() => undefined);
      await applied;
    }
  }

  /** Applies one Fetch answer to the partitions it was sent for that are still ours at the same epoch. */
  private async apply(sent: readonly FetchState[], response: MessageValue<typeof FetchResponse.decl>): Promise<void> {
    const backoffMs = this.options.config.backoffMs;
    if (response.errorCode !== ErrorCode.NONE) {
      this.logger.warn({ errorCode: response.errorCode }, 'the leader refused the replica fetch');
      for (const s of sent) s.delayedUntilMs = this.options.clock.now() + backoffMs;
      return;
    }
    const byKey = new Map<string, FetchState>();
    for (const s of sent) byKey.set(s.partition.key, s);
    for (const t of response.responses) {
      for (const pd of t.partitions) {
        const s = byKey.get(`${t.topic}-${pd.partitionIndex}`);
        // Removed or re-added (a new epoch) while the fetch was out: the answer is stale.
        if (!s || this.states.get(s.partition) !== s || s.partition.isLeader || s.partition.leaderEpoch !== s.leaderEpoch) continue;
        try {
          await this.applyPartition(s, pd);
        } catch (err) {
          this.logger.error({ err, partition: s.partition.key }, 'applying replicated data failed; retrying after a backoff');
          s.delayedUntilMs = this.options.clock.now() + backoffMs;
        }
      }
    }
  }

  private async applyPartition(s: FetchState, pd: MessageValue<typeof FetchResponse.decl>['responses'][number]['partitions'][number]): Promise<void> {
    const p = s.partition;
    switch (pd.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.OFFSET_OUT_OF_RANGE: {
        const leaderStart = Number(pd.logStartOffset);
        if (leaderStart >= 0 && p.logEndOffset < leaderStart) {
          this.logger.info({ partition: p.key, logEndOffset: p.logEndOffset, leaderLogStartOffset: leaderStart }, `${p.key}: behind the leader's log start; restarting the log at ${leaderStart}`);
          await p.truncateFullyAndStartAt(leaderStart);
        } else {
          const target = Math.max(Number(pd.highWatermark), p.logStartOffset);
          this.logger.warn({ partition: p.key, logEndOffset: p.logEndOffset, leaderHighWatermark: target }, `${p.key}: ahead of the leader's log end (unclean election?); truncating to ${target}`);
          await p.truncateTo(target);
        }
        return;
      }
      default:
        // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION, storage errors:
        // the next image tells what changed; until then, back off.
        this.logger.debug({ partition: p.key, errorCode: pd.errorCode }, 'replica fetch answered an error');
        s.delayedUntilMs = this.options.clock.now() + this.options.config.backoffMs;
        return;
    }
    const diverging = pd.divergingEpoch;
    if (diverging.epoch >= 0 || diverging.endOffset >= 0) {
      await p.truncateTo(this.truncationOffset(p, diverging.epoch, Number(diverging.endOffset)));
      return;
    }
    const records = pd.records;
    if (records !== null && records.length > 0) {
      if (p.logEndOffset !== this.sentOffset(s, records)) {
        // Cannot happen with one fetcher per partition; refuse rather than write a gap or an overlap.
        throw new Error(`${p.key}: fetched records start at ${records.readBigInt64BE(0)}, the log ends at ${p.logEndOffset}`);
      }
      await p.appendAsFollower(records);
    }
    p.updateFollowerHighWatermark(Number(pd.highWatermark));
    // DeleteRecords on the leader moves our log start too, up to our HW (Kafka's maybeIncrementLogStartOffset).
    const leaderStart = Number(pd.logStartOffset);
    if (leaderStart > p.logStartOffset && leaderStart <= p.highWatermark) await p.log.deleteRecordsBefore(leaderStart);
  }

  /** The base offset of the first batch of an answer (it must be our LEO: we asked from there). */
  private sentOffset(_s: FetchState, records: Buffer): number {
    return records.length >= 8 ? Number(records.readBigInt64BE(0)) : -1;
  }

  /**
   * Kafka's getOffsetTruncationState for a DivergingEpoch {epoch, endOffset} from the leader: when we know
   * that epoch, truncate to the smaller of both end offsets; when we do not (our largest epoch below it
   * differs), truncate to our own end of that smaller epoch, and the next fetch narrows further.
   */
  private truncationOffset(p: Partition, leaderEpoch: number, leaderEndOffset: number): number {
    const leo = p.logEndOffset;
    if (leaderEpoch < 0) return Math.min(Math.max(leaderEndOffset, 0), leo);
    const ours = p.log.leaderEpochCache.endOffsetFor(leaderEpoch);
    if (ours.epoch < 0) return Math.min(Math.max(leaderEndOffset, 0), leo);
    if (ours.epoch !== leaderEpoch) return Math.min(ours.endOffset, leo);
    return Math.min(leaderEndOffset, ours.endOffset, leo);
  }
}
