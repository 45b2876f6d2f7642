/**
 * The Raft core of the metadata quorum (KIP-595, Kafka's KafkaRaftClient + QuorumState), as a pure state
 * machine: requests, responses, proposals and the current time go in; effects come out, in the order the
 * adapter must perform them. No sockets, no disk, no clock, no global randomness: time is an argument and
 * randomness an injected `Random`, so a simulation is a function of its seed.
 *
 * Transition table (epoch E is the node's current epoch; every transition persists quorum-state first):
 *
 *   from          event                                              to
 *   ------------  -------------------------------------------------  ----------------------------------
 *   (start)       quorum-state names this node as leader of E        Resigned(E)   (never lead E twice)
 *   (start)       quorum-state: voted for this node in E             Candidate(E)
 *   (start)       quorum-state: leader L of E                        Follower(E, L)
 *   (start)       quorum-state: voted for C in E                     Voted(E, C)
 *   (start)       otherwise                                          Unattached(E)
 *   any           message with epoch E' > E, leader L known          Follower(E', L)
 *   any           message with epoch E' > E, no leader               Unattached(E')
 *   Unattached,   message with epoch E naming leader L (unless L     Follower(E, L)
 *    Voted,        is known to have stepped down in E)
 *    Prospective,
 *    Candidate
 *   Unattached    Vote(E) granted: candidate's log >= ours           Voted(E, C)
 *   Unattached,   election timeout (random in [T, 2T))               Prospective(E): pre-votes for E+1
 *    Voted
 *   Prospective   pre-vote yes from a majority                       Candidate(E+1), votes for itself
 *   Prospective   election timeout, it had left leader L on a fetch      Follower(E, L)  (KIP-996)
 *                 timeout
 *   Prospective   election timeout, no leader                        Prospective(E), a new round
 *   Prospective   hearsay naming the leader L it left                (stays: only L itself sends it back)
 *   Prospective   Vote(E) granted (no vote nor leader known in E)    Voted(E, C)
 *   Candidate     votes from a majority                              Leader(E)
 *   Candidate     majority rejected, or election timeout             (backoff) -> Prospective(E)
 *   Follower      no successful Fetch for fetch.timeout.ms           Prospective(E)
 *   Follower      EndQuorumEpoch from its leader                     fetch timeout shortened by rank
 *   Leader        no Fetch from a majority for 1.5 x fetch timeout   Resigned(E)   (check quorum)
 *   Leader        resign() (graceful shutdown)                       Resigned(E)
 *   Resigned      election timeout                                   Prospective(E)
 *   (a single voter skips Prospective: nobody to ask)
 *
 * An observer (a node not in the voter set: a broker-only node, Kafka's FollowerState/UnattachedState
 * with isObserver) has only two states and never votes, stands or counts for the high watermark:
 *   Unattached    no leader known: Fetch(E) to a bootstrap server     Follower(E', L) once an answer names
 *                 (below), one at a time (BeginQuorumEpoch is only     the leader L of E' >= E (FENCED_LEADER_EPOCH
 *                 sent to voters: it learns the leader from Fetch)     and NOT_LEADER_OR_FOLLOWER carry it)
 *   Follower      no successful Fetch for fetch.timeout.ms, or its     Unattached(E): back to the bootstrap
 *                 leader answers NOT_LEADER_OR_FOLLOWER                servers to look for the leader again
 *   any           message with epoch E' > E                            as a voter (Follower or Unattached)
 * Its bootstrap servers are the voters when controller.quorum.voters is set, else the entries of
 * controller.quorum.bootstrap.servers (KIP-853; node ids -2, -3, ... here, as Kafka numbers them). The
 * discovery Fetch goes to a random one that is ready (RequestManager.findReadyBootstrapServer): one whose
 * answer failed or named no leader to follow is not asked again for retry.backoff.ms, one that did not
 * answer within request.timeout.ms is ready again. Where the leader L named in an answer lives (the
 * response's NodeEndpoints) is the network adapter's business: the core follows node ids. A restarted
 * observer without voters does not know where the leader of its quorum-state is, so it starts Unattached
 * and asks a bootstrap server (Kafka's QuorumState.initialize does the same when the leader's endpoints
 * are unknown).
 *
 * Rules (Kafka's, cited where they live there):
 * - Pre-vote (KIP-996): a Prospective node polls the voters for epoch E+1 without changing or persisting
 *   anything; a voter says yes if the candidate's log is up to date and it has no live leader (a follower
 *   that has fetched from its leader in this epoch says no until that leader steps down). A voter behind
 *   the Prospective's own epoch E moves to Unattached(E) first, as on any message of a later epoch.
 * - One vote per epoch, persisted before the granting response is sent; a vote only for a candidate whose
 *   (LastOffsetEpoch, LastOffset) is >= ours (UnattachedState.canGrantVote, isLogUpToDate).
 * - A new leader appends a LeaderChange control record at the start of its epoch (LeaderState
 *   appendStartOfEpochControlRecords) and sends BeginQuorumEpoch to the other voters.
 * - Followers pull with Fetch(FetchOffset, LastFetchedEpoch); the leader answers records, or a
 *   DivergingEpoch when that pair is not on its log, and the follower truncates and fetches again. A follower
 *   flushes what it appended before sending the next Fetch, so its FetchOffset only claims durable records.
 * - High watermark (LeaderState.maybeUpdateHighWatermark): the voters' end offsets (the leader's own flushed
 *   end included) sorted descending, the one at index voters/2; it moves only forward, and only once it is
 *   above the epoch start offset: a leader exposes no record before one of its own epoch is committed.
 * - One proposal is one record batch (propose of several values): appended, fetched, truncated and
 *   committed whole; the high watermark and a truncation point only ever fall between batches (log.ts).
 * - Voter-only requests (Vote, BeginQuorumEpoch, EndQuorumEpoch): a stale epoch gets FENCED_LEADER_EPOCH,
 *   a sender that is not a voter INCONSISTENT_VOTER_SET; leader-only requests (Fetch): a stale epoch gets
 *   FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH, a non-leader NOT_LEADER_OR_FOLLOWER; any request
 *   naming another cluster gets INCONSISTENT_CLUSTER_ID (KafkaRaftClient validateVoterOnlyRequest,
 *   validateLeaderOnlyRequest, hasValidClusterId). Observers (non-voters) may Fetch; they are not counted.
 */
import { CHECK_QUORUM_TIMEOUT_FACTOR, RETRY_BACKOFF_BASE_MS, type QuorumConfig } from './config.js';
import { RaftLog, type OffsetAndEpoch, type RaftRecord } from './log.js';
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
  type RaftBody,
  type RaftMessage,
  type VoteRequest,
  type VoteResponse,
} from './messages.js';
import type { QuorumStateData } from './quorum-state.js';
import type { Random } from './random.js';

/** What the adapter must do, in this order: a `send` may depend on every `persist`/`append`/`flush` before it. */
export type RaftEffect =
  /** Write quorum-state atomically and fsync it. */
  | { readonly type: 'persist-quorum-state'; readonly state: QuorumStateData }
  /** Append records at baseOffset (the current log end offset); not durable until a `flush`. */
  | { readonly type: 'append'; readonly baseOffset: number; readonly records: readonly RaftRecord[] }
  /** Remove every record at or above offset (durably). */
  | { readonly type: 'truncate'; readonly offset: number }
  /** fsync the log up to endOffset. */
  | { readonly type: 'flush'; readonly endOffset: number }
  | { readonly type: 'send'; readonly message: RaftMessage }
  /** Records below offset are committed: apply them to the state machine above, in order. */
  | { readonly type: 'high-watermark'; readonly offset: number }
  /**
   * The log now starts at this snapshot's end offset: delete what is before it (the snapshot is already
   * durable: the adapter wrote it before snapshotCreated).
   */
  | { readonly type: 'log-start'; readonly snapshotId: OffsetAndEpoch }
  /**
   * A snapshot fetched from the leader (KIP-630) replaces the whole log: store it durably, empty the log
   * to start at its end offset, and load it into the state machine above (everything below id.offset is
   * committed; the log is replayed from there).
   */
  | { readonly type: 'install-snapshot'; readonly snapshotId: OffsetAndEpoch; readonly bytes: Uint8Array };

export type RaftStateName = 'Unattached' | 'Voted' | 'Prospective' | 'Candidate' | 'Leader' | 'Follower' | 'Resigned';

/** A safety rule the core would break (e.g. truncating committed records): a bug, never bad input. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

interface Outstanding {
  readonly correlationId: number;
  readonly sentAt: number;
}

interface ReplicaState {
  /** The end offset the replica's last valid Fetch claimed (-1: none yet in this epoch). */
  endOffset: number;
  /** For check quorum: the last Fetch, or the start of the epoch. */
  lastFetchMs: number;
  /** For DescribeQuorum (KIP-836): -1 until the replica fetches in this epoch. */
  lastFetchTimestamp: number;
  lastCaughtUpTimestamp: number;
  /** The leader's log end offset when the previous Fetch arrived. */
  leaderEndAtLastFetch: number;
}

/** One replica as DescribeQuorum reports it (DescribeQuorumResponse ReplicaState). */
export interface QuorumReplicaState {
  readonly replicaId: number;
  readonly logEndOffset: number;
  readonly lastFetchTimestamp: number;
  readonly lastCaughtUpTimestamp: number;
}

export interface QuorumDescription {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly currentVoters: readonly QuorumReplicaState[];
  readonly observers: readonly QuorumReplicaState[];
}

interface ParkedFetch {
  readonly request: RaftMessage<FetchRequest>;
  readonly deadline: number;
}

type State =
  | {
      readonly name: 'Unattached';
      readonly epoch: number;
      electionDeadline: number;
      /** An observer's Fetch to a bootstrap server, sent to find the leader (always null on a voter). */
      discovery: (Outstanding & { readonly destination: number }) | null;
      /** When an observer sends its next discovery Fetch. */
      nextFetchAt: number;
      /** Bootstrap servers not to ask again before the time given (their answer failed or named no leader). */
      readonly backoffUntil: Map<number, number>;
    }
  | { readonly name: 'Voted'; readonly epoch: number; readonly votedId: number; electionDeadline: number }
  | {
      /** KIP-996: polling the voters (a non-binding pre-vote) before bumping the epoch. */
      readonly name: 'Prospective';
      readonly epoch: number;
      readonly retries: number;
      /** The leader of this epoch it followed until its fetch timeout (-1: none); it goes back to it if the pre-vote fails. */
      readonly retainedLeader: number;
      readonly granted: Set<number>;
      readonly rejected: Set<number>;
      readonly outstanding: Map<number, Outstanding>;
      /** Correlation ids of the pre-votes sent in this state: only their answers count. */
      readonly sent: Set<number>;
      electionDeadline: number;
    }
  | {
      readonly name: 'Candidate';
      readonly epoch: number;
      readonly retries: number;
      readonly granted: Set<number>;
      readonly rejected: Set<number>;
      readonly outstanding: Map<number, Outstanding>;
      /** Correlation ids of the votes asked in this state: only their answers count (not a pre-vote's). */
      readonly sent: Set<number>;
      electionDeadline: number;
      backoffUntil: number | null;
    }
  | {
      readonly name: 'Leader';
      readonly epoch: number;
      readonly epochStartOffset: number;
      readonly replicas: Map<number, ReplicaState>;
      /** Non-voters that fetched in this epoch (brokers, later). */
      readonly observers: Map<number, ReplicaState>;
      readonly beginAcked: Set<number>;
      readonly outstanding: Map<number, Outstanding>;
      readonly parked: Map<number, ParkedFetch>;
      lingerDeadline: number | null;
    }
  | {
      readonly name: 'Follower';
      readonly epoch: number;
      readonly leaderId: number;
      fetchDeadline: number;
      inflight: Outstanding | null;
      nextFetchAt: number;
      /** A successful Fetch from the leader in this epoch: from then on it refuses pre-votes (KIP-996). */
      fetchedFromLeader: boolean;
      /** KIP-630: the leader's snapshot being copied with FetchSnapshot instead of Fetch (null: fetching the log). */
      snapshotFetch: { readonly id: OffsetAndEpoch; readonly chunks: Uint8Array[]; received: number } | null;
    }
  | {
      readonly name: 'Resigned';
      readonly epoch: number;
      readonly preferredSuccessors: readonly number[];
      readonly endAcked: Set<number>;
      readonly outstanding: Map<number, Outstanding>;
      electionDeadline: number;
    };

export type ProposeResult = { readonly ok: true; readonly offset: number; readonly lastOffset: number; readonly epoch: number } | { readonly ok: false; readonly errorCode: number; readonly leaderId: number; readonly leaderEpoch: number };

/** A snapshot of the state machine at id.offset (KIP-630): its id and its file's bytes (a `.checkpoint`). */
export interface RaftSnapshot {
  readonly id: OffsetAndEpoch;
  readonly bytes: Uint8Array;
}

/** What the adapter recovered besides quorum-state and the records: the log start and the latest snapshot. */
export interface RecoveredSnapshots {
  /** The log start offset and the epoch before it (the oldest retained snapshot's id; 0/0 without one). */
  readonly logStart: OffsetAndEpoch;
  /** The newest snapshot (at or after the log start); null when none. */
  readonly latest: RaftSnapshot | null;
}

/** The most a follower accepts as a snapshot's size (a bound on what a bad leader could make it hold). */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;

export class RaftCore {
  private readonly log: RaftLog;
  /** The newest snapshot (served to followers behind the log start); null when none. */
  private latestSnapshot: RaftSnapshot | null;
  private state!: State;
  private persisted: QuorumStateData;
  private hw = 0;
  private out: RaftEffect[] = [];
  private orphanedFetches: RaftMessage<FetchRequest>[] = [];
  /**
   * A leader known to have stepped down in its epoch (it sent EndQuorumEpoch, or answered our Fetch with
   * NOT_LEADER_OR_FOLLOWER): hearsay naming it as that epoch's leader no longer sends us back to it.
   */
  private resignedLeader: { leaderId: number; epoch: number } | null = null;
  private nextCorrelationId: number;
  private now: number;
  /** Not in the voter set (a broker-only node): it only follows (see the transition table). */
  readonly isObserver: boolean;
  /** Where an observer looks for the leader: the voters if known, else controller.quorum.bootstrap.servers. */
  private readonly bootstrapServers: readonly number[];

  /**
   * Starts a voter from what its disk recovered: the quorum-state file (null when absent) and the log's
   * records (a torn tail already cut off by the adapter's recovery). Returns the effects of the start.
   */
  constructor(
    readonly config: QuorumConfig,
    persisted: QuorumStateData | null,
    recovered: readonly RaftRecord[],
    now: number,
    private readonly random: Random,
    snapshots: RecoveredSnapshots | null = null,
  ) {
    this.now = now;
    this.isObserver = !config.voters.includes(config.nodeId);
    this.bootstrapServers = config.voters.length > 0 ? config.voters : config.bootstrapServers;
    this.log = new RaftLog(recovered, snapshots?.logStart);
    this.latestSnapshot = snapshots?.latest ?? null;
    if (this.log.startOffset > 0 && (this.latestSnapshot === null || this.latestSnapshot.id.offset < this.log.startOffset)) {
      throw new RaftInvariantError(`the log starts at ${this.log.startOffset} but no snapshot covers it`);
    }
    if (this.latestSnapshot !== null && this.latestSnapshot.id.offset > this.log.endOffset) throw new RaftInvariantError(`snapshot ${this.latestSnapshot.id.offset} is past the log end ${this.log.endOffset}`);
    // What a snapshot holds was committed: the state machine starts from it.
    this.hw = this.latestSnapshot?.id.offset ?? 0;
    // Correlation ids start at a random point so a response meant for a previous incarnation is not taken
    // for one of ours (a real connection is reset by the restart anyway).
    this.nextCorrelationId = random.nextInt(0x40000000);
    const stored = persisted ?? { leaderId: -1, leaderEpoch: 0, votedId: -1 };
    this.persisted = stored;
    const id = config.nodeId;
    // The log may hold an epoch above quorum-state's if the file was lost: never go back (QuorumState.initialize).
    if (this.log.lastEpoch > stored.leaderEpoch) {
      this.toUnattached(this.log.lastEpoch);
    } else if (this.isObserver) {
      // An observer never led nor voted: it follows the leader it knew if it knows where that is (a voter of
      // controller.quorum.voters), or looks for one.
      if (stored.leaderId >= 0 && stored.leaderId !== id && this.isVoter(stored.leaderId)) this.setFollowerState(stored.leaderEpoch, stored.leaderId);
      else this.state = this.newUnattachedState(stored.leaderEpoch, Infinity);
    } else if (stored.leaderId === id) {
      this.toResigned(stored.leaderEpoch, false);
    } else if (stored.votedId === id && stored.leaderId < 0) {
      this.state = this.newCandidateState(stored.leaderEpoch, 1);
      this.sendVotes();
    } else if (stored.leaderId >= 0) {
      this.setFollowerState(stored.leaderEpoch, stored.leaderId);
    } else if (stored.votedId >= 0) {
      this.state = { name: 'Voted', epoch: stored.leaderEpoch, votedId: stored.votedId, electionDeadline: now + this.randomElectionTimeoutMs() };
    } else {
      this.state = this.newUnattachedState(stored.leaderEpoch, now + this.randomElectionTimeoutMs());
    }
    if (!this.isObserver && this.isSingleVoter() && this.state.name !== 'Leader') this.toCandidate();
  }

  /** Effects produced since the last drain (the constructor's included). */
  drain(): RaftEffect[] {
    if (this.orphanedFetches.length > 0) {
      const orphans = this.orphanedFetches;
      this.orphanedFetches = [];
      for (const m of orphans) this.answerFetchError(m, this.validateLeaderOnlyRequest(m.body.currentLeaderEpoch));
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // Inputs

  /** A request or response from another node. */
  handle(now: number, message: RaftMessage): RaftEffect[] {
    this.now = now;
    const b = message.body;
    switch (b.kind) {
      case 'VoteRequest':
        this.onVoteRequest(message as RaftMessage<VoteRequest>);
        break;
      case 'VoteResponse':
        this.onVoteResponse(message as RaftMessage<VoteResponse>);
        break;
      case 'BeginQuorumEpochRequest':
        this.onBeginQuorumEpochRequest(message as RaftMessage<BeginQuorumEpochRequest>);
        break;
      case 'BeginQuorumEpochResponse':
        this.onBeginQuorumEpochResponse(message as RaftMessage<BeginQuorumEpochResponse>);
        break;
      case 'EndQuorumEpochRequest':
        this.onEndQuorumEpochRequest(message as RaftMessage<EndQuorumEpochRequest>);
        break;
      case 'EndQuorumEpochResponse':
        this.onEndQuorumEpochResponse(message as RaftMessage<EndQuorumEpochResponse>);
        break;
      case 'FetchRequest':
        this.onFetchRequest(message as RaftMessage<FetchRequest>);
        break;
      case 'FetchResponse':
        this.onFetchResponse(message as RaftMessage<FetchResponse>);
        break;
      case 'FetchSnapshotRequest':
        this.onFetchSnapshotRequest(message as RaftMessage<FetchSnapshotRequest>);
        break;
      case 'FetchSnapshotResponse':
        this.onFetchSnapshotResponse(message as RaftMessage<FetchSnapshotResponse>);
        break;
    }
    return this.drain();
  }

  /** Time passed: fires whatever timer is due. Call it at nextWakeupMs() (earlier is harmless). */
  tick(now: number): RaftEffect[] {
    this.now = now;
    const s = this.state;
    switch (s.name) {
      case 'Unattached':
        if (this.isObserver) {
          if (s.discovery !== null ? now >= s.discovery.sentAt + this.config.requestTimeoutMs : now >= s.nextFetchAt) this.sendDiscoveryFetch(s);
        } else if (now >= s.electionDeadline) this.toProspective();
        break;
      case 'Voted':
        if (now >= s.electionDeadline) this.toProspective();
        break;
      case 'Prospective':
        if (now >= s.electionDeadline) {
          // The pre-vote failed: back to the leader it had, if any (KIP-996), else another round.
          if (s.retainedLeader >= 0) this.setFollowerState(s.epoch, s.retainedLeader);
          else this.toProspective();
        } else this.resendVotes(s);
        break;
      case 'Candidate':
        if (s.backoffUntil !== null) {
          if (now >= s.backoffUntil) this.toProspective();
        } else if (now >= s.electionDeadline) {
          s.backoffUntil = now + this.binaryExponentialElectionBackoffMs(s.retries);
        } else {
          this.resendVotes(s);
        }
        break;
      case 'Leader':
        this.leaderTick(s);
        break;
      case 'Follower':
        if (now >= s.fetchDeadline) {
          // An observer has no say in elections: it goes looking for the leader instead.
          if (this.isObserver) this.toUnattached(s.epoch);
          else this.toProspective();
        } else if (s.inflight !== null && now >= s.inflight.sentAt + this.config.requestTimeoutMs) {
          this.sendFetch(s);
        } else if (s.inflight === null && now >= s.nextFetchAt) {
          this.sendFetch(s);
        }
        break;
      case 'Resigned':
        if (now >= s.electionDeadline) this.toProspective();
        else this.sendEndQuorumEpoch(s, false);
        break;
    }
    return this.drain();
  }

  /**
   * A client's entry for the log: appended if this node leads, else the leader to ask. Several values are
   * one batch (one proposal of the state machine above): appended together, replicated whole, committed
   * together. The result names the first and last offset.
   */
  propose(now: number, data: Uint8Array | readonly Uint8Array[]): { result: ProposeResult; effects: RaftEffect[] } {
    this.now = now;
    const s = this.state;
    const values = data instanceof Uint8Array ? [data] : data;
    if (s.name !== 'Leader') {
      return { result: { ok: false, errorCode: RaftError.NOT_LEADER_OR_FOLLOWER, leaderId: this.leaderId, leaderEpoch: s.epoch }, effects: this.drain() };
    }
    if (values.length === 0) throw new RangeError('a proposal needs at least one record');
    const offset = this.log.endOffset;
    const last = values.length - 1;
    this.appendAsLeader(
      s,
      values.map((d, i): RaftRecord => (i < last ? { epoch: s.epoch, value: { kind: 'data', data: d }, batchContinues: true, appendTimeMs: now } : { epoch: s.epoch, value: { kind: 'data', data: d }, appendTimeMs: now })),
    );
    // Kafka batches appends for append.linger.ms before flushing; the high watermark counts the leader's
    // own records only once flushed.
    if (this.config.appendLingerMs <= 0) this.flushLeader(s);
    else if (s.lingerDeadline === null) s.lingerDeadline = now + this.config.appendLingerMs;
    return { result: { ok: true, offset, lastOffset: offset + last, epoch: s.epoch }, effects: this.drain() };
  }

  /** Graceful shutdown of a leader: hand over with EndQuorumEpoch (KIP-595 "Graceful shutdown"). */
  resign(now: number): RaftEffect[] {
    this.now = now;
    if (this.state.name === 'Leader') this.toResigned(this.state.epoch, true);
    return this.drain();
  }

  /**
   * The state machine wrote a snapshot of the committed records below id.offset (durably, before this
   * call): it becomes the snapshot followers behind the log start are sent. id.offset must be a batch
   * boundary at or below the high watermark, id.epoch the epoch of the record before it.
   */
  snapshotCreated(now: number, snapshot: RaftSnapshot): RaftEffect[] {
    this.now = now;
    const { offset, epoch } = snapshot.id;
    if (offset > this.hw) throw new RangeError(`snapshot at ${offset} is past the high watermark ${this.hw}`);
    if (this.latestSnapshot !== null && offset <= this.latestSnapshot.id.offset) return this.drain();
    if (offset < this.log.startOffset) return this.drain();
    if (this.log.batchBoundaryAtOrBelow(offset) !== offset) throw new RangeError(`snapshot at ${offset} would split a batch`);
    const before = this.log.get(offset - 1);
    const expected = before?.epoch ?? this.log.startId.epoch;
    if (epoch !== expected) throw new RangeError(`snapshot ${offset}-${epoch}: the record before ${offset} is of epoch ${expected}`);
    this.latestSnapshot = snapshot;
    return this.drain();
  }

  /**
   * Deletes the log before the latest snapshot (Kafka's deleteBeforeSnapshot once retention allows): the
   * log start offset moves to its end offset; followers behind it will fetch the snapshot.
   */
  deleteBeforeLatestSnapshot(now: number): RaftEffect[] {
    this.now = now;
    const snap = this.latestSnapshot;
    if (snap !== null && snap.id.offset > this.log.startOffset) {
      this.log.deleteBefore(snap.id);
      this.out.push({ type: 'log-start', snapshotId: snap.id });
    }
    return this.drain();
  }

  /** The earliest time at which tick() has something to do. */
  nextWakeupMs(): number {
    const s = this.state;
    const outstandingDue = (m: Map<number, Outstanding>): number => {
      let t = Infinity;
      for (const o of m.values()) t = Math.min(t, o.sentAt + this.config.requestTimeoutMs);
      return t;
    };
    switch (s.name) {
      case 'Unattached':
        if (this.isObserver) return s.discovery !== null ? s.discovery.sentAt + this.config.requestTimeoutMs : s.nextFetchAt;
        return s.electionDeadline;
      case 'Voted':
        return s.electionDeadline;
      case 'Prospective':
        return Math.min(s.electionDeadline, outstandingDue(s.outstanding));
      case 'Candidate':
        return s.backoffUntil ?? Math.min(s.electionDeadline, outstandingDue(s.outstanding));
      case 'Leader': {
        let t = Math.min(this.checkQuorumDeadline(s), outstandingDue(s.outstanding));
        if (s.lingerDeadline !== null) t = Math.min(t, s.lingerDeadline);
        for (const p of s.parked.values()) t = Math.min(t, p.deadline);
        return t;
      }
      case 'Follower':
        return Math.min(s.fetchDeadline, s.inflight !== null ? s.inflight.sentAt + this.config.requestTimeoutMs : s.nextFetchAt);
      case 'Resigned':
        return Math.min(s.electionDeadline, outstandingDue(s.outstanding));
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Read-only views (DescribeQuorum, the simulation's checker)

  get stateName(): RaftStateName {
    return this.state.name;
  }
  get epoch(): number {
    return this.state.epoch;
  }
  get leaderId(): number {
    const s = this.state;
    if (s.name === 'Leader' || s.name === 'Resigned') return this.config.nodeId;
    if (s.name === 'Follower') return s.leaderId;
    return -1;
  }
  get highWatermark(): number {
    return this.hw;
  }
  get logEndOffset(): number {
    return this.log.endOffset;
  }
  get logStartOffset(): number {
    return this.log.startOffset;
  }
  get snapshot(): RaftSnapshot | null {
    return this.latestSnapshot;
  }
  get quorumState(): QuorumStateData {
    return this.persisted;
  }
  record(offset: number): RaftRecord | undefined {
    return this.log.get(offset);
  }

  /**
   * What DescribeQuorum answers (KIP-595, KIP-836), or null when this node is not the leader (Kafka then
   * answers NOT_LEADER_OR_FOLLOWER). The leader reports itself with its log end offset and `now` as both
   * its fetch and caught-up time (LeaderState.describeReplicaState, so kafka-metadata-quorum describe
   * --replication shows times, not -1, on the leader's row); others with -1 where nothing is known yet in
   * this epoch.
   */
  describeQuorum(now: number): QuorumDescription | null {
    const s = this.state;
    if (s.name !== 'Leader') return null;
    const view = (replicaId: number, r: ReplicaState): QuorumReplicaState => ({
      replicaId,
      logEndOffset: r.endOffset,
      lastFetchTimestamp: r.lastFetchTimestamp,
      lastCaughtUpTimestamp: r.lastCaughtUpTimestamp,
    });
    const voters = this.config.voters.map((id) =>
      id === this.config.nodeId ? { replicaId: id, logEndOffset: this.log.endOffset, lastFetchTimestamp: now, lastCaughtUpTimestamp: now } : view(id, s.replicas.get(id)!),
    );
    return {
      leaderId: this.config.nodeId,
      leaderEpoch: s.epoch,
      highWatermark: this.hw,
      currentVoters: voters,
      observers: [...s.observers.entries()].sort((a, b) => a[0] - b[0]).map(([id, r]) => view(id, r)),
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Overridable decisions: the simulation's checker test breaks them on purpose to show it catches it.

  /** LeaderState.maybeUpdateHighWatermark: only above the epoch start offset (a record of this epoch). */
  protected mayCommit(candidateHw: number, epochStartOffset: number): boolean {
    return candidateHw > epochStartOffset;
  }

  /** isLogUpToDate: the candidate's (last epoch, end offset) is at least ours. */
  protected candidateLogIsUpToDate(lastOffsetEpoch: number, lastOffset: number): boolean {
    const myEpoch = this.log.lastEpoch;
    return lastOffsetEpoch > myEpoch || (lastOffsetEpoch === myEpoch && lastOffset >= this.log.endOffset);
  }

  /** Records the election state; the adapter writes it before any later effect (a vote, an acknowledgement). */
  protected persist(state: QuorumStateData): void {
    this.persisted = state;
    this.out.push({ type: 'persist-quorum-state', state });
  }

  // ------------------------------------------------------------------------------------------------
  // Transitions

  private isVoter(id: number): boolean {
    return this.config.voters.includes(id);
  }

  private isSingleVoter(): boolean {
    return this.config.voters.length === 1;
  }

  private hasLeader(): boolean {
    const n = this.state.name;
    return n === 'Leader' || n === 'Follower' || n === 'Resigned';
  }

  /**
   * Learns an epoch and maybe its leader from any message (KafkaRaftClient.maybeTransition). A Prospective
   * node that left its leader on a fetch timeout does not go back to it on hearsay (another voter naming
   * it): only a message from that leader itself, or losing the pre-vote, sends it back (KIP-996). Otherwise
   * a dead leader named by the others would hold every node in Follower/Prospective forever.
   */
  private maybeTransition(leaderId: number, epoch: number, from: number): void {
    if (epoch > this.state.epoch) {
      // A leader naming this node for a newer epoch cannot exist unless our state was lost: take the epoch only.
      if (leaderId >= 0 && leaderId !== this.config.nodeId) this.toFollower(epoch, leaderId);
      else this.toUnattached(epoch);
    } else if (epoch === this.state.epoch && leaderId >= 0 && leaderId !== this.config.nodeId && !this.hasLeader()) {
      const gone = this.resignedLeader !== null && this.resignedLeader.leaderId === leaderId && this.resignedLeader.epoch === epoch;
      const s = this.state;
      const leftOnTimeout = s.name === 'Prospective' && s.retainedLeader === leaderId && from !== leaderId;
      if (!gone && !leftOnTimeout) this.toFollower(epoch, leaderId);
    }
  }

  private leave(): void {
    const s = this.state;
    if (s?.name === 'Leader') {
      if (this.log.flushedEndOffset < this.log.endOffset) this.flushLeader(s);
      // Parked fetches learn the new state at once (answered in drain(), from the state we move to)
      // rather than waiting for their request timeout.
      for (const p of s.parked.values()) this.orphanedFetches.push(p.request);
      s.parked.clear();
    }
  }

  private toUnattached(epoch: number): void {
    const prev = this.state;
    // A node without a leader keeps the election time it had left (QuorumState.transitionToUnattached):
    // were each higher-epoch Vote to restart it, a candidate that cannot win (a shorter log) would keep
    // the others from ever standing.
    const electionDeadline =
      prev !== undefined && (prev.name === 'Unattached' || prev.name === 'Voted' || prev.name === 'Prospective' || prev.name === 'Candidate') ? prev.electionDeadline : this.now + this.randomElectionTimeoutMs();
    this.leave();
    this.persist({ leaderId: -1, leaderEpoch: epoch, votedId: -1 });
    this.state = this.newUnattachedState(epoch, electionDeadline);
  }

  /** An observer's first discovery Fetch goes out at the next tick (now), every bootstrap server ready. */
  private newUnattachedState(epoch: number, electionDeadline: number): State & { name: 'Unattached' } {
    return { name: 'Unattached', epoch, electionDeadline, discovery: null, nextFetchAt: this.now, backoffUntil: new Map() };
  }

  private toVoted(epoch: number, candidateId: number): void {
    this.leave();
    this.persist({ leaderId: -1, leaderEpoch: epoch, votedId: candidateId });
    this.state = { name: 'Voted', epoch, votedId: candidateId, electionDeadline: this.now + this.randomElectionTimeoutMs() };
  }

  private toFollower(epoch: number, leaderId: number): void {
    this.leave();
    // The vote cast in this epoch stays on record: a restart must not vote again in it.
    const votedId = epoch === this.persisted.leaderEpoch ? this.persisted.votedId : -1;
    this.persist({ leaderId, leaderEpoch: epoch, votedId });
    this.setFollowerState(epoch, leaderId);
  }

  private setFollowerState(epoch: number, leaderId: number): void {
    const s: State = { name: 'Follower', epoch, leaderId, fetchDeadline: this.now + this.config.fetchTimeoutMs, inflight: null, nextFetchAt: this.now, fetchedFromLeader: false, snapshotFetch: null };
    this.state = s;
    this.sendFetch(s);
  }

  private newCandidateState(epoch: number, retries: number): State & { name: 'Candidate' } {
    return {
      name: 'Candidate',
      epoch,
      retries,
      granted: new Set([this.config.nodeId]),
      rejected: new Set(),
      outstanding: new Map(),
      sent: new Set(),
      electionDeadline: this.now + this.randomElectionTimeoutMs(),
      backoffUntil: null,
    };
  }

  /**
   * KIP-996 pre-vote: before bumping the epoch, ask the voters whether they would vote. Nothing is
   * persisted and the epoch stays; a majority of yeses makes a Candidate. A voter that still hears from
   * its leader says no, so a node cut off from the quorum cannot unseat a healthy leader on its return.
   */
  private toProspective(): void {
    const prev = this.state;
    if (this.isObserver) throw new RaftInvariantError(`observer ${this.config.nodeId} cannot stand for election`);
    if (this.isSingleVoter()) return this.toCandidate();
    const retries = prev.name === 'Candidate' || prev.name === 'Prospective' ? prev.retries : 0;
    const leftBehind = prev.name === 'Follower' ? prev.leaderId : -1;
    const resigned = this.resignedLeader !== null && this.resignedLeader.leaderId === leftBehind && this.resignedLeader.epoch === prev.epoch;
    this.leave();
    const s: State = {
      name: 'Prospective',
      epoch: prev.epoch,
      retries,
      retainedLeader: resigned ? -1 : leftBehind,
      granted: new Set([this.config.nodeId]),
      rejected: new Set(),
      outstanding: new Map(),
      sent: new Set(),
      electionDeadline: this.now + this.randomElectionTimeoutMs(),
    };
    this.state = s;
    for (const v of this.config.voters) if (v !== this.config.nodeId) this.sendVote(s, v);
  }

  private toCandidate(): void {
    const prev = this.state;
    const retries = prev.name === 'Candidate' || prev.name === 'Prospective' ? prev.retries + 1 : 1;
    const epoch = prev.epoch + 1;
    this.leave();
    this.persist({ leaderId: -1, leaderEpoch: epoch, votedId: this.config.nodeId });
    const s = this.newCandidateState(epoch, retries);
    this.state = s;
    if (this.isSingleVoter()) this.toLeader(s);
    else this.sendVotes();
  }

  private toLeader(candidate: State & { name: 'Candidate' }): void {
    const epoch = candidate.epoch;
    this.persist({ leaderId: this.config.nodeId, leaderEpoch: epoch, votedId: this.config.nodeId });
    const replicas = new Map<number, ReplicaState>();
    for (const v of this.config.voters) if (v !== this.config.nodeId) replicas.set(v, newReplicaState(this.now));
    const s: State & { name: 'Leader' } = {
      name: 'Leader',
      epoch,
      epochStartOffset: this.log.endOffset,
      replicas,
      observers: new Map(),
      beginAcked: new Set(),
      outstanding: new Map(),
      parked: new Map(),
      lingerDeadline: null,
    };
    this.state = s;
    this.appendAsLeader(s, [
      { epoch, value: { kind: 'leader-change', leaderId: this.config.nodeId, voters: this.config.voters, grantingVoters: [...candidate.granted].sort((a, b) => a - b) }, appendTimeMs: this.now },
    ]);
    this.flushLeader(s);
    this.sendBeginQuorumEpoch(s, true);
  }

  private toResigned(epoch: number, announce: boolean): void {
    const prev = this.state;
    let successors: number[] = [];
    if (prev?.name === 'Leader') {
      // Voters ranked by how far they have replicated (LeaderState.nonLeaderVotersByDescendingFetchOffset).
      successors = [...prev.replicas.entries()].sort((a, b) => b[1].endOffset - a[1].endOffset || a[0] - b[0]).map(([id]) => id);
    } else {
      successors = this.config.voters.filter((v) => v !== this.config.nodeId);
    }
    this.leave();
    const s: State = {
      name: 'Resigned',
      epoch,
      preferredSuccessors: successors,
      endAcked: new Set(),
      outstanding: new Map(),
      electionDeadline: this.now + this.randomElectionTimeoutMs(),
    };
    this.state = s;
    if (announce || prev === undefined) this.sendEndQuorumEpoch(s, true);
  }

  // ------------------------------------------------------------------------------------------------
  // Elections

  private randomElectionTimeoutMs(): number {
    const t = this.config.electionTimeoutMs;
    return t + this.random.nextInt(t);
  }

  /** KafkaRaftClient.binaryExponentialElectionBackoffMs. */
  private binaryExponentialElectionBackoffMs(retries: number): number {
    return Math.min(RETRY_BACKOFF_BASE_MS * this.random.nextInt(2 << Math.min(20, Math.max(0, retries - 1))), this.config.electionBackoffMaxMs);
  }

  /** KafkaRaftClient.strictExponentialElectionBackoffMs: the rank-th preferred successor waits this long. */
  private strictExponentialElectionBackoffMs(rank: number): number {
    if (rank <= 0) return 0;
    return Math.min(RETRY_BACKOFF_BASE_MS * 2 ** Math.min(20, rank - 1), this.config.electionBackoffMaxMs);
  }

  private sendVotes(): void {
    const s = this.state;
    if (s.name !== 'Candidate') return;
    for (const v of this.config.voters) if (v !== this.config.nodeId) this.sendVote(s, v);
  }

  private sendVote(s: State & { name: 'Candidate' | 'Prospective' }, voter: number): void {
    const preVote = s.name === 'Prospective';
    const correlationId = this.send(voter, {
      kind: 'VoteRequest',
      clusterId: this.config.clusterId,
      // A pre-vote names the epoch the election would be held in.
      candidateEpoch: preVote ? s.epoch + 1 : s.epoch,
      candidateId: this.config.nodeId,
      lastOffsetEpoch: this.log.lastEpoch,
      lastOffset: this.log.endOffset,
      preVote,
    });
    s.outstanding.set(voter, { correlationId, sentAt: this.now });
    s.sent.add(correlationId);
  }

  private resendVotes(s: State & { name: 'Candidate' | 'Prospective' }): void {
    for (const [voter, o] of s.outstanding) if (this.now >= o.sentAt + this.config.requestTimeoutMs) this.sendVote(s, voter);
  }

  private onVoteRequest(m: RaftMessage<VoteRequest>): void {
    const r = m.body;
    const reply = (errorCode: number, partitionErrorCode: number, granted: boolean): void =>
      this.reply(m, { kind: 'VoteResponse', errorCode, partitionErrorCode, leaderId: this.leaderId, leaderEpoch: this.state.epoch, voteGranted: granted });
    if (!this.validClusterId(r.clusterId)) return reply(RaftError.INCONSISTENT_CLUSTER_ID, RaftError.NONE, false);
    const err = this.validateVoterOnlyRequest(r.candidateId, r.candidateEpoch);
    if (err !== RaftError.NONE) return reply(RaftError.NONE, err, false);
    if (this.isObserver) {
      // Nobody asks a non-voter (candidates poll the voters); one that does anyway gets no vote (Kafka:
      // an observer's state can never grant one). Its epoch is not taken either: an observer moves only with leaders.
      return reply(RaftError.NONE, RaftError.NONE, false);
    }
    if (r.preVote) {
      // A pre-vote names the epoch the election would be held in, one above the prospective's own. A
      // prospective already in a later epoch than ours moves us to its epoch, as any message of a later epoch
      // does (Kafka's handleVoteRequest: a PreVote whose epoch is above ours transitions to Unattached, KIP-996):
      // else a node whose Vote requests of that epoch were all lost would poll forever, its epoch above a
      // leader that never hears of it. Otherwise non-binding: no epoch change, nothing persisted.
      if (r.candidateEpoch - 1 > this.state.epoch) this.toUnattached(r.candidateEpoch - 1);
      return reply(RaftError.NONE, RaftError.NONE, this.canGrantPreVote() && this.candidateLogIsUpToDate(r.lastOffsetEpoch, r.lastOffset));
    }
    if (r.candidateEpoch > this.state.epoch) this.toUnattached(r.candidateEpoch);
    const s = this.state;
    let granted = false;
    if (s.name === 'Unattached') {
      granted = this.candidateLogIsUpToDate(r.lastOffsetEpoch, r.lastOffset);
      if (granted) this.toVoted(s.epoch, r.candidateId);
    } else if (s.name === 'Voted') {
      granted = s.votedId === r.candidateId;
    } else if (s.name === 'Prospective') {
      // A Prospective node stays in the epoch where it may have voted or known a leader: the record decides.
      const p = this.persisted;
      if (p.leaderEpoch === s.epoch && p.leaderId < 0 && (p.votedId < 0 || p.votedId === r.candidateId)) {
        granted = this.candidateLogIsUpToDate(r.lastOffsetEpoch, r.lastOffset);
        if (granted) this.toVoted(s.epoch, r.candidateId);
      }
    }
    reply(RaftError.NONE, RaftError.NONE, granted);
  }

  /** KIP-996: who may say yes to a pre-vote. A follower that has fetched from its leader in this epoch may not. */
  private canGrantPreVote(): boolean {
    const s = this.state;
    switch (s.name) {
      case 'Unattached':
      case 'Voted':
      case 'Prospective':
      case 'Candidate':
        return true;
      case 'Follower':
        return !s.fetchedFromLeader;
      case 'Leader':
      case 'Resigned':
        return false;
    }
  }

  private onVoteResponse(m: RaftMessage<VoteResponse>): void {
    const r = m.body;
    if (r.errorCode !== RaftError.NONE) return this.retryLater(m.source);
    this.maybeTransition(r.leaderId, r.leaderEpoch, m.source);
    const s = this.state;
    if (s.name !== 'Candidate' && s.name !== 'Prospective') return;
    // Only answers to requests of this very state count: a pre-vote's yes is no vote, and a vote from an
    // earlier epoch's candidacy is none in this one.
    if (!s.sent.has(m.correlationId)) return;
    if (s.name === 'Candidate' && r.leaderEpoch !== s.epoch) return;
    if (r.partitionErrorCode !== RaftError.NONE) return this.retryLater(m.source);
    s.outstanding.delete(m.source);
    if (s.name === 'Prospective') {
      if (r.voteGranted) s.granted.add(m.source);
      else s.rejected.add(m.source);
      // A majority of yeses: stand for election. A majority of noes: wait out the election timeout.
      if (s.granted.size >= Math.floor(this.config.voters.length / 2) + 1) this.toCandidate();
      return;
    }
    if (r.voteGranted) s.granted.add(m.source);
    else s.rejected.add(m.source);
    const majority = Math.floor(this.config.voters.length / 2) + 1;
    if (s.granted.size >= majority) {
      this.toLeader(s);
    } else if (s.rejected.size >= this.config.voters.length - majority + 1 && s.backoffUntil === null) {
      s.backoffUntil = this.now + this.binaryExponentialElectionBackoffMs(s.retries);
    }
  }

  /** A request that failed on the other side is sent again after controller.quorum.retry.backoff.ms. */
  private retryLater(destination: number): void {
    const s = this.state;
    const o = 'outstanding' in s ? s.outstanding.get(destination) : undefined;
    if (o !== undefined && 'outstanding' in s) {
      s.outstanding.set(destination, { correlationId: o.correlationId, sentAt: this.now - this.config.requestTimeoutMs + this.config.retryBackoffMs });
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Begin / End quorum epoch

  private sendBeginQuorumEpoch(s: State & { name: 'Leader' }, all: boolean): void {
    for (const v of this.config.voters) {
      if (v === this.config.nodeId || s.beginAcked.has(v)) continue;
      const o = s.outstanding.get(v);
      if (!all && o !== undefined && this.now < o.sentAt + this.config.requestTimeoutMs) continue;
      const correlationId = this.send(v, { kind: 'BeginQuorumEpochRequest', clusterId: this.config.clusterId, leaderId: this.config.nodeId, leaderEpoch: s.epoch });
      s.outstanding.set(v, { correlationId, sentAt: this.now });
    }
  }

  private onBeginQuorumEpochRequest(m: RaftMessage<BeginQuorumEpochRequest>): void {
    const r = m.body;
    const reply = (errorCode: number, partitionErrorCode: number): void =>
      this.reply(m, { kind: 'BeginQuorumEpochResponse', errorCode, partitionErrorCode, leaderId: this.leaderId, leaderEpoch: this.state.epoch });
    if (!this.validClusterId(r.clusterId)) return reply(RaftError.INCONSISTENT_CLUSTER_ID, RaftError.NONE);
    const err = this.validateVoterOnlyRequest(r.leaderId, r.leaderEpoch);
    if (err !== RaftError.NONE) return reply(RaftError.NONE, err);
    this.maybeTransition(r.leaderId, r.leaderEpoch, m.source);
    reply(RaftError.NONE, RaftError.NONE);
  }

  private onBeginQuorumEpochResponse(m: RaftMessage<BeginQuorumEpochResponse>): void {
    const r = m.body;
    if (r.errorCode !== RaftError.NONE) return this.retryLater(m.source);
    this.maybeTransition(r.leaderId, r.leaderEpoch, m.source);
    const s = this.state;
    if (s.name !== 'Leader' || r.leaderEpoch !== s.epoch) return;
    if (r.partitionErrorCode !== RaftError.NONE) return this.retryLater(m.source);
    s.beginAcked.add(m.source);
    s.outstanding.delete(m.source);
  }

  private sendEndQuorumEpoch(s: State & { name: 'Resigned' }, all: boolean): void {
    for (const v of this.config.voters) {
      if (v === this.config.nodeId || s.endAcked.has(v)) continue;
      const o = s.outstanding.get(v);
      if (!all && o !== undefined && this.now < o.sentAt + this.config.requestTimeoutMs) continue;
      if (!all && o === undefined) continue;
      const correlationId = this.send(v, {
        kind: 'EndQuorumEpochRequest',
        clusterId: this.config.clusterId,
        leaderId: this.config.nodeId,
        leaderEpoch: s.epoch,
        preferredSuccessors: s.preferredSuccessors,
      });
      s.outstanding.set(v, { correlationId, sentAt: this.now });
    }
  }

  private onEndQuorumEpochRequest(m: RaftMessage<EndQuorumEpochRequest>): void {
    const r = m.body;
    const reply = (errorCode: number, partitionErrorCode: number): void =>
      this.reply(m, { kind: 'EndQuorumEpochResponse', errorCode, partitionErrorCode, leaderId: this.leaderId, leaderEpoch: this.state.epoch });
    if (!this.validClusterId(r.clusterId)) return reply(RaftError.INCONSISTENT_CLUSTER_ID, RaftError.NONE);
    const err = this.validateVoterOnlyRequest(r.leaderId, r.leaderEpoch);
    if (err !== RaftError.NONE) return reply(RaftError.NONE, err);
    this.maybeTransition(r.leaderId, r.leaderEpoch, m.source);
    if (r.leaderEpoch === this.state.epoch) this.resignedLeader = { leaderId: r.leaderId, epoch: r.leaderEpoch };
    const s = this.state;
    if (s.name === 'Follower' && s.epoch === r.leaderEpoch && s.leaderId === r.leaderId) {
      // Its leader is going: pre-votes are welcome again.
      s.fetchedFromLeader = false;
      // The best-placed successor stands at once, the next ones after growing delays, so that the most
      // up-to-date voter usually wins (KafkaRaftClient.endEpochElectionBackoff).
      const rank = r.preferredSuccessors.indexOf(this.config.nodeId);
      const backoff = rank >= 0 ? this.strictExponentialElectionBackoffMs(rank) : this.config.electionBackoffMaxMs;
      s.fetchDeadline = Math.min(s.fetchDeadline, this.now + backoff);
    }
    reply(RaftError.NONE, RaftError.NONE);
  }

  private onEndQuorumEpochResponse(m: RaftMessage<EndQuorumEpochResponse>): void {
    const r = m.body;
    if (r.errorCode !== RaftError.NONE) return this.retryLater(m.source);
    this.maybeTransition(r.leaderId, r.leaderEpoch, m.source);
    const s = this.state;
    if (s.name !== 'Resigned' || r.leaderEpoch !== s.epoch) return;
    s.endAcked.add(m.source);
    s.outstanding.delete(m.source);
  }

  // ------------------------------------------------------------------------------------------------
  // Replication: the leader's side

  private appendAsLeader(s: State & { name: 'Leader' }, records: RaftRecord[]): void {
    const baseOffset = this.log.endOffset;
    this.log.append(records);
    this.out.push({ type: 'append', baseOffset, records });
    // Followers waiting on an empty fetch get the new records now (Kafka's fetch purgatory).
    this.completeParkedFetches(s);
  }

  private flushLeader(s: State & { name: 'Leader' }): void {
    s.lingerDeadline = null;
    this.log.flush();
    this.out.push({ type: 'flush', endOffset: this.log.endOffset });
    this.maybeAdvanceLeaderHighWatermark(s);
  }

  private leaderTick(s: State & { name: 'Leader' }): void {
    if (s.lingerDeadline !== null && this.now >= s.lingerDeadline) this.flushLeader(s);
    if (this.state !== s) return;
    for (const [id, p] of s.parked) {
      if (this.now >= p.deadline) {
        s.parked.delete(id);
        this.answerFetch(p.request);
      }
    }
    if (this.now >= this.checkQuorumDeadline(s)) {
      this.toResigned(s.epoch, true);
      return;
    }
    this.sendBeginQuorumEpoch(s, false);
  }

  /** When the leader must have heard from a majority (itself included) or resign (check quorum). */
  private checkQuorumDeadline(s: State & { name: 'Leader' }): number {
    const times = [...s.replicas.values()].map((r) => r.lastFetchMs).sort((a, b) => b - a);
    // The leader counts itself; it needs floor(n/2) of the others.
    const needed = Math.floor(this.config.voters.length / 2);
    if (needed === 0) return Infinity;
    return times[needed - 1]! + CHECK_QUORUM_TIMEOUT_FACTOR * this.config.fetchTimeoutMs;
  }

  private maybeAdvanceLeaderHighWatermark(s: State & { name: 'Leader' }): void {
    const offsets = [this.log.flushedEndOffset, ...[...s.replicas.values()].map((r) => r.endOffset)].sort((a, b) => b - a);
    // A voter's FetchOffset lies between batches unless it misbehaves; the boundary keeps a batch whole anyway.
    const candidate = this.log.batchBoundaryAtOrBelow(offsets[Math.floor(this.config.voters.length / 2)]!);
    if (candidate > this.hw && this.mayCommit(candidate, s.epochStartOffset)) {
      this.setHighWatermark(candidate);
      this.completeParkedFetches(s);
    }
  }

  private setHighWatermark(offset: number): void {
    this.hw = offset;
    this.out.push({ type: 'high-watermark', offset });
  }

  private onFetchRequest(m: RaftMessage<FetchRequest>): void {
    const r = m.body;
    if (!this.validClusterId(r.clusterId)) return this.reply(m, this.fetchResponse(RaftError.INCONSISTENT_CLUSTER_ID, RaftError.NONE, null, []));
    if (r.fetchOffset < 0 || r.lastFetchedEpoch < 0 || r.lastFetchedEpoch > r.currentLeaderEpoch) {
      return this.reply(m, this.fetchResponse(RaftError.INVALID_REQUEST, RaftError.NONE, null, []));
    }
    const err = this.validateLeaderOnlyRequest(r.currentLeaderEpoch);
    if (err !== RaftError.NONE) return this.answerFetchError(m, err);
    const s = this.state as State & { name: 'Leader' };
    const validation = this.log.validateOffsetAndEpoch(r.fetchOffset, r.lastFetchedEpoch);
    if (!validation.valid && validation.snapshot === true) {
      // Behind the log start: fetch the latest snapshot first (KIP-630). It still counts as contact.
      const replica = s.replicas.get(r.replicaId);
      if (replica !== undefined) {
        replica.lastFetchMs = this.now;
        s.beginAcked.add(r.replicaId);
        s.outstanding.delete(r.replicaId);
      }
      return this.reply(m, { ...this.fetchResponse(RaftError.NONE, RaftError.NONE, null, []), snapshotId: this.latestSnapshot!.id });
    }
    if (!validation.valid) return this.reply(m, this.fetchResponse(RaftError.NONE, RaftError.NONE, validation.diverging, []));
    let replica = s.replicas.get(r.replicaId);
    if (replica === undefined && r.replicaId >= 0) {
      replica = s.observers.get(r.replicaId);
      if (replica === undefined) s.observers.set(r.replicaId, (replica = newReplicaState(this.now)));
      updateFetchTimes(replica, r.fetchOffset, this.log.endOffset, this.now);
      replica.endOffset = Math.max(replica.endOffset, r.fetchOffset);
    } else if (replica !== undefined) {
      // Its log matches ours up to FetchOffset and it flushed before asking: those records are replicated.
      updateFetchTimes(replica, r.fetchOffset, this.log.endOffset, this.now);
      replica.endOffset = Math.max(replica.endOffset, r.fetchOffset);
      replica.lastFetchMs = this.now;
      s.beginAcked.add(r.replicaId);
      s.outstanding.delete(r.replicaId);
      this.maybeAdvanceLeaderHighWatermark(s);
      if (this.state !== s) return;
    }
    if (r.fetchOffset < this.log.endOffset || r.maxWaitMs <= 0) return this.answerFetch(m);
    s.parked.set(r.replicaId, { request: m, deadline: this.now + Math.min(r.maxWaitMs, this.config.fetchMaxWaitMs) });
  }

  private completeParkedFetches(s: State & { name: 'Leader' }): void {
    if (s.parked.size === 0) return;
    const parked = [...s.parked.values()];
    s.parked.clear();
    for (const p of parked) this.answerFetch(p.request);
  }

  private answerFetch(m: RaftMessage<FetchRequest>): void {
    const records = this.log.read(m.body.fetchOffset, this.config.fetchMaxRecords);
    this.reply(m, this.fetchResponse(RaftError.NONE, RaftError.NONE, null, records));
  }

  private answerFetchError(m: RaftMessage<FetchRequest>, partitionErrorCode: number): void {
    this.reply(m, this.fetchResponse(RaftError.NONE, partitionErrorCode, null, []));
  }

  private fetchResponse(errorCode: number, partitionErrorCode: number, diverging: FetchResponse['divergingEpoch'], records: readonly RaftRecord[]): FetchResponse {
    return {
      kind: 'FetchResponse',
      errorCode,
      partitionErrorCode,
      highWatermark: this.state.name === 'Leader' ? this.hw : -1,
      currentLeader: { leaderId: this.leaderId, leaderEpoch: this.state.epoch },
      divergingEpoch: diverging,
      records,
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Replication: the follower's side

  private sendFetch(s: State & { name: 'Follower' }): void {
    if (s.snapshotFetch !== null) return this.sendFetchSnapshot(s);
    const correlationId = this.send(s.leaderId, {
      kind: 'FetchRequest',
      clusterId: this.config.clusterId,
      replicaId: this.config.nodeId,
      maxWaitMs: this.config.fetchMaxWaitMs,
      currentLeaderEpoch: s.epoch,
      fetchOffset: this.log.endOffset,
      lastFetchedEpoch: this.log.lastEpoch,
    });
    s.inflight = { correlationId, sentAt: this.now };
  }

  /**
   * An observer without a leader asks a bootstrap server: from a random one on, the first that is ready
   * (RequestManager.findReadyBootstrapServer); when none is, it waits for the first backoff to end. A
   * voter that is not the leader answers with the leader it knows (NOT_LEADER_OR_FOLLOWER in our epoch,
   * FENCED_LEADER_EPOCH for a newer one), the leader with itself, and maybeTransition makes us its follower.
   */
  private sendDiscoveryFetch(s: State & { name: 'Unattached' }): void {
    s.discovery = null;
    const servers = this.bootstrapServers;
    const start = this.random.nextInt(servers.length);
    let destination: number | null = null;
    let readyAt = Infinity;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(start + i) % servers.length]!;
      const until = s.backoffUntil.get(server) ?? -Infinity;
      if (until <= this.now) {
        destination = server;
        break;
      }
      readyAt = Math.min(readyAt, until);
    }
    if (destination === null) {
      s.nextFetchAt = readyAt;
      return;
    }
    const correlationId = this.send(destination, {
      kind: 'FetchRequest',
      clusterId: this.config.clusterId,
      replicaId: this.config.nodeId,
      maxWaitMs: 0,
      currentLeaderEpoch: s.epoch,
      fetchOffset: this.log.endOffset,
      lastFetchedEpoch: this.log.lastEpoch,
    });
    s.discovery = { correlationId, sentAt: this.now, destination };
  }

  private onFetchResponse(m: RaftMessage<FetchResponse>): void {
    const r = m.body;
    if (r.errorCode === RaftError.NONE) this.maybeTransition(r.currentLeader.leaderId, r.currentLeader.leaderEpoch, m.source);
    const s = this.state;
    if (s.name === 'Unattached' && s.discovery !== null && s.discovery.correlationId === m.correlationId) {
      // The server asked did not name a leader we can follow (none yet, an older epoch, or it could not be
      // reached): it backs off, and the next ready one is asked (by the address asked, not the answer's source:
      // a bootstrap server answers under its own node id).
      s.backoffUntil.set(s.discovery.destination, this.now + this.config.retryBackoffMs);
      s.discovery = null;
      s.nextFetchAt = this.now;
      return;
    }
    if (s.name !== 'Follower' || s.inflight === null || s.inflight.correlationId !== m.correlationId || m.source !== s.leaderId) return;
    s.inflight = null;
    if (r.errorCode !== RaftError.NONE || r.partitionErrorCode !== RaftError.NONE) {
      if (r.partitionErrorCode === RaftError.NOT_LEADER_OR_FOLLOWER && r.currentLeader.leaderEpoch === s.epoch) {
        // Our leader says it no longer leads this epoch (it resigned, or restarted): stop vouching for it.
        this.resignedLeader = { leaderId: s.leaderId, epoch: s.epoch };
        s.fetchedFromLeader = false;
        // An observer hears of the next leader from no one (no BeginQuorumEpoch): it goes looking at once.
        if (this.isObserver) return this.toUnattached(s.epoch);
      }
      s.nextFetchAt = this.now + this.config.retryBackoffMs;
      return;
    }
    if (r.snapshotId != null && r.divergingEpoch === null) {
      // Our log ends before the leader's log start: copy its snapshot, then fetch from its end (KIP-630).
      s.fetchDeadline = this.now + this.config.fetchTimeoutMs;
      s.fetchedFromLeader = true;
      s.snapshotFetch = { id: r.snapshotId, chunks: [], received: 0 };
      this.sendFetchSnapshot(s);
      return;
    }
    if (r.divergingEpoch !== null) {
      // Truncate to where our log and the leader's can still agree (KafkaMetadataLog.truncateToEndOffset):
      // no further than the leader's end of that epoch, and no further than our own end of it.
      const local = this.log.endOffsetForEpoch(r.divergingEpoch.epoch);
      // A batch straddling that point goes whole (the log never keeps half a batch).
      const to = this.log.batchBoundaryAtOrBelow(Math.min(r.divergingEpoch.offset, local.offset, this.log.endOffset));
      if (to < this.hw) throw new RaftInvariantError(`node ${this.config.nodeId}: truncation to ${to} below the high watermark ${this.hw}`);
      this.log.truncateTo(to);
      this.out.push({ type: 'truncate', offset: to });
    } else if (r.records.length > 0) {
      if (r.records[r.records.length - 1]!.batchContinues === true) {
        // Half a batch: never from a correct leader (batches go whole); fetch again rather than keep it.
        s.nextFetchAt = this.now + this.config.retryBackoffMs;
        return;
      }
      const baseOffset = this.log.endOffset;
      this.log.append(r.records);
      this.log.flush();
      this.out.push({ type: 'append', baseOffset, records: r.records });
      this.out.push({ type: 'flush', endOffset: this.log.endOffset });
    }
    s.fetchDeadline = this.now + this.config.fetchTimeoutMs;
    s.fetchedFromLeader = true;
    // Our whole log now matches the leader's, so its high watermark holds for our prefix.
    const hw = this.log.batchBoundaryAtOrBelow(Math.min(r.highWatermark, this.log.endOffset));
    if (r.divergingEpoch === null && hw > this.hw) this.setHighWatermark(hw);
    this.sendFetch(s);
  }

  // ------------------------------------------------------------------------------------------------
  // FetchSnapshot (KIP-630)

  private onFetchSnapshotRequest(m: RaftMessage<FetchSnapshotRequest>): void {
    const r = m.body;
    const answer = (errorCode: number, partitionErrorCode: number, size = -1, bytes: Uint8Array = new Uint8Array(0)): void =>
      this.reply(m, {
        kind: 'FetchSnapshotResponse',
        errorCode,
        partitionErrorCode,
        currentLeader: { leaderId: this.leaderId, leaderEpoch: this.state.epoch },
        snapshotId: r.snapshotId,
        size,
        position: r.position,
        bytes,
      });
    if (!this.validClusterId(r.clusterId)) return answer(RaftError.INCONSISTENT_CLUSTER_ID, RaftError.NONE);
    const err = this.validateLeaderOnlyRequest(r.currentLeaderEpoch);
    if (err !== RaftError.NONE) return answer(RaftError.NONE, err);
    const s = this.state as State & { name: 'Leader' };
    // KafkaRaftClient.handleFetchSnapshotRequest: the snapshot must exist here, the position be inside it.
    const snap = this.latestSnapshot;
    if (snap === null || snap.id.offset !== r.snapshotId.offset || snap.id.epoch !== r.snapshotId.epoch) return answer(RaftError.NONE, RaftError.SNAPSHOT_NOT_FOUND);
    if (r.position < 0 || r.position >= snap.bytes.length) return answer(RaftError.NONE, RaftError.POSITION_OUT_OF_RANGE);
    const replica = s.replicas.get(r.replicaId);
    if (replica !== undefined) {
      // A voter copying the snapshot is in contact (check quorum counts it, as Kafka does).
      replica.lastFetchMs = this.now;
      s.beginAcked.add(r.replicaId);
      s.outstanding.delete(r.replicaId);
    }
    const max = Math.max(1, Math.min(r.maxBytes, this.config.fetchSnapshotMaxBytes));
    answer(RaftError.NONE, RaftError.NONE, snap.bytes.length, snap.bytes.subarray(r.position, r.position + max));
  }

  private sendFetchSnapshot(s: State & { name: 'Follower' }): void {
    const f = s.snapshotFetch!;
    const correlationId = this.send(s.leaderId, {
      kind: 'FetchSnapshotRequest',
      clusterId: this.config.clusterId,
      replicaId: this.config.nodeId,
      maxBytes: this.config.fetchSnapshotMaxBytes,
      currentLeaderEpoch: s.epoch,
      snapshotId: f.id,
      position: f.received,
    });
    s.inflight = { correlationId, sentAt: this.now };
  }

  private onFetchSnapshotResponse(m: RaftMessage<FetchSnapshotResponse>): void {
    const r = m.body;
    if (r.errorCode === RaftError.NONE) this.maybeTransition(r.currentLeader.leaderId, r.currentLeader.leaderEpoch, m.source);
    const s = this.state;
    if (s.name !== 'Follower' || s.inflight === null || s.inflight.correlationId !== m.correlationId || m.source !== s.leaderId || s.snapshotFetch === null) return;
    s.inflight = null;
    const f = s.snapshotFetch;
    if (r.errorCode !== RaftError.NONE || r.partitionErrorCode !== RaftError.NONE) {
      // The snapshot is gone (a newer one replaced it) or we asked past its end: start over with a Fetch,
      // whose answer names the leader's current snapshot.
      if (r.partitionErrorCode === RaftError.SNAPSHOT_NOT_FOUND || r.partitionErrorCode === RaftError.POSITION_OUT_OF_RANGE) s.snapshotFetch = null;
      if (r.partitionErrorCode === RaftError.NOT_LEADER_OR_FOLLOWER && r.currentLeader.leaderEpoch === s.epoch) {
        this.resignedLeader = { leaderId: s.leaderId, epoch: s.epoch };
        s.fetchedFromLeader = false;
        if (this.isObserver) return this.toUnattached(s.epoch);
      }
      s.nextFetchAt = this.now + this.config.retryBackoffMs;
      return;
    }
    const sameId = r.snapshotId.offset === f.id.offset && r.snapshotId.epoch === f.id.epoch;
    if (!sameId || r.position !== f.received || r.size <= 0 || r.size > MAX_SNAPSHOT_BYTES || r.bytes.length === 0 || f.received + r.bytes.length > r.size) {
      // Not the chunk we asked for (or a malformed one): drop what we have and start over.
      s.snapshotFetch = null;
      s.nextFetchAt = this.now + this.config.retryBackoffMs;
      return;
    }
    f.chunks.push(r.bytes);
    f.received += r.bytes.length;
    s.fetchDeadline = this.now + this.config.fetchTimeoutMs;
    s.fetchedFromLeader = true;
    if (f.received < r.size) return this.sendFetchSnapshot(s);
    s.snapshotFetch = null;
    if (f.id.offset > this.log.endOffset || f.id.offset > this.hw) {
      const bytes = concatChunks(f.chunks, f.received);
      // Everything in the snapshot is committed; what our log held after our high watermark is dropped
      // with the rest (KafkaRaftClient: log.truncateToLatestSnapshot after onSnapshotFetchComplete).
      this.log.resetTo(f.id);
      this.latestSnapshot = { id: f.id, bytes };
      this.hw = Math.max(this.hw, f.id.offset);
      this.out.push({ type: 'install-snapshot', snapshotId: f.id, bytes });
    }
    this.sendFetch(s);
  }

  // ------------------------------------------------------------------------------------------------
  // Validation and sending

  /** hasValidClusterId: a request without a cluster id is accepted (older senders), another id is not. */
  private validClusterId(clusterId: string | null): boolean {
    return clusterId === null || clusterId === this.config.clusterId;
  }

  private validateVoterOnlyRequest(remoteId: number, requestEpoch: number): number {
    if (requestEpoch < this.state.epoch) return RaftError.FENCED_LEADER_EPOCH;
    if (remoteId < 0) return RaftError.INVALID_REQUEST;
    if (!this.isVoter(remoteId)) return RaftError.INCONSISTENT_VOTER_SET;
    return RaftError.NONE;
  }

  private validateLeaderOnlyRequest(requestEpoch: number): number {
    if (requestEpoch < this.state.epoch) return RaftError.FENCED_LEADER_EPOCH;
    if (requestEpoch > this.state.epoch) return RaftError.UNKNOWN_LEADER_EPOCH;
    if (this.state.name !== 'Leader') return RaftError.NOT_LEADER_OR_FOLLOWER;
    return RaftError.NONE;
  }

  private send(destination: number, body: RaftBody): number {
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    this.out.push({ type: 'send', message: { source: this.config.nodeId, destination, correlationId, body } });
    return correlationId;
  }

  private reply(request: RaftMessage, body: RaftBody): void {
    this.out.push({ type: 'send', message: { source: this.config.nodeId, destination: request.source, correlationId: request.correlationId, body } });
  }
}

function concatChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

function newReplicaState(now: number): ReplicaState {
  return { endOffset: -1, lastFetchMs: now, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1, leaderEndAtLastFetch: -1 };
}

/**
 * Kafka's ReplicaState.updateFetchTimestamp / lastCaughtUpTimestamp: a replica that fetched at or past the
 * leader's end offset of this moment is caught up now; one that reached the end offset the leader had at
 * its previous fetch was caught up as of that previous fetch.
 */
function updateFetchTimes(r: ReplicaState, fetchOffset: number, leaderEnd: number, now: number): void {
  if (fetchOffset >= leaderEnd) r.lastCaughtUpTimestamp = Math.max(r.lastCaughtUpTimestamp, now);
  else if (r.leaderEndAtLastFetch >= 0 && fetchOffset >= r.leaderEndAtLastFetch) r.lastCaughtUpTimestamp = Math.max(r.lastCaughtUpTimestamp, r.lastFetchTimestamp);
  r.lastFetchTimestamp = Math.max(r.lastFetchTimestamp, now);
  r.leaderEndAtLastFetch = leaderEnd;
}
