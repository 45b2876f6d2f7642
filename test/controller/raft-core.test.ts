/**
 * The Raft core's rules one by one (KIP-595, as Kafka's KafkaRaftClient applies them): vote granting and
 * its persistence, the errors for bad input (stale epochs, non-voters, another cluster), fetch validation
 * and divergence, the high-watermark rule, restarts from quorum-state, timeouts; plus the quorum-state file
 * format, controller.quorum.voters parsing, and the core's purity (no clock, timers, randomness or I/O).
 * The simulation (raft-simulation.test.ts) checks the same rules in combination.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapServerId, parseQuorumVoters, QuorumConfigError, quorumConfig, type QuorumConfig } from '../../src/controller/raft/config.js';
import { RaftLog, type RaftRecord } from '../../src/controller/raft/log.js';
import { RaftError, type FetchRequest, type FetchResponse, type RaftBody, type RaftMessage, type VoteRequest, type VoteResponse } from '../../src/controller/raft/messages.js';
import { decodeQuorumState, encodeQuorumState, QuorumStateFormatError, type QuorumStateData } from '../../src/controller/raft/quorum-state.js';
import { RaftCore, type RaftEffect } from '../../src/controller/raft/raft-core.js';
import { SeededRandom } from '../../src/controller/raft/random.js';

const CLUSTER = 'test-cluster';

function core(opts: { nodeId?: number; voters?: number[]; state?: QuorumStateData | null; log?: RaftRecord[]; now?: number; config?: Partial<QuorumConfig> } = {}): RaftCore {
  const config = quorumConfig({ nodeId: opts.nodeId ?? 1, clusterId: CLUSTER, voters: opts.voters ?? [1, 2, 3], ...opts.config });
  return new RaftCore(config, opts.state ?? null, opts.log ?? [], opts.now ?? 0, new SeededRandom(42));
}

function data(epoch: number, text: string): RaftRecord {
  return { epoch, value: { kind: 'data', data: new TextEncoder().encode(text) } };
}

function sent(effects: RaftEffect[]): RaftMessage[] {
  return effects.flatMap((e) => (e.type === 'send' ? [e.message] : []));
}

function msg<B extends RaftBody>(source: number, destination: number, body: B, correlationId = 7): RaftMessage<B> {
  return { source, destination, correlationId, body };
}

function vote(candidateId: number, candidateEpoch: number, lastOffsetEpoch = 0, lastOffset = 0, clusterId: string | null = CLUSTER, preVote = false): VoteRequest {
  return { kind: 'VoteRequest', clusterId, candidateEpoch, candidateId, lastOffsetEpoch, lastOffset, preVote };
}

function fetch(replicaId: number, currentLeaderEpoch: number, fetchOffset: number, lastFetchedEpoch: number, clusterId: string | null = CLUSTER): FetchRequest {
  return { kind: 'FetchRequest', clusterId, replicaId, maxWaitMs: 0, currentLeaderEpoch, fetchOffset, lastFetchedEpoch };
}

function onlyReply<B extends RaftBody>(effects: RaftEffect[]): B {
  const out = sent(effects);
  expect(out).toHaveLength(1);
  return out[0]!.body as B;
}

/** Node `from`'s answer to a (pre-)vote request, matched to it by correlation id. */
function answer(c: RaftCore, now: number, req: RaftMessage, granted = true): RaftEffect[] {
  const b = req.body as VoteRequest;
  const body: VoteResponse = { kind: 'VoteResponse', errorCode: 0, partitionErrorCode: 0, leaderId: -1, leaderEpoch: b.preVote ? b.candidateEpoch - 1 : b.candidateEpoch, voteGranted: granted };
  return c.handle(now, { source: req.destination, destination: req.source, correlationId: req.correlationId, body });
}

/** Election timeout at `now` (Prospective), node 2 says yes to the pre-vote: the Candidate's effects. */
function standForElection(c: RaftCore, now: number): RaftEffect[] {
  const pre = sent(c.tick(now)).find((m) => m.destination === 2 && m.body.kind === 'VoteRequest')!;
  expect(c.stateName).toBe('Prospective');
  expect(pre.body).toMatchObject({ preVote: true, candidateEpoch: c.epoch + 1 });
  const effects = answer(c, now, pre);
  expect(c.stateName).toBe('Candidate');
  return effects;
}

/** Stands for election at `now` and wins with node 2's vote. */
function elect(c: RaftCore, now: number): RaftEffect[] {
  const vote = sent(standForElection(c, now)).find((m) => m.destination === 2 && m.body.kind === 'VoteRequest')!;
  const effects = answer(c, now + 1, vote);
  expect(c.stateName).toBe('Leader');
  return effects;
}

/** A 3-voter node 1 made leader of epoch 1 by node 2's vote. */
function leaderOfEpoch1(log: RaftRecord[] = []): RaftCore {
  const c = core({ state: { leaderId: -1, leaderEpoch: 0, votedId: -1 }, log });
  c.drain();
  elect(c, 5000);
  return c;
}

describe('elections', () => {
  it('a single voter elects itself at once, appends LeaderChange and commits it', () => {
    const c = core({ voters: [1] });
    const effects = c.drain();
    expect(c.stateName).toBe('Leader');
    expect(c.epoch).toBe(1);
    expect(effects.map((e) => e.type)).toEqual(['persist-quorum-state', 'persist-quorum-state', 'append', 'flush', 'high-watermark']);
    expect(c.record(0)?.value).toEqual({ kind: 'leader-change', leaderId: 1, voters: [1], grantingVoters: [1] });
    expect(c.highWatermark).toBe(1);
    const p = c.propose(10, new Uint8Array([1]));
    expect(p.result).toEqual({ ok: true, offset: 1, lastOffset: 1, epoch: 1 });
    c.tick(10 + 25); // append.linger.ms, then flush
    expect(c.highWatermark).toBe(2);
  });

  it('the election timeout is controller.quorum.election.timeout.ms plus a random part below it', () => {
    for (let seed = 0; seed < 50; seed++) {
      const c = new RaftCore(quorumConfig({ nodeId: 1, clusterId: CLUSTER, voters: [1, 2, 3] }), null, [], 0, new SeededRandom(seed));
      const t = c.nextWakeupMs();
      expect(t).toBeGreaterThanOrEqual(1000);
      expect(t).toBeLessThan(2000);
    }
  });

  it('a candidate persists its own vote before asking, and becomes leader on a majority', () => {
    const c = core();
    c.drain();
    const effects = standForElection(c, 2000);
    expect(effects[0]).toEqual({ type: 'persist-quorum-state', state: { leaderId: -1, leaderEpoch: 1, votedId: 1 } });
    const votes = sent(effects);
    expect(votes.map((m) => m.destination).sort()).toEqual([2, 3]);
    expect(votes[0]!.body).toMatchObject({ kind: 'VoteRequest', candidateEpoch: 1, candidateId: 1, lastOffset: 0, lastOffsetEpoch: 0, preVote: false });
    const after = answer(c, 2001, votes[0]!);
    expect(c.stateName).toBe('Leader');
    expect(after[0]).toEqual({ type: 'persist-quorum-state', state: { leaderId: 1, leaderEpoch: 1, votedId: 1 } });
    expect(sent(after).filter((m) => m.body.kind === 'BeginQuorumEpochRequest').map((m) => m.destination).sort()).toEqual([2, 3]);
  });

  it('a vote is persisted before the granting answer is sent, and given once per epoch', () => {
    const c = core();
    c.drain();
    const effects = c.handle(1, msg(2, 1, vote(2, 3)));
    expect(effects.map((e) => e.type)).toEqual(['persist-quorum-state', 'persist-quorum-state', 'send']);
    expect(effects[1]).toEqual({ type: 'persist-quorum-state', state: { leaderId: -1, leaderEpoch: 3, votedId: 2 } });
    expect((effects[2] as { message: RaftMessage<VoteResponse> }).message.body).toMatchObject({ voteGranted: true, leaderEpoch: 3, partitionErrorCode: 0 });
    // The same candidate again (a duplicate): granted again; another candidate in epoch 3: refused.
    expect(onlyReply<VoteResponse>(c.handle(2, msg(2, 1, vote(2, 3)))).voteGranted).toBe(true);
    expect(onlyReply<VoteResponse>(c.handle(3, msg(3, 1, vote(3, 3)))).voteGranted).toBe(false);
  });

  it('a vote survives a restart: quorum-state with votedId makes a Voted node that refuses others', () => {
    const c = core({ state: { leaderId: -1, leaderEpoch: 3, votedId: 2 } });
    c.drain();
    expect(c.stateName).toBe('Voted');
    expect(onlyReply<VoteResponse>(c.handle(1, msg(3, 1, vote(3, 3)))).voteGranted).toBe(false);
    expect(onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 3)))).voteGranted).toBe(true);
  });

  it('no vote for a candidate whose log is behind ours (last epoch, then end offset)', () => {
    const log = [data(1, 'a'), data(2, 'b'), data(2, 'c')];
    const c = core({ log, state: { leaderId: -1, leaderEpoch: 2, votedId: -1 } });
    c.drain();
    expect(onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 3, 1, 10)))).voteGranted).toBe(false); // older last epoch
    expect(onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 4, 2, 2)))).voteGranted).toBe(false); // same epoch, shorter
    expect(onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 5, 2, 3)))).voteGranted).toBe(true); // equal
  });

  it('a leader that restarts never leads its epoch again: it resigns and announces EndQuorumEpoch', () => {
    const c = core({ state: { leaderId: 1, leaderEpoch: 4, votedId: 1 } });
    const effects = c.drain();
    expect(c.stateName).toBe('Resigned');
    expect(c.epoch).toBe(4);
    expect(sent(effects).map((m) => m.body.kind)).toEqual(['EndQuorumEpochRequest', 'EndQuorumEpochRequest']);
    expect(onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 4)))).voteGranted).toBe(false);
    standForElection(c, c.nextWakeupMs());
    expect(c.epoch).toBe(5);
  });

  it('a follower without a successful Fetch for controller.quorum.fetch.timeout.ms stands for election', () => {
    const c = core({ state: { leaderId: 2, leaderEpoch: 4, votedId: -1 } });
    const effects = c.drain();
    expect(c.stateName).toBe('Follower');
    expect(sent(effects)[0]!.body).toMatchObject({ kind: 'FetchRequest', currentLeaderEpoch: 4, fetchOffset: 0, lastFetchedEpoch: 0, replicaId: 1 });
    c.tick(1999);
    expect(c.stateName).toBe('Follower');
    standForElection(c, 2000);
    expect(c.epoch).toBe(5);
  });

  it('a higher epoch in any message moves the node to it; a Vote with a higher epoch unseats a leader', () => {
    const c = leaderOfEpoch1();
    const reply = onlyReply<VoteResponse>(c.handle(10, msg(3, 1, vote(3, 7, 1, 100))));
    expect(c.stateName).toBe('Voted');
    expect(c.epoch).toBe(7);
    expect(reply.voteGranted).toBe(true);
  });
});

describe('pre-vote (KIP-996)', () => {
  it('a pre-vote changes nothing on the voter: no epoch change, nothing persisted', () => {
    const c = core({ state: { leaderId: -1, leaderEpoch: 5, votedId: -1 } });
    c.drain();
    const effects = c.handle(1, msg(2, 1, vote(2, 6, 0, 0, CLUSTER, true)));
    expect(effects.map((e) => e.type)).toEqual(['send']);
    expect((effects[0] as { message: RaftMessage<VoteResponse> }).message.body).toMatchObject({ voteGranted: true, leaderEpoch: 5 });
    expect(c.epoch).toBe(5);
    expect(c.stateName).toBe('Unattached');
  });

  it("a pre-vote from a node whose own epoch is above ours moves us to its epoch (Kafka's handleVoteRequest), even a leader", () => {
    // Node 3 stood in epoch 2 (its Vote requests were all lost) while node 1 was elected in epoch 1; it now polls for epoch 3.
    const c = leaderOfEpoch1();
    c.drain();
    const r = onlyReply<VoteResponse>(c.handle(6000, msg(3, 1, vote(3, 3, 1, 0, CLUSTER, true))));
    expect(c.epoch).toBe(2);
    expect(c.stateName).toBe('Unattached');
    expect(c.quorumState).toEqual({ leaderId: -1, leaderEpoch: 2, votedId: -1 });
    // Its log (shorter than ours) decides the answer; the epoch is taken either way.
    expect(r).toMatchObject({ leaderEpoch: 2, voteGranted: false });
  });

  it('a follower that fetched from its leader refuses pre-votes, until the leader steps down', () => {
    const f = core({ nodeId: 2, state: { leaderId: 1, leaderEpoch: 3, votedId: -1 } });
    const req = sent(f.drain())[0]!;
    const ok: FetchResponse = { kind: 'FetchResponse', errorCode: 0, partitionErrorCode: 0, highWatermark: 0, currentLeader: { leaderId: 1, leaderEpoch: 3 }, divergingEpoch: null, records: [] };
    const next = sent(f.handle(1, { source: 1, destination: 2, correlationId: req.correlationId, body: ok }))[0]!;
    expect(onlyReply<VoteResponse>(f.handle(2, msg(3, 2, vote(3, 4, 0, 0, CLUSTER, true)))).voteGranted).toBe(false);
    // The leader answers that it no longer leads epoch 3 (it restarted and resigned).
    f.handle(3, { source: 1, destination: 2, correlationId: next.correlationId, body: { ...ok, partitionErrorCode: RaftError.NOT_LEADER_OR_FOLLOWER } });
    expect(onlyReply<VoteResponse>(f.handle(4, msg(3, 2, vote(3, 4, 0, 0, CLUSTER, true)))).voteGranted).toBe(true);
    expect(f.epoch).toBe(3);
  });

  it('a prospective node refused by a majority keeps its epoch: a node cut off cannot inflate epochs', () => {
    const c = core({ state: { leaderId: 2, leaderEpoch: 7, votedId: -1 } });
    c.drain();
    for (let round = 0; round < 5; round++) {
      // Follower of 2 until its fetch timeout, then Prospective; a failed pre-vote sends it back to 2 (KIP-996).
      expect(c.stateName).toBe('Follower');
      const pres = sent(c.tick(c.nextWakeupMs())).filter((m) => m.body.kind === 'VoteRequest');
      expect(c.stateName).toBe('Prospective');
      for (const p of pres) answer(c, c.nextWakeupMs() - 1, p, false);
      expect(c.epoch).toBe(7);
      expect(c.quorumState.leaderEpoch).toBe(7);
      c.tick(c.nextWakeupMs());
      expect(c.stateName).toBe('Follower');
      expect(c.leaderId).toBe(2);
    }
  });

  it('a node that left a dead leader on a fetch timeout is not sent back to it by hearsay, only by the leader itself', () => {
    const c = core({ state: { leaderId: 2, leaderEpoch: 7, votedId: -1 } });
    c.drain();
    const pres = sent(c.tick(c.nextWakeupMs())).filter((m) => m.body.kind === 'VoteRequest');
    expect(c.stateName).toBe('Prospective');
    const to3 = pres.find((m) => m.destination === 3)!;
    // Node 3 still names 2 as the leader of epoch 7 (it never heard otherwise) and says yes: that is no reason
    // to follow 2 again; the yes makes a Candidate of epoch 8.
    c.handle(c.nextWakeupMs() - 1, { source: 3, destination: 1, correlationId: to3.correlationId, body: { kind: 'VoteResponse', errorCode: 0, partitionErrorCode: 0, leaderId: 2, leaderEpoch: 7, voteGranted: true } });
    expect(c.stateName).toBe('Candidate');
    expect(c.epoch).toBe(8);

    const d = core({ state: { leaderId: 2, leaderEpoch: 7, votedId: -1 } });
    d.drain();
    const dpres = sent(d.tick(d.nextWakeupMs())).filter((m) => m.body.kind === 'VoteRequest');
    const to2 = dpres.find((m) => m.destination === 2)!;
    // Node 2 itself answers, as the leader of epoch 7: it is alive, follow it.
    d.handle(d.nextWakeupMs() - 1, { source: 2, destination: 1, correlationId: to2.correlationId, body: { kind: 'VoteResponse', errorCode: 0, partitionErrorCode: 0, leaderId: 2, leaderEpoch: 7, voteGranted: false } });
    expect(d.stateName).toBe('Follower');
    expect(d.leaderId).toBe(2);
  });

  it('a yes to a pre-vote is not a vote: a Candidate counts only answers to its own vote requests', () => {
    const c = core();
    c.drain();
    const pres = sent(c.tick(2000)).filter((m) => m.body.kind === 'VoteRequest');
    answer(c, 2000, pres[0]!); // node 2's pre-vote yes: Candidate of epoch 1
    expect(c.stateName).toBe('Candidate');
    // Node 3's pre-vote yes arrives late, claiming epoch 1: it must not elect us.
    c.handle(2001, { source: 3, destination: 1, correlationId: pres[1]!.correlationId, body: { kind: 'VoteResponse', errorCode: 0, partitionErrorCode: 0, leaderId: -1, leaderEpoch: 1, voteGranted: true } });
    expect(c.stateName).toBe('Candidate');
  });
});

describe('bad input gets Kafka errors', () => {
  it('Vote: stale epoch FENCED_LEADER_EPOCH, non-voter INCONSISTENT_VOTER_SET, other cluster INCONSISTENT_CLUSTER_ID, no id INVALID_REQUEST', () => {
    const c = core({ state: { leaderId: -1, leaderEpoch: 5, votedId: -1 } });
    c.drain();
    const stale = onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 4))));
    expect(stale).toMatchObject({ errorCode: 0, partitionErrorCode: RaftError.FENCED_LEADER_EPOCH, leaderEpoch: 5, voteGranted: false });
    const stranger = onlyReply<VoteResponse>(c.handle(1, msg(9, 1, vote(9, 6))));
    expect(stranger).toMatchObject({ partitionErrorCode: RaftError.INCONSISTENT_VOTER_SET, voteGranted: false });
    const foreign = onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(2, 6, 0, 0, 'other-cluster'))));
    expect(foreign).toMatchObject({ errorCode: RaftError.INCONSISTENT_CLUSTER_ID, voteGranted: false });
    const noId = onlyReply<VoteResponse>(c.handle(1, msg(2, 1, vote(-1, 6))));
    expect(noId).toMatchObject({ partitionErrorCode: RaftError.INVALID_REQUEST, voteGranted: false });
    // None of them changed the node's epoch or vote.
    expect(c.quorumState).toEqual({ leaderId: -1, leaderEpoch: 5, votedId: -1 });
  });

  it('BeginQuorumEpoch and EndQuorumEpoch: stale epoch, non-voter leader, other cluster', () => {
    const c = core({ state: { leaderId: -1, leaderEpoch: 5, votedId: -1 } });
    c.drain();
    const begin = (leaderId: number, leaderEpoch: number, clusterId: string | null = CLUSTER): RaftBody =>
      sent(c.handle(1, msg(leaderId, 1, { kind: 'BeginQuorumEpochRequest', clusterId, leaderId, leaderEpoch }))).find((m) => m.body.kind === 'BeginQuorumEpochResponse')!.body;
    expect(begin(2, 4)).toMatchObject({ partitionErrorCode: RaftError.FENCED_LEADER_EPOCH, leaderEpoch: 5 });
    expect(begin(9, 6)).toMatchObject({ partitionErrorCode: RaftError.INCONSISTENT_VOTER_SET });
    expect(begin(2, 6, 'x')).toMatchObject({ errorCode: RaftError.INCONSISTENT_CLUSTER_ID });
    expect(c.stateName).toBe('Unattached');
    const end = onlyReply(c.handle(1, msg(9, 1, { kind: 'EndQuorumEpochRequest', clusterId: CLUSTER, leaderId: 9, leaderEpoch: 6, preferredSuccessors: [1] })));
    expect(end).toMatchObject({ partitionErrorCode: RaftError.INCONSISTENT_VOTER_SET });
    expect(begin(2, 6)).toMatchObject({ errorCode: 0, partitionErrorCode: 0, leaderId: 2, leaderEpoch: 6 });
    expect(c.stateName).toBe('Follower');
  });

  it('Fetch: stale epoch FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH, to a non-leader NOT_LEADER_OR_FOLLOWER, other cluster, bad offsets', () => {
    const c = leaderOfEpoch1();
    const f = (req: FetchRequest): FetchResponse => onlyReply<FetchResponse>(c.handle(10, msg(req.replicaId, 1, req)));
    expect(f(fetch(2, 0, 0, 0))).toMatchObject({ partitionErrorCode: RaftError.FENCED_LEADER_EPOCH, currentLeader: { leaderId: 1, leaderEpoch: 1 } });
    expect(f(fetch(2, 2, 0, 0))).toMatchObject({ partitionErrorCode: RaftError.UNKNOWN_LEADER_EPOCH });
    expect(f(fetch(2, 1, 0, 0, 'x'))).toMatchObject({ errorCode: RaftError.INCONSISTENT_CLUSTER_ID, records: [] });
    expect(f(fetch(2, 1, -1, 0))).toMatchObject({ errorCode: RaftError.INVALID_REQUEST });
    expect(f(fetch(2, 1, 0, 2))).toMatchObject({ errorCode: RaftError.INVALID_REQUEST }); // lastFetchedEpoch > currentLeaderEpoch
    const follower = core({ nodeId: 2, state: { leaderId: 1, leaderEpoch: 1, votedId: -1 } });
    follower.drain();
    expect(onlyReply<FetchResponse>(follower.handle(1, msg(3, 2, fetch(3, 1, 0, 0))))).toMatchObject({
      partitionErrorCode: RaftError.NOT_LEADER_OR_FOLLOWER,
      currentLeader: { leaderId: 1, leaderEpoch: 1 },
    });
  });

  it('a Fetch from an observer (not a voter) is served, as in Kafka, but does not count toward the high watermark', () => {
    const c = leaderOfEpoch1();
    const r = onlyReply<FetchResponse>(c.handle(10, msg(9, 1, fetch(9, 1, 0, 0))));
    expect(r.partitionErrorCode).toBe(0);
    expect(r.records).toHaveLength(1);
    c.handle(11, msg(9, 1, fetch(9, 1, 1, 1)));
    expect(c.highWatermark).toBe(0);
  });
});

describe('observers (a node not among the voters: process.roles=broker)', () => {
  function fetchAnswer(req: RaftMessage, over: Partial<FetchResponse>): RaftMessage<FetchResponse> {
    const body: FetchResponse = { kind: 'FetchResponse', errorCode: 0, partitionErrorCode: 0, highWatermark: -1, currentLeader: { leaderId: -1, leaderEpoch: 0 }, divergingEpoch: null, records: [], ...over };
    return { source: req.destination, destination: req.source, correlationId: req.correlationId, body };
  }

  it('finds the leader through a voter, follows it, learns the high watermark, truncates on DivergingEpoch, looks again after the fetch timeout, and never stands', () => {
    const c = core({ nodeId: 4, log: [data(1, 'a'), data(1, 'b'), data(1, 'stale')], state: { leaderId: -1, leaderEpoch: 1, votedId: -1 } });
    expect(c.isObserver).toBe(true);
    c.drain();
    expect(c.stateName).toBe('Unattached');
    expect(c.nextWakeupMs()).toBe(0);
    // No leader known: a Fetch to some voter, in our epoch.
    const discovery = onlyReply<FetchRequest>(c.tick(0));
    const probe = sent(c.tick(c.nextWakeupMs()));
    expect(probe).toHaveLength(1); // the first went unanswered for request.timeout.ms: another voter is asked
    expect(discovery).toMatchObject({ kind: 'FetchRequest', replicaId: 4, currentLeaderEpoch: 1, fetchOffset: 3, lastFetchedEpoch: 1 });
    expect([1, 2, 3]).toContain(probe[0]!.destination);
    // That voter is in epoch 3 under leader 2: FENCED_LEADER_EPOCH names it, and the observer follows node 2.
    const follow = sent(c.handle(3000, fetchAnswer(probe[0]!, { partitionErrorCode: 74, currentLeader: { leaderId: 2, leaderEpoch: 3 } })));
    expect(c.stateName).toBe('Follower');
    expect(c.leaderId).toBe(2);
    expect(c.quorumState).toEqual({ leaderId: 2, leaderEpoch: 3, votedId: -1 });
    expect(follow).toHaveLength(1);
    expect(follow[0]).toMatchObject({ destination: 2, body: { kind: 'FetchRequest', currentLeaderEpoch: 3, fetchOffset: 3 } });
    // Its third record was never committed: the leader's DivergingEpoch cuts it.
    const trunc = c.handle(3001, fetchAnswer(follow[0]!, { highWatermark: 2, currentLeader: { leaderId: 2, leaderEpoch: 3 }, divergingEpoch: { epoch: 1, offset: 2 } }));
    expect(trunc).toContainEqual({ type: 'truncate', offset: 2 });
    const next = sent(trunc)[0]!;
    expect(next.body).toMatchObject({ fetchOffset: 2, lastFetchedEpoch: 1 });
    // Records and the leader's high watermark: committed only as far as the leader says.
    const got = c.handle(3002, fetchAnswer(next, { highWatermark: 3, currentLeader: { leaderId: 2, leaderEpoch: 3 }, records: [data(3, 'x'), data(3, 'y')] }));
    expect(got).toContainEqual({ type: 'high-watermark', offset: 3 });
    expect(c.highWatermark).toBe(3);
    expect(c.logEndOffset).toBe(4);
    // A Vote reaching it anyway is not granted, and changes nothing.
    const v = onlyReply<VoteResponse>(c.handle(3003, msg(1, 4, vote(1, 9, 3, 10))));
    expect(v.voteGranted).toBe(false);
    expect(c.epoch).toBe(3);
    // The leader goes silent: after the fetch timeout the observer looks for a leader again; it never becomes Prospective.
    let t = 3003;
    for (let i = 0; i < 20; i++) {
      t = Math.max(t, c.nextWakeupMs());
      for (const e of c.tick(t)) if (e.type === 'send') expect(e.message.body.kind).toBe('FetchRequest');
      expect(['Follower', 'Unattached']).toContain(c.stateName);
    }
    expect(c.stateName).toBe('Unattached');
    expect(c.quorumState.votedId).toBe(-1);
  });

  it('a leader answering NOT_LEADER_OR_FOLLOWER sends it looking at once; a voter naming the new leader redirects it', () => {
    const c = core({ nodeId: 4, state: { leaderId: 2, leaderEpoch: 3, votedId: -1 } });
    const first = sent(c.drain())[0]!;
    expect(c.stateName).toBe('Follower');
    expect(first.destination).toBe(2);
    c.handle(10, fetchAnswer(first, { partitionErrorCode: 6, currentLeader: { leaderId: 2, leaderEpoch: 3 } }));
    expect(c.stateName).toBe('Unattached');
    const probe = onlyReply<FetchRequest>(c.tick(10));
    expect(probe.currentLeaderEpoch).toBe(3);
    expect(sent(c.tick(11))).toHaveLength(0); // one discovery Fetch in flight at a time
  });
});

describe('an observer with bootstrap servers only (KIP-853: controller.quorum.bootstrap.servers, no voters)', () => {
  const B1 = bootstrapServerId(0);
  const B2 = bootstrapServerId(1);

  function observer(state: QuorumStateData | null = null, log: RaftRecord[] = []): RaftCore {
    return new RaftCore(quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [], bootstrapServers: [B1, B2] }), state, log, 0, new SeededRandom(7));
  }

  /** The answer of node `source` (a voter answering under its own id) to a Fetch. */
  function reply(req: RaftMessage, source: number, over: Partial<FetchResponse>): RaftMessage<FetchResponse> {
    const body: FetchResponse = { kind: 'FetchResponse', errorCode: 0, partitionErrorCode: 0, highWatermark: -1, currentLeader: { leaderId: -1, leaderEpoch: 0 }, divergingEpoch: null, records: [], ...over };
    return { source, destination: req.source, correlationId: req.correlationId, body };
  }

  it('bootstrap server -> the leader named in its Fetch answer -> fetches from the leader -> back to the bootstrap servers on the fetch timeout', () => {
    const c = observer();
    expect(c.isObserver).toBe(true);
    c.drain();
    expect(c.stateName).toBe('Unattached');
    // Discovery: a Fetch to one of the bootstrap servers (their ids: -2, -3), never to a voter id it does not know.
    const d1 = sent(c.tick(0));
    expect(d1).toHaveLength(1);
    expect([B1, B2]).toContain(d1[0]!.destination);
    expect(d1[0]!.body).toMatchObject({ kind: 'FetchRequest', replicaId: 4, currentLeaderEpoch: 0, fetchOffset: 0, lastFetchedEpoch: 0 });
    expect(sent(c.tick(5))).toHaveLength(0); // one discovery Fetch in flight at a time
    // The controller behind that address (node 2, a follower in epoch 5) names the leader, node 1.
    const follow = sent(c.handle(10, reply(d1[0]!, 2, { partitionErrorCode: RaftError.FENCED_LEADER_EPOCH, currentLeader: { leaderId: 1, leaderEpoch: 5 } })));
    expect(c.stateName).toBe('Follower');
    expect(c.leaderId).toBe(1);
    expect(c.epoch).toBe(5);
    expect(c.quorumState).toEqual({ leaderId: 1, leaderEpoch: 5, votedId: -1 });
    expect(follow).toHaveLength(1);
    expect(follow[0]).toMatchObject({ destination: 1, body: { kind: 'FetchRequest', currentLeaderEpoch: 5, fetchOffset: 0 } });
    // The leader's records and high watermark.
    const got = c.handle(20, reply(follow[0]!, 1, { highWatermark: 2, currentLeader: { leaderId: 1, leaderEpoch: 5 }, records: [data(5, 'a'), data(5, 'b')] }));
    expect(got).toContainEqual({ type: 'high-watermark', offset: 2 });
    const next = sent(got)[0]!;
    expect(next).toMatchObject({ destination: 1, body: { fetchOffset: 2, lastFetchedEpoch: 5 } });
    // The leader goes silent: fetch.timeout.ms after the last good Fetch, back to the bootstrap servers, in the same epoch.
    const beforeTimeout = 20 + c.config.fetchTimeoutMs - 1;
    for (const m of sent(c.tick(beforeTimeout))) expect(m.destination).toBe(1); // request.timeout.ms resends go to the leader
    expect(c.stateName).toBe('Follower');
    c.tick(20 + c.config.fetchTimeoutMs);
    expect(c.stateName).toBe('Unattached');
    expect(c.epoch).toBe(5);
    const d2 = sent(c.tick(c.nextWakeupMs()));
    expect(d2).toHaveLength(1);
    expect([B1, B2]).toContain(d2[0]!.destination);
    expect(d2[0]!.body).toMatchObject({ currentLeaderEpoch: 5, fetchOffset: 2 });
    // The new leader (node 3, epoch 6) answers it itself: followed at once.
    const f2 = sent(c.handle(3000, reply(d2[0]!, 3, { partitionErrorCode: RaftError.FENCED_LEADER_EPOCH, currentLeader: { leaderId: 3, leaderEpoch: 6 } })));
    expect(c.leaderId).toBe(3);
    expect(f2[0]).toMatchObject({ destination: 3, body: { currentLeaderEpoch: 6 } });
  });

  it('a bootstrap server that cannot be reached or knows no leader backs off for retry.backoff.ms; the other is asked at once', () => {
    const c = observer();
    c.drain();
    const first = sent(c.tick(0))[0]!;
    const other = first.destination === B1 ? B2 : B1;
    // Connection refused (the transport's BROKER_NOT_AVAILABLE): the other server at once.
    c.handle(1, reply(first, first.destination, { errorCode: RaftError.BROKER_NOT_AVAILABLE }));
    expect(c.nextWakeupMs()).toBe(1);
    const second = sent(c.tick(1));
    expect(second.map((m) => m.destination)).toEqual([other]);
    // It knows no leader either (an election in progress): both back off; the next ask waits for the first to be ready.
    c.handle(2, reply(second[0]!, 2, { partitionErrorCode: RaftError.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: -1, leaderEpoch: 0 } }));
    expect(c.stateName).toBe('Unattached');
    expect(sent(c.tick(2))).toHaveLength(0);
    expect(c.nextWakeupMs()).toBe(1 + c.config.retryBackoffMs);
    const third = sent(c.tick(1 + c.config.retryBackoffMs));
    expect(third.map((m) => m.destination)).toEqual([first.destination]);
    // No answer within request.timeout.ms: asked again (a timed-out server is ready again, as in Kafka's RequestManager).
    const t = 1 + c.config.retryBackoffMs + c.config.requestTimeoutMs;
    expect(c.nextWakeupMs()).toBe(t);
    expect(sent(c.tick(t))).toHaveLength(1);
  });

  it('restarted with a leader in quorum-state whose address it cannot know: starts Unattached and asks a bootstrap server', () => {
    const c = observer({ leaderId: 1, leaderEpoch: 5, votedId: -1 }, [data(5, 'a')]);
    expect(sent(c.drain())).toHaveLength(0);
    expect(c.stateName).toBe('Unattached');
    expect(c.epoch).toBe(5);
    const d = sent(c.tick(0));
    expect([B1, B2]).toContain(d[0]!.destination);
    expect(d[0]!.body).toMatchObject({ currentLeaderEpoch: 5, fetchOffset: 1, lastFetchedEpoch: 5 });
    // The leader itself answers (it was behind that address): followed, and the next Fetch goes to it by id.
    const f = sent(c.handle(5, reply(d[0]!, 1, { highWatermark: 1, currentLeader: { leaderId: 1, leaderEpoch: 5 } })));
    expect(c.stateName).toBe('Follower');
    expect(f[0]).toMatchObject({ destination: 1, body: { currentLeaderEpoch: 5, fetchOffset: 1 } });
  });

  it('configuration: bootstrap servers are node ids -2 and below; without them an empty voter set is refused', () => {
    expect([bootstrapServerId(0), bootstrapServerId(1), bootstrapServerId(2)]).toEqual([-2, -3, -4]);
    expect(() => quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [], bootstrapServers: [] })).toThrow(/names no voter/);
    expect(() => quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [], bootstrapServers: [-1] })).toThrow(QuorumConfigError);
    expect(() => quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [], bootstrapServers: [1] })).toThrow(QuorumConfigError);
    // With the voters known, the voters are where an observer looks (the bootstrap servers are not used).
    const c = new RaftCore(quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [1, 2, 3], bootstrapServers: [B1] }), null, [], 0, new SeededRandom(3));
    c.drain();
    for (let t = 0; t < 10_000; t += 2500) for (const m of sent(c.tick(t))) expect([1, 2, 3]).toContain(m.destination);
  });
});

describe('replication', () => {
  it('the high watermark needs a majority, and a record of the leader\'s own epoch (LeaderChange) committed first', () => {
    // Node 1 holds three records of epoch 1 from an earlier leader; it becomes leader of epoch 2.
    const c = core({ log: [data(1, 'a'), data(1, 'b'), data(1, 'c')], state: { leaderId: -1, leaderEpoch: 1, votedId: -1 } });
    c.drain();
    elect(c, 5000);
    expect(c.record(3)?.value.kind).toBe('leader-change');
    // Node 2 has the three old records: a majority holds offsets 0-2, but nothing of epoch 2 yet.
    c.handle(5002, msg(2, 1, fetch(2, 2, 3, 1)));
    expect(c.highWatermark).toBe(0);
    // Once node 2 has the LeaderChange too, everything up to it commits at once.
    c.handle(5003, msg(2, 1, fetch(2, 2, 4, 2)));
    expect(c.highWatermark).toBe(4);
  });

  it('a follower whose log diverges gets DivergingEpoch and truncates, never below its high watermark', () => {
    // Leader: epochs 1 (offsets 0-1), 3 (2-..). Follower has epoch 2 records at 2-3 from a leader that lost.
    const c = core({ log: [data(1, 'a'), data(1, 'b'), data(3, 'x')], state: { leaderId: -1, leaderEpoch: 3, votedId: -1 } });
    c.drain();
    elect(c, 5000);
    const r = onlyReply<FetchResponse>(c.handle(5002, msg(3, 1, fetch(3, 4, 4, 2))));
    expect(r.divergingEpoch).toEqual({ epoch: 1, offset: 2 });
    expect(r.records).toEqual([]);

    const follower = core({ nodeId: 3, log: [data(1, 'a'), data(1, 'b'), data(2, 'y'), data(2, 'z')], state: { leaderId: 1, leaderEpoch: 4, votedId: -1 } });
    const start = follower.drain();
    const req = sent(start)[0]!;
    expect(req.body).toMatchObject({ fetchOffset: 4, lastFetchedEpoch: 2 });
    const effects = follower.handle(10, { source: 1, destination: 3, correlationId: req.correlationId, body: r });
    expect(effects[0]).toEqual({ type: 'truncate', offset: 2 });
    expect(follower.logEndOffset).toBe(2);
    expect(sent(effects)[0]!.body).toMatchObject({ fetchOffset: 2, lastFetchedEpoch: 1 });
  });

  it('a follower appends, flushes, then fetches again; it commits only what the leader committed and it holds', () => {
    const f = core({ nodeId: 2, state: { leaderId: 1, leaderEpoch: 1, votedId: -1 } });
    const req = sent(f.drain())[0]!;
    const body: FetchResponse = {
      kind: 'FetchResponse',
      errorCode: 0,
      partitionErrorCode: 0,
      highWatermark: 5,
      currentLeader: { leaderId: 1, leaderEpoch: 1 },
      divergingEpoch: null,
      records: [data(1, 'a'), data(1, 'b')],
    };
    const effects = f.handle(1, { source: 1, destination: 2, correlationId: req.correlationId, body });
    expect(effects.map((e) => e.type)).toEqual(['append', 'flush', 'high-watermark', 'send']);
    expect(f.highWatermark).toBe(2);
    // A duplicate of that response (same correlation id) is ignored: nothing is appended twice.
    expect(f.handle(2, { source: 1, destination: 2, correlationId: req.correlationId, body })).toEqual([]);
    expect(f.logEndOffset).toBe(2);
  });

  it('the leader holds an empty Fetch up to its max wait and answers it when a record arrives', () => {
    const c = leaderOfEpoch1();
    const parked = c.handle(10, msg(2, 1, { ...fetch(2, 1, 1, 1), maxWaitMs: 500 }));
    expect(sent(parked)).toEqual([]);
    const p = c.propose(20, new Uint8Array([7]));
    const answer = sent(p.effects).find((m) => m.destination === 2)!;
    expect((answer.body as FetchResponse).records).toHaveLength(1);
  });

  it('check quorum: a leader that hears no Fetch from a majority for 1.5 x fetch timeout resigns', () => {
    const c = leaderOfEpoch1();
    const t0 = 5001;
    c.tick(t0 + 2999);
    expect(c.stateName).toBe('Leader');
    const effects = c.tick(t0 + 3000);
    expect(c.stateName).toBe('Resigned');
    expect(sent(effects).filter((m) => m.body.kind === 'EndQuorumEpochRequest')).toHaveLength(2);
  });

  it('DescribeQuorum view: voters with end offsets, fetch and caught-up times (KIP-836), observers; none on a non-leader', () => {
    const follower = core({ nodeId: 2, state: { leaderId: 1, leaderEpoch: 1, votedId: -1 } });
    expect(follower.describeQuorum(0)).toBeNull();
    const c = leaderOfEpoch1();
    expect(c.describeQuorum(5001)).toEqual({
      leaderId: 1,
      leaderEpoch: 1,
      highWatermark: 0,
      currentVoters: [
        { replicaId: 1, logEndOffset: 1, lastFetchTimestamp: 5001, lastCaughtUpTimestamp: 5001 }, // the leader: now, as Kafka's LeaderState
        { replicaId: 2, logEndOffset: -1, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 },
        { replicaId: 3, logEndOffset: -1, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 },
      ],
      observers: [],
    });
    c.handle(6000, msg(2, 1, fetch(2, 1, 1, 1))); // at the leader's end: caught up now
    c.propose(6100, new Uint8Array([1]));
    c.handle(6200, msg(3, 1, fetch(3, 1, 1, 1))); // behind the end (2)
    c.handle(6300, msg(3, 1, fetch(3, 1, 2, 1))); // at the end
    c.handle(6400, msg(9, 1, fetch(9, 1, 0, 0))); // an observer, behind
    const d = c.describeQuorum(6500)!;
    expect(d.highWatermark).toBe(1);
    expect(d.currentVoters.slice(1)).toEqual([
      { replicaId: 2, logEndOffset: 1, lastFetchTimestamp: 6000, lastCaughtUpTimestamp: 6000 },
      { replicaId: 3, logEndOffset: 2, lastFetchTimestamp: 6300, lastCaughtUpTimestamp: 6300 },
    ]);
    expect(d.observers).toEqual([{ replicaId: 9, logEndOffset: 0, lastFetchTimestamp: 6400, lastCaughtUpTimestamp: -1 }]);
  });

  it('a non-leader refuses proposals and names the leader', () => {
    const f = core({ nodeId: 2, state: { leaderId: 1, leaderEpoch: 3, votedId: -1 } });
    f.drain();
    expect(f.propose(1, new Uint8Array()).result).toEqual({ ok: false, errorCode: RaftError.NOT_LEADER_OR_FOLLOWER, leaderId: 1, leaderEpoch: 3 });
  });
});

describe('proposals as batches', () => {
  it('several values are one batch: one append, shipped whole even past fetchMaxRecords, committed together', () => {
    const c = core({ config: { fetchMaxRecords: 1, appendLingerMs: 0 } });
    c.drain();
    elect(c, 5000);
    const enc = new TextEncoder();
    const p = c.propose(6000, [enc.encode('a'), enc.encode('b'), enc.encode('c')]);
    expect(p.result).toEqual({ ok: true, offset: 1, lastOffset: 3, epoch: 1 });
    const appends = p.effects.filter((e) => e.type === 'append');
    expect(appends).toHaveLength(1);
    const records = (appends[0] as { records: readonly RaftRecord[] }).records;
    expect(records.map((r) => r.batchContinues ?? false)).toEqual([true, true, false]);
    expect(records.map((r) => r.appendTimeMs)).toEqual([6000, 6000, 6000]);
    // Follower 2 has the LeaderChange (offset 0): the next Fetch gets the whole 3-record batch, not 1 record.
    const r = onlyReply<FetchResponse>(c.handle(6001, msg(2, 1, fetch(2, 1, 1, 1))));
    expect(r.records).toHaveLength(3);
    expect(c.highWatermark).toBe(1);
    c.handle(6002, msg(2, 1, fetch(2, 1, 4, 1)));
    expect(c.highWatermark).toBe(4);
  });

  it('a voter claiming an offset inside a batch does not move the high watermark into it', () => {
    const c = core({ config: { appendLingerMs: 0 } });
    c.drain();
    elect(c, 5000);
    c.handle(5001, msg(2, 1, fetch(2, 1, 1, 1)));
    expect(c.highWatermark).toBe(1);
    const enc = new TextEncoder();
    c.propose(6000, [enc.encode('a'), enc.encode('b')]);
    c.handle(6001, msg(2, 1, fetch(2, 1, 2, 1)));
    expect(c.highWatermark).toBe(1);
    c.handle(6002, msg(2, 1, fetch(2, 1, 3, 1)));
    expect(c.highWatermark).toBe(3);
  });

  it('a follower truncating to a point inside a batch drops the batch whole', () => {
    const log: RaftRecord[] = [data(1, 'x'), { ...data(1, 'a'), batchContinues: true }, data(1, 'b')];
    const l = new RaftLog(log);
    l.truncateTo(2);
    expect(l.endOffset).toBe(1);
    expect(l.read(0, 1)).toHaveLength(1);
    expect(new RaftLog(log).read(1, 1)).toHaveLength(2);
  });
});

describe('the log view', () => {
  it('endOffsetForEpoch and validateOffsetAndEpoch follow Kafka\'s leader-epoch cache', () => {
    const log = new RaftLog([data(1, 'a'), data(1, 'b'), data(3, 'c'), data(5, 'd')]);
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, offset: 0 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, offset: 2 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, offset: 2 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 3 });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, offset: 4 });
    expect(log.endOffsetForEpoch(9)).toEqual({ epoch: 5, offset: 4 });
    expect(log.validateOffsetAndEpoch(0, 0)).toEqual({ valid: true });
    expect(log.validateOffsetAndEpoch(2, 1)).toEqual({ valid: true });
    expect(log.validateOffsetAndEpoch(3, 1)).toEqual({ valid: false, diverging: { epoch: 1, offset: 2 } });
    expect(log.validateOffsetAndEpoch(3, 2)).toEqual({ valid: false, diverging: { epoch: 1, offset: 2 } });
    expect(log.validateOffsetAndEpoch(4, 5)).toEqual({ valid: true });
    expect(log.validateOffsetAndEpoch(5, 5)).toEqual({ valid: false, diverging: { epoch: 5, offset: 4 } });
    log.truncateTo(2);
    expect(log.lastEpoch).toBe(1);
    expect(log.endOffset).toBe(2);
  });
});

describe('quorum-state file', () => {
  it('is written in Kafka\'s format (QuorumStateData v0 JSON plus data_version)', () => {
    expect(encodeQuorumState({ leaderId: 2, leaderEpoch: 7, votedId: -1 }, [1, 2, 3])).toBe(
      '{"leaderId":2,"leaderEpoch":7,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}',
    );
  });

  it('reads what Kafka writes, version 0 and 1', () => {
    expect(decodeQuorumState('{"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1}],"data_version":0}\n')).toEqual({
      leaderId: 1,
      leaderEpoch: 5,
      votedId: -1,
    });
    expect(decodeQuorumState('{"leaderId":-1,"leaderEpoch":3,"votedId":2,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}')).toEqual({ leaderId: -1, leaderEpoch: 3, votedId: 2 });
  });

  it('refuses a damaged file with the reason, as Kafka does', () => {
    expect(() => decodeQuorumState('{"leaderId":1')).toThrow(QuorumStateFormatError);
    expect(() => decodeQuorumState('{"leaderId":1,"leaderEpoch":5,"votedId":-1}')).toThrow(/does not have data_version/);
    expect(() => decodeQuorumState('{"leaderId":1,"leaderEpoch":5,"votedId":-1,"data_version":2}')).toThrow(/data_version \(2\) is not within/);
    expect(() => decodeQuorumState('{"leaderId":"1","leaderEpoch":5,"votedId":-1,"data_version":0}')).toThrow(/leaderId is not an int32/);
    expect(() => decodeQuorumState('[1]')).toThrow(/is not an object node/);
  });
});

describe('controller.quorum.voters', () => {
  it('parses id@host:port entries, IPv6 in brackets', () => {
    expect(parseQuorumVoters('1@127.0.0.1:19091, 2@localhost:19092,3@[::1]:19093')).toEqual([
      { id: 1, host: '127.0.0.1', port: 19091 },
      { id: 2, host: 'localhost', port: 19092 },
      { id: 3, host: '::1', port: 19093 },
    ]);
  });

  it('refuses malformed entries and duplicate ids; a node outside the voters is an observer', () => {
    expect(() => parseQuorumVoters('1@host')).toThrow(QuorumConfigError);
    expect(() => parseQuorumVoters('x@host:1')).toThrow(/not of the form/);
    expect(() => parseQuorumVoters('1@a:1,1@b:2')).toThrow(/Duplicate voter id 1/);
    expect(() => parseQuorumVoters('1@a:70000')).toThrow(/Invalid port/);
    expect(() => quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [] })).toThrow(/names no voter/);
    expect(new RaftCore(quorumConfig({ nodeId: 4, clusterId: CLUSTER, voters: [1, 2, 3] }), null, [], 0, new SeededRandom(1)).isObserver).toBe(true);
  });
});

describe('purity', () => {
  // The adapters (raft-node, raft-store, raft-transport, raft-handlers) do the I/O; every other file is the pure core.
  const ADAPTERS = new Set(['raft-node.ts', 'raft-store.ts', 'raft-transport.ts', 'raft-handlers.ts', 'snapshot.ts']);

  it('the core reads no clock, sets no timers, draws no unseeded randomness and does no I/O', () => {
    const dir = resolve(__dirname, '../../src/controller/raft');
    const offenders: string[] = [];
    for (const f of readdirSync(dir).filter((x) => !ADAPTERS.has(x))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const banned of ['Date.now', 'new Date', 'setTimeout', 'setInterval', 'setImmediate', 'Math.random', 'performance.now', "from 'node:", 'process.']) {
        if (text.includes(banned)) offenders.push(`${f}: ${banned}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the adapters and the rest of src/controller take time and timers from the injected Clock only', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, f.name);
        if (f.isDirectory()) walk(p);
        else if (f.name.endsWith('.ts')) {
          const text = readFileSync(p, 'utf8');
          for (const banned of ['Date.now', 'new Date(', 'setTimeout', 'setInterval', 'setImmediate', 'Math.random', 'performance.now']) {
            if (text.includes(banned)) offenders.push(`${p}: ${banned}`);
          }
        }
      }
    };
    walk(resolve(__dirname, '../../src/controller'));
    expect(offenders).toEqual([]);
  });
});

describe('a small loss-free cluster', () => {
  /** Three cores wired directly (1 ms per message), with links that can be cut. */
  function cluster() {
    const voters = [1, 2, 3];
    const cores = new Map(voters.map((id) => [id, new RaftCore(quorumConfig({ nodeId: id, clusterId: CLUSTER, voters }), null, [], 0, new SeededRandom(100 + id))]));
    const isolated = new Set<number>();
    let now = 0;
    let inFlight: { at: number; m: RaftMessage }[] = [];
    const take = (effects: RaftEffect[]): void => {
      for (const e of effects) if (e.type === 'send' && !isolated.has(e.message.source) && !isolated.has(e.message.destination)) inFlight.push({ at: now + 1, m: e.message });
    };
    for (const c of cores.values()) take(c.drain());
    const runUntil = (until: number): void => {
      while (now < until) {
        const nextMsg = inFlight.reduce((t, x) => Math.min(t, x.at), Infinity);
        const nextTick = Math.min(...[...cores.values()].map((c) => c.nextWakeupMs()));
        now = Math.min(until, nextMsg, Math.max(now, nextTick));
        const due = inFlight.filter((x) => x.at <= now);
        inFlight = inFlight.filter((x) => x.at > now);
        for (const { m } of due) if (!isolated.has(m.destination) && !isolated.has(m.source)) take(cores.get(m.destination)!.handle(now, m));
        for (const c of cores.values()) if (c.nextWakeupMs() <= now) take(c.tick(now));
      }
    };
    return { cores, isolated, runUntil };
  }

  it('a follower cut off for a while comes back without unseating the leader (pre-vote keeps the epoch)', () => {
    const { cores, isolated, runUntil } = cluster();
    runUntil(10_000);
    const leader = [...cores.values()].find((c) => c.stateName === 'Leader')!;
    expect(leader).toBeDefined();
    const epoch = leader.epoch;
    const victim = [...cores.values()].find((c) => c !== leader)!;
    isolated.add(victim.config.nodeId);
    runUntil(30_000);
    expect(victim.stateName).toBe('Prospective');
    expect(victim.epoch).toBe(epoch);
    isolated.clear();
    runUntil(40_000);
    expect(leader.stateName).toBe('Leader');
    expect([...cores.values()].map((c) => c.epoch)).toEqual([epoch, epoch, epoch]);
    expect(victim.stateName).toBe('Follower');
  });
});
