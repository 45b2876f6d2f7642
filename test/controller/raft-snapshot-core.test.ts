/**
 * KIP-630 in the pure core: the log start offset in RaftLog (deleteBefore, the epoch cache, a Fetch
 * validated against the snapshot at the log start), a single-voter leader's snapshotCreated /
 * deleteBeforeLatestSnapshot, its answers to a Fetch below its log start (SnapshotId) and to FetchSnapshot
 * (chunks, SNAPSHOT_NOT_FOUND, POSITION_OUT_OF_RANGE, another cluster, a stale epoch), and a restart from
 * a snapshot (the high watermark starts at its end, the last epoch is its epoch). The multi-node story
 * (a follower behind the log start copies the snapshot and goes on from its end) is in
 * raft-wire.test.ts (through the wire encodings) and the simulation (raft-simulation.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { quorumConfig } from '../../src/controller/raft/config.js';
import { RaftLog, type RaftRecord } from '../../src/controller/raft/log.js';
import { RaftError, type FetchResponse, type FetchSnapshotRequest, type FetchSnapshotResponse, type RaftBody, type RaftMessage } from '../../src/controller/raft/messages.js';
import { RaftCore, type RaftEffect } from '../../src/controller/raft/raft-core.js';
import { SeededRandom } from '../../src/controller/raft/random.js';

const enc = new TextEncoder();
const rec = (epoch: number, batchContinues = false): RaftRecord => ({ epoch, value: { kind: 'data', data: enc.encode(`e${epoch}`) }, ...(batchContinues ? { batchContinues } : {}) });

function reply<B extends RaftBody>(effects: RaftEffect[]): B {
  const sends = effects.filter((e) => e.type === 'send');
  expect(sends).toHaveLength(1);
  return (sends[0] as { message: RaftMessage }).message.body as B;
}

describe('RaftLog with a log start offset', () => {
  it('deleteBefore moves the start to a snapshot; offsets, reads and the epoch cache follow', () => {
    const log = new RaftLog([rec(1), rec(1), rec(2, true), rec(2), rec(3)]);
    log.deleteBefore({ offset: 4, epoch: 2 });
    expect([log.startOffset, log.endOffset, log.lastEpoch]).toEqual([4, 5, 3]);
    expect(log.get(3)).toBeUndefined();
    expect(log.get(4)!.epoch).toBe(3);
    expect(() => log.read(3, 10)).toThrow(RangeError);
    expect(log.read(4, 10)).toHaveLength(1);
    expect(log.batchBoundaryAtOrBelow(2)).toBe(4);
    // Epoch 2 ends at the log start (where the snapshot is); an epoch below every one left: the snapshot's id.
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, offset: 4 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 2, offset: 4 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 5 });
  });

  it('a fetch below the log start, or at it in another epoch, must fetch the snapshot; at it in its epoch is valid', () => {
    const log = new RaftLog([rec(1), rec(1), rec(2), rec(2), rec(3)]);
    log.deleteBefore({ offset: 4, epoch: 2 });
    expect(log.validateOffsetAndEpoch(0, 0)).toEqual({ valid: false, snapshot: true });
    expect(log.validateOffsetAndEpoch(3, 2)).toEqual({ valid: false, snapshot: true });
    expect(log.validateOffsetAndEpoch(4, 1)).toEqual({ valid: false, snapshot: true });
    expect(log.validateOffsetAndEpoch(4, 2)).toEqual({ valid: true });
    expect(log.validateOffsetAndEpoch(5, 3)).toEqual({ valid: true });
    // Past the log start with an epoch the log does not reach that far in: diverging, as before.
    expect(log.validateOffsetAndEpoch(6, 3)).toEqual({ valid: false, diverging: { epoch: 3, offset: 5 } });
  });

  it('a log that is only a snapshot: its epoch is the last epoch; appends go on from its end', () => {
    const log = new RaftLog([], { offset: 7, epoch: 4 });
    expect([log.startOffset, log.endOffset, log.lastEpoch]).toEqual([7, 7, 4]);
    expect(() => log.append([rec(3)])).toThrow(/epoch 3 after epoch 4/);
    log.append([rec(4), rec(5)]);
    expect(log.get(7)!.epoch).toBe(4);
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 4, offset: 8 });
    log.resetTo({ offset: 20, epoch: 6 });
    expect([log.startOffset, log.endOffset, log.lastEpoch, log.flushedEndOffset]).toEqual([20, 20, 6, 20]);
  });
});

/** A single voter: leader of epoch 1 at once, its LeaderChange at offset 0, then n one-record batches. */
function soloLeader(n: number): RaftCore {
  const c = new RaftCore(quorumConfig({ nodeId: 1, clusterId: 'c', voters: [1], appendLingerMs: 0, fetchSnapshotMaxBytes: 4 }), null, [], 0, new SeededRandom(1));
  c.drain();
  for (let i = 0; i < n; i++) c.propose(0, enc.encode(`v${i}`));
  return c;
}

const fetchSnapshot = (position: number, snapshotId = { offset: 3, epoch: 1 }, extra: Partial<FetchSnapshotRequest> = {}): RaftMessage<FetchSnapshotRequest> => ({
  source: 9,
  destination: 1,
  correlationId: 5,
  body: { kind: 'FetchSnapshotRequest', clusterId: 'c', replicaId: 9, maxBytes: 1000, currentLeaderEpoch: 1, snapshotId, position, ...extra },
});

describe('a leader with a snapshot (KIP-630)', () => {
  it('snapshotCreated takes only a committed batch boundary with the epoch of the record before it', () => {
    const c = soloLeader(2);
    expect(c.highWatermark).toBe(3);
    expect(() => c.snapshotCreated(0, { id: { offset: 4, epoch: 1 }, bytes: enc.encode('x') })).toThrow(/past the high watermark/);
    expect(() => c.snapshotCreated(0, { id: { offset: 3, epoch: 2 }, bytes: enc.encode('x') })).toThrow(/is of epoch 1/);
    c.snapshotCreated(0, { id: { offset: 3, epoch: 1 }, bytes: enc.encode('0123456789') });
    expect(c.snapshot!.id).toEqual({ offset: 3, epoch: 1 });
    expect(c.logStartOffset).toBe(0);
    expect(c.deleteBeforeLatestSnapshot(0)).toEqual([{ type: 'log-start', snapshotId: { offset: 3, epoch: 1 } }]);
    expect(c.logStartOffset).toBe(3);
    expect(c.deleteBeforeLatestSnapshot(0)).toEqual([]);
  });

  it('answers a Fetch below its log start with the SnapshotId, and FetchSnapshot in chunks of at most fetchSnapshotMaxBytes', () => {
    const c = soloLeader(2);
    c.snapshotCreated(0, { id: { offset: 3, epoch: 1 }, bytes: enc.encode('0123456789') });
    c.deleteBeforeLatestSnapshot(0);
    const f = reply<FetchResponse>(c.handle(1, { source: 9, destination: 1, correlationId: 4, body: { kind: 'FetchRequest', clusterId: 'c', replicaId: 9, maxWaitMs: 0, currentLeaderEpoch: 1, fetchOffset: 1, lastFetchedEpoch: 1 } }));
    expect(f).toMatchObject({ partitionErrorCode: 0, snapshotId: { offset: 3, epoch: 1 }, records: [], divergingEpoch: null });
    const chunk = (pos: number) => reply<FetchSnapshotResponse>(c.handle(1, fetchSnapshot(pos)));
    const first = chunk(0);
    expect(first).toMatchObject({ errorCode: 0, partitionErrorCode: 0, size: 10, position: 0, snapshotId: { offset: 3, epoch: 1 }, currentLeader: { leaderId: 1, leaderEpoch: 1 } });
    expect(Buffer.from(first.bytes).toString()).toBe('0123');
    expect(Buffer.from(chunk(8).bytes).toString()).toBe('89');
    expect(chunk(10).partitionErrorCode).toBe(RaftError.POSITION_OUT_OF_RANGE);
    expect(chunk(-1).partitionErrorCode).toBe(RaftError.POSITION_OUT_OF_RANGE);
    expect(reply<FetchSnapshotResponse>(c.handle(1, fetchSnapshot(0, { offset: 2, epoch: 1 }))).partitionErrorCode).toBe(RaftError.SNAPSHOT_NOT_FOUND);
    expect(reply<FetchSnapshotResponse>(c.handle(1, fetchSnapshot(0, undefined, { clusterId: 'other' }))).errorCode).toBe(RaftError.INCONSISTENT_CLUSTER_ID);
    expect(reply<FetchSnapshotResponse>(c.handle(1, fetchSnapshot(0, undefined, { currentLeaderEpoch: 0 }))).partitionErrorCode).toBe(RaftError.FENCED_LEADER_EPOCH);
    expect(reply<FetchSnapshotResponse>(c.handle(1, fetchSnapshot(0, undefined, { currentLeaderEpoch: 2 }))).partitionErrorCode).toBe(RaftError.UNKNOWN_LEADER_EPOCH);
  });

  it('a FetchSnapshot before any snapshot gets SNAPSHOT_NOT_FOUND', () => {
    expect(reply<FetchSnapshotResponse>(soloLeader(2).handle(1, fetchSnapshot(0))).partitionErrorCode).toBe(RaftError.SNAPSHOT_NOT_FOUND);
  });

  it('restarts from a snapshot: the high watermark starts at its end and the log goes on after it', () => {
    const snapshot = { id: { offset: 3, epoch: 1 }, bytes: enc.encode('image') };
    const c = new RaftCore(quorumConfig({ nodeId: 1, clusterId: 'c', voters: [1, 2, 3] }), { leaderId: 2, leaderEpoch: 1, votedId: -1 }, [rec(1)], 0, new SeededRandom(1), { logStart: { offset: 3, epoch: 1 }, latest: snapshot });
    expect([c.logStartOffset, c.logEndOffset, c.highWatermark]).toEqual([3, 4, 3]);
    const fetch = c.drain().find((e) => e.type === 'send')!;
    expect((fetch as { message: RaftMessage }).message.body).toMatchObject({ kind: 'FetchRequest', fetchOffset: 4, lastFetchedEpoch: 1 });
    expect(() => new RaftCore(quorumConfig({ nodeId: 1, clusterId: 'c', voters: [1] }), null, [], 0, new SeededRandom(1), { logStart: { offset: 3, epoch: 1 }, latest: null })).toThrow(/no snapshot covers it/);
  });
});
