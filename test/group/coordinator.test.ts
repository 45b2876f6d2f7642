/**
 * The group state machine, driven directly with a fake clock and an in-memory store: the join barrier,
 * initial rebalance delay, MEMBER_ID_REQUIRED, SyncGroup waiting for the leader, heartbeats and their
 * errors, session and rebalance timeouts, LeaveGroup, static membership, committed offsets and their
 * error codes, loading from the store, offset expiration.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { GroupCoordinator, DEFAULT_GROUP_COORDINATOR_CONFIG, type GroupCoordinatorConfig, type GroupStore, type JoinGroupParams } from '../../src/group/coordinator.js';
import type { CoordinatorRecord } from '../../src/group/coordinator-records.js';
import type { JoinGroupResult, SyncGroupResult } from '../../src/group/group.js';
import { FakeScheduler } from '../../src/group/scheduler.js';

class MemoryStore implements GroupStore {
  readonly records: CoordinatorRecord[] = [];
  failWrites = false;
  async write(_groupId: string, records: CoordinatorRecord[]): Promise<void> {
    if (this.failWrites) throw new Error('disk on fire');
    this.records.push(...records);
  }
  async load(apply: (r: CoordinatorRecord) => void): Promise<void> {
    for (const r of this.records) apply(r);
  }
}

const SESSION = 10_000;
const REBALANCE = 30_000;

interface Setup {
  clock: FakeScheduler;
  store: MemoryStore;
  coordinator: GroupCoordinator;
}

async function setup(overrides: Partial<GroupCoordinatorConfig> = {}, store = new MemoryStore(), clock = new FakeScheduler()): Promise<Setup> {
  const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, initialRebalanceDelayMs: 0, ...overrides };
  const coordinator = new GroupCoordinator(config, store, clock, pino({ level: 'silent' }));
  await coordinator.startup();
  return { clock, store, coordinator };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A promise whose outcome can be inspected synchronously. */
function track<T>(p: Promise<T>): { value: T | undefined; done: boolean; promise: Promise<T> } {
  const t: { value: T | undefined; done: boolean; promise: Promise<T> } = { value: undefined, done: false, promise: p };
  void p.then((v) => {
    t.value = v;
    t.done = true;
  });
  return t;
}

function sub(topics: string[]): Buffer {
  // ConsumerProtocolSubscription v0: version, topics, userData.
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

function joinParams(groupId: string, memberId = '', extra: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId,
    memberId,
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: sub(['t']) }],
    requireKnownMemberId: false,
    ...extra,
  };
}

/** Joins, lets the join phase complete, and syncs: a Stable group with these members (first is leader). */
async function stableGroup(s: Setup, groupId: string, count: number): Promise<{ memberIds: string[]; generationId: number }> {
  const joins = [];
  for (let i = 0; i < count; i++) joins.push(track(s.coordinator.joinGroup(joinParams(groupId))));
  s.clock.advance(0);
  await flush();
  const results = joins.map((j) => j.value!);
  expect(results.every((r) => r.errorCode === ErrorCode.NONE)).toBe(true);
  const leader = results.find((r) => r.leader === r.memberId)!;
  const syncs = results.map((r) =>
    s.coordinator.syncGroup({
      groupId,
      generationId: r.generationId,
      memberId: r.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: r === leader ? results.map((m) => ({ memberId: m.memberId, assignment: Buffer.from(`assignment-${m.memberId}`) })) : [],
    }),
  );
  await Promise.all(syncs);
  return { memberIds: results.map((r) => r.memberId), generationId: leader.generationId };
}

function syncParams(groupId: string, generationId: number, memberId: string, assignments: { memberId: string; assignment: Buffer }[] = []) {
  return { groupId, generationId, memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments };
}

describe('JoinGroup', () => {
  it('asks a v4+ member without an id to join again with MEMBER_ID_REQUIRED, then forms generation 1', async () => {
    const s = await setup();
    const first = await s.coordinator.joinGroup(joinParams('g', '', { requireKnownMemberId: true }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^client-/);
    expect(s.coordinator.group('g')!.state).toBe('Empty');
    const second = track(s.coordinator.joinGroup(joinParams('g', first.memberId, { requireKnownMemberId: true })));
    s.clock.advance(0);
    await flush();
    expect(second.value).toMatchObject({ errorCode: 0, generationId: 1, memberId: first.memberId, leader: first.memberId, protocolName: 'range', protocolType: 'consumer' });
    expect(second.value!.members.map((m) => m.memberId)).toEqual([first.memberId]);
    expect(s.coordinator.group('g')!.state).toBe('CompletingRebalance');
  });

  it('waits group.initial.rebalance.delay.ms for a new group, extending it while members arrive', async () => {
    const s = await setup({ initialRebalanceDelayMs: 3000 });
    const a = track(s.coordinator.joinGroup(joinParams('g')));
    s.clock.advance(2000);
    const b = track(s.coordinator.joinGroup(joinParams('g')));
    s.clock.advance(1000);
    await flush();
    // The first delay ran out but a member came: another delay.
    expect(a.done).toBe(false);
    s.clock.advance(2999);
    await flush();
    expect(a.done).toBe(false);
    s.clock.advance(1);
    await flush();
    expect(a.value!.generationId).toBe(1);
    expect(b.value!.generationId).toBe(1);
    const leader = [a.value!, b.value!].find((r) => r.memberId === r.leader)!;
    expect(leader.members).toHaveLength(2);
    const follower = [a.value!, b.value!].find((r) => r.memberId !== r.leader)!;
    expect(follower.members).toEqual([]);
  });

  it('holds the join phase until every known member has rejoined (the barrier)', async () => {
    const s = await setup();
    const { memberIds: [a, b], generationId } = await stableGroup(s, 'g', 2);
    const c = track(s.coordinator.joinGroup(joinParams('g')));
    expect(s.coordinator.group('g')!.state).toBe('PreparingRebalance');
    expect(s.coordinator.heartbeat({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const ra = track(s.coordinator.joinGroup(joinParams('g', a)));
    await flush();
    expect(ra.done || c.done).toBe(false);
    const rb = track(s.coordinator.joinGroup(joinParams('g', b)));
    await flush();
    for (const r of [ra, rb, c]) expect(r.value).toMatchObject({ errorCode: 0, generationId: generationId + 1 });
    const leader = [ra, rb, c].find((r) => r.value!.memberId === r.value!.leader)!;
    expect(leader.value!.members).toHaveLength(3);
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const s = await setup();
    const { memberIds: [a, b], generationId } = await stableGroup(s, 'g', 2);
    const ra = track(s.coordinator.joinGroup(joinParams('g', a, { rebalanceTimeoutMs: 5000 })));
    // b keeps heartbeating but never rejoins.
    for (let t = 0; t < 4; t++) {
      s.clock.advance(1000);
      expect(s.coordinator.heartbeat({ groupId: 'g', generationId, memberId: b!, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    await flush();
    expect(ra.done).toBe(false);
    s.clock.advance(REBALANCE);
    await flush();
    expect(ra.value).toMatchObject({ errorCode: 0, generationId: generationId + 1, leader: a });
    expect(ra.value!.members.map((m) => m.memberId)).toEqual([a]);
    expect(s.coordinator.heartbeat({ groupId: 'g', generationId: generationId + 1, memberId: b!, groupInstanceId: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('waits for a pending member id (KIP-394) until its session timeout', async () => {
    const s = await setup();
    const { memberIds: [a] } = await stableGroup(s, 'g', 1);
    const pending = await s.coordinator.joinGroup(joinParams('g', '', { requireKnownMemberId: true }));
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    // Nothing changed yet: a pending id alone does not start a rebalance.
    expect(s.coordinator.group('g')!.state).toBe('Stable');
    s.clock.advance(1000);
    const ra = track(s.coordinator.joinGroup(joinParams('g', a, { requireKnownMemberId: true })));
    await flush();
    expect(ra.done).toBe(false);
    s.clock.advance(SESSION);
    await flush();
    expect(ra.value).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(ra.value!.members).toHaveLength(1);
  });

  it('picks the first protocol of the leader that all members support, and refuses members with none in common', async () => {
    const s = await setup();
    const protocols = (names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    const a = track(s.coordinator.joinGroup(joinParams('g', '', { protocols: protocols(['sticky', 'range', 'roundrobin']) })));
    const b = track(s.coordinator.joinGroup(joinParams('g', '', { protocols: protocols(['roundrobin', 'range']) })));
    s.clock.advance(0);
    await flush();
    expect(a.value!.leader).toBe(a.value!.memberId);
    expect(a.value!.protocolName).toBe('range');
    expect(a.value!.members.map((m) => m.metadata.toString())).toEqual(['range', 'range']);
    const c = await s.coordinator.joinGroup(joinParams('g', '', { protocols: protocols(['sticky']) }));
    expect(c.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const d = await s.coordinator.joinGroup(joinParams('g', '', { protocolType: 'connect' }));
    expect(d.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('checks the session timeout and the member id', async () => {
    const s = await setup();
    expect((await s.coordinator.joinGroup(joinParams('g', '', { sessionTimeoutMs: 1000 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await s.coordinator.joinGroup(joinParams('g', 'nobody'))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await s.coordinator.joinGroup(joinParams(''))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('answers a known follower rejoining a Stable group without a rebalance', async () => {
    const s = await setup();
    const { memberIds: [, b], generationId } = await stableGroup(s, 'g', 2);
    const r = await s.coordinator.joinGroup(joinParams('g', b));
    expect(r).toMatchObject({ errorCode: 0, generationId, memberId: b, members: [] });
    expect(s.coordinator.group('g')!.state).toBe('Stable');
  });

  it('keeps groups independent', async () => {
    const s = await setup();
    const one = await stableGroup(s, 'one', 2);
    const two = await stableGroup(s, 'two', 1);
    void s.coordinator.joinGroup(joinParams('one'));
    expect(s.coordinator.group('one')!.state).toBe('PreparingRebalance');
    expect(s.coordinator.group('two')!.state).toBe('Stable');
    expect(s.coordinator.heartbeat({ groupId: 'two', generationId: two.generationId, memberId: two.memberIds[0]!, groupInstanceId: null })).toBe(ErrorCode.NONE);
    expect(s.coordinator.heartbeat({ groupId: 'two', generationId: one.generationId, memberId: one.memberIds[0]!, groupInstanceId: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('SyncGroup', () => {
  it('holds followers until the leader sends the assignment, then gives each its own', async () => {
    const s = await setup();
    const a = track(s.coordinator.joinGroup(joinParams('g')));
    const b = track(s.coordinator.joinGroup(joinParams('g')));
    s.clock.advance(0);
    await flush();
    const leader = a.value!.leader === a.value!.memberId ? a.value! : b.value!;
    const follower = leader === a.value! ? b.value! : a.value!;
    const fs = track(s.coordinator.syncGroup(syncParams('g', follower.generationId, follower.memberId)));
    await flush();
    expect(fs.done).toBe(false);
    const ls = await s.coordinator.syncGroup(
      syncParams('g', leader.generationId, leader.memberId, [
        { memberId: leader.memberId, assignment: Buffer.from('L') },
        { memberId: follower.memberId, assignment: Buffer.from('F') },
      ]),
    );
    await flush();
    expect(ls.assignment.toString()).toBe('L');
    expect(fs.value!.errorCode).toBe(0);
    expect(fs.value!.assignment.toString()).toBe('F');
    expect(s.coordinator.group('g')!.state).toBe('Stable');
    // The assignment was written as GroupMetadataValue before anyone was answered.
    const last = s.store.records.at(-1)!;
    expect(last.type).toBe('group');
    // A late sync in Stable gets the stored assignment.
    const again = await s.coordinator.syncGroup(syncParams('g', follower.generationId, follower.memberId));
    expect(again.assignment.toString()).toBe('F');
  });

  it('answers waiting followers REBALANCE_IN_PROGRESS when a rebalance starts first', async () => {
    const s = await setup();
    const a = track(s.coordinator.joinGroup(joinParams('g')));
    const b = track(s.coordinator.joinGroup(joinParams('g')));
    s.clock.advance(0);
    await flush();
    const follower = a.value!.leader === a.value!.memberId ? b.value! : a.value!;
    const fs = track(s.coordinator.syncGroup(syncParams('g', follower.generationId, follower.memberId)));
    void s.coordinator.joinGroup(joinParams('g'));
    await flush();
    expect(fs.value!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('reports unknown members, stale generations and a group that is joining', async () => {
    const s = await setup();
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    expect((await s.coordinator.syncGroup(syncParams('nope', 1, 'x'))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await s.coordinator.syncGroup(syncParams('g', generationId, 'x'))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await s.coordinator.syncGroup(syncParams('g', generationId - 1, a!))).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    void s.coordinator.joinGroup(joinParams('g'));
    expect((await s.coordinator.syncGroup(syncParams('g', generationId, a!))).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('removes a member that joined but never sends SyncGroup within the rebalance timeout', async () => {
    const s = await setup();
    const a = track(s.coordinator.joinGroup(joinParams('g', '', { rebalanceTimeoutMs: 5000 })));
    const b = track(s.coordinator.joinGroup(joinParams('g', '', { rebalanceTimeoutMs: 5000 })));
    s.clock.advance(0);
    await flush();
    const leader = a.value!.leader === a.value!.memberId ? a.value! : b.value!;
    const follower = leader === a.value! ? b.value! : a.value!;
    await s.coordinator.syncGroup(syncParams('g', leader.generationId, leader.memberId, []));
    await flush();
    s.clock.advance(4000);
    expect(s.coordinator.heartbeat({ groupId: 'g', generationId: leader.generationId, memberId: leader.memberId, groupInstanceId: null })).toBe(0);
    expect(s.coordinator.heartbeat({ groupId: 'g', generationId: leader.generationId, memberId: follower.memberId, groupInstanceId: null })).toBe(0);
    s.clock.advance(1000);
    expect(s.coordinator.group('g')!.members.has(follower.memberId)).toBe(false);
    expect(s.coordinator.group('g')!.state).toBe('PreparingRebalance');
  });
});

describe('Heartbeat, session timeout, LeaveGroup', () => {
  it('returns UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and REBALANCE_IN_PROGRESS as Kafka does', async () => {
    const s = await setup();
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    const hb = (groupId: string, gen: number, memberId: string) => s.coordinator.heartbeat({ groupId, generationId: gen, memberId, groupInstanceId: null });
    expect(hb('g', generationId, a!)).toBe(ErrorCode.NONE);
    expect(hb('unknown-group', generationId, a!)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(hb('g', generationId, 'stranger')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(hb('g', generationId + 5, a!)).toBe(ErrorCode.ILLEGAL_GENERATION);
    void s.coordinator.joinGroup(joinParams('g'));
    expect(hb('g', generationId, a!)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('expires a silent member after its session timeout and rebalances the rest', async () => {
    const s = await setup();
    const { memberIds: [a, b], generationId } = await stableGroup(s, 'g', 2);
    for (let t = 0; t < 2; t++) {
      s.clock.advance(4000);
      expect(s.coordinator.heartbeat({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null })).toBe(ErrorCode.NONE);
    }
    expect(s.coordinator.group('g')!.members.has(b!)).toBe(true);
    s.clock.advance(4000);
    // b has been silent for 12 s > 10 s.
    expect(s.coordinator.group('g')!.members.has(b!)).toBe(false);
    expect(s.coordinator.heartbeat({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const ra = track(s.coordinator.joinGroup(joinParams('g', a)));
    await flush();
    expect(ra.value).toMatchObject({ errorCode: 0, generationId: generationId + 1 });
  });

  it('keeps a member held in JoinGroup alive beyond its session timeout', async () => {
    const s = await setup();
    const { memberIds: [a, b], generationId } = await stableGroup(s, 'g', 2);
    const ra = track(s.coordinator.joinGroup(joinParams('g', a, { rebalanceTimeoutMs: 60_000 })));
    // b heartbeats but does not rejoin; a sends nothing while it waits in JoinGroup.
    for (let t = 0; t < 4; t++) {
      s.clock.advance(5000);
      expect(s.coordinator.heartbeat({ groupId: 'g', generationId, memberId: b!, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(s.coordinator.group('g')!.members.has(a!)).toBe(true);
    await flush();
    expect(ra.done).toBe(false);
    // b stops: its session expires, and the join phase completes with a alone.
    s.clock.advance(10_000);
    await flush();
    expect(s.coordinator.group('g')!.members.has(b!)).toBe(false);
    expect(ra.value).toMatchObject({ errorCode: 0, generationId: generationId + 1 });
    expect(ra.value!.members.map((m) => m.memberId)).toEqual([a]);
  });

  it('rebalances when a member leaves and becomes Empty when the last one does', async () => {
    const s = await setup();
    const { memberIds: [a, b], generationId } = await stableGroup(s, 'g', 2);
    const left = s.coordinator.leaveGroup('g', [{ memberId: b!, groupInstanceId: null }]);
    expect(left.members[0]!.errorCode).toBe(0);
    expect(s.coordinator.group('g')!.state).toBe('PreparingRebalance');
    const ra = track(s.coordinator.joinGroup(joinParams('g', a)));
    await flush();
    expect(ra.value).toMatchObject({ generationId: generationId + 1, leader: a });
    const unknown = s.coordinator.leaveGroup('g', [{ memberId: 'who', groupInstanceId: null }]);
    expect(unknown).toEqual({ errorCode: 0, members: [{ memberId: 'who', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }] });
    s.coordinator.leaveGroup('g', [{ memberId: a!, groupInstanceId: null }]);
    expect(s.coordinator.group('g')!.state).toBe('Empty');
    expect(s.coordinator.group('g')!.generationId).toBe(generationId + 2);
  });

  it('answers a member that leaves while held in JoinGroup with UNKNOWN_MEMBER_ID', async () => {
    const s = await setup();
    const { memberIds: [a, b] } = await stableGroup(s, 'g', 2);
    const ra = track(s.coordinator.joinGroup(joinParams('g', a)));
    s.coordinator.leaveGroup('g', [{ memberId: a!, groupInstanceId: null }]);
    await flush();
    expect(ra.value!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const rb = track(s.coordinator.joinGroup(joinParams('g', b)));
    await flush();
    expect(rb.value!.members.map((m) => m.memberId)).toEqual([b]);
  });
});

describe('static membership (KIP-345)', () => {
  it('gives a restarted instance its slot and assignment back without a rebalance, and fences the old id', async () => {
    const s = await setup();
    const a = track(s.coordinator.joinGroup(joinParams('g', '', { groupInstanceId: 'instance-a' })));
    const b = track(s.coordinator.joinGroup(joinParams('g', '', { groupInstanceId: 'instance-b' })));
    s.clock.advance(0);
    await flush();
    const leader = a.value!.leader === a.value!.memberId ? a.value! : b.value!;
    const generationId = leader.generationId;
    await s.coordinator.syncGroup(
      syncParams('g', generationId, leader.memberId, [
        { memberId: a.value!.memberId, assignment: Buffer.from('A') },
        { memberId: b.value!.memberId, assignment: Buffer.from('B') },
      ]),
    );
    await flush();
    const oldB = b.value!.memberId;
    const rejoin = await s.coordinator.joinGroup(joinParams('g', '', { groupInstanceId: 'instance-b', requireKnownMemberId: true }));
    expect(rejoin.errorCode).toBe(0);
    expect(rejoin.memberId).not.toBe(oldB);
    expect(rejoin.generationId).toBe(generationId);
    expect(s.coordinator.group('g')!.state).toBe('Stable');
    const sync = await s.coordinator.syncGroup({ ...syncParams('g', generationId, rejoin.memberId), groupInstanceId: 'instance-b' });
    expect(sync.assignment.toString()).toBe('B');
    expect(s.coordinator.heartbeat({ groupId: 'g', generationId, memberId: oldB, groupInstanceId: 'instance-b' })).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const leave = s.coordinator.leaveGroup('g', [{ memberId: oldB, groupInstanceId: 'instance-b' }]);
    expect(leave.members[0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('keeps a static member that misses a rebalance in the group until its session expires', async () => {
    const s = await setup();
    const a = track(s.coordinator.joinGroup(joinParams('g', '', { groupInstanceId: 'a', rebalanceTimeoutMs: 5000 })));
    const b = track(s.coordinator.joinGroup(joinParams('g', '', { groupInstanceId: 'b', rebalanceTimeoutMs: 5000, sessionTimeoutMs: 60_000 })));
    s.clock.advance(0);
    await flush();
    const c = track(s.coordinator.joinGroup(joinParams('g', '', { rebalanceTimeoutMs: 5000 })));
    const ra = track(s.coordinator.joinGroup(joinParams('g', a.value!.memberId, { groupInstanceId: 'a', rebalanceTimeoutMs: 5000 })));
    s.clock.advance(5000);
    await flush();
    expect(c.done && ra.done).toBe(true);
    // b did not rejoin but, being static, is still listed for the leader (it keeps its partitions).
    const leader = [c.value!, ra.value!].find((r) => r.leader === r.memberId)!;
    expect(leader.members.map((m) => m.groupInstanceId ?? '-').sort()).toEqual(['-', 'a', 'b']);
    // Until its session expires.
    s.clock.advance(60_000);
    expect(s.coordinator.group('g')!.members.has(b.value!.memberId)).toBe(false);
  });

  it('removes a static member by instance id alone (admin LeaveGroup)', async () => {
    const s = await setup();
    const a = track(s.coordinator.joinGroup(joinParams('g', '', { groupInstanceId: 'a' })));
    s.clock.advance(0);
    await flush();
    expect(a.value!.errorCode).toBe(0);
    const r = s.coordinator.leaveGroup('g', [{ memberId: '', groupInstanceId: 'a' }]);
    expect(r.members[0]!.errorCode).toBe(0);
    expect(s.coordinator.group('g')!.state).toBe('Empty');
  });
});

describe('committed offsets', () => {
  const offset = (topic: string, partition: number, value: bigint, leaderEpoch = -1, metadata: string | null = null) => ({ topic, partition, offset: value, leaderEpoch, metadata });

  it('accepts simple commits (generation -1) for an unknown group, creating it Empty', async () => {
    const s = await setup();
    const errors = await s.coordinator.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 42n, 7, 'meta'), offset('t', 1, 5n)] });
    expect(errors).toEqual([0, 0]);
    expect(s.coordinator.group('simple')!.state).toBe('Empty');
    const fetched = s.coordinator.fetchOffsets('simple', [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }, { topic: 't', partition: 2 }]);
    expect(fetched.offsets).toEqual([
      { topic: 't', partition: 0, offset: 42n, leaderEpoch: 7, metadata: 'meta', errorCode: 0 },
      { topic: 't', partition: 1, offset: 5n, leaderEpoch: -1, metadata: '', errorCode: 0 },
      { topic: 't', partition: 2, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    expect(s.coordinator.fetchOffsets('simple', null).offsets).toHaveLength(2);
    expect(s.coordinator.fetchOffsets('nobody', [{ topic: 't', partition: 0 }]).offsets[0]!.offset).toBe(-1n);
    expect(s.store.records.filter((r) => r.type === 'offset')).toHaveLength(2);
  });

  it('refuses a group commit for an unknown group, and commits from outsiders or stale generations', async () => {
    const s = await setup();
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId, memberId: 'other', groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId: generationId - 1, memberId: a!, groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null, offsets: [offset('t', 0, 9n), offset('t', 1, 1n, -1, 'x'.repeat(5000))] })).toEqual([0, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    expect(s.coordinator.fetchOffsets('g', [{ topic: 't', partition: 0 }]).offsets[0]!.offset).toBe(9n);
  });

  it('allows commits while the group is joining but not between join and sync', async () => {
    const s = await setup();
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    const rejoin = track(s.coordinator.joinGroup(joinParams('g', a, { protocols: [{ name: 'range', metadata: sub(['t', 'u']) }] })));
    // a is the only member and has rejoined: the join completes at once (CompletingRebalance).
    await flush();
    expect(rejoin.value!.generationId).toBe(generationId + 1);
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId: generationId + 1, memberId: a!, groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
  });

  it('reports a failed write and keeps the previous offset', async () => {
    const s = await setup();
    await s.coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n)] });
    s.store.failWrites = true;
    expect(await s.coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 2n)] })).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    expect(s.coordinator.fetchOffsets('g', [{ topic: 't', partition: 0 }]).offsets[0]!.offset).toBe(1n);
  });

  it('loads offsets and groups back from the store', async () => {
    const s = await setup();
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    await s.coordinator.commitOffsets({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null, offsets: [offset('t', 3, 33n, 2, 'm')] });
    await s.coordinator.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n)] });
    await s.coordinator.shutdown();
    const again = await setup({}, s.store, s.clock);
    expect(again.coordinator.fetchOffsets('g', [{ topic: 't', partition: 3 }]).offsets[0]).toMatchObject({ offset: 33n, leaderEpoch: 2, metadata: 'm' });
    const g = again.coordinator.group('g')!;
    expect(g.state).toBe('Stable');
    expect(g.generationId).toBe(generationId);
    // The member may carry on after the restart without rejoining.
    expect(again.coordinator.heartbeat({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null })).toBe(0);
    expect((await again.coordinator.syncGroup(syncParams('g', generationId, a!))).assignment.toString()).toBe(`assignment-${a}`);
    expect(again.coordinator.group('simple')!.state).toBe('Empty');
  });

  it('deletes offsets (OffsetDelete) unless a member subscribes to the topic', async () => {
    const s = await setup();
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    await s.coordinator.commitOffsets({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null, offsets: [offset('t', 0, 1n), offset('old', 0, 1n)] });
    const r = await s.coordinator.deleteOffsets('g', [{ topic: 't', partition: 0 }, { topic: 'old', partition: 0 }]);
    expect(r).toEqual({ errorCode: 0, partitionErrors: [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0] });
    expect(s.coordinator.fetchOffsets('g', null).offsets.map((o) => o.topic)).toEqual(['t']);
    expect((await s.coordinator.deleteOffsets('none', [])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('drops the committed offsets of a deleted topic', async () => {
    const s = await setup();
    await s.coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('gone', 0, 1n), offset('gone', 1, 2n), offset('kept', 0, 3n)] });
    await s.coordinator.onTopicDeleted('gone');
    expect(s.coordinator.fetchOffsets('g', null).offsets.map((o) => [o.topic, o.partition])).toEqual([['kept', 0]]);
    expect(s.store.records.slice(-2).map((r) => (r.type === 'offset' ? [r.topic, r.partition, r.value] : null))).toEqual([
      ['gone', 0, null],
      ['gone', 1, null],
    ]);
  });

  it('expires offsets of an Empty group offsets.retention after it became empty, then removes the group', async () => {
    const s = await setup({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
    const { memberIds: [a], generationId } = await stableGroup(s, 'g', 1);
    await s.coordinator.commitOffsets({ groupId: 'g', generationId, memberId: a!, groupInstanceId: null, offsets: [offset('t', 0, 1n)] });
    s.coordinator.leaveGroup('g', [{ memberId: a!, groupInstanceId: null }]);
    expect(s.coordinator.group('g')!.state).toBe('Empty');
    expect(await s.coordinator.expireOffsets()).toBe(0);
    // The check runs every 10 s (each run re-arms the timer once its writes are done).
    for (let t = 0; t < 5; t++) {
      s.clock.advance(10_000);
      await flush();
    }
    expect(s.coordinator.fetchOffsets('g', null).offsets).toHaveLength(1);
    for (let t = 0; t < 2; t++) {
      s.clock.advance(10_000);
      await flush();
    }
    expect(s.coordinator.fetchOffsets('g', null).offsets).toHaveLength(0);
    expect(s.coordinator.group('g')).toBeUndefined();
    expect(s.store.records.at(-1)).toEqual({ type: 'group', group: 'g', value: null });
  });
});

describe('ListGroups, DescribeGroups, DeleteGroups', () => {
  it('lists, describes and deletes groups', async () => {
    const s = await setup();
    const { memberIds: [a] } = await stableGroup(s, 'g', 1);
    await s.coordinator.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] });
    expect(s.coordinator.listGroups().map((g) => [g.groupId, g.groupState, g.protocolType])).toEqual([
      ['g', 'Stable', 'consumer'],
      ['simple', 'Empty', ''],
    ]);
    expect(s.coordinator.listGroups(['stable']).map((g) => g.groupId)).toEqual(['g']);
    const d = s.coordinator.describeGroup('g');
    expect(d).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.members[0]!.memberId).toBe(a);
    expect(d.members[0]!.memberAssignment.toString()).toBe(`assignment-${a}`);
    expect(s.coordinator.describeGroup('missing')).toMatchObject({ errorCode: 0, groupState: 'Dead', members: [] });
    expect(await s.coordinator.deleteGroups(['g', 'simple', 'missing'])).toEqual([
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'simple', errorCode: 0 },
      { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(s.coordinator.fetchOffsets('simple', [{ topic: 't', partition: 0 }]).offsets[0]!.offset).toBe(-1n);
    const tombstones = s.store.records.slice(-2);
    expect(tombstones).toEqual([
      { type: 'offset', group: 'simple', topic: 't', partition: 0, value: null },
      { type: 'group', group: 'simple', value: null },
    ]);
  });
});
