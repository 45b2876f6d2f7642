/**
 * A voter of the metadata quorum: the pure RaftCore (raft-core.ts) with its disk (raft-store.ts), its
 * network (raft-transport.ts for requests it sends; the CONTROLLER listener hands it the requests it gets,
 * see raft-handlers.ts) and its one timer (the injected Clock). The state machine above (the controller)
 * proposes record batches and reads the log through listeners.
 *
 * Effects run strictly in the order the core emits them, one at a time, each awaited: quorum-state is on
 * disk before the vote it records is answered, records are flushed before an offset that claims them is
 * sent or committed (docs/raft.md "A pure state machine"). The core's own state runs ahead of the disk; the
 * listeners and the `propose` promises follow the disk (what the effects have done so far).
 *
 * Listeners, each called in log order, never concurrently with another effect:
 * - onAppend: every record the local log takes (committed or not) and onTruncate: where it was cut. The
 *   active controller's state is the replay of its whole log (Kafka's controller applies on append);
 * - onSnapshotLoaded: the snapshot (KIP-630) the state machine starts from: the newest `.checkpoint` at
 *   open, and one fetched from the leader (FetchSnapshot) when this node was behind its log start; the
 *   state is then that snapshot, and onCommit goes on after its end offset;
 * - onCommit: committed records, from the log start or the loaded snapshot's end (a restarted node replays
 *   its log as the high watermark learnt from the leader passes it), then as the high watermark moves;
 * - onLeaderChange: the leader and epoch, whenever either changes (leaderId -1: none known);
 * - onFatal: a disk failure or a broken invariant; the node stops (never runs on a state it cannot trust).
 * A listener registered late first gets what it missed (the log so far, the current leader).
 */
import type { Logger } from 'pino';
import { ControlRecordType, encodeLeaderChange } from '../../../protocol/records/control.js';
import type { Clock, Timer } from '../../util/clock.js';
import { QuorumConfigError, type QuorumConfig, type VoterAddress } from './config.js';
import type { RaftRecord } from './log.js';
import type { BeginQuorumEpochRequest, BeginQuorumEpochResponse, EndQuorumEpochRequest, EndQuorumEpochResponse, FetchRequest, FetchResponse, RaftMessage, RaftRequest, RaftResponse, VoteRequest, VoteResponse } from './messages.js';
import { RaftCore, type QuorumDescription, type RaftEffect, type RaftStateName } from './raft-core.js';
import { RaftStore } from './raft-store.js';
import { decodeSnapshot, encodeSnapshot, type SnapshotId } from './snapshot.js';
import { RaftTransport } from './raft-transport.js';
import type { Random } from './random.js';

export interface RaftNodeOptions {
  readonly config: QuorumConfig;
  /** host/port of each voter's CONTROLLER listener (this node's own entry is not used). */
  readonly voters: readonly VoterAddress[];
  /**
   * controller.quorum.bootstrap.servers, each under its node id (config.ts bootstrapServerId): an observer
   * without voters finds the leader through them (KIP-853). One for each of config.bootstrapServers.
   */
  readonly bootstrapServers?: readonly VoterAddress[];
  /** `<metadata log dir>/__cluster_metadata-0`. */
  readonly dir: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** metadata.log.segment.bytes. */
  readonly segmentBytes?: number;
  /** Checks each data record on load (default: a metadata record, see raft-store.ts). */
  readonly checkValue?: (value: Buffer) => void;
  /**
   * metadata.max.retention.bytes / .ms: after a snapshot, the log before it is deleted once the log is
   * larger than this, or its oldest record older (-1: no limit by that measure). Default: both -1, the log
   * is kept whole.
   */
  readonly maxRetentionBytes?: number;
  readonly maxRetentionMs?: number;
}

/** A snapshot the state machine must start from (KIP-630): its id and its metadata record frames. */
export interface LoadedSnapshot {
  readonly id: SnapshotId;
  readonly values: readonly Buffer[];
  readonly lastContainedLogTimestamp: number;
}

/** One record of the metadata log as the listeners see it. */
export interface CommittedRecord {
  readonly offset: number;
  /** The Raft epoch it was appended in (its batch's partitionLeaderEpoch). */
  readonly epoch: number;
  /** ControlRecordType for a control record (LEADER_CHANGE = 2), null for a metadata record. */
  readonly control: number | null;
  /** The record's value: a metadata record frame, or the control record's value (LeaderChangeMessage). */
  readonly value: Buffer;
  /** The batch's append time (the leader's clock). */
  readonly timestamp: number;
  /** The last record of its batch (one proposal): a state machine applies a batch whole. */
  readonly lastInBatch: boolean;
}

export interface LeaderAndEpoch {
  readonly leaderId: number;
  readonly epoch: number;
}

/** propose() on a node that is not the leader, or that lost the leadership before the batch committed. */
export class NotControllerError extends Error {
  override readonly name = 'NotControllerError';
  constructor(
    readonly leaderId: number,
    readonly epoch: number,
    why = 'this node is not the active controller',
  ) {
    super(`${why} (leader ${leaderId < 0 ? 'unknown' : leaderId}, epoch ${epoch})`);
  }
}

/** A request reached a node that is closed or stopped on a failure. */
export class RaftNodeClosedError extends Error {
  override readonly name = 'RaftNodeClosedError';
}

type Task = { readonly kind: 'effect'; readonly effect: RaftEffect } | { readonly kind: 'call'; readonly fn: () => void } | { readonly kind: 'io'; readonly fn: () => Promise<void> };

interface PendingProposal {
  readonly epoch: number;
  readonly resolve: (r: { lastOffset: number; epoch: number }) => void;
  readonly reject: (err: Error) => void;
}

function toListenerRecord(r: RaftRecord, offset: number): CommittedRecord {
  const timestamp = r.appendTimeMs ?? -1;
  const lastInBatch = r.batchContinues !== true;
  if (r.value.kind === 'leader-change') {
    const v = r.value;
    return { offset, epoch: r.epoch, control: ControlRecordType.LEADER_CHANGE, value: encodeLeaderChange(v.leaderId, v.voters, v.grantingVoters), timestamp, lastInBatch };
  }
  const d = r.value.data;
  return { offset, epoch: r.epoch, control: null, value: Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength), timestamp, lastInBatch };
}

function sourceOf(r: RaftRequest): number {
  switch (r.kind) {
    case 'VoteRequest':
      return r.candidateId;
    case 'BeginQuorumEpochRequest':
    case 'EndQuorumEpochRequest':
      return r.leaderId;
    case 'FetchRequest':
    case 'FetchSnapshotRequest':
      return r.replicaId;
  }
}

export class RaftNode {
  private readonly tasks: Task[] = [];
  /** Set while pump() runs (synchronously at its start: a pump with only calls to make ends before its promise is stored). */
  private pumpActive = false;
  private pumping: Promise<void> = Promise.resolve();
  /** The log as the effects performed so far left it (the listeners' view), from offset diskStart. */
  private disk: CommittedRecord[];
  private diskStart: number;
  private committed: number;
  /** The snapshot the state machine starts from in this incarnation (null: from offset 0). */
  private loaded: LoadedSnapshot | null;
  private readonly snapshotListeners: ((s: LoadedSnapshot) => void)[] = [];
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly inbound = new Map<number, (r: RaftResponse) => void>();
  private readonly inboundRejects = new Map<number, (e: Error) => void>();
  private nextInboundId = 0;
  private timer: Timer | null = null;
  private timerAt = Infinity;
  private lastLeader: LeaderAndEpoch & { isLocal: boolean };
  private closing: Promise<void> | null = null;
  private failure: Error | null = null;
  private readonly commitListeners: ((records: readonly CommittedRecord[], highWatermark: number) => void)[] = [];
  private readonly appendListeners: ((records: readonly CommittedRecord[]) => void)[] = [];
  private readonly truncateListeners: ((offset: number) => void)[] = [];
  private readonly leaderListeners: ((leader: LeaderAndEpoch & { isLocal: boolean }) => void)[] = [];
  private readonly fatalListeners: ((err: Error) => void)[] = [];
  private readonly transport: RaftTransport;

  private constructor(
    private readonly o: RaftNodeOptions,
    private readonly core: RaftCore,
    private readonly store: RaftStore,
    recovered: readonly RaftRecord[],
    logStart: number,
    loaded: LoadedSnapshot | null,
  ) {
    this.diskStart = logStart;
    this.disk = recovered.map((r, i) => toListenerRecord(r, logStart + i));
    this.loaded = loaded;
    this.committed = loaded?.id.offset ?? logStart;
    this.lastLeader = { leaderId: -1, epoch: -1, isLocal: false };
    this.transport = new RaftTransport({
      nodeId: o.config.nodeId,
      voters: o.voters,
      ...(o.bootstrapServers !== undefined ? { bootstrapServers: o.bootstrapServers } : {}),
      clock: o.clock,
      logger: o.logger,
      requestTimeoutMs: o.config.requestTimeoutMs,
      onResponse: (m) => this.step(() => this.core.handle(this.o.clock.now(), m)),
    });
  }

  /** Recovers the log and quorum-state from `dir` and starts the core (and its timer). */
  static async open(o: RaftNodeOptions): Promise<RaftNode> {
    const known = new Set(o.voters.map((v) => v.id));
    const missing = o.config.voters.filter((id) => id !== o.config.nodeId && !known.has(id));
    if (missing.length > 0) throw new QuorumConfigError(`no address for voter(s) ${missing.join(', ')} in controller.quorum.voters`);
    const bootstrap = new Set((o.bootstrapServers ?? []).map((b) => b.id));
    if (o.config.bootstrapServers.some((id) => !bootstrap.has(id))) throw new QuorumConfigError('no address for some of controller.quorum.bootstrap.servers');
    const logger = o.logger.child({ component: 'raft', nodeId: o.config.nodeId });
    // The store names itself (component raft-store): from the parent, so no line carries the key twice.
    const { store, recovered } = await RaftStore.open({ dir: o.dir, voters: o.config.voters, clock: o.clock, logger: o.logger.child({ nodeId: o.config.nodeId }), ...(o.segmentBytes !== undefined ? { segmentBytes: o.segmentBytes } : {}), ...(o.checkValue ? { checkValue: o.checkValue } : {}) });
    const latest = recovered.latest;
    const core = new RaftCore(o.config, recovered.quorumState, recovered.records, o.clock.now(), o.random, { logStart: recovered.logStart, latest: latest === null ? null : { id: latest.id, bytes: latest.bytes } });
    const loaded = latest === null ? null : { id: latest.id, values: latest.content.values, lastContainedLogTimestamp: latest.content.lastContainedLogTimestamp };
    const node = new RaftNode({ ...o, logger }, core, store, recovered.records, recovered.logStart.offset, loaded);
    logger.info({ state: core.stateName, epoch: core.epoch, logEndOffset: core.logEndOffset, voters: o.config.voters, ...(o.config.voters.length === 0 ? { bootstrapServers: (o.bootstrapServers ?? []).map((b) => `${b.host}:${b.port}`) } : {}) }, 'raft node started');
    node.step(() => core.drain());
    return node;
  }

  // ------------------------------------------------------------------------------------------------
  // Views

  get nodeId(): number {
    return this.o.config.nodeId;
  }

  get clusterId(): string {
    return this.o.config.clusterId;
  }

  /** Each voter's CONTROLLER listener address (controller.quorum.voters). */
  get voterAddresses(): readonly VoterAddress[] {
    return this.o.voters;
  }

  /**
   * Where node `id`'s CONTROLLER listener is: a voter's configured address, or a leader's learnt from a
   * Fetch answer's NodeEndpoints (an observer with bootstrap servers only); null when unknown.
   */
  endpointOf(id: number): { nodeId: number; host: string; port: number } | null {
    const e = this.transport.endpointOf(id);
    return e === null || e.port === 0 ? null : { nodeId: id, host: e.host, port: e.port };
  }

  /** The leader this node knows and the epoch (leaderId -1 when none, or when this node resigned). */
  get leader(): LeaderAndEpoch {
    const s = this.core.stateName;
    const leaderId = s === 'Leader' || s === 'Follower' ? this.core.leaderId : -1;
    return { leaderId, epoch: this.core.epoch };
  }

  get isLeader(): boolean {
    return this.core.stateName === 'Leader';
  }

  get stateName(): RaftStateName {
    return this.core.stateName;
  }

  /** The high watermark the listeners have seen (records below it were delivered to onCommit). */
  get highWatermark(): number {
    return this.committed;
  }

  /** The local log end offset (as written so far). */
  get logEndOffset(): number {
    return this.diskStart + this.disk.length;
  }

  /** The local log start offset (0, or the end of the snapshot the log was cut at). */
  get logStartOffset(): number {
    return this.diskStart;
  }

  /** The newest snapshot's id (written here or fetched), null when none. */
  get latestSnapshotId(): SnapshotId | null {
    return this.core.snapshot?.id ?? null;
  }

  /** What DescribeQuorum answers, or null when this node is not the leader. */
  describeQuorum(): QuorumDescription | null {
    return this.core.describeQuorum(this.o.clock.now());
  }

  // ------------------------------------------------------------------------------------------------
  // Listeners

  onCommit(l: (records: readonly CommittedRecord[], highWatermark: number) => void): void {
    // Joins at its place in the task queue: first what was committed by then, then every later move.
    this.enqueueCall(() => {
      const from = Math.max(this.diskStart, this.loaded?.id.offset ?? 0);
      if (this.committed > from) l(this.disk.slice(from - this.diskStart, this.committed - this.diskStart), this.committed);
      this.commitListeners.push(l);
    });
  }

  /** The snapshot the state machine starts from: the one loaded at open (at once), then each one fetched from the leader. Register before onCommit. */
  onSnapshotLoaded(l: (s: LoadedSnapshot) => void): void {
    this.enqueueCall(() => {
      if (this.loaded !== null) l(this.loaded);
      this.snapshotListeners.push(l);
    });
  }

  /**
   * Writes a snapshot of the state machine at endOffset (a committed batch boundary: the offset after the
   * last record its `values` cover) as `<endOffset>-<epoch>.checkpoint`, then tells the core, which serves
   * it to followers behind its log start; then, past metadata.max.retention.bytes/.ms, deletes the log
   * before it. Resolves once done (false: skipped, not newer than the latest snapshot or not committed).
   */
  createSnapshot(endOffset: number, values: readonly Buffer[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.tasks.push({
        kind: 'io',
        fn: async () => {
          const latest = this.core.snapshot?.id.offset ?? 0;
          if (endOffset <= latest || endOffset > this.committed || endOffset <= this.diskStart) return resolve(false);
          const last = this.disk[endOffset - 1 - this.diskStart]!;
          const id = { offset: endOffset, epoch: last.epoch };
          const bytes = encodeSnapshot(id, { lastContainedLogTimestamp: last.timestamp, values }, this.o.clock.now());
          try {
            await this.store.writeSnapshot({ id, bytes });
          } catch (err) {
            reject(err as Error);
            throw err;
          }
          this.o.logger.info({ snapshotId: id, bytes: bytes.length, records: values.length }, 'wrote a metadata snapshot');
          this.step(() => this.core.snapshotCreated(this.o.clock.now(), { id, bytes }));
          if (this.pastRetention()) this.step(() => this.core.deleteBeforeLatestSnapshot(this.o.clock.now()));
          resolve(true);
        },
      });
      this.startPump();
    });
  }

  /** metadata.max.retention.bytes/.ms: the log is larger, or its oldest record older, than allowed. */
  private pastRetention(): boolean {
    const bytes = this.o.maxRetentionBytes ?? -1;
    const ms = this.o.maxRetentionMs ?? -1;
    if (bytes >= 0 && this.store.logSizeBytes > bytes) return true;
    const oldest = this.disk[0];
    return ms >= 0 && oldest !== undefined && oldest.timestamp >= 0 && this.o.clock.now() - oldest.timestamp > ms;
  }

  onAppend(l: (records: readonly CommittedRecord[]) => void): void {
    this.enqueueCall(() => {
      if (this.disk.length > 0) l(this.disk.slice());
      this.appendListeners.push(l);
    });
  }

  onTruncate(l: (offset: number) => void): void {
    this.enqueueCall(() => this.truncateListeners.push(l));
  }

  onLeaderChange(l: (leader: LeaderAndEpoch & { isLocal: boolean }) => void): void {
    const current = this.lastLeader;
    this.enqueueCall(() => {
      if (current.epoch >= 0) l(current);
      this.leaderListeners.push(l);
    });
  }

  onFatal(l: (err: Error) => void): void {
    this.fatalListeners.push(l);
  }

  // ------------------------------------------------------------------------------------------------
  // Proposals

  /**
   * Appends `values` (metadata record frames) as one record batch if this node leads. Resolves with the
   * batch's last offset once it is committed; rejects with NotControllerError when this node does not lead,
   * or loses the leadership (or its records) before the batch commits.
   */
  propose(values: readonly Uint8Array[]): Promise<{ lastOffset: number; epoch: number }> {
    if (this.failure !== null || this.closing !== null) return Promise.reject(new NotControllerError(-1, this.core.epoch, 'this node is shutting down'));
    if (values.length === 0) return Promise.reject(new RangeError('a proposal needs at least one record'));
    return new Promise((resolve, reject) => {
      this.step(() => {
        const { result, effects } = this.core.propose(this.o.clock.now(), values);
        if (result.ok) this.proposals.set(result.lastOffset, { epoch: result.epoch, resolve, reject });
        else reject(new NotControllerError(this.leader.leaderId, this.core.epoch));
        return effects;
      });
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Requests from other voters (the CONTROLLER listener)

  handleVote(r: VoteRequest): Promise<VoteResponse> {
    return this.handle(r) as Promise<VoteResponse>;
  }
  handleBeginQuorumEpoch(r: BeginQuorumEpochRequest): Promise<BeginQuorumEpochResponse> {
    return this.handle(r) as Promise<BeginQuorumEpochResponse>;
  }
  handleEndQuorumEpoch(r: EndQuorumEpochRequest): Promise<EndQuorumEpochResponse> {
    return this.handle(r) as Promise<EndQuorumEpochResponse>;
  }
  handleFetch(r: FetchRequest): Promise<FetchResponse> {
    return this.handle(r) as Promise<FetchResponse>;
  }

  /** Any Raft request; the answer comes once every effect before it is done (a Fetch may wait up to maxWaitMs). */
  handle(request: RaftRequest): Promise<RaftResponse> {
    if (this.failure !== null || this.closing !== null) return Promise.reject(new RaftNodeClosedError(`raft node ${this.nodeId} is ${this.failure ? 'stopped' : 'closing'}`));
    const id = this.nextInboundId;
    this.nextInboundId = (this.nextInboundId + 1) | 0;
    return new Promise((resolve, reject) => {
      this.inbound.set(id, resolve);
      this.inboundRejects.set(id, reject);
      const message: RaftMessage = { source: sourceOf(request), destination: this.nodeId, correlationId: id, body: request };
      this.step(() => this.core.handle(this.o.clock.now(), message));
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Resigns if leader (EndQuorumEpoch to the others, so they elect at once), performs what is queued,
   * closes sockets and files. `{ resign: false }` leaves without a word, as a crashed node would: the
   * others notice by their fetch timeout.
   */
  close(options: { resign?: boolean } = {}): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      if (options.resign !== false && this.failure === null && this.core.stateName === 'Leader') {
        try {
          this.enqueue(this.core.resign(this.o.clock.now()));
        } catch (err) {
          this.fail(err as Error);
        }
      }
      this.cancelTimer();
      await this.drained();
      this.rejectAll(new NotControllerError(-1, this.core.epoch, 'this node is shutting down'));
      this.transport.close();
      try {
        await this.store.close({ clean: this.failure === null });
      } catch (err) {
        // After a disk failure the files may be beyond closing cleanly; the failure was reported already.
        if (this.failure === null) throw err;
        this.o.logger.warn({ err }, 'closing the metadata log after a failure');
      }
      this.o.logger.info({ epoch: this.core.epoch }, 'raft node closed');
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------------------------------------
  // The engine

  /** Runs one input of the core and queues its effects; then notes a leader change and re-arms the timer. */
  private step(input: () => RaftEffect[]): void {
    if (this.failure !== null || this.closing !== null) return;
    let effects: RaftEffect[];
    try {
      effects = input();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.enqueue(effects);
    this.noteLeader();
    this.rearm();
  }

  private noteLeader(): void {
    const now = { ...this.leader, isLocal: this.core.stateName === 'Leader' };
    const prev = this.lastLeader;
    if (now.leaderId === prev.leaderId && now.epoch === prev.epoch && now.isLocal === prev.isLocal) return;
    this.lastLeader = now;
    this.o.logger.info({ leaderId: now.leaderId, epoch: now.epoch, state: this.core.stateName }, now.isLocal ? 'became the leader (active controller)' : 'leader changed');
    this.enqueueCall(() => {
      if (prev.isLocal && !now.isLocal) this.rejectProposals(new NotControllerError(now.leaderId, now.epoch, 'this node lost the leadership before the batch committed'));
      for (const l of this.leaderListeners) l(now);
    });
  }

  private rearm(): void {
    const at = this.core.nextWakeupMs();
    if (at === this.timerAt) return;
    this.cancelTimer();
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.o.clock.schedule(Math.max(0, at - this.o.clock.now()), () => {
      this.timer = null;
      this.timerAt = Infinity;
      const now = this.o.clock.now();
      this.transport.expire(now);
      this.step(() => this.core.tick(now));
    });
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
  }

  private enqueue(effects: readonly RaftEffect[]): void {
    for (const effect of effects) this.tasks.push({ kind: 'effect', effect });
    this.startPump();
  }

  /** Runs fn after every effect queued so far (listener notifications keep their place in the log's order). */
  private enqueueCall(fn: () => void): void {
    this.tasks.push({ kind: 'call', fn });
    this.startPump();
  }

  private startPump(): void {
    if (this.pumpActive || this.tasks.length === 0) return;
    this.pumpActive = true;
    this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (this.tasks.length > 0 && this.failure === null) {
        const t = this.tasks.shift()!;
        if (t.kind === 'call') t.fn();
        else if (t.kind === 'io') await t.fn();
        else await this.perform(t.effect);
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.pumpActive = false;
    }
  }

  /** Resolves once the task queue is empty. */
  private async drained(): Promise<void> {
    while (this.pumpActive) await this.pumping;
  }

  private async perform(e: RaftEffect): Promise<void> {
    switch (e.type) {
      case 'persist-quorum-state':
        await this.store.writeQuorumState(e.state);
        return;
      case 'append': {
        await this.store.append(e.baseOffset, e.records);
        const added = e.records.map((r, i) => toListenerRecord(r, e.baseOffset + i));
        this.disk.push(...added);
        for (const l of this.appendListeners) l(added);
        return;
      }
      case 'truncate':
        await this.store.truncateTo(e.offset);
        if (e.offset < this.logEndOffset) {
          this.disk.length = e.offset - this.diskStart;
          for (const [lastOffset, p] of this.proposals) {
            if (lastOffset >= e.offset) {
              this.proposals.delete(lastOffset);
              p.reject(new NotControllerError(this.leader.leaderId, this.core.epoch, 'the batch was truncated from the log before it committed'));
            }
          }
          for (const l of this.truncateListeners) l(e.offset);
        }
        return;
      case 'flush':
        await this.store.flush();
        return;
      case 'send':
        this.send(e.message);
        return;
      case 'high-watermark':
        this.advanceHighWatermark(e.offset);
        return;
      case 'log-start': {
        await this.store.deleteBefore(e.snapshotId);
        const drop = Math.min(this.disk.length, e.snapshotId.offset - this.diskStart);
        if (drop > 0) this.disk.splice(0, drop);
        this.diskStart = e.snapshotId.offset;
        this.o.logger.info({ logStartOffset: this.diskStart }, 'deleted the metadata log before the latest snapshot');
        return;
      }
      case 'install-snapshot': {
        // Decoded before anything is replaced: a snapshot that does not read stops the node (never half an image).
        const content = decodeSnapshot(Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength), 'fetched snapshot');
        if (this.o.checkValue) for (const v of content.values) this.o.checkValue(v);
        await this.store.installSnapshot({ id: e.snapshotId, bytes: e.bytes });
        this.disk = [];
        this.diskStart = e.snapshotId.offset;
        this.committed = e.snapshotId.offset;
        this.loaded = { id: e.snapshotId, values: content.values, lastContainedLogTimestamp: content.lastContainedLogTimestamp };
        this.o.logger.info({ snapshotId: e.snapshotId, bytes: e.bytes.length }, 'installed a metadata snapshot fetched from the leader');
        for (const [lastOffset, p] of this.proposals) {
          this.proposals.delete(lastOffset);
          p.reject(new NotControllerError(this.leader.leaderId, this.core.epoch, 'the log was replaced by the leader\'s snapshot before the batch committed'));
        }
        for (const l of this.snapshotListeners) l(this.loaded);
        return;
      }
    }
  }

  private send(m: RaftMessage): void {
    const b = m.body;
    if (b.kind.endsWith('Response')) {
      const resolve = this.inbound.get(m.correlationId);
      if (resolve === undefined) return;
      this.inbound.delete(m.correlationId);
      this.inboundRejects.delete(m.correlationId);
      resolve(b as RaftResponse);
    } else {
      this.transport.send(m as RaftMessage<RaftRequest>);
    }
  }

  private advanceHighWatermark(offset: number): void {
    const hw = Math.min(offset, this.logEndOffset);
    if (hw <= this.committed) return;
    const records = this.disk.slice(this.committed - this.diskStart, hw - this.diskStart);
    this.committed = hw;
    for (const l of this.commitListeners) l(records, hw);
    for (const [lastOffset, p] of this.proposals) {
      if (lastOffset >= hw) continue;
      this.proposals.delete(lastOffset);
      // The record at that offset is ours only if it is of our epoch (one leader per epoch).
      if (this.disk[lastOffset - this.diskStart]?.epoch === p.epoch) p.resolve({ lastOffset, epoch: p.epoch });
      else p.reject(new NotControllerError(this.leader.leaderId, this.core.epoch, 'another leader\'s records were committed in place of the batch'));
    }
  }

  private rejectProposals(err: Error): void {
    const pending = [...this.proposals.values()];
    this.proposals.clear();
    for (const p of pending) p.reject(err);
  }

  private rejectAll(err: Error): void {
    this.rejectProposals(err);
    const rejects = [...this.inboundRejects.values()];
    this.inbound.clear();
    this.inboundRejects.clear();
    for (const r of rejects) r(new RaftNodeClosedError(err.message));
  }

  /** A disk failure or a broken invariant: stop everything, tell the owner. */
  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.o.logger.error({ err }, 'raft node stopped on a failure');
    this.cancelTimer();
    this.tasks.length = 0;
    this.transport.close();
    this.rejectAll(new NotControllerError(-1, this.core.epoch, `the raft node stopped: ${err.message}`));
    for (const l of this.fatalListeners) l(err);
  }
}
