/**
 * A classic consumer group (Kafka's GroupMetadata): its state, generation, members and committed offsets.
 *
 * States and transitions (Kafka's GroupState, classic protocol):
 *
 *   state                 may be entered from                         entered when
 *   Empty                 PreparingRebalance                          a rebalance completes with no members
 *                                                                     (or the group exists only for offsets)
 *   PreparingRebalance    Empty, Stable, CompletingRebalance          a member joins, leaves, fails, or
 *                                                                     rejoins with new metadata
 *   CompletingRebalance   PreparingRebalance                          every known member rejoined (or the
 *                                                                     rebalance timeout removed the others):
 *                                                                     new generation, waiting for the
 *                                                                     leader's assignment
 *   Stable                CompletingRebalance                         the leader's SyncGroup brought the
 *                                                                     assignment
 *   Dead                  Empty, PreparingRebalance,                  the group was deleted (DeleteGroups,
 *                         CompletingRebalance, Stable, Dead           or its last offsets expired)
 *
 * Invariants:
 * - `generationId` grows by one each time a join phase completes (also when it completes empty).
 * - In CompletingRebalance and Stable, `protocolName` is set and supported by every member, and the
 *   leader is a member; in Empty there are no members and no leader.
 * - A member has at most one JoinGroup and one SyncGroup response pending (`joinWaiter`, `syncWaiter`).
 * - `staticMembers` maps each group.instance.id (KIP-345) to the member id currently holding it.
 * - `pendingMembers` are member ids handed out with MEMBER_ID_REQUIRED (KIP-394) that have not joined
 *   yet; the join phase waits for them too.
 */
import { ErrorCode } from '../../protocol/errors.js';
import type { Timer } from './scheduler.js';
import type { CommittedOffset } from './coordinator-records.js';

export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type GroupStateName = (typeof GroupState)[keyof typeof GroupState];

export const VALID_PREVIOUS_STATES: { readonly [S in GroupStateName]: readonly GroupStateName[] } = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Empty', 'Stable', 'CompletingRebalance'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
};

export class IllegalStateTransition extends Error {
  override readonly name = 'IllegalStateTransition';
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface Protocol {
  name: string;
  metadata: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class GroupMember {
  assignment: Buffer = EMPTY;
  joinWaiter: ((r: JoinGroupResult) => void) | null = null;
  syncWaiter: ((r: SyncGroupResult) => void) | null = null;
  /** Joined in the current join phase for the first time (kept alive up to the new-member timeout). */
  isNew = false;
  joinedAtMs = 0;
  lastHeartbeatMs = 0;
  heartbeatTimer: Timer | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
  ) {}

  metadataFor(protocol: string): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** Same protocols, same order, same metadata bytes (a rejoin that changes nothing). */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }
}

export class ClassicGroup {
  state: GroupStateName = GroupState.Empty;
  /** When the state last changed (GroupMetadataValue.currentStateTimestamp; offsets retention of Empty groups). */
  stateTimestampMs: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  readonly staticMembers = new Map<string, string>();
  readonly pendingMembers = new Map<string, Timer>();
  /** Committed offsets by `topic\0partition`. */
  readonly offsets = new Map<string, CommittedOffset & { topic: string; partition: number }>();
  /** Timer of the running join phase (a delayed join, or the initial rebalance delay). */
  joinTimer: Timer | null = null;
  /** Initial rebalance delay (KIP-134): time left up to the rebalance timeout, and whether members came. */
  initialDelay: { delayMs: number; remainingMs: number; newMemberAdded: boolean } | null = null;

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.stateTimestampMs = nowMs;
  }

  is(state: GroupStateName): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupStateName, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.state)) {
      throw new IllegalStateTransition(`group ${this.groupId}: cannot go from ${this.state} to ${state}`);
    }
    this.state = state;
    this.stateTimestampMs = nowMs;
  }

  get size(): number {
    return this.members.size;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = null;
    if (this.leaderId === memberId) {
      // Prefer a member that has already rejoined this join phase.
      const joined = [...this.members.values()].find((m) => m.joinWaiter !== null);
      this.leaderId = joined?.memberId ?? this.members.keys().next().value ?? null;
    }
    return member;
  }

  /** Gives a static member's slot to a new member id (the same instance restarted, KIP-345). */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`static member ${oldMemberId} of ${groupInstanceId} is not in group ${this.groupId}`);
    // The old id's pending requests are answered so that instance stops using it.
    member.joinWaiter?.({ ...emptyJoinResult(oldMemberId), errorCode: ErrorCode.FENCED_INSTANCE_ID });
    member.joinWaiter = null;
    member.syncWaiter?.({ errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: this.protocolType, protocolName: this.protocolName, assignment: EMPTY });
    member.syncWaiter = null;
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    return member;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** Protocols every member supports, in no particular order. */
  private commonProtocols(): Set<string> {
    let common: Set<string> | null = null;
    for (const m of this.members.values()) {
      const names = new Set<string>(m.protocols.map((p) => p.name));
      const previous: Set<string> | null = common;
      common = previous === null ? names : new Set<string>([...previous].filter((n: string) => names.has(n)));
    }
    return common ?? new Set<string>();
  }

  /** Whether a member with this protocol type and these protocols may join (INCONSISTENT_GROUP_PROTOCOL). */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    if (this.members.size === 0) return true;
    if (protocolType !== this.protocolType) return false;
    const common = this.commonProtocols();
    return protocols.some((p) => common.has(p.name));
  }

  /**
   * The protocol of the next generation: the first protocol of the leader's list that every member
   * supports. (Kafka counts each member's first supported choice as a vote; with members of one client
   * kind, as is usual, both rules pick the same protocol.)
   */
  selectProtocol(): string {
    const common = this.commonProtocols();
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId);
    const order = leader ? leader.protocols : [...this.members.values()][0]?.protocols ?? [];
    const chosen = order.find((p) => common.has(p.name));
    if (!chosen) throw new Error(`group ${this.groupId}: no protocol common to all members`);
    return chosen.name;
  }

  hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (m.joinWaiter === null) return false;
    return this.pendingMembers.size === 0;
  }

  /** The longest rebalance timeout of the members: how long a join phase waits for stragglers. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  currentMemberMetadata(): JoinGroupResult['members'] {
    const protocol = this.protocolName ?? '';
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(protocol) }));
  }
}

export function emptyJoinResult(memberId: string): JoinGroupResult {
  return { errorCode: 0, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
