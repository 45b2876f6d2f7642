/**
 * The network adapter of the Raft core, client side (Kafka's KafkaNetworkChannel over a NetworkClient): one
 * TCP connection per remote node, to its CONTROLLER listener, carrying the core's requests as Kafka
 * requests (request header v2, client id `raft-client-<nodeId>`) and handing the decoded responses back.
 *
 * - The address book: the voters of controller.quorum.voters; the entries of
 *   controller.quorum.bootstrap.servers under their node ids (-2, -3, ..., config.ts bootstrapServerId);
 *   and the leaders named in Fetch and FetchSnapshot answers, at the endpoint the answer's NodeEndpoints
 *   give (KIP-853): how an observer that only knew its bootstrap servers reaches the leader. A configured
 *   voter's address is never replaced by hearsay. A request to a node with no known address is answered
 *   BROKER_NOT_AVAILABLE at once (on a later tick), as a failed connection would be.
 *
 * - Versions are fixed at what Kafka 4.x's raft client sends and Samsa's controller listener serves: Vote v2
 *   (pre-vote needs it, KIP-996), BeginQuorumEpoch v1, EndQuorumEpoch v1, Fetch v17.
 * - Responses are matched to requests by the connection's own correlation ids (the core's ids go with the
 *   request: a response is handed back under the id the core chose).
 * - A connection that fails (refused, reset, closed) answers its requests in flight with
 *   BROKER_NOT_AVAILABLE, as KafkaNetworkChannel does on a disconnect, and is retried after a backoff that
 *   doubles from 50 ms to 1 s (reconnect.backoff.ms / reconnect.backoff.max.ms); requests sent meanwhile
 *   wait for that attempt. A request unanswered after controller.quorum.request.timeout.ms closes the
 *   connection (NetworkClient does the same) and is forgotten: the core times out and resends on its own.
 * - Timers come from the injected Clock (backoff); expire(now) is called from the node's tick.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { readResponseHeader, responseHeaderVersion, writeRequestHeader } from '../../../protocol/headers.js';
import { BeginQuorumEpoch } from '../../../protocol/messages/begin-quorum-epoch.js';
import { EndQuorumEpoch } from '../../../protocol/messages/end-quorum-epoch.js';
import { Fetch } from '../../../protocol/messages/fetch.js';
import { FetchSnapshot } from '../../../protocol/messages/fetch-snapshot.js';
import { Vote } from '../../../protocol/messages/vote.js';
import { Reader, Writer } from '../../../protocol/primitives.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { VoterAddress } from './config.js';
import { RaftError, type RaftMessage, type RaftRequest, type RaftResponse } from './messages.js';
import * as wire from './wire.js';

export const RAFT_VERSIONS = { vote: 2, beginQuorumEpoch: 1, endQuorumEpoch: 1, fetch: 17, fetchSnapshot: 1 } as const;

const RECONNECT_BACKOFF_MS = 50;
const RECONNECT_BACKOFF_MAX_MS = 1000;
/** Requests waiting for a connection attempt, per peer; more are dropped (the core resends after its timeout). */
const MAX_QUEUED = 64;
/** The largest response frame accepted (a Fetch answer holds at most fetchMaxRecords records). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface RaftTransportOptions {
  readonly nodeId: number;
  readonly voters: readonly VoterAddress[];
  /** controller.quorum.bootstrap.servers, each under its bootstrapServerId (empty when the voters are known). */
  readonly bootstrapServers?: readonly VoterAddress[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  /** A response (or a synthesized error response) to one of the core's requests. */
  readonly onResponse: (message: RaftMessage<RaftResponse>) => void;
}

/** A decoded response and the endpoints it names (NodeEndpoints; empty for the RPCs whose endpoints are not read). */
interface Decoded {
  readonly body: RaftResponse;
  readonly endpoints: readonly wire.NodeEndpoint[];
}

interface InFlight {
  readonly request: RaftMessage<RaftRequest>;
  readonly sentAt: number;
  readonly decode: (r: Reader) => Decoded;
}

const NO_ENDPOINTS: readonly wire.NodeEndpoint[] = [];

/** The encoded frame of a core request and how to read its response. */
function encodeRequest(m: RaftMessage<RaftRequest>, wireCorrelationId: number, clientId: string): { frame: Buffer; decode: (r: Reader) => Decoded } {
  const w = new Writer(128);
  w.int32(0); // size, patched below
  const b = m.body;
  let decode: (r: Reader) => Decoded;
  switch (b.kind) {
    case 'VoteRequest': {
      const v = RAFT_VERSIONS.vote;
      writeRequestHeader(w, { apiKey: Vote.apiKey, apiVersion: v, correlationId: wireCorrelationId, clientId }, true);
      Vote.request.encode(w, wire.voteRequestToWire(b, m.destination), v);
      decode = (r) => ({ body: wire.voteResponseFromWire(readBody(r, Vote.apiKey, (x) => Vote.response.decode(x, v))), endpoints: NO_ENDPOINTS });
      break;
    }
    case 'BeginQuorumEpochRequest': {
      const v = RAFT_VERSIONS.beginQuorumEpoch;
      writeRequestHeader(w, { apiKey: BeginQuorumEpoch.apiKey, apiVersion: v, correlationId: wireCorrelationId, clientId }, true);
      BeginQuorumEpoch.request.encode(w, wire.beginQuorumEpochRequestToWire(b, m.destination), v);
      decode = (r) => ({ body: wire.beginQuorumEpochResponseFromWire(readBody(r, BeginQuorumEpoch.apiKey, (x) => BeginQuorumEpoch.response.decode(x, v))), endpoints: NO_ENDPOINTS });
      break;
    }
    case 'EndQuorumEpochRequest': {
      const v = RAFT_VERSIONS.endQuorumEpoch;
      writeRequestHeader(w, { apiKey: EndQuorumEpoch.apiKey, apiVersion: v, correlationId: wireCorrelationId, clientId }, true);
      EndQuorumEpoch.request.encode(w, wire.endQuorumEpochRequestToWire(b), v);
      decode = (r) => ({ body: wire.endQuorumEpochResponseFromWire(readBody(r, EndQuorumEpoch.apiKey, (x) => EndQuorumEpoch.response.decode(x, v))), endpoints: NO_ENDPOINTS });
      break;
    }
    case 'FetchRequest': {
      const v = RAFT_VERSIONS.fetch;
      writeRequestHeader(w, { apiKey: Fetch.apiKey, apiVersion: v, correlationId: wireCorrelationId, clientId }, true);
      Fetch.request.encode(w, wire.fetchRequestToWire(b, v), v);
      decode = (r) => {
        const res = readBody(r, Fetch.apiKey, (x) => Fetch.response.decode(x, v));
        return { body: wire.fetchResponseFromWire(res, v), endpoints: wire.nodeEndpointsOf(res) };
      };
      break;
    }
    case 'FetchSnapshotRequest': {
      const v = RAFT_VERSIONS.fetchSnapshot;
      writeRequestHeader(w, { apiKey: FetchSnapshot.apiKey, apiVersion: v, correlationId: wireCorrelationId, clientId }, true);
      FetchSnapshot.request.encode(w, wire.fetchSnapshotRequestToWire(b), v);
      decode = (r) => {
        const res = readBody(r, FetchSnapshot.apiKey, (x) => FetchSnapshot.response.decode(x, v));
        return { body: wire.fetchSnapshotResponseFromWire(res), endpoints: wire.nodeEndpointsOf(res) };
      };
      break;
    }
  }
  const frame = Buffer.concat(w.toChunks());
  frame.writeInt32BE(frame.length - 4, 0);
  return { frame, decode };
}

function readBody<T>(r: Reader, apiKey: number, body: (r: Reader) => T): T {
  readResponseHeader(r, responseHeaderVersion(apiKey, true));
  return body(r);
}

/** The answer a request gets when the connection to its destination failed (KafkaNetworkChannel: BROKER_NOT_AVAILABLE). */
export function unavailableResponse(request: RaftRequest): RaftResponse {
  const errorCode = RaftError.BROKER_NOT_AVAILABLE;
  switch (request.kind) {
    case 'VoteRequest':
      return { kind: 'VoteResponse', errorCode, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1, voteGranted: false };
    case 'BeginQuorumEpochRequest':
      return { kind: 'BeginQuorumEpochResponse', errorCode, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 };
    case 'EndQuorumEpochRequest':
      return { kind: 'EndQuorumEpochResponse', errorCode, partitionErrorCode: 0, leaderId: -1, leaderEpoch: -1 };
    case 'FetchRequest':
      return { kind: 'FetchResponse', errorCode, partitionErrorCode: 0, highWatermark: -1, currentLeader: { leaderId: -1, leaderEpoch: -1 }, divergingEpoch: null, records: [] };
    case 'FetchSnapshotRequest':
      return { kind: 'FetchSnapshotResponse', errorCode, partitionErrorCode: 0, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: request.snapshotId, size: -1, position: request.position, bytes: new Uint8Array(0) };
  }
}

/** One node's connection. */
class Peer {
  private socket: Socket | null = null;
  private connected = false;
  private connectingSince = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private queued: RaftMessage<RaftRequest>[] = [];
  private nextCorrelationId = 0;
  private backoffMs = 0;
  private retryTimer: Timer | null = null;
  private closed = false;
  // Framing of the responses.
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    readonly address: VoterAddress,
    private readonly t: RaftTransportOptions,
    private readonly clientId: string,
    /** Told of the endpoints a response names, before the response goes to the core. */
    private readonly onEndpoints: (endpoints: readonly wire.NodeEndpoint[]) => void,
  ) {}

  send(m: RaftMessage<RaftRequest>): void {
    if (this.closed) return;
    if (this.connected) return this.write(m);
    if (this.queued.length >= MAX_QUEUED) {
      this.t.logger.debug({ voter: this.address.id }, 'raft request dropped: too many waiting for a connection');
      return;
    }
    this.queued.push(m);
    if (this.socket === null && this.retryTimer === null) this.connect();
  }

  expire(now: number): void {
    if (this.socket !== null && !this.connected && now - this.connectingSince >= this.t.requestTimeoutMs) {
      return this.fail(`connection attempt timed out after ${this.t.requestTimeoutMs} ms`);
    }
    for (const f of this.inFlight.values()) {
      if (now - f.sentAt >= this.t.requestTimeoutMs) {
        // NetworkClient disconnects on a request timeout: the connection may be stuck.
        this.inFlight.clear();
        this.disconnect(`request timed out after ${this.t.requestTimeoutMs} ms`, false);
        return;
      }
    }
  }

  close(): void {
    this.closed = true;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.queued = [];
    this.inFlight.clear();
    const s = this.socket;
    this.socket = null;
    // What was written (a resigning leader's EndQuorumEpoch) goes out before the socket closes.
    if (s !== null && this.connected) s.end(() => s.destroy());
    else s?.destroy();
    this.connected = false;
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.closed) return;
    const s = connect({ host: this.address.host, port: this.address.port });
    this.socket = s;
    this.connected = false;
    this.connectingSince = this.t.clock.now();
    s.setNoDelay(true);
    s.on('connect', () => {
      if (this.socket !== s) return;
      this.connected = true;
      this.backoffMs = 0;
      this.t.logger.debug({ voter: this.address.id, host: this.address.host, port: this.address.port }, 'raft connection established');
      const queued = this.queued;
      this.queued = [];
      for (const m of queued) this.write(m);
    });
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (err) => {
      if (this.socket === s) this.fail(err.message);
    });
    s.on('close', () => {
      if (this.socket === s) this.fail('connection closed');
    });
  }

  private write(m: RaftMessage<RaftRequest>): void {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    const { frame, decode } = encodeRequest(m, id, this.clientId);
    this.inFlight.set(id, { request: m, sentAt: this.t.clock.now(), decode });
    this.socket!.write(frame);
  }

  /** The connection failed: its requests get BROKER_NOT_AVAILABLE, and a new attempt follows a backoff. */
  private fail(reason: string): void {
    const failed = [...this.inFlight.values()].map((f) => f.request).concat(this.queued);
    this.inFlight.clear();
    this.queued = [];
    this.disconnect(reason, true);
    for (const m of failed) this.t.onResponse({ source: m.destination, destination: m.source, correlationId: m.correlationId, body: unavailableResponse(m.body) });
  }

  private disconnect(reason: string, backoff: boolean): void {
    const s = this.socket;
    this.socket = null;
    this.connected = false;
    this.chunks = [];
    this.buffered = 0;
    s?.destroy();
    if (this.closed) return;
    this.t.logger.debug({ voter: this.address.id, reason }, 'raft connection lost');
    if (backoff) {
      this.backoffMs = this.backoffMs === 0 ? RECONNECT_BACKOFF_MS : Math.min(RECONNECT_BACKOFF_MAX_MS, this.backoffMs * 2);
      // The next attempt happens when a request wants it, after the backoff.
      this.retryTimer = this.t.clock.schedule(this.backoffMs, () => {
        this.retryTimer = null;
        if (this.queued.length > 0) this.connect();
      });
    }
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (size < 4 || size > MAX_FRAME_BYTES) return this.fail(`response frame of ${size} bytes`);
      // Concatenate only once the whole frame is here.
      if (this.buffered < 4 + size) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.onFrame(frame);
      if (this.socket === null) return;
    }
  }

  private onFrame(frame: Buffer): void {
    const id = frame.readInt32BE(0);
    const f = this.inFlight.get(id);
    if (f === undefined) return; // timed out and forgotten
    this.inFlight.delete(id);
    let decoded: Decoded;
    try {
      decoded = f.decode(new Reader(frame));
    } catch (err) {
      return this.fail(`malformed response to ${f.request.body.kind}: ${(err as Error).message}`);
    }
    // The core may follow the leader this answer names at once: its address must be known by then.
    if (decoded.endpoints.length > 0) this.onEndpoints(decoded.endpoints);
    this.t.onResponse({ source: this.address.id, destination: f.request.source, correlationId: f.request.correlationId, body: decoded.body });
  }
}

export class RaftTransport {
  private readonly peers = new Map<number, Peer>();
  /** The ids whose address is configured (voters, bootstrap servers): never replaced by an answer's NodeEndpoints. */
  private readonly configured = new Set<number>();
  private readonly clientId: string;
  private closed = false;

  constructor(private readonly o: RaftTransportOptions) {
    this.clientId = `raft-client-${o.nodeId}`;
    for (const v of [...o.voters, ...(o.bootstrapServers ?? [])]) {
      this.configured.add(v.id);
      if (v.id !== o.nodeId) this.peers.set(v.id, this.newPeer(v));
    }
  }

  /** Sends one of the core's requests to its destination node. */
  send(m: RaftMessage<RaftRequest>): void {
    const peer = this.peers.get(m.destination);
    if (peer === undefined) {
      // Not reachable until an answer names its endpoint: the core hears so as from a failed connection
      // (on a later tick: the core is never re-entered from its own effects).
      this.o.logger.debug({ destination: m.destination, kind: m.body.kind }, 'raft request to a node with no known address');
      this.o.clock.schedule(0, () => {
        if (!this.closed) this.o.onResponse({ source: m.destination, destination: m.source, correlationId: m.correlationId, body: unavailableResponse(m.body) });
      });
      return;
    }
    peer.send(m);
  }

  /** The CONTROLLER listener of node `id` (a voter, or a leader learnt from NodeEndpoints), or null when unknown. */
  endpointOf(id: number): { host: string; port: number } | null {
    if (id < 0) return null;
    if (id === this.o.nodeId) {
      const own = this.o.voters.find((v) => v.id === id);
      return own === undefined ? null : { host: own.host, port: own.port };
    }
    const a = this.peers.get(id)?.address;
    return a === undefined ? null : { host: a.host, port: a.port };
  }

  /** Endpoints named in a response: a node not configured here is reached there from now on (KIP-853). */
  private learn(endpoints: readonly wire.NodeEndpoint[]): void {
    for (const e of endpoints) {
      if (this.closed || e.nodeId === this.o.nodeId || this.configured.has(e.nodeId)) continue;
      const known = this.peers.get(e.nodeId);
      if (known !== undefined && known.address.host === e.host && known.address.port === e.port) continue;
      known?.close();
      this.o.logger.info({ node: e.nodeId, host: e.host, port: e.port }, 'learnt the controller endpoint of the quorum leader from a fetch response');
      this.peers.set(e.nodeId, this.newPeer({ id: e.nodeId, host: e.host, port: e.port }));
    }
  }

  private newPeer(address: VoterAddress): Peer {
    return new Peer(address, this.o, this.clientId, (endpoints) => this.learn(endpoints));
  }

  /** Forgets requests older than the request timeout (closing their connections). */
  expire(now: number): void {
    for (const p of this.peers.values()) p.expire(now);
  }

  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) p.close();
  }
}
