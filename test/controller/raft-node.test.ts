/**
 * RaftNodes over real sockets and real disks (src/controller/raft/raft-node.ts with raft-store.ts,
 * raft-transport.ts and raft-handlers.ts): three voters in one process, each behind its own CONTROLLER
 * listener on port 0 and its own temp dir. Elections, commits in the same order everywhere, a leader that
 * goes away, a node that comes back (catching up, and truncating a divergent uncommitted suffix), a single
 * voter, Kafka's errors over the wire, a corrupt log refusing to open. Nothing sleeps to synchronise: the
 * tests wait for listener events or poll state with a deadline. The random seed is printed on failure.
 */
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NoOpRecord } from '../../protocol/metadata/no-op-record.js';
import { decodeMetadataRecord, encodeMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { BeginQuorumEpoch } from '../../protocol/messages/begin-quorum-epoch.js';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { Vote } from '../../protocol/messages/vote.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { bootstrapServerId, quorumConfig, type QuorumConfig, type VoterAddress } from '../../src/controller/raft/config.js';
import { ControllerDispatcher, raftHandlers } from '../../src/controller/raft/raft-handlers.js';
import { NotControllerError, RaftNode, type CommittedRecord, type LoadedSnapshot } from '../../src/controller/raft/raft-node.js';
import { listSnapshots } from '../../src/controller/raft/snapshot.js';
import { METADATA_LOG_DIR_NAME, RaftStore, RaftStoreCorruptError } from '../../src/controller/raft/raft-store.js';
import { SeededRandom } from '../../src/controller/raft/random.js';
import * as wire from '../../src/controller/raft/wire.js';
import type { Connection, FrameHandler } from '../../src/server/connection.js';
import { Server } from '../../src/server/server.js';
import { systemClock } from '../../src/util/clock.js';

const CLUSTER_ID = 'raft-node-test-cluster';
const SEED = Number(process.env['SAMSA_RAFT_NODE_SEED'] ?? Date.now() % 100000);
const logger = pino({ level: process.env['SAMSA_TEST_LOG'] ?? 'silent' });
/** Short timeouts so that elections take a fraction of a second, but not so short that a busy machine flaps. */
const TIMEOUTS: Partial<QuorumConfig> = { electionTimeoutMs: 500, fetchTimeoutMs: 1500, requestTimeoutMs: 1000, electionBackoffMaxMs: 500, appendLingerMs: 5, fetchMaxWaitMs: 200, fetchSnapshotMaxBytes: 64 };
const DEADLINE_MS = 15_000;

const noop = (): Buffer => encodeMetadataRecord(NoOpRecord, {}, 0);
const topic = (name: string): Buffer => encodeMetadataRecord(TopicRecord, { name, topicId: '6f1a1e5c-0d3e-4a8e-9f7a-2f1b0c3d4e5f' }, 0);

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, deadlineMs = DEADLINE_MS): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} (seed ${SEED}: replay with SAMSA_RAFT_NODE_SEED=${SEED})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A listener whose handler is attached later (the node needs every voter's port before it opens). */
class Slot implements FrameHandler {
  target: FrameHandler | null = null;
  async handle(frame: Buffer, conn: Connection): Promise<Buffer[] | null> {
    if (this.target === null) {
      conn.close('node not running', 'debug');
      return null;
    }
    return this.target.handle(frame, conn);
  }
}

interface Member {
  readonly id: number;
  readonly dir: string;
  readonly slot: Slot;
  readonly server: Server;
  port: number;
  node: RaftNode | null;
  /** Every record delivered to onCommit in this incarnation, and every truncation seen. */
  committed: CommittedRecord[];
  /** Snapshots delivered to onSnapshotLoaded in this incarnation. */
  snapshots: LoadedSnapshot[];
  truncations: number[];
  incarnation: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Leaders seen per epoch over the whole test: never two in one epoch. */
class LeaderLog {
  readonly byEpoch = new Map<number, Set<number>>();
  note(id: number, epoch: number): void {
    const s = this.byEpoch.get(epoch) ?? new Set();
    s.add(id);
    this.byEpoch.set(epoch, s);
  }
  check(): void {
    for (const [epoch, ids] of this.byEpoch) if (ids.size > 1) throw new Error(`two leaders in epoch ${epoch}: ${[...ids].join(', ')} (seed ${SEED})`);
  }
}

async function cluster(ids: readonly number[]) {
  const root = await mkdtemp(join(tmpdir(), 'samsa-raft-node-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const members: Member[] = [];
  for (const id of ids) {
    const slot = new Slot();
    const server = new Server(slot, 100 * 1024 * 1024, logger);
    const port = await server.listen('127.0.0.1', 0, 'CONTROLLER');
    cleanups.push(() => server.close());
    members.push({ id, dir: join(root, `node-${id}`, METADATA_LOG_DIR_NAME), slot, server, port, node: null, committed: [], snapshots: [], truncations: [], incarnation: 0 });
  }
  const voters: VoterAddress[] = members.map((m) => ({ id: m.id, host: '127.0.0.1', port: m.port }));
  const leaders = new LeaderLog();

  const start = async (m: Member): Promise<RaftNode> => {
    m.incarnation++;
    const node = await RaftNode.open({
      config: quorumConfig({ nodeId: m.id, clusterId: CLUSTER_ID, voters: ids, ...TIMEOUTS }),
      voters,
      dir: m.dir,
      clock: systemClock,
      random: new SeededRandom(SEED * 31 + m.id * 7 + m.incarnation),
      logger,
      // After a snapshot the log before it goes at once (metadata.max.retention.bytes 0).
      maxRetentionBytes: 0,
    });
    m.committed = [];
    m.snapshots = [];
    m.truncations = [];
    node.onSnapshotLoaded((s) => m.snapshots.push(s));
    node.onCommit((records) => m.committed.push(...records));
    node.onTruncate((offset) => m.truncations.push(offset));
    node.onLeaderChange((l) => l.isLocal && leaders.note(m.id, l.epoch));
    m.node = node;
    m.slot.target = new ControllerDispatcher(raftHandlers(node), logger);
    cleanups.push(() => node.close());
    return node;
  };
  const stop = async (m: Member, options: { resign?: boolean } = {}): Promise<void> => {
    m.slot.target = null;
    const n = m.node;
    m.node = null;
    await n?.close(options);
  };
  for (const m of members) await start(m);

  /** Exactly one leader that every running node follows, in the same epoch. */
  const stableLeader = (): Member | null => {
    const running = members.filter((m) => m.node !== null);
    const ls = running.filter((m) => m.node!.isLeader);
    if (ls.length !== 1) return null;
    const l = ls[0]!;
    const epoch = l.node!.leader.epoch;
    return running.every((m) => m.node!.leader.leaderId === l.id && m.node!.leader.epoch === epoch) ? l : null;
  };
  return { members, voters, leaders, start, stop, stableLeader, member: (id: number) => members.find((m) => m.id === id)! };
}

const view = (rs: readonly CommittedRecord[]): string[] => rs.map((r) => `${r.offset}@e${r.epoch}:${r.control ?? 'd'}:${r.value.toString('hex')}:${r.lastInBatch ? '|' : ''}`);

describe(`RaftNode over real sockets (seed ${SEED})`, () => {
  it('three voters elect exactly one leader; proposals commit on all three in the same order, one batch each', async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await waitFor('a leader followed by all', c.stableLeader);
    const follower = c.members.find((m) => m !== leader)!;
    // The refusal names the leader the follower knows at that moment (propose decides synchronously).
    const known = follower.node!.leader;
    const refused = await follower.node!.propose([noop()]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotControllerError);
    expect(refused).toMatchObject(known);

    const results = await Promise.all([leader.node!.propose([topic('a'), noop()]), leader.node!.propose([topic('b')]), leader.node!.propose([noop(), noop(), topic('c')])]);
    expect(results.map((r) => r.lastOffset)).toEqual([...results.map((r) => r.lastOffset)].sort((a, b) => a - b));
    const last = results[2]!.lastOffset;
    await waitFor('every node committed the three batches', () => c.members.every((m) => m.committed.length > last));
    const expected = view(leader.committed.slice(0, last + 1));
    for (const m of c.members) expect(view(m.committed.slice(0, last + 1))).toEqual(expected);
    // The batches as proposed: two records, one, three (lastInBatch marks each batch's end).
    const data = leader.committed.filter((r) => r.control === null);
    expect(data.map((r) => decodeMetadataRecord(r.value).type)).toEqual([2, 20, 2, 20, 20, 2]);
    expect(data.map((r) => r.lastInBatch)).toEqual([false, true, true, false, false, true]);
    expect(leader.committed[0]!.control).toBe(2);
    c.leaders.check();
  }, 60_000);

  it('the leader goes: a new one is elected and commits; the old one comes back and catches up', async () => {
    const c = await cluster([1, 2, 3]);
    const first = await waitFor('a leader', c.stableLeader);
    const before = await first.node!.propose([topic('before')]);
    await c.stop(first);
    const second = await waitFor('a new leader among the other two', c.stableLeader);
    expect(second.id).not.toBe(first.id);
    expect(second.node!.leader.epoch).toBeGreaterThan(before.epoch);
    const after = await second.node!.propose([topic('after')]);
    expect(after.lastOffset).toBeGreaterThan(before.lastOffset);
    await c.start(first);
    // Restarted, it replays its log from 0 as the high watermark it learns passes it.
    await waitFor('the old leader caught up', () => first.committed.length > after.lastOffset);
    expect(view(first.committed.slice(0, after.lastOffset + 1))).toEqual(view(second.committed.slice(0, after.lastOffset + 1)));
    c.leaders.check();
  }, 60_000);

  it('the leader dies without resigning: the followers notice by their fetch timeout and elect a new one', async () => {
    const c = await cluster([1, 2, 3]);
    const first = await waitFor('a leader', c.stableLeader);
    const before = await first.node!.propose([topic('before')]);
    await waitFor('both followers fetched it', () => c.members.every((m) => m.committed.length > before.lastOffset));
    await c.stop(first, { resign: false });
    const second = await waitFor('a new leader after the fetch timeout', c.stableLeader);
    expect(second.id).not.toBe(first.id);
    const after = await second.node!.propose([topic('after')]);
    await waitFor('the other follower has it', () => c.members.every((m) => m === first || m.committed.length > after.lastOffset));
    c.leaders.check();
  }, 60_000);

  it('KIP-853: an observer knowing only bootstrap servers learns the leader\'s endpoint from a Fetch answer, follows it, and finds the next leader after it dies', async () => {
    const c = await cluster([1, 2, 3]);
    const first = await waitFor('a leader', c.stableLeader);
    const before = await first.node!.propose([topic('before')]);
    // The bootstrap servers are the two followers: the leader is reached only at the endpoint their answers name.
    const followers = c.members.filter((m) => m !== first);
    const root = await mkdtemp(join(tmpdir(), 'samsa-raft-observer-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const bootstrapServers: VoterAddress[] = followers.map((m, i) => ({ id: bootstrapServerId(i), host: '127.0.0.1', port: m.port }));
    const observer = await RaftNode.open({
      config: quorumConfig({ nodeId: 9, clusterId: CLUSTER_ID, voters: [], bootstrapServers: bootstrapServers.map((b) => b.id), ...TIMEOUTS }),
      voters: [],
      bootstrapServers,
      dir: join(root, METADATA_LOG_DIR_NAME),
      clock: systemClock,
      random: new SeededRandom(SEED * 31 + 9),
      logger,
    });
    cleanups.push(() => observer.close());
    const seen: CommittedRecord[] = [];
    observer.onCommit((records) => seen.push(...records));
    expect(observer.endpointOf(first.id)).toBeNull();

    await waitFor('the observer committed what the leader did', () => seen.length > before.lastOffset);
    expect(observer.leader).toEqual({ leaderId: first.id, epoch: first.node!.leader.epoch });
    expect(observer.endpointOf(first.id)).toEqual({ nodeId: first.id, host: '127.0.0.1', port: first.port });
    expect(view(seen.slice(0, before.lastOffset + 1))).toEqual(view(first.committed.slice(0, before.lastOffset + 1)));
    // The leader counts it as an observer (DescribeQuorum), never as a voter.
    await waitFor('the leader lists the observer', () => first.node!.describeQuorum()?.observers.some((o) => o.replicaId === 9));
    expect(first.node!.describeQuorum()!.currentVoters.map((v) => v.replicaId)).toEqual([1, 2, 3]);

    // The leader dies without a word: the observer's fetch timeout sends it back to the bootstrap servers, one of which now leads.
    await c.stop(first, { resign: false });
    const second = await waitFor('a new leader after the fetch timeout', c.stableLeader);
    const after = await second.node!.propose([topic('after')]);
    await waitFor('the observer follows the new leader and commits its batch', () => observer.leader.leaderId === second.id && seen.length > after.lastOffset);
    expect(view(seen.slice(0, after.lastOffset + 1))).toEqual(view(second.committed.slice(0, after.lastOffset + 1)));
    expect(observer.stateName).toBe('Follower');
    expect(observer.isLeader).toBe(false);
    c.leaders.check();
  }, 60_000);

  it('a node that kept an uncommitted batch of a lost epoch truncates it when it comes back', async () => {
    const c = await cluster([1, 2, 3]);
    const old = await waitFor('a leader', c.stableLeader);
    const committed = await old.node!.propose([topic('kept')]);
    await waitFor('everyone has it', () => c.members.every((m) => m.committed.length > committed.lastOffset));
    const others = c.members.filter((m) => m !== old);
    for (const m of others) await c.stop(m);
    // Alone, the leader appends but cannot commit; the batch is on its disk only.
    const lost = old.node!.propose([topic('lost'), noop()]).catch((e: unknown) => e);
    const lostOffset = committed.lastOffset + 1;
    await waitFor('the lone leader appended the batch', () => old.node!.logEndOffset >= lostOffset + 2);
    await c.stop(old);
    expect(await lost).toBeInstanceOf(NotControllerError);
    for (const m of others) await c.start(m);
    const next = await waitFor('a leader of the two', c.stableLeader);
    const replaced = await next.node!.propose([topic('replaces')]);
    await c.start(old);
    await waitFor('the old leader caught up past the new batch', () => old.committed.length > replaced.lastOffset);
    expect(old.truncations).toEqual([lostOffset]);
    expect(view(old.committed.slice(0, replaced.lastOffset + 1))).toEqual(view(next.committed.slice(0, replaced.lastOffset + 1)));
    expect(old.committed.some((r) => r.control === null && decodeMetadataRecord(r.value).data['name' as never] === 'lost')).toBe(false);
    c.leaders.check();
  }, 60_000);

  it('KIP-630: a node down while the leader snapshots and deletes its log catches up by FetchSnapshot, then loads the snapshot on restart', async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await waitFor('a leader', c.stableLeader);
    const first = await leader.node!.propose([topic('a')]);
    await waitFor('everyone has it', () => c.members.every((m) => m.committed.length > first.lastOffset));
    const down = c.members.find((m) => m !== leader)!;
    await c.stop(down);
    const second = await leader.node!.propose([topic('b'), noop()]);
    await waitFor('the leader committed it', () => leader.node!.highWatermark > second.lastOffset);
    // The state machine's image at the high watermark, as metadata records (any will do for the Raft layer).
    const end = leader.node!.highWatermark;
    const image = [topic('a'), topic('b'), noop()];
    expect(await leader.node!.createSnapshot(end, image)).toBe(true);
    expect(await leader.node!.createSnapshot(end, image)).toBe(false);
    expect(leader.node!.latestSnapshotId).toEqual({ offset: end, epoch: second.epoch });
    expect(leader.node!.logStartOffset).toBe(end);
    expect(await listSnapshots(leader.dir)).toEqual([{ offset: end, epoch: second.epoch }]);

    await c.start(down);
    await waitFor('the restarted node installed the snapshot', () => down.snapshots.length > 0);
    expect(down.snapshots[0]!.id).toEqual({ offset: end, epoch: second.epoch });
    expect(down.snapshots[0]!.values).toEqual(image);
    const third = await leader.node!.propose([topic('c')]);
    await waitFor('it fetches on from the snapshot', () => down.committed.some((r) => r.offset === third.lastOffset));
    // Nothing below the snapshot is delivered as records: the snapshot stands for them.
    expect(down.committed.every((r) => r.offset >= end)).toBe(true);
    expect(view(down.committed.filter((r) => r.offset <= third.lastOffset))).toEqual(view(leader.committed.filter((r) => r.offset >= end && r.offset <= third.lastOffset)));
    expect(down.node!.logStartOffset).toBe(end);
    expect(await listSnapshots(down.dir)).toEqual([{ offset: end, epoch: second.epoch }]);

    // On restart the node starts from its snapshot (delivered at once), then its log after it.
    await c.stop(down);
    await c.start(down);
    expect(await waitFor('the snapshot loaded at open', () => down.snapshots[0])).toMatchObject({ id: { offset: end, epoch: second.epoch } });
    await waitFor('it replays its log after the snapshot', () => down.committed.some((r) => r.offset === third.lastOffset));
    expect(down.committed[0]!.offset).toBe(end);
    c.leaders.check();
  }, 60_000);

  it('a single voter commits alone, and replays its log from 0 after a restart', async () => {
    const c = await cluster([1]);
    const m = c.member(1);
    await waitFor('the single voter leads', () => m.node!.isLeader);
    const r = await m.node!.propose([topic('solo'), noop()]);
    await waitFor('committed', () => m.committed.length > r.lastOffset);
    const before = view(m.committed);
    await c.stop(m);
    await c.start(m);
    await waitFor('replayed after restart', () => m.committed.length > r.lastOffset);
    expect(view(m.committed.slice(0, r.lastOffset + 1))).toEqual(before.slice(0, r.lastOffset + 1));
    expect(m.node!.leader.epoch).toBe(2);
  }, 60_000);

  it("over the wire: a non-voter's Vote gets INCONSISTENT_VOTER_SET, another cluster's INCONSISTENT_CLUSTER_ID; DescribeQuorum, DescribeCluster and an observer's Fetch read the real quorum", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await waitFor('a leader', c.stableLeader);
    const done = await leader.node!.propose([topic('x')]);
    await waitFor('replicated', () => c.members.every((m) => m.committed.length > done.lastOffset));
    const connect = async (m: Member): Promise<BrokerConnection> => {
      const conn = await BrokerConnection.open('127.0.0.1', m.port, { clientId: 'raft-client-9', timeoutMs: 5000 });
      cleanups.push(async () => conn.close());
      return conn;
    };
    // Bad requests, to any voter. Their epoch is far ahead: had one been taken, that voter would be there now.
    const target = c.members[0]!;
    const conn = await connect(target);
    const bogusEpoch = leader.node!.leader.epoch + 1000;
    const vote = (clusterId: string, candidateId: number) =>
      conn.send(Vote, 2, wire.voteRequestToWire({ kind: 'VoteRequest', clusterId, candidateEpoch: bogusEpoch, candidateId, lastOffsetEpoch: bogusEpoch - 1, lastOffset: 1000, preVote: false }, target.id));
    const nonVoter = await vote(CLUSTER_ID, 9);
    expect(nonVoter.errorCode).toBe(0);
    expect(nonVoter.topics[0]!.partitions[0]).toMatchObject({ errorCode: 94, voteGranted: false });
    const otherCluster = await vote('another-cluster', 2);
    expect(otherCluster.errorCode).toBe(104);
    const begin = await conn.send(BeginQuorumEpoch, 1, wire.beginQuorumEpochRequestToWire({ kind: 'BeginQuorumEpochRequest', clusterId: CLUSTER_ID, leaderId: 9, leaderEpoch: bogusEpoch }, target.id));
    expect(begin.topics[0]!.partitions[0]!.errorCode).toBe(94);
    expect(c.members.every((m) => m.node!.leader.epoch < bogusEpoch)).toBe(true);

    /** Queries of the leader, again if the leadership moved meanwhile (a busy machine can flap an election). */
    const onLeader = async <T>(fn: (l: Member, epoch: number, conn: BrokerConnection) => Promise<T>): Promise<{ l: Member; epoch: number; r: T }> => {
      const until = Date.now() + DEADLINE_MS;
      for (;;) {
        const l = await waitFor('a leader', c.stableLeader);
        const epoch = l.node!.leader.epoch;
        const r = await fn(l, epoch, await connect(l));
        if (c.stableLeader() === l && l.node!.leader.epoch === epoch) return { l, epoch, r };
        if (Date.now() > until) throw new Error(`the leadership kept moving (seed ${SEED})`);
      }
    };
    const describeQuorum = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };
    const { l, epoch, r } = await onLeader(async (_l, epoch, lc) => ({
      q: await lc.send(DescribeQuorum, 2, describeQuorum),
      q0: await lc.send(DescribeQuorum, 0, describeQuorum),
      q1: await lc.send(DescribeQuorum, 1, describeQuorum),
      // DescribeCluster for --bootstrap-controller clients: the voters, the leader as controller id.
      dc: await lc.send(DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 }),
      asBroker: await lc.send(DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 }),
      // An observer (replica id 9) fetches from 0 at v17: real record batches, one per proposal.
      f: await lc.send(Fetch, 17, wire.fetchRequestToWire({ kind: 'FetchRequest', clusterId: CLUSTER_ID, replicaId: 9, maxWaitMs: 0, currentLeaderEpoch: epoch, fetchOffset: 0, lastFetchedEpoch: 0 }, 17)),
    }));
    const p = r.q.topics[0]!.partitions[0]!;
    expect(p).toMatchObject({ errorCode: 0, leaderId: l.id, leaderEpoch: epoch });
    expect(p.highWatermark).toBeGreaterThan(BigInt(done.lastOffset));
    expect(p.currentVoters.map((v) => v.replicaId)).toEqual([1, 2, 3]);
    expect(p.observers).toEqual([]);
    expect(r.q.nodes).toEqual(c.members.map((m) => ({ nodeId: m.id, listeners: [{ name: 'CONTROLLER', host: '127.0.0.1', port: m.port }] })));
    expect(r.dc).toMatchObject({ errorCode: 0, endpointType: 2, clusterId: CLUSTER_ID, controllerId: l.id });
    expect(r.dc.brokers.map((b) => [b.brokerId, b.port])).toEqual(c.members.map((m) => [m.id, m.port]));
    // v0 and v1 have no Nodes (v2+, not ignorable): the same quorum without them, not a closed connection.
    for (const old of [r.q0, r.q1]) {
      expect(old.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderId: l.id, leaderEpoch: epoch });
      expect(old.topics[0]!.partitions[0]!.currentVoters.map((v) => v.replicaId)).toEqual([1, 2, 3]);
    }
    expect(r.asBroker).toMatchObject({ errorCode: 114, errorMessage: 'The request was sent to an endpoint of type CONTROLLER, but we wanted an endpoint of type BROKER' });
    const records = r.f.responses[0]!.partitions[0]!.records!;
    const split = splitBatches(records);
    if (!split.ok) throw new Error(split.message);
    expect(split.batches[0]!.header.baseOffset).toBe(0);
    expect(isControl(split.batches[0]!.header.attributes)).toBe(true);
    const back = wire.decodeRaftRecords(records).records;
    expect(back.length).toBeGreaterThan(done.lastOffset);
    expect(back[done.lastOffset]!.value.kind).toBe('data');

    // A follower answers DescribeQuorum with NOT_LEADER_OR_FOLLOWER.
    const { r: fq } = await onLeader(async (leaderNow) => (await connect(c.members.find((m) => m !== leaderNow)!)).send(DescribeQuorum, 2, describeQuorum));
    expect(fq.topics[0]!.partitions[0]!.errorCode).toBe(6);
  }, 60_000);

  it('a disk failure stops the node (onFatal) instead of letting it run on a state it could not persist', async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await waitFor('a leader', c.stableLeader);
    const victim = c.members.find((m) => m !== leader)!;
    const failures: Error[] = [];
    victim.node!.onFatal((e) => failures.push(e));
    // Its directory disappears: the next quorum-state write (the epoch change below) fails. Renamed away in
    // one step (a recursive rm races the node's own writes into it: ENOTEMPTY, seen in CI).
    await rename(victim.dir, `${victim.dir}.gone`);
    await c.stop(leader);
    await waitFor('the victim stopped on the failure', () => failures.length > 0);
    expect(failures[0]!.message).toMatch(/ENOENT/);
    await expect(victim.node!.propose([noop()])).rejects.toThrow(NotControllerError);
    await expect(victim.node!.handleVote({ kind: 'VoteRequest', clusterId: CLUSTER_ID, candidateEpoch: 99, candidateId: 1, lastOffsetEpoch: 0, lastOffset: 0, preVote: false })).rejects.toThrow(/stopped/);
    await victim.node!.close();
  }, 60_000);

  it('a node whose metadata log holds a record that does not decode refuses to open', async () => {
    const root = await mkdtemp(join(tmpdir(), 'samsa-raft-node-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, METADATA_LOG_DIR_NAME);
    const { store } = await RaftStore.open({ dir, voters: [1], clock: systemClock, logger, checkValue: () => undefined });
    await store.append(0, [{ epoch: 1, value: { kind: 'data', data: Buffer.from('garbage') } }]);
    await store.flush();
    await store.close();
    await expect(
      RaftNode.open({ config: quorumConfig({ nodeId: 1, clusterId: CLUSTER_ID, voters: [1] }), voters: [], dir, clock: systemClock, random: new SeededRandom(SEED), logger }),
    ).rejects.toThrow(RaftStoreCorruptError);
  });
});
