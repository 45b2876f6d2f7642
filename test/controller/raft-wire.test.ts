/**
 * The codec adapter between Kafka's wire messages and the Raft core (src/controller/raft/wire.ts): every
 * core message survives encode -> bytes -> decode at each supported version; requests for another
 * partition, pre-votes and damaged record batches are refused; LeaderChange control records are framed as
 * Kafka frames them (and LeaderChangeMessage matches Kafka's own spec); and three cores elect a leader and
 * commit an entry with every message going through the bytes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BeginQuorumEpoch } from '../../protocol/messages/begin-quorum-epoch.js';
import { EndQuorumEpoch } from '../../protocol/messages/end-quorum-epoch.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { FetchSnapshot } from '../../protocol/messages/fetch-snapshot.js';
import { Vote } from '../../protocol/messages/vote.js';
import { ProtocolError, Reader, Writer } from '../../protocol/primitives.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { LeaderChangeMessage } from '../../protocol/records/control.js';
import { iterateRecords } from '../../protocol/records/record.js';
import type { ApiMessages, MessageDecl } from '../../protocol/schema.js';
import { quorumConfig } from '../../src/controller/raft/config.js';
import type { RaftRecord } from '../../src/controller/raft/log.js';
import type { FetchRequest, FetchResponse, RaftBody, RaftMessage } from '../../src/controller/raft/messages.js';
import { RaftCore, type RaftEffect } from '../../src/controller/raft/raft-core.js';
import { SeededRandom } from '../../src/controller/raft/random.js';
import * as wire from '../../src/controller/raft/wire.js';
import { loadKafkaSpecs, type KafkaSpec } from '../helpers/kafka-specs.js';
import { checkDeclaration } from '../protocol/declaration-check.js';

const enc = new TextEncoder();

function roundTrip<Req extends MessageDecl, Res extends MessageDecl>(a: ApiMessages<Req, Res>, kind: 'request' | 'response', value: unknown, version: number): never {
  const codec = kind === 'request' ? a.request : a.response;
  const w = new Writer();
  codec.encode(w, value as never, version);
  const r = new Reader(w.toBuffer());
  const decoded = codec.decode(r, version);
  expect(r.remaining()).toBe(0);
  return decoded as never;
}

/** Two proposals in epoch 3 ('a'+'bb' as one batch, then 'x'), one in epoch 4, each epoch opened by its LeaderChange. */
const records: RaftRecord[] = [
  { epoch: 3, value: { kind: 'leader-change', leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3] }, appendTimeMs: 1000 },
  { epoch: 3, value: { kind: 'data', data: enc.encode('a') }, batchContinues: true, appendTimeMs: 1000 },
  { epoch: 3, value: { kind: 'data', data: enc.encode('bb') }, appendTimeMs: 1000 },
  { epoch: 3, value: { kind: 'data', data: enc.encode('x') }, appendTimeMs: 1001 },
  { epoch: 4, value: { kind: 'leader-change', leaderId: 1, voters: [1, 2, 3], grantingVoters: [1, 3] }, appendTimeMs: 1002 },
  { epoch: 4, value: { kind: 'data', data: enc.encode('ccc') }, appendTimeMs: 1003 },
];

/** RaftRecords with data as plain arrays, so that Buffer and Uint8Array compare equal. */
function plain(rs: readonly RaftRecord[]): unknown[] {
  return rs.map((r) => (r.value.kind === 'data' ? { epoch: r.epoch, data: [...r.value.data], batchContinues: r.batchContinues ?? false, appendTimeMs: r.appendTimeMs } : r));
}

describe('core messages through the wire', () => {
  it('Vote v0-2', () => {
    const req = { kind: 'VoteRequest', clusterId: 'c1', candidateEpoch: 7, candidateId: 2, lastOffsetEpoch: 6, lastOffset: 123, preVote: false } as const;
    const res = { kind: 'VoteResponse', errorCode: 0, partitionErrorCode: 74, leaderId: 3, leaderEpoch: 8, voteGranted: false } as const;
    for (let v = 0; v <= 2; v++) {
      expect(wire.voteRequestFromWire(roundTrip(Vote, 'request', wire.voteRequestToWire(req, 1), v))).toEqual({ ok: true, request: req });
      if (v >= 2) {
        const pre = { ...req, preVote: true };
        expect(wire.voteRequestFromWire(roundTrip(Vote, 'request', wire.voteRequestToWire(pre, 1), v))).toEqual({ ok: true, request: pre });
      } else {
        expect(() => roundTrip(Vote, 'request', wire.voteRequestToWire({ ...req, preVote: true }, 1), v)).toThrow(ProtocolError);
      }
      expect(wire.voteResponseFromWire(roundTrip(Vote, 'response', wire.voteResponseToWire(res), v))).toEqual(res);
      const clusterError = { ...res, errorCode: 104, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 };
      expect(wire.voteResponseFromWire(roundTrip(Vote, 'response', wire.voteResponseToWire(clusterError), v))).toEqual(clusterError);
    }
  });

  it('BeginQuorumEpoch and EndQuorumEpoch v0-1 (successors as ids in v0, as candidates in v1)', () => {
    const begin = { kind: 'BeginQuorumEpochRequest', clusterId: null, leaderId: 2, leaderEpoch: 9 } as const;
    const end = { kind: 'EndQuorumEpochRequest', clusterId: 'c1', leaderId: 2, leaderEpoch: 9, preferredSuccessors: [3, 1] } as const;
    const res = { kind: 'BeginQuorumEpochResponse', errorCode: 0, partitionErrorCode: 0, leaderId: 2, leaderEpoch: 9 } as const;
    for (let v = 0; v <= 1; v++) {
      expect(wire.beginQuorumEpochRequestFromWire(roundTrip(BeginQuorumEpoch, 'request', wire.beginQuorumEpochRequestToWire(begin, 1), v))).toEqual({ ok: true, request: begin });
      expect(wire.beginQuorumEpochResponseFromWire(roundTrip(BeginQuorumEpoch, 'response', wire.beginQuorumEpochResponseToWire(res), v))).toEqual(res);
      expect(wire.endQuorumEpochRequestFromWire(roundTrip(EndQuorumEpoch, 'request', wire.endQuorumEpochRequestToWire(end), v), v)).toEqual({ ok: true, request: end });
      const endRes = { ...res, kind: 'EndQuorumEpochResponse' } as const;
      expect(wire.endQuorumEpochResponseFromWire(roundTrip(EndQuorumEpoch, 'response', wire.endQuorumEpochResponseToWire(endRes), v))).toEqual(endRes);
    }
  });

  it('Fetch v12-17: the replica id (ReplicaState from v15), the metadata topic by name or id, records, DivergingEpoch', () => {
    const req: FetchRequest = { kind: 'FetchRequest', clusterId: 'c1', replicaId: 3, maxWaitMs: 500, currentLeaderEpoch: 4, fetchOffset: 10, lastFetchedEpoch: 3 };
    const res: FetchResponse = { kind: 'FetchResponse', errorCode: 0, partitionErrorCode: 0, highWatermark: 12, currentLeader: { leaderId: 1, leaderEpoch: 4 }, divergingEpoch: null, records };
    const diverging: FetchResponse = { ...res, divergingEpoch: { epoch: 2, offset: 8 }, records: [] };
    for (let v = 12; v <= 17; v++) {
      expect(wire.fetchRequestFromWire(roundTrip(Fetch, 'request', wire.fetchRequestToWire(req, v), v), v)).toEqual({ ok: true, request: req });
      const back = wire.fetchResponseFromWire(roundTrip(Fetch, 'response', wire.fetchResponseToWire(res, 10, 1_700_000_000_000), v), v);
      expect({ ...back, records: plain(back.records) }).toEqual({ ...res, records: plain(records) });
      expect(wire.fetchResponseFromWire(roundTrip(Fetch, 'response', wire.fetchResponseToWire(diverging, 10, 0), v), v)).toEqual(diverging);
    }
  });

  it('KIP-853: Fetch v16+ and FetchSnapshot v1 name the leader\'s CONTROLLER endpoint in NodeEndpoints, only for the leader they name', () => {
    const res: FetchResponse = { kind: 'FetchResponse', errorCode: 0, partitionErrorCode: 6, highWatermark: -1, currentLeader: { leaderId: 2, leaderEpoch: 4 }, divergingEpoch: null, records: [] };
    const endpoint = { nodeId: 2, host: '10.0.0.2', port: 19092 };
    for (let v = 12; v <= 17; v++) {
      const decoded = roundTrip(Fetch, 'response', wire.fetchResponseToWire(res, 10, 0, v, endpoint), v) as wire.WireFetchResponse;
      expect(wire.nodeEndpointsOf(decoded)).toEqual(v >= 16 ? [endpoint] : []);
      expect(wire.fetchResponseFromWire(decoded, v)).toEqual(res);
    }
    // Another node's endpoint, or none, is not sent.
    expect(wire.nodeEndpointsOf(roundTrip(Fetch, 'response', wire.fetchResponseToWire(res, 10, 0, 17, { ...endpoint, nodeId: 3 }), 17) as wire.WireFetchResponse)).toEqual([]);
    expect(wire.nodeEndpointsOf(roundTrip(Fetch, 'response', wire.fetchResponseToWire(res, 10, 0, 17, null), 17) as wire.WireFetchResponse)).toEqual([]);
    const snap = { kind: 'FetchSnapshotResponse', errorCode: 0, partitionErrorCode: 6, currentLeader: { leaderId: 2, leaderEpoch: 4 }, snapshotId: { offset: 5, epoch: 3 }, size: -1, position: 0, bytes: new Uint8Array(0) } as const;
    for (const v of [0, 1]) {
      const decoded = roundTrip(FetchSnapshot, 'response', wire.fetchSnapshotResponseToWire(snap, v, endpoint), v) as wire.WireFetchSnapshotResponse;
      expect(wire.nodeEndpointsOf(decoded)).toEqual(v >= 1 ? [endpoint] : []);
    }
  });

  it('a request for another partition, or a Fetch below v12, gets INVALID_REQUEST', () => {
    const vote = wire.voteRequestToWire({ kind: 'VoteRequest', clusterId: 'c1', candidateEpoch: 1, candidateId: 2, lastOffsetEpoch: 0, lastOffset: 0, preVote: false }, 1);
    const decoded = roundTrip(Vote, 'request', { ...vote, topics: [{ ...vote.topics![0]!, topicName: 'other' }] }, 1) as wire.WireVoteRequest;
    expect(wire.voteRequestFromWire(decoded)).toMatchObject({ ok: false, response: { errorCode: 42 } });
    const begin = wire.beginQuorumEpochRequestToWire({ kind: 'BeginQuorumEpochRequest', clusterId: null, leaderId: 2, leaderEpoch: 1 }, 1);
    const p1 = roundTrip(BeginQuorumEpoch, 'request', { ...begin, topics: [{ ...begin.topics![0]!, partitions: [{ ...begin.topics![0]!.partitions![0]!, partitionIndex: 1 }] }] }, 1) as wire.WireBeginQuorumEpochRequest;
    expect(wire.beginQuorumEpochRequestFromWire(p1)).toMatchObject({ ok: false, response: { errorCode: 42 } });
    const fetch = roundTrip(Fetch, 'request', wire.fetchRequestToWire({ kind: 'FetchRequest', clusterId: null, replicaId: 2, maxWaitMs: 0, currentLeaderEpoch: 1, fetchOffset: 0, lastFetchedEpoch: 0 }, 13), 13) as wire.WireFetchRequest;
    expect(wire.fetchRequestFromWire({ ...fetch, topics: [{ ...fetch.topics[0]!, topicId: '00000000-0000-0000-0000-000000000002' }] }, 13)).toMatchObject({ ok: false, response: { errorCode: 42 } });
    expect(wire.fetchRequestFromWire(fetch, 11)).toMatchObject({ ok: false, response: { errorCode: 42 } });
  });
});

describe('records as Kafka record batches', () => {
  it('a LeaderChange is a control batch (key version 0, type 2; LeaderChangeMessage v0 value), each proposal is one batch', () => {
    const buf = wire.encodeRaftRecords(records, 20, 1000);
    const split = splitBatches(buf);
    if (!split.ok) throw new Error(split.message);
    expect(split.batches.map((b) => [b.header.baseOffset, b.header.partitionLeaderEpoch, isControl(b.header.attributes), b.header.recordCount])).toEqual([
      [20, 3, true, 1],
      [21, 3, false, 2],
      [23, 3, false, 1],
      [24, 4, true, 1],
      [25, 4, false, 1],
    ]);
    expect(split.batches.map((b) => b.header.baseTimestamp)).toEqual([1000, 1000, 1001, 1002, 1003]);
    const control = [...iterateRecords(buf.subarray(0, split.batches[0]!.size))][0]!;
    expect([...control.key!]).toEqual([0, 0, 0, 2]);
    // Version 0, leader 2, voters [1,2,3], granting [2,3] in flexible encoding (compact arrays, tagged fields).
    expect(control.value!.toString('hex')).toBe('0000' + '00000002' + '04' + '0000000100' + '0000000200' + '0000000300' + '03' + '0000000200' + '0000000300' + '00');
    const back = wire.decodeRaftRecords(buf);
    expect(back.baseOffset).toBe(20);
    expect(plain(back.records)).toEqual(plain(records));
  });

  it('damaged records are refused, never half-decoded', () => {
    const buf = Buffer.from(wire.encodeRaftRecords(records, 0, 0));
    const flipped = Buffer.from(buf);
    flipped[flipped.length - 1]! ^= 0xff;
    expect(() => wire.decodeRaftRecords(flipped)).toThrow(ProtocolError);
    expect(() => wire.decodeRaftRecords(buf.subarray(0, buf.length - 3))).toThrow(/metadata log records/);
    const a = wire.encodeRaftRecords(records.slice(0, 1), 0, 0);
    const b = wire.encodeRaftRecords(records.slice(1, 2), 5, 0);
    expect(() => wire.decodeRaftRecords(Buffer.concat([a, b]))).toThrow(/does not follow/);
  });

  describe('LeaderChangeMessage matches Kafka\'s spec', () => {
    let specs: Map<string, KafkaSpec>;
    beforeAll(async () => {
      specs = await loadKafkaSpecs('4.4.0');
    }, 300_000);
    it('field by field, versions 0-1', () => {
      const problems = checkDeclaration(LeaderChangeMessage.decl, (v) => {
        const spec = specs.get('LeaderChangeMessage');
        return spec ? { spec, source: '4.4.0' } : undefined;
      });
      // Our schema language has no "data" message type; everything else must match.
      expect(problems.filter((p) => !/type request, Kafka says data|apiKey -1/.test(p))).toEqual([]);
    });
  });
});

describe('three cores over the wire', () => {
  it('elect a leader and commit an entry with every message encoded and decoded', () => {
    const voters = [1, 2, 3];
    // Snapshots travel in 16-byte chunks, so FetchSnapshot takes several rounds.
    const cores = new Map(voters.map((id) => [id, new RaftCore(quorumConfig({ nodeId: id, clusterId: 'wire', voters, appendLingerMs: 0, fetchSnapshotMaxBytes: 16 }), null, [], 0, new SeededRandom(id))]));
    let now = 0;
    const queue: RaftMessage[] = [];
    const versions: Record<string, number> = { Vote: 2, BeginQuorumEpoch: 1, EndQuorumEpoch: 1, Fetch: 15 };
    /** What the receiving node gets: the message as decoded from the bytes of its wire form. */
    const throughBytes = (m: RaftMessage): RaftMessage => {
      const b = m.body;
      let body: RaftBody;
      switch (b.kind) {
        case 'VoteRequest': {
          const r = wire.voteRequestFromWire(roundTrip(Vote, 'request', wire.voteRequestToWire(b, m.destination), versions.Vote!));
          if (!r.ok) throw new Error('vote refused');
          body = r.request;
          break;
        }
        case 'VoteResponse':
          body = wire.voteResponseFromWire(roundTrip(Vote, 'response', wire.voteResponseToWire(b), versions.Vote!));
          break;
        case 'BeginQuorumEpochRequest': {
          const r = wire.beginQuorumEpochRequestFromWire(roundTrip(BeginQuorumEpoch, 'request', wire.beginQuorumEpochRequestToWire(b, m.destination), 1));
          if (!r.ok) throw new Error('begin refused');
          body = r.request;
          break;
        }
        case 'BeginQuorumEpochResponse':
          body = wire.beginQuorumEpochResponseFromWire(roundTrip(BeginQuorumEpoch, 'response', wire.beginQuorumEpochResponseToWire(b), 1));
          break;
        case 'EndQuorumEpochRequest': {
          const r = wire.endQuorumEpochRequestFromWire(roundTrip(EndQuorumEpoch, 'request', wire.endQuorumEpochRequestToWire(b), 1), 1);
          if (!r.ok) throw new Error('end refused');
          body = r.request;
          break;
        }
        case 'EndQuorumEpochResponse':
          body = wire.endQuorumEpochResponseFromWire(roundTrip(EndQuorumEpoch, 'response', wire.endQuorumEpochResponseToWire(b), 1));
          break;
        case 'FetchRequest': {
          const r = wire.fetchRequestFromWire(roundTrip(Fetch, 'request', wire.fetchRequestToWire(b, versions.Fetch!), versions.Fetch!), versions.Fetch!);
          if (!r.ok) throw new Error('fetch refused');
          fetchOffsets.set(m.correlationId, b.fetchOffset);
          body = r.request;
          break;
        }
        case 'FetchResponse':
          body = wire.fetchResponseFromWire(roundTrip(Fetch, 'response', wire.fetchResponseToWire(b, fetchOffsets.get(m.correlationId) ?? 0, now), versions.Fetch!), versions.Fetch!);
          break;
        case 'FetchSnapshotRequest': {
          const r = wire.fetchSnapshotRequestFromWire(roundTrip(FetchSnapshot, 'request', wire.fetchSnapshotRequestToWire(b), 1));
          if (!r.ok) throw new Error('fetch snapshot refused');
          body = r.request;
          break;
        }
        case 'FetchSnapshotResponse':
          body = wire.fetchSnapshotResponseFromWire(roundTrip(FetchSnapshot, 'response', wire.fetchSnapshotResponseToWire(b), 1));
          break;
      }
      return { ...m, body };
    };
    const fetchOffsets = new Map<number, number>();
    let cut: number | null = null;
    const installs: { node: number; offset: number; bytes: string }[] = [];
    const take = (effects: RaftEffect[], node = 0): void => {
      for (const e of effects) {
        if (e.type === 'send') queue.push(e.message);
        if (e.type === 'install-snapshot') installs.push({ node, offset: e.snapshotId.offset, bytes: Buffer.from(e.bytes).toString() });
      }
    };
    for (const c of cores.values()) take(c.drain());
    let proposed = false;
    for (let step = 0; step < 10_000 && now < 30_000; step++) {
      const m = queue.shift();
      if (m !== undefined) {
        if (m.source === cut || m.destination === cut) continue;
        take(cores.get(m.destination)!.handle(now, throughBytes(m)), m.destination);
      } else {
        now = Math.min(...[...cores.values()].map((c) => c.nextWakeupMs()));
        for (const c of cores.values()) if (c.nextWakeupMs() <= now) take(c.tick(now));
      }
      const leader = [...cores.values()].find((c) => c.stateName === 'Leader');
      if (leader && !proposed && leader.highWatermark > 0) {
        const p = leader.propose(now, enc.encode('hello'));
        expect(p.result.ok).toBe(true);
        take(p.effects);
        proposed = true;
      }
      if (proposed && [...cores.values()].every((c) => c.highWatermark === 2)) break;
    }
    expect([...cores.values()].map((c) => c.highWatermark)).toEqual([2, 2, 2]);
    for (const c of cores.values()) {
      const r = c.record(1)!;
      expect(r.value.kind === 'data' && Buffer.from(r.value.data).toString()).toBe('hello');
      expect(c.record(0)!.value.kind).toBe('leader-change');
    }

    // KIP-630: a follower cut off while the leader snapshots and deletes its log catches up by FetchSnapshot.
    const [leaderId, leader] = [...cores.entries()].find(([, c]) => c.stateName === 'Leader')!;
    const behind = voters.find((v) => v !== leaderId)!;
    cut = behind;
    take(leader.propose(now, [enc.encode('a'), enc.encode('b')]).effects, leaderId);
    take(leader.propose(now, enc.encode('c')).effects, leaderId);
    for (let step = 0; step < 10_000 && leader.highWatermark < 5; step++) {
      const m = queue.shift();
      if (m === undefined) break;
      if (m.source === cut || m.destination === cut) continue;
      take(cores.get(m.destination)!.handle(now, throughBytes(m)), m.destination);
    }
    expect(leader.highWatermark).toBe(5);
    const image = 'the state machine at offset 5, in more than one chunk';
    take(leader.snapshotCreated(now, { id: { offset: 5, epoch: leader.epoch }, bytes: enc.encode(image) }), leaderId);
    take(leader.deleteBeforeLatestSnapshot(now), leaderId);
    expect(leader.logStartOffset).toBe(5);
    expect(leader.record(4)).toBeUndefined();
    cut = null;
    for (let step = 0; step < 10_000 && now < 60_000; step++) {
      const m = queue.shift();
      if (m !== undefined) {
        take(cores.get(m.destination)!.handle(now, throughBytes(m)), m.destination);
      } else {
        now = Math.min(...[...cores.values()].map((c) => c.nextWakeupMs()));
        for (const [id, c] of cores) if (c.nextWakeupMs() <= now) take(c.tick(now), id);
      }
      if (installs.length > 0 && [...cores.values()].every((c) => c.highWatermark === leader.logEndOffset)) break;
    }
    expect(installs).toEqual([{ node: behind, offset: 5, bytes: image }]);
    const follower = cores.get(behind)!;
    expect(follower.logStartOffset).toBe(5);
    expect(follower.snapshot?.id).toEqual({ offset: 5, epoch: leader.epoch });
    expect(follower.highWatermark).toBe(leader.logEndOffset);
  });
});
