/**
 * The Raft client transport (src/controller/raft/raft-transport.ts) against bare TCP servers, its timers
 * on a ManualClock: the request header (v2, client id raft-client-<id>), BROKER_NOT_AVAILABLE for requests
 * on a connection that fails, the reconnect backoff, a request timeout closing a silent connection, and
 * the address book of an observer with bootstrap servers only (KIP-853): a node of unknown address is
 * unavailable until a Fetch answer's NodeEndpoints name it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readRequestHeader, responseHeaderVersion, writeResponseHeader } from '../../protocol/headers.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { Vote } from '../../protocol/messages/vote.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { bootstrapServerId } from '../../src/controller/raft/config.js';
import type { FetchRequest, FetchResponse, RaftMessage, RaftResponse, VoteRequest } from '../../src/controller/raft/messages.js';
import { RaftTransport } from '../../src/controller/raft/raft-transport.js';
import * as wire from '../../src/controller/raft/wire.js';
import { ManualClock } from '../../src/util/clock.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, deadlineMs = 5000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(onSocket);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const vote = (correlationId: number): RaftMessage<VoteRequest> => ({
  source: 1,
  destination: 2,
  correlationId,
  body: { kind: 'VoteRequest', clusterId: 'c', candidateEpoch: 3, candidateId: 1, lastOffsetEpoch: 2, lastOffset: 10, preVote: true },
});

function transport(port: number, clock: ManualClock, responses: RaftMessage<RaftResponse>[]): RaftTransport {
  const t = new RaftTransport({ nodeId: 1, voters: [{ id: 1, host: '127.0.0.1', port: 1 }, { id: 2, host: '127.0.0.1', port }], clock, logger, requestTimeoutMs: 2000, onResponse: (m) => responses.push(m) });
  cleanups.push(() => t.close());
  return t;
}

/**
 * A CONTROLLER listener that answers every Fetch with `answer` (encoded at the request's version, with
 * `leaderEndpoint` as NodeEndpoints) and counts the Fetches it got.
 */
async function fetchServer(answer: FetchResponse, leaderEndpoint: wire.NodeEndpoint | null): Promise<{ port: number; fetches: () => number }> {
  let fetches = 0;
  const { server, port } = await listen((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const r = new Reader(frame);
        const header = readRequestHeader(r, (_k, v) => Fetch.request.isFlexible(v));
        fetches++;
        const w = new Writer(256);
        w.int32(0);
        writeResponseHeader(w, header.correlationId, responseHeaderVersion(Fetch.apiKey, true));
        Fetch.response.encode(w, wire.fetchResponseToWire(answer, 0, 0, header.apiVersion, leaderEndpoint), header.apiVersion);
        const out = Buffer.concat(w.toChunks());
        out.writeInt32BE(out.length - 4, 0);
        s.write(out);
      }
    });
  });
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port, fetches: () => fetches };
}

const fetchTo = (destination: number, correlationId: number): RaftMessage<FetchRequest> => ({
  source: 4,
  destination,
  correlationId,
  body: { kind: 'FetchRequest', clusterId: 'c', replicaId: 4, maxWaitMs: 0, currentLeaderEpoch: 5, fetchOffset: 0, lastFetchedEpoch: 0 },
});

describe('RaftTransport', () => {
  it('bootstrap servers only (KIP-853): the leader is unavailable until a Fetch answer names its endpoint, then reached there', async () => {
    const leaderAnswer: FetchResponse = { kind: 'FetchResponse', errorCode: 0, partitionErrorCode: 0, highWatermark: 0, currentLeader: { leaderId: 7, leaderEpoch: 5 }, divergingEpoch: null, records: [] };
    const leader = await fetchServer(leaderAnswer, null);
    // A follower behind the bootstrap address: NOT_LEADER_OR_FOLLOWER, naming leader 7 at its endpoint.
    const follower = await fetchServer({ ...leaderAnswer, partitionErrorCode: 6, highWatermark: -1 }, { nodeId: 7, host: '127.0.0.1', port: leader.port });
    const clock = new ManualClock();
    const responses: RaftMessage<RaftResponse>[] = [];
    const t = new RaftTransport({ nodeId: 4, voters: [], bootstrapServers: [{ id: bootstrapServerId(0), host: '127.0.0.1', port: follower.port }], clock, logger, requestTimeoutMs: 2000, onResponse: (m) => responses.push(m) });
    cleanups.push(() => t.close());
    expect(t.endpointOf(7)).toBeNull();
    // To node 7 before anyone named it: BROKER_NOT_AVAILABLE on a later tick (never inside send).
    t.send(fetchTo(7, 1));
    expect(responses).toHaveLength(0);
    clock.advance(0);
    expect(responses).toEqual([expect.objectContaining({ source: 7, destination: 4, correlationId: 1, body: expect.objectContaining({ kind: 'FetchResponse', errorCode: 8 }) })]);
    // The bootstrap server's answer, under the bootstrap id; its NodeEndpoints are learnt before the core sees it.
    t.send(fetchTo(bootstrapServerId(0), 2));
    const answered = await waitFor('the bootstrap server\'s answer', () => responses.find((m) => m.correlationId === 2));
    expect(answered).toMatchObject({ source: -2, body: { partitionErrorCode: 6, currentLeader: { leaderId: 7, leaderEpoch: 5 } } });
    expect(t.endpointOf(7)).toEqual({ host: '127.0.0.1', port: leader.port });
    t.send(fetchTo(7, 3));
    const fromLeader = await waitFor('the leader\'s answer', () => responses.find((m) => m.correlationId === 3));
    expect(fromLeader).toMatchObject({ source: 7, body: { errorCode: 0, partitionErrorCode: 0 } });
    expect(leader.fetches()).toBe(1);
    // An answer without NodeEndpoints leaves the address book as it was.
    expect(t.endpointOf(7)).toEqual({ host: '127.0.0.1', port: leader.port });
    // A configured address (a voter of controller.quorum.voters) is never replaced by what an answer names.
    const v = new RaftTransport({ nodeId: 4, voters: [{ id: 7, host: '127.0.0.1', port: 1 }, { id: 8, host: '127.0.0.1', port: follower.port }], clock, logger, requestTimeoutMs: 2000, onResponse: (m) => responses.push(m) });
    cleanups.push(() => v.close());
    v.send(fetchTo(8, 4));
    await waitFor('the answer to the voter-addressed fetch', () => responses.find((m) => m.correlationId === 4));
    expect(v.endpointOf(7)).toEqual({ host: '127.0.0.1', port: 1 });
  });

  it('sends Vote v2 with request header v2 and client id raft-client-<nodeId>', async () => {
    const frames: Buffer[] = [];
    const { server, port } = await listen((s) => s.on('data', (d: Buffer) => frames.push(d)));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const clock = new ManualClock();
    const t = transport(port, clock, []);
    t.send(vote(77));
    const frame = await waitFor('the request frame', () => (frames.length > 0 ? Buffer.concat(frames) : null));
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    const r = new Reader(frame.subarray(4));
    const header = readRequestHeader(r, (_k, v) => Vote.request.isFlexible(v));
    expect(header).toMatchObject({ apiKey: 52, apiVersion: 2, clientId: 'raft-client-1', headerVersion: 2 });
    const body = Vote.request.decode(r, 2);
    expect(body.topics[0]!.partitions[0]).toMatchObject({ replicaId: 1, replicaEpoch: 3, preVote: true });
    expect(body.voterId).toBe(2);
  });

  it('a refused connection answers BROKER_NOT_AVAILABLE with the core\'s correlation id; the next attempt waits for the backoff', async () => {
    const port = await deadPort();
    const clock = new ManualClock();
    const responses: RaftMessage<RaftResponse>[] = [];
    const t = transport(port, clock, responses);
    t.send(vote(5));
    await waitFor('the failure', () => responses.length === 1);
    expect(responses[0]).toMatchObject({ source: 2, destination: 1, correlationId: 5, body: { kind: 'VoteResponse', errorCode: 8, voteGranted: false } });
    t.send(vote(6));
    // Within the 50 ms backoff nothing is attempted: the request waits.
    await new Promise((r) => setImmediate(r));
    clock.advance(49);
    await new Promise((r) => setTimeout(r, 50));
    expect(responses).toHaveLength(1);
    clock.advance(1);
    await waitFor('the second attempt failing', () => responses.length === 2);
    expect(responses[1]).toMatchObject({ correlationId: 6, body: { errorCode: 8 } });
  });

  it('a request unanswered for controller.quorum.request.timeout.ms closes the connection', async () => {
    let closed = false;
    let received = 0;
    const { server, port } = await listen((s) => {
      s.on('data', (d: Buffer) => (received += d.length));
      s.on('close', () => (closed = true));
    });
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const clock = new ManualClock();
    const t = transport(port, clock, []);
    t.send(vote(1));
    await waitFor('the request reached the server', () => received > 0);
    clock.advance(1999);
    t.expire(clock.now());
    // Not yet due: the connection stays (a negative check can only wait a little; it cannot flake).
    await new Promise((r) => setTimeout(r, 30));
    expect(closed).toBe(false);
    clock.advance(1);
    t.expire(clock.now());
    await waitFor('the server side sees the close', () => closed);
  });
});
