/**
 * A classic-protocol consumer group member for `samsa consume --group`: JoinGroup (with the KIP-394 retry
 * on MEMBER_ID_REQUIRED), a range assignment computed when this member is the leader, SyncGroup, Heartbeat
 * in the background, LeaveGroup at the end. The subscription and assignment use the "consumer" protocol's
 * v0 layouts (ConsumerProtocolSubscription / ConsumerProtocolAssignment), which every Kafka client reads.
 */
import { Heartbeat } from '../../protocol/messages/heartbeat.js';
import { JoinGroup } from '../../protocol/messages/join-group.js';
import { LeaveGroup } from '../../protocol/messages/leave-group.js';
import { SyncGroup } from '../../protocol/messages/sync-group.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { brokerError, type KafkaClient } from './client.js';
import type { BrokerConnection } from './connection.js';

const MEMBER_ID_REQUIRED = 79;
const REBALANCE_IN_PROGRESS = 27;

export function encodeSubscription(topics: readonly string[]): Buffer {
  const w = new Writer();
  w.int16(0).arrayLength(topics.length, false);
  for (const t of topics) w.string(t, false);
  w.bytes(null, false);
  return w.toBuffer();
}

export function decodeSubscription(buf: Buffer): string[] {
  const r = new Reader(buf);
  r.int16();
  const n = r.arrayLength(false);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.string(false, false) ?? '');
  return out;
}

export function encodeAssignment(assignment: ReadonlyMap<string, number[]>): Buffer {
  const w = new Writer();
  w.int16(0).arrayLength(assignment.size, false);
  for (const [topic, partitions] of assignment) {
    w.string(topic, false).arrayLength(partitions.length, false);
    for (const p of partitions) w.int32(p);
  }
  w.bytes(null, false);
  return w.toBuffer();
}

export function decodeAssignment(buf: Buffer | null): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (buf === null || buf.length === 0) return out;
  const r = new Reader(buf);
  r.int16();
  const n = r.arrayLength(false);
  for (let i = 0; i < n; i++) {
    const topic = r.string(false, false) ?? '';
    const count = r.arrayLength(false);
    const parts: number[] = [];
    for (let j = 0; j < count; j++) parts.push(r.int32());
    out.set(topic, parts);
  }
  return out;
}

/** Kafka's RangeAssignor for one topic: members sorted by id, contiguous ranges, the first ones one larger. */
export function rangeAssign(memberIds: readonly string[], partitions: number): Map<string, number[]> {
  const sorted = [...memberIds].sort();
  const per = Math.floor(partitions / sorted.length);
  const extra = partitions % sorted.length;
  const out = new Map<string, number[]>();
  let next = 0;
  sorted.forEach((m, i) => {
    const n = per + (i < extra ? 1 : 0);
    out.set(m, Array.from({ length: n }, (_, k) => next + k));
    next += n;
  });
  return out;
}

export class GroupMember {
  memberId = '';
  generationId = -1;
  private heartbeat: NodeJS.Timeout | null = null;
  private conn: BrokerConnection | null = null;
  /** Set when a heartbeat says the group is rebalancing: the consumer should rejoin. */
  rebalanceNeeded = false;

  constructor(
    private readonly client: KafkaClient,
    readonly group: string,
    private readonly topic: string,
    private readonly partitionCount: number,
    private readonly sessionTimeoutMs = 30_000,
  ) {}

  /** Joins (or rejoins) the group; resolves with this member's partitions of the topic. */
  async join(): Promise<number[]> {
    this.stopHeartbeat();
    this.rebalanceNeeded = false;
    return this.client.withCoordinator(this.group, (conn) => this.joinAt(conn));
  }

  private async joinAt(conn: BrokerConnection): Promise<number[]> {
    this.conn = conn;
    for (;;) {
      const { response: joined } = await conn.request(JoinGroup, {
        groupId: this.group,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: 60_000,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: encodeSubscription([this.topic]) }],
        reason: null,
      });
      if (joined.errorCode === MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode !== 0) throw brokerError(joined.errorCode, `JoinGroup ${this.group}`);
      this.memberId = joined.memberId;
      this.generationId = joined.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (joined.leader === joined.memberId) {
        // Range per subscribed topic; members subscribed to other topics (another tool in the same group)
        // get only their share of ours, which is what a Java leader would hand them too.
        const subscribers = joined.members.filter((m) => decodeSubscription(m.metadata).includes(this.topic)).map((m) => m.memberId);
        const ranges = rangeAssign(subscribers, this.partitionCount);
        assignments = joined.members.map((m) => ({ memberId: m.memberId, assignment: encodeAssignment(new Map([[this.topic, ranges.get(m.memberId) ?? []]])) }));
      }
      const { response: synced } = await conn.request(SyncGroup, {
        groupId: this.group,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: joined.protocolName,
        assignments,
      });
      if (synced.errorCode === REBALANCE_IN_PROGRESS) continue;
      if (synced.errorCode !== 0) throw brokerError(synced.errorCode, `SyncGroup ${this.group}`);
      this.startHeartbeat();
      return decodeAssignment(synced.assignment).get(this.topic) ?? [];
    }
  }

  private startHeartbeat(): void {
    const conn = this.conn!;
    this.heartbeat = setInterval(() => {
      conn
        .request(Heartbeat, { groupId: this.group, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null })
        .then(({ response }) => {
          if (response.errorCode !== 0) this.rebalanceNeeded = true;
        })
        .catch(() => {
          this.rebalanceNeeded = true;
        });
    }, Math.max(100, Math.floor(this.sessionTimeoutMs / 10)));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  async leave(): Promise<void> {
    this.stopHeartbeat();
    if (this.conn === null || this.memberId === '') return;
    const version = this.conn.versionFor(LeaveGroup);
    // v3 (KIP-345) replaced the single memberId by a members array.
    const { memberId } = this;
    const body = version >= 3 ? { groupId: this.group, members: [{ memberId, groupInstanceId: null, reason: 'samsa consume exiting' }] } : { groupId: this.group, memberId };
    const res = await this.conn.send(LeaveGroup, version, body);
    if (res.errorCode !== 0) throw brokerError(res.errorCode, `LeaveGroup ${this.group}`);
  }
}
