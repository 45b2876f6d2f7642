/**
 * The group APIs on the wire, at the versions stock clients use (librdkafka's v0 feature detection,
 * kafkajs's non-flexible versions, Java's flexible ones): FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete, and the
 * error codes clients act on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { JoinGroup } from '../../protocol/messages/join-group.js';
import { SyncGroup } from '../../protocol/messages/sync-group.js';
import { Heartbeat } from '../../protocol/messages/heartbeat.js';
import { LeaveGroup } from '../../protocol/messages/leave-group.js';
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js';
import { ListGroups } from '../../protocol/messages/list-groups.js';
import { DescribeGroups } from '../../protocol/messages/describe-groups.js';
import { DeleteGroups } from '../../protocol/messages/delete-groups.js';
import { OffsetDelete } from '../../protocol/messages/offset-delete.js';
import { ErrorCode } from '../../protocol/errors.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker;
const clients: RawClient[] = [];

beforeAll(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '2' });
  await broker.broker.createTopic('topic-a', 2, 1, new Map());
  await broker.broker.createTopic('topic-b', 1, 1, new Map());
});
afterAll(async () => {
  for (const c of clients) c.close();
  await broker.destroy();
});

async function connect(): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  clients.push(c);
  return c;
}

const PROTOCOLS = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 7, ...Buffer.from('topic-a'), 0xff, 0xff, 0xff, 0xff]) }];

/** One member joined (through MEMBER_ID_REQUIRED at v4+) and synced with an assignment for itself. */
async function stableMember(groupId: string, version = 5): Promise<{ c: RawClient; memberId: string; generationId: number }> {
  const c = await connect();
  const join = { groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS };
  let r = await c.request(JoinGroup, version, join);
  if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) r = await c.request(JoinGroup, version, { ...join, memberId: r.memberId });
  expect(r.errorCode).toBe(ErrorCode.NONE);
  const s = await c.request(SyncGroup, 3, { groupId, generationId: r.generationId, memberId: r.memberId, assignments: [{ memberId: r.memberId, assignment: Buffer.from('mine') }] });
  expect(s).toMatchObject({ errorCode: 0 });
  expect(s.assignment.toString()).toBe('mine');
  return { c, memberId: r.memberId, generationId: r.generationId };
}

describe('ApiVersions', () => {
  it('advertises the group APIs at the versions clients need', async () => {
    const c = await connect();
    const res = await c.request(ApiVersions, 3, {});
    const range = (key: number) => {
      const k = res.apiKeys.find((a) => a.apiKey === key);
      return k ? [k.minVersion, k.maxVersion] : null;
    };
    expect(range(8)).toEqual([2, 9]);
    expect(range(9)).toEqual([1, 9]);
    expect(range(10)).toEqual([0, 4]);
    expect(range(11)).toEqual([0, 9]);
    expect(range(12)).toEqual([0, 4]);
    expect(range(13)).toEqual([0, 5]);
    expect(range(14)).toEqual([0, 5]);
    expect(range(15)).toEqual([0, 5]);
    expect(range(16)).toEqual([0, 5]);
    expect(range(42)).toEqual([0, 2]);
    expect(range(47)).toEqual([0, 0]);
  });
});

describe('FindCoordinator', () => {
  it('names this node for groups and transactional ids, single (v0, v3) and batched (v4)', async () => {
    const c = await connect();
    const v0 = await c.request(FindCoordinator, 0, { key: 'g' });
    expect(v0).toMatchObject({ errorCode: 0, nodeId: 1, host: '127.0.0.1', port: broker.port });
    const v3 = await c.request(FindCoordinator, 3, { key: 'txn', keyType: 1 });
    expect(v3).toMatchObject({ errorCode: 0, nodeId: 1, port: broker.port });
    const v4 = await c.request(FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['g1', 'g2'] });
    expect(v4.coordinators.map((x) => [x.key, x.nodeId, x.port, x.errorCode])).toEqual([
      ['g1', 1, broker.port, 0],
      ['g2', 1, broker.port, 0],
    ]);
    const bad = await c.request(FindCoordinator, 3, { key: 'x', keyType: 7 });
    expect(bad.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // The first group lookup created the offsets topic, compacted, with offsets.topic.num.partitions.
    const t = broker.broker.image.topic('__consumer_offsets')!;
    expect(t.partitions.length).toBe(2);
    expect(t.configs.get('cleanup.policy')).toBe('compact');
  });
});

describe('JoinGroup and SyncGroup', () => {
  it('v0 (librdkafka) joins at once, with the protocol name as a string', async () => {
    const c = await connect();
    const r = await c.request(JoinGroup, 0, { groupId: 'v0-group', sessionTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS });
    expect(r).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(r.leader).toBe(r.memberId);
    expect(r.members).toHaveLength(1);
  });

  it('v4+ answers MEMBER_ID_REQUIRED with a member id first', async () => {
    const c = await connect();
    const join = { groupId: 'v5-group', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS };
    const first = await c.request(JoinGroup, 5, join);
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^raw-test-/);
    const second = await c.request(JoinGroup, 5, { ...join, memberId: first.memberId });
    expect(second).toMatchObject({ errorCode: 0, memberId: first.memberId, leader: first.memberId, generationId: 1 });
  });

  it('v9 (flexible) echoes the protocol type, and SyncGroup v5 checks protocol type and name', async () => {
    const c = await connect();
    const join = { groupId: 'v9-group', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS, reason: 'test' };
    const first = await c.request(JoinGroup, 9, join);
    const r = await c.request(JoinGroup, 9, { ...join, memberId: first.memberId });
    expect(r).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', skipAssignment: false });
    const wrong = await c.request(SyncGroup, 5, { groupId: 'v9-group', generationId: r.generationId, memberId: r.memberId, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] });
    expect(wrong.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const ok = await c.request(SyncGroup, 5, { groupId: 'v9-group', generationId: r.generationId, memberId: r.memberId, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: r.memberId, assignment: Buffer.from([1, 2]) }] });
    expect(ok).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
    expect([...ok.assignment]).toEqual([1, 2]);
  });

  const member = (groupId: string, memberId: string) => broker.broker.groupCoordinator.group(groupId)?.members.get(memberId);
  /** Resolves once the broker holds a response for the member (its waiter is set); fails after 10 s. */
  async function parked(what: string, waiter: () => unknown): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!waiter()) {
      if (Date.now() > deadline) throw new Error(`${what}: never parked`);
      await new Promise((r) => setImmediate(r));
    }
  }

  it('holds a second member in JoinGroup until the first rejoins, and a follower in SyncGroup until the leader syncs', async () => {
    const a = await stableMember('barrier-group');
    const bc = await connect();
    const join = { groupId: 'barrier-group', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS };
    const bid = (await bc.request(JoinGroup, 5, join)).memberId;
    let bDone = false;
    const bJoin = bc.request(JoinGroup, 5, { ...join, memberId: bid }).then((r) => {
      bDone = true;
      return r;
    });
    // Synchronise on the broker, not on time: b's JoinGroup is parked, then a round trip on a's connection
    // (answered after anything the broker wrote to b when it handled the join) before checking b is unanswered.
    await parked('b in JoinGroup', () => member('barrier-group', bid)?.joinWaiter);
    expect((await a.c.request(Heartbeat, 2, { groupId: 'barrier-group', generationId: a.generationId, memberId: a.memberId })).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(bDone).toBe(false);
    const aJoin = await a.c.request(JoinGroup, 5, { ...join, memberId: a.memberId });
    const bRes = await bJoin;
    expect(aJoin.generationId).toBe(a.generationId + 1);
    expect(bRes.generationId).toBe(a.generationId + 1);
    const leader = aJoin.leader === a.memberId ? { c: a.c, r: aJoin } : { c: bc, r: bRes };
    const follower = leader.r === aJoin ? { c: bc, r: bRes } : { c: a.c, r: aJoin };
    expect(leader.r.members).toHaveLength(2);
    let followerDone = false;
    const followerSync = follower.c.request(SyncGroup, 3, { groupId: 'barrier-group', generationId: follower.r.generationId, memberId: follower.r.memberId, assignments: [] }).then((r) => {
      followerDone = true;
      return r;
    });
    await parked('the follower in SyncGroup', () => member('barrier-group', follower.r.memberId)?.syncWaiter);
    await leader.c.request(Heartbeat, 2, { groupId: 'barrier-group', generationId: leader.r.generationId, memberId: leader.r.memberId });
    expect(followerDone).toBe(false);
    await leader.c.request(SyncGroup, 3, {
      groupId: 'barrier-group',
      generationId: leader.r.generationId,
      memberId: leader.r.memberId,
      assignments: [
        { memberId: leader.r.memberId, assignment: Buffer.from('L') },
        { memberId: follower.r.memberId, assignment: Buffer.from('F') },
      ],
    });
    expect((await followerSync).assignment.toString()).toBe('F');
  });
});

describe('Heartbeat and LeaveGroup', () => {
  it('returns UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and NONE', async () => {
    const m = await stableMember('hb-group');
    const hb = (v: number, body: { groupId: string; generationId: number; memberId: string }) => m.c.request(Heartbeat, v, body);
    expect((await hb(0, { groupId: 'hb-group', generationId: m.generationId, memberId: m.memberId })).errorCode).toBe(0);
    expect((await hb(4, { groupId: 'hb-group', generationId: m.generationId, memberId: m.memberId })).errorCode).toBe(0);
    expect((await hb(1, { groupId: 'hb-group', generationId: m.generationId, memberId: 'nobody' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await hb(3, { groupId: 'no-such-group', generationId: 1, memberId: m.memberId })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await hb(4, { groupId: 'hb-group', generationId: m.generationId + 1, memberId: m.memberId })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('LeaveGroup v0 has one member, v3+ a batch with per-member errors', async () => {
    const a = await stableMember('leave-v0');
    expect((await a.c.request(LeaveGroup, 0, { groupId: 'leave-v0', memberId: 'nobody' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await a.c.request(LeaveGroup, 1, { groupId: 'leave-v0', memberId: a.memberId })).errorCode).toBe(0);
    const b = await stableMember('leave-v5');
    const r = await b.c.request(LeaveGroup, 5, {
      groupId: 'leave-v5',
      members: [
        { memberId: b.memberId, groupInstanceId: null, reason: 'shutting down' },
        { memberId: 'ghost', groupInstanceId: null },
      ],
    });
    expect(r.errorCode).toBe(0);
    expect(r.members.map((m) => [m.memberId, m.errorCode])).toEqual([
      [b.memberId, 0],
      ['ghost', ErrorCode.UNKNOWN_MEMBER_ID],
    ]);
    const d = await b.c.request(DescribeGroups, 0, { groups: ['leave-v5'] });
    expect(d.groups[0]!.groupState).toBe('Empty');
  });
});

describe('OffsetCommit and OffsetFetch', () => {
  it('commits as a member and fetches with the committed leader epoch and metadata', async () => {
    const m = await stableMember('commit-group');
    const commit = await m.c.request(OffsetCommit, 8, {
      groupId: 'commit-group',
      generationIdOrMemberEpoch: m.generationId,
      memberId: m.memberId,
      topics: [
        { name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: 3, committedMetadata: 'meta' }, { partitionIndex: 1, committedOffset: 20n, committedMetadata: null }] },
        { name: 'no-such-topic', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] },
      ],
    });
    expect(commit.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([[0, 0], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    const v5 = await m.c.request(OffsetFetch, 5, { groupId: 'commit-group', topics: [{ name: 'topic-a', partitionIndexes: [0, 1] }, { name: 'topic-b', partitionIndexes: [0] }] });
    expect(v5.errorCode).toBe(0);
    expect(v5.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata, p.errorCode]))).toEqual([
      ['topic-a', 0, 10n, 3, 'meta', 0],
      ['topic-a', 1, 20n, -1, '', 0],
      ['topic-b', 0, -1n, -1, '', 0],
    ]);
    const v1 = await m.c.request(OffsetFetch, 1, { groupId: 'commit-group', topics: [{ name: 'topic-a', partitionIndexes: [0] }] });
    expect(v1.topics[0]!.partitions[0]).toMatchObject({ committedOffset: 10n, metadata: 'meta', errorCode: 0 });
    const all = await m.c.request(OffsetFetch, 7, { groupId: 'commit-group', topics: null, requireStable: true });
    expect(all.topics.map((t) => [t.name, t.partitions.length])).toEqual([['topic-a', 2]]);
  });

  it('fetches several groups at once (v8+)', async () => {
    const c = await connect();
    await c.request(OffsetCommit, 2, { groupId: 'multi-1', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1n, topics: [{ name: 'topic-b', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: '' }] }] });
    const r = await c.request(OffsetFetch, 8, {
      groups: [
        { groupId: 'multi-1', topics: [{ name: 'topic-b', partitionIndexes: [0] }] },
        { groupId: 'multi-2', topics: null },
      ],
    });
    expect(r.groups.map((g) => [g.groupId, g.errorCode, g.topics.flatMap((t) => t.partitions.map((p) => p.committedOffset))])).toEqual([
      ['multi-1', 0, [5n]],
      ['multi-2', 0, []],
    ]);
  });

  it('refuses commits for an unknown group with a generation, from non-members, and with a stale generation', async () => {
    const c = await connect();
    const body = (groupId: string, generation: number, memberId: string) => ({
      groupId,
      generationIdOrMemberEpoch: generation,
      memberId,
      topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }],
    });
    const code = (r: { topics: { partitions: { errorCode: number }[] }[] }) => r.topics[0]!.partitions[0]!.errorCode;
    expect(code(await c.request(OffsetCommit, 8, body('unknown-group', 4, 'someone')))).toBe(ErrorCode.ILLEGAL_GENERATION);
    const m = await stableMember('guarded-group');
    expect(code(await c.request(OffsetCommit, 8, body('guarded-group', -1, '')))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(code(await c.request(OffsetCommit, 8, body('guarded-group', m.generationId, 'intruder')))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(code(await c.request(OffsetCommit, 8, body('guarded-group', m.generationId - 1, m.memberId)))).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(code(await c.request(OffsetCommit, 9, body('guarded-group', m.generationId, m.memberId)))).toBe(0);
  });
});

describe('ListGroups, DescribeGroups, DeleteGroups, OffsetDelete', () => {
  it('lists groups with their states (v4 filter, v5 types) and describes them', async () => {
    const m = await stableMember('listed-group');
    const c = await connect();
    const v0 = await c.request(ListGroups, 0, {});
    expect(v0.groups.find((g) => g.groupId === 'listed-group')).toMatchObject({ protocolType: 'consumer' });
    const stable = await c.request(ListGroups, 4, { statesFilter: ['Stable'] });
    expect(stable.groups.every((g) => g.groupState === 'Stable')).toBe(true);
    expect(stable.groups.map((g) => g.groupId)).toContain('listed-group');
    const empty = await c.request(ListGroups, 4, { statesFilter: ['Empty'] });
    expect(empty.groups.map((g) => g.groupId)).not.toContain('listed-group');
    const consumerType = await c.request(ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(consumerType.groups).toEqual([]);
    const classic = await c.request(ListGroups, 5, { statesFilter: [], typesFilter: ['classic'] });
    expect(classic.groups.find((g) => g.groupId === 'listed-group')).toMatchObject({ groupType: 'classic', groupState: 'Stable' });

    const d = await c.request(DescribeGroups, 5, { groups: ['listed-group', 'never-heard-of'], includeAuthorizedOperations: true });
    expect(d.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.groups[0]!.members[0]).toMatchObject({ memberId: m.memberId, clientId: 'raw-test', clientHost: '/127.0.0.1' });
    expect(d.groups[0]!.members[0]!.memberAssignment.toString()).toBe('mine');
    expect(d.groups[0]!.authorizedOperations).toBe((1 << 3) | (1 << 6) | (1 << 8));
    expect(d.groups[1]).toMatchObject({ errorCode: 0, groupState: 'Dead', members: [] });
  });

  it('deletes Empty groups and refuses non-empty ones', async () => {
    const m = await stableMember('busy-group');
    const c = await connect();
    await c.request(OffsetCommit, 8, { groupId: 'idle-group', generationIdOrMemberEpoch: -1, memberId: '', topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: null }] }] });
    const r = await c.request(DeleteGroups, 2, { groupsNames: ['idle-group', 'busy-group', 'ghost-group'] });
    expect(r.results.map((x) => [x.groupId, x.errorCode])).toEqual([
      ['idle-group', 0],
      ['busy-group', ErrorCode.NON_EMPTY_GROUP],
      ['ghost-group', ErrorCode.GROUP_ID_NOT_FOUND],
    ]);
    const f = await c.request(OffsetFetch, 6, { groupId: 'idle-group', topics: [{ name: 'topic-a', partitionIndexes: [0] }] });
    expect(f.topics[0]!.partitions[0]!.committedOffset).toBe(-1n);
    void m;
  });

  it('deletes offsets of topics the group does not subscribe to (OffsetDelete)', async () => {
    const m = await stableMember('offset-delete-group');
    await m.c.request(OffsetCommit, 8, {
      groupId: 'offset-delete-group',
      generationIdOrMemberEpoch: m.generationId,
      memberId: m.memberId,
      topics: [
        { name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] },
        { name: 'topic-b', partitions: [{ partitionIndex: 0, committedOffset: 2n, committedMetadata: null }] },
      ],
    });
    const r = await m.c.request(OffsetDelete, 0, {
      groupId: 'offset-delete-group',
      topics: [
        { name: 'topic-a', partitions: [{ partitionIndex: 0 }] },
        { name: 'topic-b', partitions: [{ partitionIndex: 0 }] },
        { name: 'nope', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    expect(r.errorCode).toBe(0);
    expect(r.topics.map((t) => [t.name, t.partitions[0]!.errorCode])).toEqual([
      ['topic-a', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
      ['topic-b', 0],
      ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    const f = await m.c.request(OffsetFetch, 6, { groupId: 'offset-delete-group', topics: null });
    expect(f.topics.map((t) => t.name)).toEqual(['topic-a']);
    expect((await m.c.request(OffsetDelete, 0, { groupId: 'ghost', topics: [] })).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});
