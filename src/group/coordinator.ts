/**
 * The classic group coordinator (Kafka's GroupCoordinator): the join/sync/heartbeat/leave protocol of
 * consumer groups, and their committed offsets. One instance per broker; on a single node it coordinates
 * every group. The state machine of one group is described in group.ts; this file drives it.
 *
 * Rebalance, as in Kafka:
 * - A join phase (PreparingRebalance) starts when a member joins, leaves, fails, or rejoins with changed
 *   metadata (or is the leader rejoining). JoinGroup requests are held until the phase completes: when every
 *   known member (and every pending member id, KIP-394) has rejoined, or the rebalance timeout (the longest
 *   of the members') expires. Dynamic members that did not rejoin are then removed; static members (KIP-345)
 *   stay until their session times out.
 * - A group coming from Empty waits `group.initial.rebalance.delay.ms` first (KIP-134), extended by that
 *   delay while new members keep arriving, up to the rebalance timeout, so a fleet starting together lands
 *   in one generation.
 * - Completion bumps the generation, picks the protocol, answers every held JoinGroup (the leader gets the
 *   members with their metadata) and moves to CompletingRebalance. SyncGroup requests wait for the leader's
 *   assignment, which is written to `__consumer_offsets` (GroupMetadataValue) before anyone is answered;
 *   then the group is Stable. A member that does not send SyncGroup within the rebalance timeout is removed.
 * - Heartbeats keep a member alive; a member silent for its session timeout is removed (a member held in
 *   JoinGroup or SyncGroup is alive; a new member held in JoinGroup at most 5 minutes).
 *
 * Offsets: OffsetCommit appends OffsetCommitValue records (one batch per request) to the group's partition
 * of `__consumer_offsets` through a GroupStore and updates the in-memory cache when the append succeeds;
 * OffsetFetch reads the cache. On start the store replays the log into the cache. Offsets of Empty groups
 * expire `offsets.retention.minutes` after the group became empty (KIP-211); Empty groups with no offsets
 * left are removed.
 *
 * Not implemented: the KIP-848 consumer group protocol; transactional offset commits; KIP-814
 * skipAssignment beyond answering false.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { OFFSETS_TOPIC, type CommittedOffset, type CoordinatorRecord, type GroupMetadataRecord } from './coordinator-records.js';
import { CONSUMER_PROTOCOL_TYPE, subscribedTopics } from './consumer-protocol.js';
import {
  ClassicGroup,
  GroupMember,
  GroupState,
  emptyJoinResult,
  offsetKey,
  type GroupStateName,
  type JoinGroupResult,
  type Protocol,
  type SyncGroupResult,
} from './group.js';
import type { Scheduler, Timer } from './scheduler.js';

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxGroupSize: number;
  /** How long a new member may wait in JoinGroup without heartbeats (Kafka: 5 minutes, not configurable). */
  newMemberJoinTimeoutMs: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 2_147_483_647,
  newMemberJoinTimeoutMs: 300_000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 10080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
};

/** Where the coordinator's records go: `__consumer_offsets` in the broker, memory in unit tests. */
export interface GroupStore {
  /** Appends the records of one group atomically (one batch); resolves once they are in the log. */
  write(groupId: string, records: CoordinatorRecord[]): Promise<void>;
  /**
   * Replays the stored records of one partition (every partition when not given, or when the store has
   * none), oldest first.
   */
  load(apply: (record: CoordinatorRecord) => void, partition?: number): Promise<void>;
  /** The partition of `__consumer_offsets` a group lives in; a store without partitions has one, 0. */
  partitionFor?(groupId: string): number;
  /** How many partitions the store has (1 when it has none). */
  readonly partitionCount?: number;
  /** Waits for writes in flight. */
  close?(): Promise<void>;
  /** Makes the storage ready for writes (creates `__consumer_offsets`); FindCoordinator calls it. */
  ensureReady?(): Promise<void>;
}

/** A failed store write, with the error code the client should see. */
export class GroupStoreError extends Error {
  override readonly name = 'GroupStoreError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

function storeErrorCode(err: unknown): number {
  return err instanceof GroupStoreError ? err.errorCode : ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

export interface JoinGroupParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+: a member without an id gets one with MEMBER_ID_REQUIRED and joins again (KIP-394). */
  requireKnownMemberId: boolean;
  reason?: string | null;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface OffsetCommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number; metadata: string | null }[];
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface GroupDescription {
  groupId: string;
  errorCode: number;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

const EMPTY = Buffer.alloc(0);

function validGroupId(groupId: string): boolean {
  return groupId.length > 0;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, ClassicGroup>();
  /** Members that joined in the last completed join phase but have not sent SyncGroup yet. */
  private readonly pendingSync = new Map<ClassicGroup, { members: Set<string>; timer: Timer }>();
  private retentionTimer: Timer | null = null;
  private stopped = false;
  /** The `__consumer_offsets` partitions this node coordinates, with the leader epoch it took them at. */
  private readonly ownedPartitions = new Map<number, number>();
  /** Partitions being loaded: their groups answer COORDINATOR_LOAD_IN_PROGRESS. */
  private readonly loadingPartitions = new Set<number>();

  constructor(
    readonly config: GroupCoordinatorConfig,
    private readonly store: GroupStore,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {}

  /**
   * Single node: this node leads every partition of `__consumer_offsets`, so it takes all of them
   * (onElection at epoch 0); in a cluster (`electAll` false) the broker elects them as images make it
   * their leader. Starts the offset expiration timer.
   */
  async startup(electAll = true): Promise<void> {
    const count = this.store.partitionCount ?? 1;
    if (electAll) for (let p = 0; p < count; p++) await this.onElection(p, 0);
    this.logger.debug({ groups: this.groups.size }, 'group coordinator loaded');
    this.scheduleRetention();
  }

  /** The `__consumer_offsets` partition a group lives in. */
  partitionFor(groupId: string): number {
    return this.store.partitionFor?.(groupId) ?? 0;
  }

  /**
   * This node became the leader of an `__consumer_offsets` partition (Kafka's GroupCoordinator
   * .onElection): its groups and offsets are loaded from the log, and until then its groups answer
   * COORDINATOR_LOAD_IN_PROGRESS. A stale epoch is ignored.
   */
  async onElection(partition: number, epoch: number): Promise<void> {
    const owned = this.ownedPartitions.get(partition);
    if (owned !== undefined && owned >= epoch) return;
    if (this.loadingPartitions.has(partition)) return;
    this.loadingPartitions.add(partition);
    try {
      const loaded = new Map<string, GroupMetadataRecord>();
      const single = this.store.partitionFor === undefined;
      await this.store.load((record) => {
        // A store without partitions replays everything into partition 0.
        if (single || this.partitionFor(record.group) === partition) this.replay(record, loaded);
      }, single ? undefined : partition);
      const now = this.scheduler.now();
      for (const [groupId, value] of loaded) {
        const group = this.groups.get(groupId);
        if (group) this.restoreGroup(group, value, now);
      }
      this.ownedPartitions.set(partition, epoch);
      this.logger.debug({ partition, epoch, groups: loaded.size }, 'offsets partition loaded');
    } finally {
      this.loadingPartitions.delete(partition);
    }
  }

  /**
   * This node is no longer the leader of an `__consumer_offsets` partition (Kafka's onResignation): its
   * groups are dropped from memory, their timers cancelled and their waiting members answered
   * NOT_COORDINATOR, so the clients look the coordinator up again. The log keeps everything.
   */
  onResignation(partition: number): void {
    this.ownedPartitions.delete(partition);
    let dropped = 0;
    for (const group of [...this.groups.values()]) {
      if (this.partitionFor(group.groupId) !== partition) continue;
      this.unloadGroup(group);
      this.groups.delete(group.groupId);
      dropped++;
    }
    this.logger.debug({ partition, groups: dropped }, 'offsets partition unloaded');
  }

  /** Why this node cannot answer for a group now: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, or NONE. */
  private coordinatorError(groupId: string): number {
    if (this.stopped) return ErrorCode.NOT_COORDINATOR;
    const partition = this.partitionFor(groupId);
    if (this.loadingPartitions.has(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (!this.ownedPartitions.has(partition)) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  private unloadGroup(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    for (const t of group.pendingMembers.values()) t.cancel();
    for (const m of group.members.values()) {
      m.heartbeatTimer?.cancel();
      m.joinWaiter?.({ ...emptyJoinResult(m.memberId), errorCode: ErrorCode.NOT_COORDINATOR });
      m.joinWaiter = null;
      m.syncWaiter?.({ errorCode: ErrorCode.NOT_COORDINATOR, protocolType: null, protocolName: null, assignment: EMPTY });
      m.syncWaiter = null;
    }
    const pending = this.pendingSync.get(group);
    if (pending) {
      pending.timer.cancel();
      this.pendingSync.delete(group);
    }
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.retentionTimer?.cancel();
    for (const group of this.groups.values()) this.unloadGroup(group);
    for (const p of this.pendingSync.values()) p.timer.cancel();
    this.pendingSync.clear();
    await this.store.close?.();
  }

  /** Timers never throw into the event loop: a bug in one group must not stop the broker. */
  private schedule(delayMs: number, fn: () => void): Timer {
    return this.scheduler.schedule(delayMs, () => {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'group coordinator timer failed');
      }
    });
  }

  /** FindCoordinator: the store must be able to take this group's records (Kafka creates the topic then). */
  async ensureStorage(): Promise<void> {
    await this.store.ensureReady?.();
  }

  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  // -------------------------------------------------------------------------------------------------
  // JoinGroup

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    const fail = (errorCode: number, memberId = p.memberId): Promise<JoinGroupResult> => Promise.resolve({ ...emptyJoinResult(memberId), errorCode });
    if (!validGroupId(p.groupId)) return fail(ErrorCode.INVALID_GROUP_ID);
    const notHere = this.coordinatorError(p.groupId);
    if (notHere !== ErrorCode.NONE) return fail(notHere);
    if (p.sessionTimeoutMs < this.config.minSessionTimeoutMs || p.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const isUnknownMember = p.memberId === '';
    let group = this.groups.get(p.groupId);
    if (!group) {
      if (!isUnknownMember) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      if (p.protocolType === '' || p.protocols.length === 0) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      group = new ClassicGroup(p.groupId, this.scheduler.now());
      this.groups.set(p.groupId, group);
    }
    if (group.is(GroupState.Dead)) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supportsProtocols(p.protocolType, p.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const g = group;
    const result = new Promise<JoinGroupResult>((resolve) => {
      if (isUnknownMember) this.newMemberJoin(g, p, resolve);
      else this.currentMemberJoin(g, p, resolve);
    });
    this.tryCompleteJoin(g);
    return result;
  }

  private newMemberJoin(group: ClassicGroup, p: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const newMemberId = `${p.clientId}-${randomUUID()}`;
    if (p.groupInstanceId !== null) {
      const oldMemberId = group.staticMemberId(p.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, p, resolve);
        return;
      }
    }
    if (group.size + group.pendingMembers.size >= this.config.maxGroupSize) {
      resolve({ ...emptyJoinResult(''), errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED });
      return;
    }
    if (p.groupInstanceId === null && p.requireKnownMemberId) {
      // KIP-394: hand out the id first; the member is counted from now on and joins again with it.
      this.addPendingMember(group, newMemberId, p.sessionTimeoutMs);
      resolve({ ...emptyJoinResult(newMemberId), errorCode: ErrorCode.MEMBER_ID_REQUIRED });
      return;
    }
    this.addMemberAndRebalance(group, newMemberId, p, resolve);
  }

  private currentMemberJoin(group: ClassicGroup, p: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const fail = (errorCode: number): void => resolve({ ...emptyJoinResult(p.memberId), errorCode });
    const pending = group.pendingMembers.get(p.memberId);
    if (pending) {
      pending.cancel();
      group.pendingMembers.delete(p.memberId);
      this.addMemberAndRebalance(group, p.memberId, p, resolve);
      return;
    }
    const invalid = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (invalid !== null) return fail(invalid);
    const member = group.members.get(p.memberId)!;
    switch (group.state) {
      case GroupState.PreparingRebalance:
        this.updateMemberAndRebalance(group, member, p, resolve, 'member rejoined');
        return;
      case GroupState.CompletingRebalance:
        if (member.matches(p.protocols)) {
          // The member did not get (or lost) the join response of this generation: send it again.
          this.heartbeatOk(group, member);
          resolve(this.currentGenerationResult(group, member.memberId, group.isLeader(member.memberId)));
        } else {
          this.updateMemberAndRebalance(group, member, p, resolve, 'member rejoined with new metadata');
        }
        return;
      case GroupState.Stable:
        if (group.isLeader(member.memberId) || !member.matches(p.protocols)) {
          this.updateMemberAndRebalance(group, member, p, resolve, group.isLeader(member.memberId) ? 'leader rejoined' : 'member rejoined with new metadata');
        } else {
          this.heartbeatOk(group, member);
          resolve(this.currentGenerationResult(group, member.memberId, false));
        }
        return;
      case GroupState.Empty:
      case GroupState.Dead:
        fail(ErrorCode.UNKNOWN_MEMBER_ID);
        return;
    }
  }

  private currentGenerationResult(group: ClassicGroup, memberId: string, withMembers: boolean, leader = group.leaderId ?? ''): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader,
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addPendingMember(group: ClassicGroup, memberId: string, sessionTimeoutMs: number): void {
    const timer = this.schedule(sessionTimeoutMs, () => {
      if (group.pendingMembers.get(memberId) !== timer) return;
      group.pendingMembers.delete(memberId);
      this.logger.debug({ group: group.groupId, memberId }, 'pending member expired');
      this.tryCompleteJoin(group);
    });
    group.pendingMembers.set(memberId, timer);
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, p: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const now = this.scheduler.now();
    const member = new GroupMember(memberId, p.groupInstanceId, p.clientId, p.clientHost, p.rebalanceTimeoutMs, p.sessionTimeoutMs, p.protocolType, p.protocols);
    member.isNew = true;
    member.joinedAtMs = now;
    if (group.initialDelay) group.initialDelay.newMemberAdded = true;
    group.add(member);
    member.joinWaiter = resolve;
    this.heartbeatOk(group, member);
    this.maybePrepareRebalance(group, `new member ${memberId} joined${p.reason ? ` (client reason: ${p.reason})` : ''}`);
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, p: JoinGroupParams, resolve: (r: JoinGroupResult) => void, reason: string): void {
    this.updateMember(member, p, resolve);
    this.maybePrepareRebalance(group, `${reason} (${member.memberId})${p.reason ? ` (client reason: ${p.reason})` : ''}`);
  }

  private updateMember(member: GroupMember, p: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    member.protocols = p.protocols;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    // A retried JoinGroup replaces the one still held (the client gave up on it).
    member.joinWaiter?.({ ...emptyJoinResult(member.memberId), errorCode: ErrorCode.REBALANCE_IN_PROGRESS });
    member.joinWaiter = resolve;
    member.lastHeartbeatMs = this.scheduler.now();
  }

  /** KIP-345: a restarted static member takes over its instance's slot under a new member id. */
  private updateStaticMemberAndRebalance(group: ClassicGroup, oldMemberId: string, newMemberId: string, p: JoinGroupParams, resolve: (r: JoinGroupResult) => void): void {
    const currentLeader = group.leaderId ?? '';
    const oldProtocols = group.members.get(oldMemberId)!.protocols;
    const member = group.replaceStaticMember(p.groupInstanceId!, oldMemberId, newMemberId);
    this.movePendingSync(group, oldMemberId, newMemberId);
    this.updateMember(member, p, resolve);
    this.heartbeatOk(group, member);
    switch (group.state) {
      case GroupState.Stable: {
        if (group.selectProtocol() === group.protocolName) {
          // No rebalance: the instance gets its old assignment back through SyncGroup. The old leader id is
          // returned, so a restarted leader does not compute an assignment a Stable group would not send.
          const generation = group.generationId;
          member.joinWaiter = null;
          this.storeGroup(group, null).then(
            () => resolve(this.currentGenerationResult(group, newMemberId, false, currentLeader)),
            (err: unknown) => {
              this.logger.warn({ group: group.groupId, err }, 'storing group after static member replacement failed');
              if (group.generationId === generation && group.members.get(newMemberId) === member) {
                group.replaceStaticMember(p.groupInstanceId!, newMemberId, oldMemberId);
                member.protocols = oldProtocols;
              }
              resolve({ ...emptyJoinResult(''), errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
            },
          );
        } else {
          this.maybePrepareRebalance(group, `static member ${p.groupInstanceId} rejoined with a change of protocol`);
        }
        return;
      }
      case GroupState.CompletingRebalance:
        this.maybePrepareRebalance(group, `static member ${p.groupInstanceId} rejoined`);
        return;
      default:
        return;
    }
  }

  private validateCurrentMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number | null {
    if (groupInstanceId !== null) {
      const current = group.staticMemberId(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return null;
    }
    return group.members.has(memberId) ? null : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // -------------------------------------------------------------------------------------------------
  // The join phase

  private canRebalance(group: ClassicGroup): boolean {
    return group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance) || group.is(GroupState.Empty);
  }

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (this.canRebalance(group)) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is(GroupState.CompletingRebalance)) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.clearPendingSync(group);
    group.joinTimer?.cancel();
    const rebalanceTimeoutMs = group.rebalanceTimeoutMs();
    if (group.is(GroupState.Empty)) {
      const delayMs = this.config.initialRebalanceDelayMs;
      group.initialDelay = { delayMs, remainingMs: Math.max(rebalanceTimeoutMs - delayMs, 0), newMemberAdded: false };
      group.joinTimer = this.schedule(delayMs, () => this.onInitialDelayExpired(group));
    } else {
      group.initialDelay = null;
      group.joinTimer = this.schedule(rebalanceTimeoutMs, () => this.onJoinTimeout(group));
    }
    group.transitionTo(GroupState.PreparingRebalance, this.scheduler.now());
    this.logger.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
  }

  private onInitialDelayExpired(group: ClassicGroup): void {
    const d = group.initialDelay;
    group.joinTimer = null;
    if (!d || !group.is(GroupState.PreparingRebalance)) return;
    if (d.newMemberAdded && d.remainingMs > 0) {
      const delay = Math.min(d.delayMs, d.remainingMs);
      group.initialDelay = { delayMs: d.delayMs, remainingMs: Math.max(d.remainingMs - delay, 0), newMemberAdded: false };
      group.joinTimer = this.schedule(delay, () => this.onInitialDelayExpired(group));
      return;
    }
    group.initialDelay = null;
    this.completeJoin(group);
  }

  private onJoinTimeout(group: ClassicGroup): void {
    group.joinTimer = null;
    if (group.is(GroupState.PreparingRebalance)) this.completeJoin(group);
  }

  /** Completes the join phase early when nobody is missing (not during the initial delay). */
  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is(GroupState.PreparingRebalance) || group.initialDelay !== null) return;
    if (!group.hasAllMembersJoined()) return;
    group.joinTimer?.cancel();
    group.joinTimer = null;
    this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    const now = this.scheduler.now();
    for (const member of [...group.members.values()]) {
      if (member.joinWaiter === null && !member.isStatic) {
        this.logger.info({ group: group.groupId, memberId: member.memberId }, 'removing member that did not rejoin in time');
        group.remove(member.memberId);
      }
    }
    if (group.is(GroupState.Dead)) return;
    const joined = [...group.members.values()].filter((m) => m.joinWaiter !== null);
    if (group.size > 0 && joined.length === 0) {
      // Only static members that have not come back: wait another round for them or their session timeout.
      group.joinTimer = this.schedule(group.rebalanceTimeoutMs(), () => this.onJoinTimeout(group));
      return;
    }
    if (group.leaderId !== null && group.members.get(group.leaderId)?.joinWaiter === null) group.leaderId = joined[0]!.memberId;
    group.generationId += 1;
    if (group.size === 0) {
      group.protocolName = null;
      group.leaderId = null;
      group.transitionTo(GroupState.Empty, now);
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group is empty');
      this.storeGroup(group, new Map()).catch((err: unknown) => this.logger.warn({ group: group.groupId, err }, 'storing empty group failed'));
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo(GroupState.CompletingRebalance, now);
    this.logger.info({ group: group.groupId, generation: group.generationId, protocol: group.protocolName, members: group.size }, 'join phase complete');
    for (const member of joined) {
      const waiter = member.joinWaiter!;
      member.joinWaiter = null;
      member.isNew = false;
      this.heartbeatOk(group, member);
      waiter(this.currentGenerationResult(group, member.memberId, group.isLeader(member.memberId)));
    }
    this.schedulePendingSync(group);
  }

  /** KAFKA-13350: members must send SyncGroup within the rebalance timeout, or they are removed. */
  private schedulePendingSync(group: ClassicGroup): void {
    this.clearPendingSync(group);
    const members = new Set(group.members.keys());
    const generation = group.generationId;
    const timer = this.schedule(group.rebalanceTimeoutMs(), () => {
      const entry = this.pendingSync.get(group);
      if (!entry || entry.timer !== timer) return;
      this.pendingSync.delete(group);
      if (group.generationId !== generation || !(group.is(GroupState.CompletingRebalance) || group.is(GroupState.Stable))) return;
      for (const memberId of entry.members) {
        const m = group.members.get(memberId);
        if (m) {
          this.logger.info({ group: group.groupId, memberId }, 'removing member that did not send SyncGroup in time');
          this.removeMemberAndUpdateGroup(group, m, 'no SyncGroup within the rebalance timeout');
        }
      }
    });
    this.pendingSync.set(group, { members, timer });
  }

  private clearPendingSync(group: ClassicGroup): void {
    const entry = this.pendingSync.get(group);
    if (entry) {
      entry.timer.cancel();
      this.pendingSync.delete(group);
    }
  }

  private synced(group: ClassicGroup, memberId: string): void {
    const entry = this.pendingSync.get(group);
    if (!entry) return;
    entry.members.delete(memberId);
    if (entry.members.size === 0) this.clearPendingSync(group);
  }

  private movePendingSync(group: ClassicGroup, oldMemberId: string, newMemberId: string): void {
    const entry = this.pendingSync.get(group);
    if (entry?.members.delete(oldMemberId)) entry.members.add(newMemberId);
  }

  // -------------------------------------------------------------------------------------------------
  // SyncGroup

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    const fail = (errorCode: number): Promise<SyncGroupResult> => Promise.resolve({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
    if (!validGroupId(p.groupId)) return fail(ErrorCode.INVALID_GROUP_ID);
    const notHere = this.coordinatorError(p.groupId);
    if (notHere !== ErrorCode.NONE) return fail(notHere);
    const group = this.groups.get(p.groupId);
    if (!group) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.Dead)) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const invalid = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (invalid !== null) return fail(invalid);
    if (p.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    if ((p.protocolType !== null && p.protocolType !== group.protocolType) || (p.protocolName !== null && p.protocolName !== group.protocolName)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = group.members.get(p.memberId)!;
    switch (group.state) {
      case GroupState.Empty:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      case GroupState.PreparingRebalance:
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case GroupState.Stable:
        this.synced(group, member.memberId);
        this.heartbeatOk(group, member);
        return Promise.resolve({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      case GroupState.CompletingRebalance:
        break;
      default:
        return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    return new Promise<SyncGroupResult>((resolve) => {
      member.syncWaiter?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY });
      member.syncWaiter = resolve;
      this.synced(group, member.memberId);
      this.heartbeatOk(group, member);
      if (!group.isLeader(member.memberId)) return;
      const assignments = new Map<string, Buffer>();
      for (const a of p.assignments) if (group.members.has(a.memberId)) assignments.set(a.memberId, a.assignment);
      for (const memberId of group.members.keys()) if (!assignments.has(memberId)) assignments.set(memberId, EMPTY);
      const generation = group.generationId;
      this.storeGroup(group, assignments).then(
        () => {
          if (!group.is(GroupState.CompletingRebalance) || group.generationId !== generation) return;
          for (const [memberId, assignment] of assignments) {
            const m = group.members.get(memberId);
            if (m) m.assignment = assignment;
          }
          this.propagateAssignment(group, ErrorCode.NONE);
          group.transitionTo(GroupState.Stable, this.scheduler.now());
          this.logger.info({ group: group.groupId, generation }, 'group is stable');
        },
        (err: unknown) => {
          this.logger.warn({ group: group.groupId, err }, 'storing group assignment failed');
          if (!group.is(GroupState.CompletingRebalance) || group.generationId !== generation) return;
          this.resetAndPropagateAssignmentError(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
          this.maybePrepareRebalance(group, 'storing the assignment failed');
        },
      );
    });
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      const waiter = m.syncWaiter;
      if (!waiter) continue;
      m.syncWaiter = null;
      waiter({ errorCode, protocolType: group.protocolType, protocolName: group.protocolName, assignment: errorCode === ErrorCode.NONE ? m.assignment : EMPTY });
      this.heartbeatOk(group, m);
    }
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  // -------------------------------------------------------------------------------------------------
  // Heartbeat, LeaveGroup, member expiry

  heartbeat(p: { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null }): number {
    if (!validGroupId(p.groupId)) return ErrorCode.INVALID_GROUP_ID;
    const notHere = this.coordinatorError(p.groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const group = this.groups.get(p.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (invalid !== null) return invalid;
    if (group.is(GroupState.Empty)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.members.get(p.memberId)!;
    this.heartbeatOk(group, member);
    return group.is(GroupState.PreparingRebalance) ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leaveGroup(groupId: string, leaving: MemberIdentity[]): { errorCode: number; members: (MemberIdentity & { errorCode: number })[] } {
    if (!validGroupId(groupId)) return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, members: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    if (group.is(GroupState.Dead)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => ({ ...m, errorCode: this.leaveOne(group, m) }));
    return { errorCode: ErrorCode.NONE, members };
  }

  private leaveOne(group: ClassicGroup, m: MemberIdentity): number {
    let memberId = m.memberId;
    if (m.groupInstanceId !== null) {
      const current = group.staticMemberId(m.groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (memberId !== '' && current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      memberId = current;
    }
    const pending = group.pendingMembers.get(memberId);
    if (pending) {
      pending.cancel();
      group.pendingMembers.delete(memberId);
      this.tryCompleteJoin(group);
      return ErrorCode.NONE;
    }
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.logger.info({ group: group.groupId, memberId }, 'member left the group');
    this.removeMemberAndUpdateGroup(group, member, 'member left');
    return ErrorCode.NONE;
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    // A member held in JoinGroup gets UNKNOWN_MEMBER_ID, so a still-running client joins again.
    member.joinWaiter?.({ ...emptyJoinResult(''), errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    member.joinWaiter = null;
    member.syncWaiter?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY });
    member.syncWaiter = null;
    group.remove(member.memberId);
    this.synced(group, member.memberId);
    switch (group.state) {
      case GroupState.Dead:
      case GroupState.Empty:
        return;
      case GroupState.Stable:
      case GroupState.CompletingRebalance:
        this.prepareRebalance(group, `${reason} (${member.memberId})`);
        // The last member gone: the group becomes Empty at once.
        this.tryCompleteJoin(group);
        return;
      case GroupState.PreparingRebalance:
        this.tryCompleteJoin(group);
        return;
    }
  }

  /** Records a sign of life and makes sure the member's expiry timer runs. */
  private heartbeatOk(group: ClassicGroup, member: GroupMember): void {
    member.lastHeartbeatMs = this.scheduler.now();
    if (member.heartbeatTimer === null) this.armHeartbeat(group, member, member.sessionTimeoutMs);
  }

  private armHeartbeat(group: ClassicGroup, member: GroupMember, delayMs: number): void {
    member.heartbeatTimer = this.schedule(Math.max(delayMs, 1), () => {
      member.heartbeatTimer = null;
      if (group.members.get(member.memberId) !== member) return;
      const now = this.scheduler.now();
      let expired: boolean;
      let next: number;
      if (member.joinWaiter !== null) {
        const newDeadline = member.joinedAtMs + this.config.newMemberJoinTimeoutMs;
        expired = member.isNew && now >= newDeadline;
        next = member.isNew ? Math.min(member.sessionTimeoutMs, newDeadline - now) : member.sessionTimeoutMs;
      } else if (member.syncWaiter !== null) {
        expired = false;
        next = member.sessionTimeoutMs;
      } else {
        const deadline = member.lastHeartbeatMs + member.sessionTimeoutMs;
        expired = now >= deadline;
        next = deadline - now;
      }
      if (!expired) {
        this.armHeartbeat(group, member, next);
        return;
      }
      this.logger.info({ group: group.groupId, memberId: member.memberId, sessionTimeoutMs: member.sessionTimeoutMs }, 'member session expired');
      this.removeMemberAndUpdateGroup(group, member, 'session timeout expired');
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Offsets

  /** Commits offsets; resolves with one error code per entry of p.offsets, in order. */
  async commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    const all = (code: number): number[] => p.offsets.map(() => code);
    const notHere = this.coordinatorError(p.groupId);
    if (notHere !== ErrorCode.NONE) return all(notHere);
    let group = this.groups.get(p.groupId);
    if (!group) {
      // Only a commit from outside group management (generation -1, no member) may create a group.
      if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(p.groupId, this.scheduler.now());
      this.groups.set(p.groupId, group);
    }
    if (group.is(GroupState.Dead)) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const isGroupCommit = p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null;
    if (isGroupCommit) {
      const invalid = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
      if (invalid !== null) return all(invalid);
      if (p.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
      // The member has the new generation from its JoinGroup response but no assignment yet.
      if (group.is(GroupState.CompletingRebalance)) return all(ErrorCode.REBALANCE_IN_PROGRESS);
      this.heartbeatOk(group, group.members.get(p.memberId)!);
    } else if (!group.is(GroupState.Empty)) {
      // Only members may commit for a group that has members.
      return all(ErrorCode.UNKNOWN_MEMBER_ID);
    }
    const now = this.scheduler.now();
    const errors = all(ErrorCode.NONE);
    const records: CoordinatorRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    p.offsets.forEach((o, i) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
        errors[i] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        return;
      }
      const value: CommittedOffset = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata, commitTimestampMs: now, expireTimestampMs: -1 };
      records.push({ type: 'offset', group: p.groupId, topic: o.topic, partition: o.partition, value });
      accepted.push({ topic: o.topic, partition: o.partition, value });
    });
    if (records.length === 0) return errors;
    try {
      await this.store.write(p.groupId, records);
    } catch (err) {
      this.logger.warn({ group: p.groupId, err }, 'offset commit write failed');
      const code = storeErrorCode(err);
      return errors.map((e) => (e === ErrorCode.NONE ? code : e));
    }
    const g = this.groups.get(p.groupId);
    if (g === group && !g.is(GroupState.Dead)) {
      for (const a of accepted) g.offsets.set(offsetKey(a.topic, a.partition), { ...a.value, topic: a.topic, partition: a.partition });
    }
    return errors;
  }

  /** Committed offsets of a group: the given partitions (-1 where none), or all of them (null). */
  fetchOffsets(groupId: string, partitions: { topic: string; partition: number }[] | null): { errorCode: number; offsets: FetchedOffset[] } {
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, offsets: [] };
    const group = this.groups.get(groupId);
    const none = (topic: string, partition: number): FetchedOffset => ({ topic, partition, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE });
    if (partitions === null) {
      if (!group) return { errorCode: ErrorCode.NONE, offsets: [] };
      const offsets = [...group.offsets.values()].map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE }));
      offsets.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      return { errorCode: ErrorCode.NONE, offsets };
    }
    return {
      errorCode: ErrorCode.NONE,
      offsets: partitions.map(({ topic, partition }) => {
        const o = group?.offsets.get(offsetKey(topic, partition));
        return o ? { topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE } : none(topic, partition);
      }),
    };
  }

  /** OffsetDelete (KIP-496): a group-level error, and one error per partition. */
  async deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<{ errorCode: number; partitionErrors: number[] }> {
    if (!validGroupId(groupId)) return { errorCode: ErrorCode.INVALID_GROUP_ID, partitionErrors: [] };
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, partitionErrors: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is(GroupState.Dead)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitionErrors: [] };
    let subscribed: Set<string> | null = null;
    if (!group.is(GroupState.Empty)) {
      if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitionErrors: [] };
      subscribed = this.subscribedTopics(group);
    }
    const partitionErrors = partitions.map((p) => (subscribed?.has(p.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE));
    const deletable = partitions.filter((p, i) => partitionErrors[i] === ErrorCode.NONE && group.offsets.has(offsetKey(p.topic, p.partition)));
    if (deletable.length > 0) {
      try {
        await this.store.write(groupId, deletable.map((p) => ({ type: 'offset', group: groupId, topic: p.topic, partition: p.partition, value: null })));
      } catch (err) {
        this.logger.warn({ group: groupId, err }, 'offset delete write failed');
        return { errorCode: storeErrorCode(err), partitionErrors: [] };
      }
      for (const p of deletable) group.offsets.delete(offsetKey(p.topic, p.partition));
    }
    return { errorCode: ErrorCode.NONE, partitionErrors };
  }

  /** Topics some member subscribes to (consumer protocol), or null if they cannot be read. */
  private subscribedTopics(group: ClassicGroup): Set<string> {
    const topics = new Set<string>();
    for (const m of group.members.values()) {
      const metadata = group.protocolName !== null ? m.metadataFor(group.protocolName) : m.protocols[0]?.metadata ?? EMPTY;
      for (const t of subscribedTopics(metadata) ?? []) topics.add(t);
    }
    return topics;
  }

  // -------------------------------------------------------------------------------------------------
  // Admin: ListGroups, DescribeGroups, DeleteGroups

  listGroups(statesFilter: readonly string[] = []): { groupId: string; protocolType: string; groupState: GroupStateName }[] {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: { groupId: string; protocolType: string; groupState: GroupStateName }[] = [];
    for (const g of this.groups.values()) {
      if (g.is(GroupState.Dead)) continue;
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { groupId, errorCode: notHere, groupState: '', protocolType: '', protocolData: '', members: [] };
    if (!group) return { groupId, errorCode: ErrorCode.NONE, groupState: GroupState.Dead, protocolType: '', protocolData: '', members: [] };
    const stable = group.is(GroupState.Stable);
    const protocol = group.protocolName ?? '';
    return {
      groupId,
      errorCode: ErrorCode.NONE,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? protocol : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(protocol) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const out: { groupId: string; errorCode: number }[] = [];
    for (const groupId of groupIds) out.push({ groupId, errorCode: await this.deleteGroup(groupId) });
    return out;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (!validGroupId(groupId)) return ErrorCode.INVALID_GROUP_ID;
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const group = this.groups.get(groupId);
    if (!group || group.is(GroupState.Dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.Empty)) return ErrorCode.NON_EMPTY_GROUP;
    try {
      await this.removeGroup(group);
    } catch (err) {
      this.logger.warn({ group: groupId, err }, 'group delete write failed');
      return storeErrorCode(err);
    }
    return ErrorCode.NONE;
  }

  /** Marks an Empty group Dead, writes tombstones for its offsets and metadata, and forgets it. */
  private async removeGroup(group: ClassicGroup): Promise<void> {
    group.transitionTo(GroupState.Dead, this.scheduler.now());
    group.joinTimer?.cancel();
    for (const t of group.pendingMembers.values()) t.cancel();
    group.pendingMembers.clear();
    const records: CoordinatorRecord[] = [...group.offsets.values()].map((o) => ({ type: 'offset', group: group.groupId, topic: o.topic, partition: o.partition, value: null }));
    records.push({ type: 'group', group: group.groupId, value: null });
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    await this.store.write(group.groupId, records);
    this.logger.info({ group: group.groupId }, 'group removed');
  }

  /**
   * A deleted topic takes its committed offsets with it (tombstones), as in Kafka, so a topic created
   * again under the same name does not inherit them.
   */
  async onTopicDeleted(topic: string): Promise<void> {
    if (topic === OFFSETS_TOPIC || this.stopped) return;
    for (const group of [...this.groups.values()]) {
      const gone = [...group.offsets.values()].filter((o) => o.topic === topic);
      if (gone.length === 0) continue;
      try {
        await this.store.write(group.groupId, gone.map((o) => ({ type: 'offset', group: group.groupId, topic, partition: o.partition, value: null })));
        for (const o of gone) group.offsets.delete(offsetKey(topic, o.partition));
      } catch (err) {
        this.logger.warn({ group: group.groupId, topic, err }, 'removing offsets of a deleted topic failed');
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Offset expiration (KIP-211)

  private scheduleRetention(): void {
    if (this.stopped) return;
    this.retentionTimer = this.schedule(this.config.offsetsRetentionCheckIntervalMs, () => {
      void this.expireOffsets().finally(() => this.scheduleRetention());
    });
  }

  /** Removes expired offsets, and Empty groups left without offsets. Returns the number of offsets removed. */
  async expireOffsets(): Promise<number> {
    const now = this.scheduler.now();
    const retention = this.config.offsetsRetentionMs;
    let removed = 0;
    for (const group of [...this.groups.values()]) {
      if (group.is(GroupState.Dead)) continue;
      let expired: (CommittedOffset & { topic: string; partition: number })[] = [];
      const byCommit = (o: CommittedOffset): boolean => (o.expireTimestampMs >= 0 ? now >= o.expireTimestampMs : now - o.commitTimestampMs >= retention);
      if (group.is(GroupState.Empty)) {
        if (group.protocolType !== null && group.protocolType !== '') {
          // Offsets of a group that became empty expire together, retention after it became empty.
          if (now - group.stateTimestampMs >= retention) expired = [...group.offsets.values()];
        } else {
          expired = [...group.offsets.values()].filter(byCommit);
        }
      } else if (group.is(GroupState.Stable) && group.protocolType === CONSUMER_PROTOCOL_TYPE) {
        const subscribed = this.subscribedTopics(group);
        expired = [...group.offsets.values()].filter((o) => !subscribed.has(o.topic) && byCommit(o));
      }
      if (expired.length > 0) {
        try {
          await this.store.write(group.groupId, expired.map((o) => ({ type: 'offset', group: group.groupId, topic: o.topic, partition: o.partition, value: null })));
          for (const o of expired) group.offsets.delete(offsetKey(o.topic, o.partition));
          removed += expired.length;
        } catch (err) {
          this.logger.warn({ group: group.groupId, err }, 'writing expired offsets failed');
          continue;
        }
      }
      if (group.is(GroupState.Empty) && group.offsets.size === 0 && group.pendingMembers.size === 0 && this.groups.get(group.groupId) === group) {
        try {
          await this.removeGroup(group);
        } catch (err) {
          this.logger.warn({ group: group.groupId, err }, 'removing expired group failed');
        }
      }
    }
    if (removed > 0) this.logger.info({ removed }, 'expired committed offsets');
    return removed;
  }

  // -------------------------------------------------------------------------------------------------
  // Persistence of group metadata, and loading

  /** Writes the group's GroupMetadataValue; `assignments` overrides the members' current assignment. */
  private storeGroup(group: ClassicGroup, assignments: Map<string, Buffer> | null): Promise<void> {
    const protocol = group.protocolName;
    const value: GroupMetadataRecord = {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(group.stateTimestampMs),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: protocol !== null ? m.metadataFor(protocol) : EMPTY,
        assignment: assignments?.get(m.memberId) ?? m.assignment,
      })),
    };
    return this.store.write(group.groupId, [{ type: 'group', group: group.groupId, value }]);
  }

  private replay(record: CoordinatorRecord, loaded: Map<string, GroupMetadataRecord>): void {
    const now = this.scheduler.now();
    const getOrCreate = (groupId: string): ClassicGroup => {
      let g = this.groups.get(groupId);
      if (!g) this.groups.set(groupId, (g = new ClassicGroup(groupId, now)));
      return g;
    };
    if (record.type === 'offset') {
      if (record.value === null) {
        this.groups.get(record.group)?.offsets.delete(offsetKey(record.topic, record.partition));
        return;
      }
      getOrCreate(record.group).offsets.set(offsetKey(record.topic, record.partition), { ...record.value, topic: record.topic, partition: record.partition });
      return;
    }
    if (record.value === null) {
      this.groups.delete(record.group);
      loaded.delete(record.group);
      return;
    }
    getOrCreate(record.group);
    loaded.set(record.group, record.value);
  }

  /** Rebuilds a group from its last GroupMetadataValue: Stable with its members, or Empty. */
  private restoreGroup(group: ClassicGroup, value: GroupMetadataRecord, now: number): void {
    group.generationId = value.generation;
    group.protocolType = value.protocolType === '' ? null : value.protocolType;
    group.protocolName = value.protocol;
    group.stateTimestampMs = value.currentStateTimestamp >= 0n ? Number(value.currentStateTimestamp) : now;
    if (value.members.length === 0 || value.protocol === null) return;
    for (const m of value.members) {
      const member = new GroupMember(
        m.memberId,
        m.groupInstanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeout > 0 ? m.rebalanceTimeout : m.sessionTimeout,
        m.sessionTimeout,
        value.protocolType,
        [{ name: value.protocol, metadata: m.subscription }],
      );
      member.assignment = m.assignment;
      group.add(member);
      this.heartbeatOk(group, member);
    }
    group.leaderId = value.leader !== null && group.members.has(value.leader) ? value.leader : group.members.keys().next().value ?? null;
    group.protocolType = value.protocolType;
    group.state = GroupState.Stable;
  }
}
