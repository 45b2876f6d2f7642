/**
 * A seeded simulation of partition replication (issue 12, acceptance 1; the harness of
 * test/broker/replication-simulation.test.ts, docs/replication.md "The replication simulation").
 *
 * What is real: three Brokers (Broker.start on their own data directories, in KRaft broker mode), so the
 * replica manager, Partition (HW, ISR, acks=all purgatory), the replica fetchers, the leader's Fetch path,
 * Produce, the ISR manager and the storage Log on disk; every request goes through the Dispatcher and the
 * protocol codecs as bytes. The controller is the real QuorumController (registration, heartbeats,
 * session expiry and fencing, AlterPartition with its epoch checks, election from the ISR with the leader
 * epoch bumped, unclean election off), its records replayed as they are appended.
 *
 * What is simulated: the network (in memory: each message arrives after a latency drawn from its
 * identity and the seed; a link between two nodes can be cut, which holds its messages until the heal, and
 * a connection reset), time (one SimClock for every timer: fetch long polls, backoffs, the ISR expiration
 * task, request timeouts, the controller's sessions), the Raft quorum (a controller record is committed
 * when appended), the broker lifecycle (BrokerLifecycle's registration and heartbeats, sent by the harness
 * for each broker over its link to the controller) and the metadata loader (each new image is sent to
 * every broker; one arriving late or out of order is skipped for the newer one it already has). The
 * fetchers reach their leaders through ReplicaFetcherManager.connector. A crash stops a broker between two
 * events (Broker.halt: no clean-shutdown marker, no snapshot; every write it made survives, as the page
 * cache survives `kill -9`), loses its messages in flight and resets its peers' connections; some stops
 * are clean shutdowns instead, some after a controlled shutdown; a restart opens the same directories.
 *
 * A run is a pure function of its seed: timers and message arrivals run one at a time, each followed by a
 * wait until the process has no file I/O pending, so concurrent work cannot interleave differently; a
 * message's latency and its order among ties come from its identity, not from when it was sent.
 *
 * Clients: producers with acks=all (two plain, two idempotent, whose retries keep their sequence numbers),
 * one with acks=1 (its records may be lost: they make replicas diverge) and two consumers, each taking the
 * leader from some live broker's metadata (never older than a leader epoch it has seen, KIP-320), so they
 * also talk to stale leaders.
 *
 * Checked after every step, and after the final heal (everything restarted and reconnected, then every
 * replica in the ISR and caught up within a bound):
 * - an acknowledged batch (acks=all, min.insync.replicas=2, RF=3) is in the log of the current leader and
 *   of every live ISR member, at its acknowledged offset, with the same bytes; no two acknowledgements
 *   name one offset for different batches, and an idempotent batch is acknowledged at one offset only;
 * - every replica's log below its own high watermark equals one global committed history (whole batch
 *   bytes, leader epochs included), so replicas never diverge below the HW and a committed record never
 *   changes; an idempotent batch appears in it once;
 * - a consumer's position never goes back: each Fetch answer continues exactly at its position, only below
 *   the answer's HW, with the committed bytes, and OFFSET_OUT_OF_RANGE at a position it reached is a loss;
 *   after a leader change the new leader's end of the epoch of its last record (OffsetForLeaderEpoch,
 *   KIP-320) is not below its position;
 * - a replica's leader epoch never goes back; its log is contiguous from its start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { readResponseHeader, responseHeaderVersion, writeRequestHeader } from '../../protocol/headers.js';
import { AlterPartition } from '../../protocol/messages/alter-partition.js';
import { BrokerHeartbeatRequest } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistrationRequest } from '../../protocol/messages/broker-registration.js';
import { CreateTopicsRequest } from '../../protocol/messages/create-topics.js';
import { Fetch, FetchRequest } from '../../protocol/messages/fetch.js';
import { OffsetForLeaderEpoch, OffsetForLeaderEpochRequest } from '../../protocol/messages/offset-for-leader-epoch.js';
import { Produce, ProduceRequest } from '../../protocol/messages/produce.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { readBatchHeader } from '../../protocol/records/batch.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';
import { Broker } from '../../src/broker/broker.js';
import { ControllerChannel } from '../../src/broker/controller-channel.js';
import type { AlterPartitionRequestBody, AlterPartitionResponseBody } from '../../src/broker/isr-manager.js';
import type { MetadataImage, PartitionRegistration } from '../../src/broker/metadata-image.js';
import type { Partition } from '../../src/broker/partition.js';
import type { ReplicaConnector } from '../../src/broker/replica-fetcher.js';
import { ConnectionError } from '../../src/client/connection.js';
import { buildConfig } from '../../src/config.js';
import { QuorumController, type ControllerResult } from '../../src/controller/quorum-controller.js';
import { SeededRandom } from '../../src/controller/raft/random.js';
import { HANDLERS } from '../../src/handlers/index.js';
import { Dispatcher } from '../../src/server/dispatcher.js';
import type { Connection } from '../../src/server/connection.js';
import type { Clock, Timer } from '../../src/util/clock.js';

export const TOPIC = 'sim';
const PARTITIONS = 2;
const BROKER_IDS = [1, 2, 3] as const;
/** Network endpoints: the controller, the brokers (their ids), and all clients together. */
const CONTROLLER = 0;
const CLIENTS = 100;
const CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qg';
const PORT_BASE = 19000;
/** Fixed record timestamps: the bytes of a run depend on its seed only. */
const TIMESTAMP = 1_700_000_000_000;

export interface ReplSimOptions {
  readonly seed: number;
  /** Steps of the chaos phase (default 300). */
  readonly steps?: number;
  /** Keep the whole trace (default: the last 80 lines are kept for a failure report). */
  readonly fullTrace?: boolean;
}

export interface ReplSimStats {
  steps: number;
  /** Batches acknowledged with acks=all (checked), and with acks=1 (not: they may be lost). */
  acked: number;
  ackedOne: number;
  ackedIdempotent: number;
  crashes: number;
  /** Stops with a clean shutdown (clean-shutdown marker, producer state snapshots) instead of a crash. */
  cleanStops: number;
  /** Controlled shutdowns begun (leadership moved away by the controller first). */
  controlledShutdowns: number;
  /** Active controller changes. */
  controllerFailovers: number;
  restarts: number;
  cuts: number;
  /** Leader epochs the controller started (elections after the first). */
  elections: number;
  /** Times a replica's log end offset went down (diverging suffixes removed). */
  truncations: number;
  /** Batches consumers read, and positions they validated after a leader change (OffsetForLeaderEpoch). */
  consumed: number;
  positionsValidated: number;
  /** Produce answers by error name (what the clients met). */
  produceErrors: Record<string, number>;
  /** Simulated ms the final heal took to converge. */
  convergenceMs: number;
}

export interface ReplSimResult {
  readonly failure: string | null;
  readonly stats: ReplSimStats;
  /** One line per step (the last 80 unless fullTrace), for the failure report and the determinism check. */
  readonly trace: readonly string[];
  /** A digest of the whole trace and the final logs: equal for equal seeds. */
  readonly digest: string;
}

class Violation extends Error {
  override readonly name = 'Violation';
}

/**
 * The simulation's one clock (what ManualClock is, but stepwise): `advance` runs the timers that fall due
 * one at a time, in time order, and lets each one's work (file I/O included) finish before the next, so
 * concurrent work never interleaves differently from one run to the next. Ties run in a fixed order:
 * timers by when they were scheduled, packets by their identity (not by when they were sent).
 */
class SimClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; key: string; fn: () => void }>();

  constructor(startMs: number) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): Timer {
    return this.scheduleKeyed(delayMs, '', fn);
  }

  /** `key` orders timers falling due at the same ms (after the unkeyed ones). */
  scheduleKeyed(delayMs: number, key: string, fn: () => void): Timer {
    const id = this.seq++;
    this.pending.set(id, { at: this.time + Math.max(0, Math.floor(delayMs)), key, fn });
    return { cancel: () => this.pending.delete(id) };
  }

  async advance(ms: number, between: () => Promise<void>): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      let next = -1;
      let best: { at: number; key: string } | null = null;
      for (const [id, t] of this.pending) {
        if (t.at > target) continue;
        if (best === null || t.at < best.at || (t.at === best.at && (t.key < best.key || (t.key === best.key && id < next)))) {
          best = t;
          next = id;
        }
      }
      if (best === null) break;
      const t = this.pending.get(next)!;
      this.pending.delete(next);
      this.time = Math.max(this.time, t.at);
      t.fn();
      await between();
    }
    this.time = target;
  }
}

/** A broker's timers on the simulation's clock; a dead incarnation's never fire (a killed process has none). */
class NodeClock implements Clock {
  alive = true;
  constructor(private readonly base: SimClock) {}
  now(): number {
    return this.base.now();
  }
  schedule(delayMs: number, fn: () => void): Timer {
    return this.base.schedule(delayMs, () => {
      if (this.alive) fn();
    });
  }
}

/** A message between two endpoints; dropped when either end died (a new incarnation) before it arrives. */
interface Packet {
  readonly from: number;
  readonly to: number;
  readonly fromIncarnation: number;
  readonly toIncarnation: number;
  /** Names the packet independently of when it was sent (its latency and its order among ties). */
  readonly key: string;
  readonly label: string;
  readonly deliver: () => void;
}

/**
 * The client side of an in-memory connection (what BrokerConnection is over TCP): requests are encoded
 * with their header, travel as packets, and the answer is decoded at the request's version. A request
 * not answered within timeoutMs fails with ConnectionError, as BrokerConnection's does.
 */
class SimConnection {
  private closed = false;
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: Timer }>();

  constructor(
    private readonly sim: ReplicationSim,
    readonly id: number,
    readonly from: number,
    readonly to: number,
    private readonly clientId: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  async send<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>): Promise<MessageValue<Res>> {
    if (this.closed) throw new ConnectionError(`connection ${this.from}->${this.to} is closed`);
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.clientId }, api.request.isFlexible(version));
    api.request.encode(w, body, version);
    const frame = w.toBuffer();
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const timer = this.clock.schedule(this.timeoutMs, () => {
        this.pending.delete(correlationId);
        reject(new ConnectionError(`${this.to} did not answer ${api.name} within ${this.timeoutMs} ms`));
      });
      this.pending.set(correlationId, { resolve, reject, timer });
      this.sim.sendRequest(this, correlationId, frame, api.name);
    });
    const r = new Reader(bytes);
    readResponseHeader(r, responseHeaderVersion(api.apiKey, api.response.isFlexible(version)));
    return api.response.decode(r, version);
  }

  receive(correlationId: number, bytes: Buffer): void {
    const p = this.pending.get(correlationId);
    if (!p || this.closed) return;
    this.pending.delete(correlationId);
    p.timer.cancel();
    p.resolve(bytes);
  }

  /** The connection breaks (RST, the peer closed it, or the client closes it): pending requests fail. */
  reset(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sim.forget(this);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.timer.cancel();
      p.reject(new ConnectionError(reason));
    }
  }

  /** The client process died: nothing more happens on its side. */
  abandon(): void {
    this.closed = true;
    this.sim.forget(this);
    for (const p of this.pending.values()) p.timer.cancel();
    this.pending.clear();
  }

  close(): void {
    this.reset('connection closed by the client');
  }
}

interface SimNode {
  readonly id: number;
  readonly dir: string;
  broker: Broker | null;
  dispatcher: Dispatcher | null;
  clock: NodeClock | null;
  /** Bumped at each crash and restart: packets of or for an older incarnation are dropped. */
  incarnation: number;
  /** The lifecycle: registered (with this epoch), a request to the controller in flight since. */
  registered: boolean;
  brokerEpoch: bigint;
  inflightSinceMs: number | null;
  /** A controlled shutdown asked for since (heartbeats say wantShutDown), and a stop under way. */
  shutdownSinceMs: number | null;
  stopping: boolean;
  /** The offset of the last image this incarnation applied, and of the last one it was sent. */
  appliedOffset: number;
  requestedOffset: number;
  /** Counts this incarnation's packets to the controller (their identity). */
  sent: number;
  /** Per partition: the leader epoch this incarnation's replica was last seen at, and its LEO. */
  lastEpoch: number[];
  lastLeo: number[];
}

interface StoredBatch {
  readonly base: number;
  readonly last: number;
  readonly bytes: Buffer;
}

interface CommittedBatch extends StoredBatch {
  readonly source: string;
}

interface AckedBatch {
  readonly base: number;
  readonly last: number;
  readonly label: string;
  /** From the magic byte on (the producer does not know the offset and leader epoch the leader writes). */
  readonly content: Buffer;
}

interface ProducerClient {
  readonly index: number;
  /** -1 (all) for every producer but one with acks=1, whose records may be lost and make replicas diverge. */
  readonly acks: number;
  readonly idempotent: boolean;
  readonly producerId: number;
  busy: boolean;
  sent: number;
  /** Per partition (idempotent): the next sequence, and the batch being retried until acknowledged. */
  nextSequence: number[];
  retry: ({ bytes: Buffer; label: string; sequence: number } | null)[];
  knownEpoch: number[];
}

interface ConsumerClient {
  readonly index: number;
  busy: boolean;
  position: number[];
  knownEpoch: number[];
  /** Per partition: the leader epoch of the last batch consumed (-1: none), and the leader epoch its position was last validated at. */
  lastEpoch: number[];
  validatedEpoch: number[];
}

/** Time passing (packets arriving, timers firing) is the common step; faults are rare enough for progress. */
const WEIGHTS: readonly (readonly [string, number])[] = [
  ['advance', 60],
  ['produce', 18],
  ['consume', 10],
  ['cut', 1.2],
  ['heal', 2],
  ['crash', 0.7],
  ['shutdown', 0.3],
  ['failover', 0.3],
  ['restart', 2.5],
  ['reset', 0.7],
];

/** The steps whose weights a stormy seed multiplies. */
const FAULTS = new Set(['cut', 'heal', 'crash', 'shutdown', 'failover', 'restart', 'reset']);

const ADVANCES = [1, 2, 5, 10, 20, 50, 100, 250] as const;

const FS_RESOURCES = new Set(['FSReqPromise', 'FSReqCallback', 'FileHandleCloseReq', 'CloseReq', 'FSEventWrap', 'StatWatcher']);

function fsBusy(): boolean {
  for (const r of process.getActiveResourcesInfo()) if (FS_RESOURCES.has(r)) return true;
  return false;
}

/** Waits until no file I/O is pending: everything the last event started has run as far as it can. */
async function settle(): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 1_000_000; i++) {
    await new Promise<void>((r) => setImmediate(r));
    if (fsBusy()) quiet = 0;
    else if (++quiet >= 3) return;
  }
  throw new Error('file I/O never settled');
}

/** FNV-1a over a string, then mixed: a packet's fate from its identity and the seed. */
function hash(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

function splitBatches(buf: Buffer): StoredBatch[] {
  const out: StoredBatch[] = [];
  let pos = 0;
  while (pos + 61 <= buf.length) {
    const h = readBatchHeader(buf, pos);
    const size = 12 + h.batchLength;
    out.push({ base: h.baseOffset, last: h.baseOffset + h.lastOffsetDelta, bytes: Buffer.from(buf.subarray(pos, pos + size)) });
    pos += size;
  }
  if (pos !== buf.length) throw new Violation(`a read returned ${buf.length - pos} bytes that are not a whole batch`);
  return out;
}

/** The producer's bytes of a stored batch: from the magic byte on (offset and leader epoch are the leader's). */
function contentOf(bytes: Buffer): Buffer {
  return bytes.subarray(16);
}

/** A batch's name in the trace: its first record's value (`p1#7.0`: producer 1's 7th batch) is near its end. */
function label(bytes: Buffer): string {
  const m = /[pi]\d+#\d+/.exec(bytes.subarray(61).toString('latin1'));
  return m ? m[0] : '?';
}

function errorName(code: number): string {
  for (const [k, v] of Object.entries(ErrorCode)) if (v === code) return k;
  return `error ${code}`;
}

function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export class ReplicationSim {
  private readonly random: SeededRandom;
  private readonly clock = new SimClock(TIMESTAMP);
  private readonly controller: QuorumController;
  private metadataOffset = 0;
  private readonly images: MetadataImage[] = [];
  private readonly nodes = new Map<number, SimNode>();
  /** Packets that arrived at a cut link: they go on after the heal (TCP retransmits). */
  private held: Packet[] = [];
  private nextConnectionId = 1;
  private readonly connections = new Set<SimConnection>();
  private readonly clientConnections = new Map<string, SimConnection>();
  private readonly cuts = new Set<string>();
  private readonly clientClock: NodeClock;
  private readonly producers: ProducerClient[] = [];
  private readonly consumers: ConsumerClient[] = [];
  /** Per partition: the committed history by base offset, the acknowledged batches, idempotent identities. */
  private readonly committed: Map<number, CommittedBatch>[] = [];
  private readonly acked: Map<number, AckedBatch>[] = [];
  private readonly ackedSequences = new Map<string, number>();
  private readonly committedSequences: Map<string, number>[] = [];
  private failure: string | null = null;
  private readonly traceLines: string[] = [];
  private digestState = 0x811c9dc5;
  private topicId = '';
  /** Bumped when another controller becomes active: requests to the old one and its answers are lost. */
  private controllerIncarnation = 0;
  readonly stats: ReplSimStats = { steps: 0, acked: 0, ackedOne: 0, cleanStops: 0, controlledShutdowns: 0, controllerFailovers: 0, ackedIdempotent: 0, crashes: 0, restarts: 0, cuts: 0, elections: 0, truncations: 0, consumed: 0, positionsValidated: 0, produceErrors: {}, convergenceMs: 0 };
  /** Timing, varied by seed (Kafka's rules are the same whatever they are). */
  private readonly lagMaxMs: number;
  private readonly sessionMs: number;
  /** 3 for a stormy seed: faults three times as often. */
  private readonly faultRate: number;
  /** replica.fetch.max.bytes: 150 makes most replica fetches carry one batch. */
  private readonly fetchMaxBytes: number;
  private readonly heartbeatMs = 250;
  private readonly requestTimeoutMs = 1500;

  constructor(private readonly options: ReplSimOptions) {
    this.random = new SeededRandom(options.seed);
    this.lagMaxMs = [300, 1000, 2000, 4000][this.random.nextInt(4)]!;
    this.sessionMs = [1200, 2500][this.random.nextInt(2)]!;
    this.fetchMaxBytes = this.random.chance(0.5) ? 1_048_576 : 150;
    this.faultRate = this.random.chance(0.3) ? 3 : 1;
    this.controller = new QuorumController({
      nodeId: CONTROLLER,
      clusterId: CLUSTER_ID,
      config: buildConfig(new Map([['broker.session.timeout.ms', String(this.sessionMs)], ['samsa.log.level', 'silent']])),
      random: new SeededRandom(options.seed ^ 0x5eed),
    });
    this.clientClock = new NodeClock(this.clock);
    for (let p = 0; p < PARTITIONS; p++) {
      this.committed.push(new Map());
      this.acked.push(new Map());
      this.committedSequences.push(new Map());
    }
    for (let i = 0; i < 5; i++) {
      const idempotent = i === 2 || i === 3;
      this.producers.push({ index: i, acks: i === 4 ? 1 : -1, idempotent, producerId: idempotent ? 7000 + i : -1, busy: false, sent: 0, nextSequence: new Array<number>(PARTITIONS).fill(0), retry: new Array(PARTITIONS).fill(null), knownEpoch: new Array<number>(PARTITIONS).fill(-1) });
    }
    for (let i = 0; i < 2; i++) {
      const none = (): number[] => new Array<number>(PARTITIONS).fill(-1);
      this.consumers.push({ index: i, busy: false, position: new Array<number>(PARTITIONS).fill(0), knownEpoch: none(), lastEpoch: none(), validatedEpoch: none() });
    }
  }

  // ------------------------------------------------------------------------------------------ running

  async run(): Promise<ReplSimResult> {
    try {
      await this.setUp();
      const steps = this.options.steps ?? 300;
      for (let step = 0; step < steps && this.failure === null; step++) {
        this.stats.steps++;
        await this.step(step);
        await settle();
        await this.check();
      }
      if (this.failure === null) await this.healAndConverge();
      if (this.failure === null) await this.finalCheck();
    } catch (err) {
      this.failure ??= err instanceof Violation ? err.message : `unexpected error: ${describeError(err)}`;
    } finally {
      await this.tearDown();
    }
    return { failure: this.failure, stats: this.stats, trace: this.traceLines, digest: (this.digestState >>> 0).toString(16) };
  }

  private trace(line: string): void {
    const text = `[${String(this.clock.now() - TIMESTAMP).padStart(6)} ms] ${line}`;
    for (let i = 0; i < text.length; i++) this.digestState = Math.imul(this.digestState ^ text.charCodeAt(i), 0x01000193);
    this.traceLines.push(text);
    if (!this.options.fullTrace && this.traceLines.length > 80) this.traceLines.shift();
  }

  /** Packet arrivals: in the digest always, in the trace only when the whole trace is kept. */
  private detail(line: string): void {
    if (this.options.fullTrace) {
      this.trace(line);
      return;
    }
    const text = `${this.clock.now()} ${line}`;
    for (let i = 0; i < text.length; i++) this.digestState = Math.imul(this.digestState ^ text.charCodeAt(i), 0x01000193);
  }

  private fail(message: string): never {
    throw new Violation(message);
  }

  /** A failure noticed in a callback (an answer arriving): it ends the run at the next check. */
  private noteFailure(message: string): void {
    if (this.failure === null) this.trace(`FAILURE: ${message}`);
    this.failure ??= message;
  }

  /** Time passes by `ms`: due packets arrive and timers fire, one at a time. */
  private async passTime(ms: number): Promise<void> {
    await this.clock.advance(ms, settle);
  }

  private async setUp(): Promise<void> {
    this.commit({ records: this.controller.bootstrapRecords(), response: null });
    this.scheduleTick();
    for (const id of BROKER_IDS) {
      const dir = await mkdtemp(join(tmpdir(), `samsa-replsim-${id}-`));
      this.nodes.set(id, { id, dir, broker: null, dispatcher: null, clock: null, incarnation: 0, registered: false, brokerEpoch: -1n, inflightSinceMs: null, shutdownSinceMs: null, stopping: false, appliedOffset: -1, requestedOffset: -1, sent: 0, lastEpoch: [], lastLeo: [] });
      await this.startBroker(id);
    }
    // Registered, caught up with the metadata, unfenced; then the topic (RF 3, min.insync.replicas 2).
    for (let i = 0; i < 100 && BROKER_IDS.some((id) => this.controller.image.brokers.get(id)?.fenced !== false); i++) await this.passTime(50);
    const created = this.commit(
      this.controller.createTopics(
        this.clock.now(),
        { ...CreateTopicsRequest.defaults(7), topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: '2' }] }] },
        7,
      ),
    );
    const t = created.topics![0]!;
    if (t.errorCode !== ErrorCode.NONE) throw new Error(`creating the topic failed: ${errorName(t.errorCode)}`);
    this.topicId = this.controller.image.topic(TOPIC)!.topicId;
    await this.passTime(300);
    this.trace(`seed ${this.options.seed}: replica.lag.time.max.ms ${this.lagMaxMs}, broker.session.timeout.ms ${this.sessionMs}, replica.fetch.max.bytes ${this.fetchMaxBytes}, faults x${this.faultRate}; ${this.describeImage(this.latestImage)}`);
  }

  private async tearDown(): Promise<void> {
    for (const c of [...this.connections]) c.abandon();
    this.held = [];
    for (const node of this.nodes.values()) {
      node.incarnation++;
      if (node.clock) node.clock.alive = false;
      try {
        await node.broker?.halt();
      } catch {
        // The directory goes anyway.
      }
      node.broker = null;
      await rm(node.dir, { recursive: true, force: true });
    }
  }

  // --------------------------------------------------------------------------------------- controller

  private get latestImage(): MetadataImage {
    return this.images.at(-1)!;
  }

  /**
   * Appends (and commits) a controller result's records: the controller replays them at the next offsets,
   * and every live broker is sent the new image (its metadata loader fetching the log).
   */
  private commit<R>(result: ControllerResult<R>): R {
    if (result.records.length === 0) return result.response;
    const before = this.images.at(-1);
    for (const r of result.records) this.controller.replay(r, this.metadataOffset++);
    const image = this.controller.image;
    this.images.push(image);
    const topic = image.topic(TOPIC);
    if (topic && before) {
      for (const p of topic.partitions) {
        const old = before.topic(TOPIC)?.partitions[p.partition];
        if (old && old.leaderEpoch !== p.leaderEpoch) this.stats.elections++;
        if (!old || old.leader !== p.leader || old.isr.join() !== p.isr.join()) this.trace(`controller: ${TOPIC}-${p.partition} leader ${p.leader} epoch ${p.leaderEpoch} ISR [${p.isr.join(',')}]`);
      }
    }
    for (const node of this.nodes.values()) if (node.broker) this.sendImage(node, image);
    return result.response;
  }

  private sendImage(node: SimNode, image: MetadataImage): void {
    if (image.offset <= node.requestedOffset) return;
    node.requestedOffset = image.offset;
    this.push(CONTROLLER, node.id, `metadata@${image.offset}`, `image ${image.offset}`, () => {
      if (image.offset <= node.appliedOffset || !node.broker) return;
      const broker = node.broker;
      const incarnation = node.incarnation;
      node.appliedOffset = image.offset;
      this.trace(`broker ${node.id} applies ${this.describeImage(image)}`);
      broker.publishImage(image).catch((err: unknown) => {
        if (node.incarnation === incarnation) this.noteFailure(`broker ${node.id} failed applying image ${image.offset}: ${describeError(err)}`);
      });
    });
  }

  private describeImage(image: MetadataImage): string {
    const t = image.topic(TOPIC);
    const brokers = [...image.brokers.values()].map((b) => `${b.nodeId}${b.fenced ? '(fenced)' : ''}`).join(' ');
    const parts = t ? t.partitions.map((p) => `p${p.partition} leader ${p.leader}@${p.leaderEpoch} ISR [${p.isr.join(',')}]`).join('; ') : 'no topic';
    return `image ${image.offset}: brokers ${brokers}; ${parts}`;
  }

  /** The controller's session check, every 100 ms. */
  private scheduleTick(): void {
    this.clock.schedule(100, () => {
      const fenced = this.commit(this.controller.tick(this.clock.now())).fencedBrokers;
      if (fenced.length > 0) this.trace(`controller: session expired, fenced ${fenced.join(',')}`);
      this.scheduleTick();
    });
  }

  /**
   * The broker lifecycle (BrokerLifecycle's rules, run by the harness for the broker): register, then
   * heartbeat every heartbeatMs with the applied metadata offset, one request in flight at a time (a lost
   * one is given up after the request timeout); a stale registration registers again.
   */
  private scheduleHeartbeat(node: SimNode): void {
    node.clock!.schedule(this.heartbeatMs, () => {
      this.beat(node);
      this.scheduleHeartbeat(node);
    });
  }

  private beat(node: SimNode): void {
    const now = this.clock.now();
    // BrokerLifecycle bounds the controlled shutdown: past its deadline the broker stops anyway.
    if (node.shutdownSinceMs !== null && now - node.shutdownSinceMs > 3000) {
      this.trace(`broker ${node.id}: controlled shutdown not confirmed in time; stopping anyway`);
      void this.stopAfterShutdown(node);
      return;
    }
    if (node.inflightSinceMs !== null && now - node.inflightSinceMs < this.requestTimeoutMs) return;
    node.inflightSinceMs = now;
    const id = node.id;
    const incarnation = node.incarnation;
    const answer = (label: string, apply: () => void): void => this.push(CONTROLLER, id, `${label}-answer@${id}.${incarnation}.${node.sent}`, `${label} answer`, () => {
      if (node.incarnation !== incarnation) return;
      node.inflightSinceMs = null;
      apply();
    });
    if (!node.registered) {
      const req = {
        ...BrokerRegistrationRequest.defaults(4),
        brokerId: id,
        clusterId: CLUSTER_ID,
        incarnationId: `0000${String(incarnation).padStart(4, '0')}-0000-4000-8000-${String(id).padStart(12, '0')}`,
        listeners: [{ name: 'PLAINTEXT', host: 'sim', port: PORT_BASE + id, securityProtocol: 0 }],
        features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }],
        rack: null,
      };
      this.push(id, CONTROLLER, `register@${id}.${incarnation}.${node.sent++}`, 'BrokerRegistration', () => {
        const res = this.commit(this.controller.registerBroker(this.clock.now(), req, this.metadataOffset));
        this.trace(`controller: broker ${id} registration: ${res.errorCode === ErrorCode.NONE ? `epoch ${res.brokerEpoch}` : errorName(res.errorCode)}`);
        answer('BrokerRegistration', () => {
          if (res.errorCode !== ErrorCode.NONE) return;
          node.registered = true;
          node.brokerEpoch = res.brokerEpoch!;
        });
        if (res.errorCode === ErrorCode.NONE) this.sendImage(node, this.latestImage);
      });
      return;
    }
    const wantShutDown = node.shutdownSinceMs !== null;
    const req = { ...BrokerHeartbeatRequest.defaults(1), brokerId: id, brokerEpoch: node.brokerEpoch, currentMetadataOffset: BigInt(node.appliedOffset), wantFence: false, wantShutDown };
    this.push(id, CONTROLLER, `heartbeat@${id}.${incarnation}.${node.sent++}`, 'BrokerHeartbeat', () => {
      const res = this.commit(this.controller.brokerHeartbeat(this.clock.now(), req));
      // The broker's metadata fetches go on from where it is (after a controller change, say).
      if (node.appliedOffset < this.latestImage.offset && node.requestedOffset <= node.appliedOffset) this.sendImage(node, this.latestImage);
      answer('BrokerHeartbeat', () => {
        // BrokerLifecycle: the controller no longer knows this registration; register again.
        if (res.errorCode === ErrorCode.STALE_BROKER_EPOCH) node.registered = false;
        else if (wantShutDown && res.shouldShutDown) void this.stopAfterShutdown(node);
      });
    });
  }

  /** The end of a controlled shutdown: the controller moved leadership away; the broker stops cleanly. */
  private async stopAfterShutdown(node: SimNode): Promise<void> {
    if (!node.broker || node.stopping) return;
    this.trace(`STOP broker ${node.id} (controlled shutdown done)`);
    try {
      await this.crash(node.id, true);
    } catch (err) {
      this.noteFailure(`stopping broker ${node.id} failed: ${describeError(err)}`);
    }
  }

  /** AlterPartition from a leader: over the broker's link to the controller, encoded at v3 both ways. */
  private alterPartition(node: SimNode, incarnation: number, request: AlterPartitionRequestBody): Promise<AlterPartitionResponseBody> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = node.clock!.schedule(this.requestTimeoutMs, () => {
        done = true;
        reject(new ConnectionError('AlterPartition timed out'));
      });
      const w = new Writer();
      AlterPartition.request.encode(w, request, 3);
      const bytes = w.toBuffer();
      const key = `alter@${node.id}.${incarnation}.${node.sent++}`;
      this.push(node.id, CONTROLLER, key, 'AlterPartition', () => {
        const decoded = AlterPartition.request.decode(new Reader(bytes), 3);
        const result = this.controller.alterPartition(this.clock.now(), decoded, 3);
        const summary = result.response.topics.flatMap((t) => t.partitions.map((p) => `p${p.partitionIndex} [${decoded.topics[0]?.partitions.find((d) => d.partitionIndex === p.partitionIndex)?.newIsrWithEpochs.map((m) => m.brokerId).join(',')}] ${errorName(p.errorCode)}`)).join(', ') || errorName(result.response.errorCode);
        this.trace(`controller: AlterPartition from ${node.id}: ${summary}`);
        this.commit(result);
        const rw = new Writer();
        AlterPartition.response.encode(rw, result.response, 3);
        const answer = rw.toBuffer();
        this.push(CONTROLLER, node.id, `${key}-answer`, 'AlterPartition answer', () => {
          if (done) return;
          done = true;
          timer.cancel();
          resolve(AlterPartition.response.decode(new Reader(answer), 3) as AlterPartitionResponseBody);
        });
      });
    });
  }

  // ------------------------------------------------------------------------------------------ brokers

  private async startBroker(id: number): Promise<void> {
    const node = this.nodes.get(id)!;
    node.incarnation++;
    const clock = new NodeClock(this.clock);
    const config = buildConfig(
      new Map(
        Object.entries({
          listeners: 'PLAINTEXT://127.0.0.1:0',
          'log.dirs': node.dir,
          'node.id': String(id),
          'cluster.id': CLUSTER_ID,
          'samsa.log.level': 'silent',
          'samsa.schema.registry.enable': 'false',
          'samsa.http.listeners': '',
          'log.cleaner.enable': 'false',
          'replica.fetch.wait.max.ms': '200',
          'replica.fetch.backoff.ms': '100',
          'replica.socket.timeout.ms': String(this.requestTimeoutMs),
          'replica.lag.time.max.ms': String(this.lagMaxMs),
          'replica.fetch.max.bytes': String(this.fetchMaxBytes),
        }),
      ),
    );
    const logger = pino({ level: process.env.SAMSA_TEST_LOG ?? 'silent' }).child({ node: id });
    const channel = new ControllerChannel({ nodeId: id, controllers: [], leaderHint: () => -1, clock, logger });
    const broker = await Broker.start(config, logger, clock, { channel, requestTimeoutMs: this.requestTimeoutMs });
    const incarnation = node.incarnation;
    broker.replicaManager.isrManager.transport = (request) => this.alterPartition(node, incarnation, request);
    broker.replicaManager.fetchers.connector = this.connector(node, incarnation, clock);
    const dispatcher = new Dispatcher(broker, HANDLERS, logger, false);
    broker.advertisedApis = dispatcher.apiVersionsList();
    broker.advertised = { host: 'sim', port: PORT_BASE + id };
    node.broker = broker;
    node.dispatcher = dispatcher;
    node.clock = clock;
    node.registered = false;
    node.inflightSinceMs = null;
    node.shutdownSinceMs = null;
    node.stopping = false;
    node.appliedOffset = -1;
    node.requestedOffset = -1;
    node.sent = 0;
    node.lastEpoch = new Array<number>(PARTITIONS).fill(-1);
    node.lastLeo = new Array<number>(PARTITIONS).fill(-1);
    this.beat(node);
    this.scheduleHeartbeat(node);
  }

  /** The fetchers' connections: refused by a dead leader, timing out across a cut. */
  private connector(node: SimNode, incarnation: number, clock: Clock): ReplicaConnector {
    return (endpoint, options) => {
      const leader = endpoint.port - PORT_BASE;
      if (options.signal.aborted) return Promise.reject(new ConnectionError('connecting was abandoned'));
      if (node.incarnation !== incarnation) return new Promise(() => undefined);
      const target = this.nodes.get(leader);
      if (!target?.broker) return Promise.reject(new ConnectionError(`connection to ${leader} refused`));
      if (this.isCut(node.id, leader)) {
        return new Promise((_resolve, reject) => {
          const timer = clock.schedule(options.timeoutMs, () => reject(new ConnectionError(`could not connect to ${leader} within ${options.timeoutMs} ms`)));
          options.signal.addEventListener('abort', () => {
            timer.cancel();
            reject(new ConnectionError('connecting was abandoned'));
          });
        });
      }
      return Promise.resolve(this.openConnection(node.id, leader, options.clientId, options.timeoutMs, clock));
    };
  }

  private openConnection(from: number, to: number, clientId: string, timeoutMs: number, clock: Clock): SimConnection {
    const c = new SimConnection(this, this.nextConnectionId++, from, to, clientId, timeoutMs, clock);
    this.connections.add(c);
    return c;
  }

  forget(c: SimConnection): void {
    this.connections.delete(c);
  }

  /** Kills a broker (kill -9: Broker.halt) or, `clean`, stops it with Broker.shutdown (no controlled shutdown). */
  private async crash(id: number, clean = false): Promise<void> {
    const node = this.nodes.get(id)!;
    const broker = node.broker!;
    node.stopping = true;
    // A clean stop runs while its connections still work (its fetchers close theirs); what it still
    // sends is lost with its incarnation.
    if (clean) await broker.shutdown();
    node.incarnation++;
    node.clock!.alive = false;
    node.broker = null;
    node.dispatcher = null;
    // The peers' connections are reset (the kernel closes a dead process's sockets); packets in flight
    // to or from it are lost (their incarnation is gone).
    for (const c of [...this.connections]) {
      if (c.from === id) c.abandon();
      else if (c.to === id) c.reset(`connection to ${id} reset`);
    }
    if (clean) {
      this.stats.cleanStops++;
    } else {
      await broker.halt();
      this.stats.crashes++;
    }
    node.stopping = false;
  }

  // ------------------------------------------------------------------------------------------ network

  private static pair(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  private isCut(a: number, b: number): boolean {
    return this.cuts.has(ReplicationSim.pair(a >= CLIENTS ? CLIENTS : a, b >= CLIENTS ? CLIENTS : b));
  }

  private incarnationOf(endpoint: number): number {
    if (endpoint === CONTROLLER) return this.controllerIncarnation;
    return this.nodes.get(endpoint)?.incarnation ?? 0;
  }

  /** The latency of a packet, from its identity: mostly 1-10 ms, sometimes up to 300. */
  private latency(key: string): number {
    const h = hash(this.options.seed, key);
    return h % 10 === 0 ? 20 + (h >>> 8) % 280 : 1 + (h >>> 8) % 10;
  }

  private push(from: number, to: number, key: string, label: string, deliver: () => void): void {
    const packet: Packet = { from, to, fromIncarnation: this.incarnationOf(from), toIncarnation: this.incarnationOf(to), key, label, deliver };
    this.clock.scheduleKeyed(this.latency(key), key, () => this.arrive(packet));
  }

  private arrive(packet: Packet): void {
    if (this.incarnationOf(packet.from) !== packet.fromIncarnation || this.incarnationOf(packet.to) !== packet.toIncarnation) return;
    if (this.isCut(packet.from, packet.to)) {
      this.held.push(packet);
      return;
    }
    this.detail(`${packet.label} arrives`);
    packet.deliver();
  }

  /** After a heal: held packets of live incarnations go on, with a fresh latency. */
  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const p of held) {
      if (this.incarnationOf(p.from) !== p.fromIncarnation || this.incarnationOf(p.to) !== p.toIncarnation) continue;
      if (this.isCut(p.from, p.to)) this.held.push(p);
      else this.clock.scheduleKeyed(this.latency(`${p.key}+`), p.key, () => this.arrive(p));
    }
  }

  sendRequest(conn: SimConnection, correlationId: number, frame: Buffer, api: string): void {
    this.push(conn.from, conn.to, `c${conn.id}.${correlationId}`, `${api} ${conn.from}->${conn.to}`, () => this.serve(conn, correlationId, frame, api));
  }

  /** A request reaches a broker: its Dispatcher handles the bytes; the answer travels back as a packet. */
  private serve(conn: SimConnection, correlationId: number, frame: Buffer, api: string): void {
    const node = this.nodes.get(conn.to)!;
    const dispatcher = node.dispatcher;
    if (!dispatcher || conn.isClosed) return;
    const incarnation = node.incarnation;
    const hooks: (() => void)[] = [];
    const serverSide = {
      id: conn.id,
      socket: { remoteAddress: `sim-${conn.from}` },
      close: (reason: string) => conn.reset(`closed by broker ${conn.to}: ${reason}`),
      afterResponseSent: (fn: () => void) => hooks.push(fn),
    } as unknown as Connection;
    dispatcher.handle(frame, serverSide).then(
      (chunks) => {
        if (node.incarnation !== incarnation || chunks === null) return;
        const bytes = Buffer.concat(chunks);
        for (const h of hooks) h();
        if (conn.isClosed) return;
        this.push(conn.to, conn.from, `c${conn.id}.${correlationId}-answer`, `${api} answer ${conn.to}->${conn.from}`, () => conn.receive(correlationId, bytes));
      },
      (err: unknown) => {
        if (node.incarnation === incarnation) this.noteFailure(`broker ${conn.to} failed handling ${api}: ${describeError(err)}`);
      },
    );
  }

  // ---------------------------------------------------------------------------------------- the steps

  private pick<T>(items: readonly T[]): T {
    return items[this.random.nextInt(items.length)]!;
  }

  private async step(step: number): Promise<void> {
    const weights = WEIGHTS.map(([k, w]): [string, number] => [k, FAULTS.has(k) ? w * this.faultRate : w]);
    const total = weights.reduce((s, [, w]) => s + w, 0);
    for (let attempt = 0; attempt < 20; attempt++) {
      let r = this.random.next() * total;
      let kind = weights[0]![0];
      for (const [k, w] of weights) {
        if (r < w) {
          kind = k;
          break;
        }
        r -= w;
      }
      if (await this.tryStep(step, kind)) return;
    }
    await this.passTime(this.pick(ADVANCES));
  }

  private alive(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.broker !== null && !n.stopping);
  }

  /** Performs a step of this kind if one is possible now; false to draw another. */
  private async tryStep(step: number, kind: string): Promise<boolean> {
    const prefix = `#${step}`;
    switch (kind) {
      case 'advance':
        await this.passTime(this.pick(ADVANCES));
        return true;
      case 'produce': {
        const free = this.producers.filter((p) => !p.busy);
        if (free.length === 0) return false;
        return this.produce(prefix, this.pick(free), this.random.nextInt(PARTITIONS));
      }
      case 'consume': {
        const free = this.consumers.filter((c) => !c.busy);
        if (free.length === 0) return false;
        return this.consume(prefix, this.pick(free), this.random.nextInt(PARTITIONS));
      }
      case 'cut': {
        const ends = [CONTROLLER, ...BROKER_IDS, CLIENTS];
        const a = this.pick(ends);
        if (this.random.chance(0.3) && a !== CONTROLLER && a !== CLIENTS) {
          for (const b of ends) if (b !== a) this.cuts.add(ReplicationSim.pair(a, b));
          this.trace(`${prefix} CUT broker ${a} off from everyone`);
        } else {
          const b = this.pick(ends.filter((e) => e !== a && !(e === CONTROLLER && a === CLIENTS) && !(a === CONTROLLER && e === CLIENTS)));
          this.cuts.add(ReplicationSim.pair(a, b));
          this.trace(`${prefix} CUT ${a} <-> ${b}`);
        }
        this.stats.cuts++;
        return true;
      }
      case 'heal': {
        if (this.cuts.size === 0) return false;
        if (this.random.chance(0.3)) {
          this.cuts.clear();
          this.trace(`${prefix} HEAL every link`);
        } else {
          const c = this.pick([...this.cuts].sort());
          this.cuts.delete(c);
          this.trace(`${prefix} HEAL ${c}`);
        }
        this.releaseHeld();
        return true;
      }
      case 'crash': {
        const alive = this.alive();
        if (alive.length === 0) return false;
        // Leaders half of the time: their failover is the interesting part.
        const leaders = alive.filter((n) => this.controller.image.topic(TOPIC)!.partitions.some((p) => p.leader === n.id));
        const node = leaders.length > 0 && this.random.chance(0.5) ? this.pick(leaders) : this.pick(alive);
        const clean = this.random.chance(0.25);
        this.trace(`${prefix} ${clean ? 'STOP (clean shutdown)' : 'CRASH'} broker ${node.id}`);
        await this.crash(node.id, clean);
        return true;
      }
      case 'shutdown': {
        // Kafka's controlled shutdown: heartbeats ask for it, the controller moves leadership away and
        // answers shouldShutDown once the broker leads nothing; then it stops cleanly.
        const ready = this.alive().filter((n) => n.registered && n.shutdownSinceMs === null);
        if (ready.length === 0) return false;
        const node = this.pick(ready);
        node.shutdownSinceMs = this.clock.now();
        this.stats.controlledShutdowns++;
        this.trace(`${prefix} CONTROLLED SHUTDOWN of broker ${node.id} begins`);
        return true;
      }
      case 'failover': {
        // Another controller becomes active (a Raft leader change): it starts from the committed image
        // and gives every broker a new session (QuorumController.reset); what was in flight is lost.
        this.controllerIncarnation++;
        this.controller.reset(this.controller.image);
        for (const node of this.nodes.values()) node.requestedOffset = node.appliedOffset;
        this.trace(`${prefix} CONTROLLER FAILOVER`);
        this.stats.controllerFailovers++;
        return true;
      }
      case 'restart': {
        const dead = [...this.nodes.values()].filter((n) => n.broker === null && !n.stopping);
        if (dead.length === 0) return false;
        const node = this.pick(dead);
        this.trace(`${prefix} RESTART broker ${node.id}`);
        await this.startBroker(node.id);
        this.stats.restarts++;
        return true;
      }
      case 'reset': {
        const open = [...this.connections].sort((a, b) => a.id - b.id);
        if (open.length === 0) return false;
        const c = this.pick(open);
        this.trace(`${prefix} RESET connection ${c.from}->${c.to}`);
        c.reset('connection reset by the network');
        return true;
      }
      default:
        throw new Error(`unknown step ${kind}`);
    }
  }

  // ------------------------------------------------------------------------------------------ clients

  /** A client's connection to a broker, or null when the broker is down (connection refused at once). */
  private clientConnection(client: string, to: number): SimConnection | null {
    if (!this.nodes.get(to)?.broker) {
      this.trace(`${client}: connection to ${to} refused`);
      return null;
    }
    const key = `${client}->${to}`;
    let c = this.clientConnections.get(key);
    if (!c || c.isClosed) {
      c = this.openConnection(CLIENTS, to, client, this.requestTimeoutMs, this.clientClock);
      this.clientConnections.set(key, c);
    }
    return c;
  }

  /**
   * The partition's leader as some live broker's metadata says (what a client's Metadata request to it
   * would answer), never older than the leader epoch the client has seen (KIP-320).
   */
  private leaderView(partition: number, knownEpoch: number): PartitionRegistration | null {
    const views = this.alive()
      .filter((n) => !this.isCut(CLIENTS, n.id))
      .map((n) => n.broker!.image.topic(TOPIC)?.partitions[partition])
      .filter((r): r is PartitionRegistration => r !== undefined && r.leader >= 0 && r.leaderEpoch >= knownEpoch);
    return views.length === 0 ? null : this.pick(views);
  }

  private produce(prefix: string, client: ProducerClient, partition: number): boolean {
    const view = this.leaderView(partition, client.knownEpoch[partition]!);
    if (!view) return false;
    client.knownEpoch[partition] = view.leaderEpoch;
    const leader = view.leader;
    let batch = client.idempotent ? client.retry[partition]! : null;
    const retrying = batch !== null;
    if (!batch) {
      const n = client.sent++;
      const count = 1 + this.random.nextInt(3);
      const name = `${client.idempotent ? 'i' : 'p'}${client.index}#${n}`;
      const sequence = client.nextSequence[partition]!;
      const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`${name}.${i}`), timestamp: TIMESTAMP + n }));
      const bytes = buildBatchSync(records, client.idempotent ? { producerId: client.producerId, producerEpoch: 0, baseSequence: sequence } : {});
      batch = { bytes, label: name, sequence };
      if (client.idempotent) client.retry[partition] = batch;
    }
    const { bytes, label: name, sequence } = batch;
    this.trace(`${prefix} producer ${client.index} ${retrying ? 'retries' : 'sends'} ${name} to ${leader} (${TOPIC}-${partition}, epoch ${view.leaderEpoch})`);
    const conn = this.clientConnection(`producer-${client.index}`, leader);
    if (!conn) return true;
    client.busy = true;
    const body = { transactionalId: null, acks: client.acks, timeoutMs: 1000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: bytes }] }] } as MessageInput<typeof ProduceRequest.decl>;
    conn
      .send(Produce, 9, body)
      .then(
        (res) => {
          const p = res.responses[0]!.partitionResponses[0]!;
          const code = p.errorCode;
          this.stats.produceErrors[errorName(code)] = (this.stats.produceErrors[errorName(code)] ?? 0) + 1;
          this.trace(`producer ${client.index}: ${name} answered ${errorName(code)}${code === ErrorCode.NONE ? ` at ${p.baseOffset}` : ''} by ${leader}`);
          if (code === ErrorCode.NONE && client.acks === 1) {
            this.stats.ackedOne++;
            return;
          }
          if (code === ErrorCode.NONE) {
            this.onAcked(partition, Number(p.baseOffset), bytes, name, client.idempotent ? `${partition}:${client.producerId}:${sequence}` : null);
            if (client.idempotent) {
              client.retry[partition] = null;
              client.nextSequence[partition] = sequence + readBatchHeader(bytes, 0).recordCount;
            }
            return;
          }
          const transient: number[] = [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION];
          if (!transient.includes(code)) this.noteFailure(`producer ${client.index}: ${name} to ${leader} (${TOPIC}-${partition}) answered ${errorName(code)}: ${p.errorMessage ?? ''}`);
        },
        (err: unknown) => {
          if (!(err instanceof ConnectionError)) this.noteFailure(`producer ${client.index}: ${describeError(err)}`);
          this.trace(`producer ${client.index}: ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
        },
      )
      .finally(() => {
        client.busy = false;
      });
    return true;
  }

  private consume(prefix: string, client: ConsumerClient, partition: number): boolean {
    const view = this.leaderView(partition, client.knownEpoch[partition]!);
    if (!view) return false;
    client.knownEpoch[partition] = view.leaderEpoch;
    const leader = view.leader;
    const position = client.position[partition]!;
    if (view.leaderEpoch > client.validatedEpoch[partition]!) {
      if (client.lastEpoch[partition]! >= 0) return this.validatePosition(prefix, client, partition, view);
      client.validatedEpoch[partition] = view.leaderEpoch;
    }
    const maxWaitMs = this.random.chance(0.5) ? 0 : 100;
    this.trace(`${prefix} consumer ${client.index} fetches ${TOPIC}-${partition} at ${position} from ${leader} (epoch ${view.leaderEpoch})`);
    const conn = this.clientConnection(`consumer-${client.index}`, leader);
    if (!conn) return true;
    client.busy = true;
    const body = {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition, currentLeaderEpoch: view.leaderEpoch, fetchOffset: BigInt(position), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    } as MessageInput<typeof FetchRequest.decl>;
    conn
      .send(Fetch, 12, body)
      .then(
        (res) => this.onConsumed(client, partition, leader, position, res),
        (err: unknown) => {
          if (!(err instanceof ConnectionError)) this.noteFailure(`consumer ${client.index}: ${describeError(err)}`);
        },
      )
      .finally(() => {
        client.busy = false;
      });
    return true;
  }

  /**
   * KIP-320: after a leader change the consumer asks the new leader (OffsetForLeaderEpoch) where the epoch
   * of its last consumed record ends; an end below its position is log truncation, which the Java client
   * would answer by moving its position back: committed records it read are gone.
   */
  private validatePosition(prefix: string, client: ConsumerClient, partition: number, view: PartitionRegistration): boolean {
    const leader = view.leader;
    const position = client.position[partition]!;
    const epoch = client.lastEpoch[partition]!;
    this.trace(`${prefix} consumer ${client.index} validates ${TOPIC}-${partition} position ${position} (last epoch ${epoch}) with ${leader} at epoch ${view.leaderEpoch}`);
    const conn = this.clientConnection(`consumer-${client.index}`, leader);
    if (!conn) return true;
    client.busy = true;
    const body = { replicaId: -1, topics: [{ topic: TOPIC, partitions: [{ partition, currentLeaderEpoch: view.leaderEpoch, leaderEpoch: epoch }] }] } as MessageInput<typeof OffsetForLeaderEpochRequest.decl>;
    conn
      .send(OffsetForLeaderEpoch, 4, body)
      .then(
        (res) => {
          const pd = res.topics[0]?.partitions[0];
          if (!pd) return this.noteFailure(`consumer ${client.index}: an OffsetForLeaderEpoch answer without the partition`);
          if (pd.errorCode !== ErrorCode.NONE) {
            this.trace(`consumer ${client.index}: OffsetForLeaderEpoch ${errorName(pd.errorCode)} from ${leader}`);
            return;
          }
          const end = Number(pd.endOffset);
          this.trace(`consumer ${client.index}: ${leader} says epoch ${epoch} ends at ${end} (answered epoch ${pd.leaderEpoch})`);
          if (end < 0 || pd.leaderEpoch < 0) return this.noteFailure(`consumer ${client.index}: ${leader} (epoch ${view.leaderEpoch}) knows no end for epoch ${epoch}, the epoch of records it consumed below the HW`);
          if (end < position) return this.noteFailure(`consumer ${client.index}: ${leader} (epoch ${view.leaderEpoch}) says epoch ${epoch} of ${TOPIC}-${partition} ends at ${end}, below the consumer's position ${position}: the consumer would go back`);
          client.validatedEpoch[partition] = view.leaderEpoch;
          this.stats.positionsValidated++;
        },
        (err: unknown) => {
          if (!(err instanceof ConnectionError)) this.noteFailure(`consumer ${client.index}: ${describeError(err)}`);
        },
      )
      .finally(() => {
        client.busy = false;
      });
    return true;
  }

  private onConsumed(client: ConsumerClient, partition: number, leader: number, position: number, res: MessageValue<typeof Fetch.response.decl>): void {
    const tp = `${TOPIC}-${partition}`;
    const pd = res.responses[0]?.partitions[0];
    if (!pd) return this.noteFailure(`consumer ${client.index}: a Fetch answer without the partition`);
    if (pd.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      // The position was reached below some leader's HW: every later leader has those records.
      if (position > 0) this.noteFailure(`consumer ${client.index}: ${leader} answered OFFSET_OUT_OF_RANGE at position ${position} of ${tp}, which the consumer reached below an earlier HW (committed records are gone)`);
      return;
    }
    if (pd.errorCode !== ErrorCode.NONE) {
      this.trace(`consumer ${client.index}: ${errorName(pd.errorCode)} from ${leader}`);
      return;
    }
    const hw = Number(pd.highWatermark);
    const batches = pd.records && pd.records.length > 0 ? splitBatches(pd.records) : [];
    let next = position;
    for (const b of batches) {
      if (b.last < next) continue;
      if (b.base > next) return this.noteFailure(`consumer ${client.index}: fetching ${tp} at ${next} from ${leader} got a batch at ${b.base} (a gap)`);
      if (b.last >= hw) return this.noteFailure(`consumer ${client.index}: ${leader} returned offset ${b.last} of ${tp}, at or above its HW ${hw}`);
      try {
        this.noteCommitted(partition, b, `consumer ${client.index} reading from ${leader}`);
      } catch (err) {
        return this.noteFailure(err instanceof Error ? err.message : String(err));
      }
      next = b.last + 1;
      client.lastEpoch[partition] = readBatchHeader(b.bytes, 0).partitionLeaderEpoch;
      this.stats.consumed++;
    }
    client.position[partition] = next;
    this.trace(`consumer ${client.index}: ${tp} ${position} -> ${next} (HW ${hw}) from ${leader}`);
  }

  // ----------------------------------------------------------------------------------------- checking

  private onAcked(partition: number, base: number, bytes: Buffer, name: string, identity: string | null): void {
    const tp = `${TOPIC}-${partition}`;
    const h = readBatchHeader(bytes, 0);
    const entry: AckedBatch = { base, last: base + h.lastOffsetDelta, label: name, content: contentOf(bytes) };
    this.stats.acked++;
    if (identity !== null) {
      this.stats.ackedIdempotent++;
      const earlier = this.ackedSequences.get(identity);
      if (earlier !== undefined && earlier !== base) return this.noteFailure(`${tp}: idempotent batch ${name} acknowledged at ${base} after being acknowledged at ${earlier}`);
      this.ackedSequences.set(identity, base);
    }
    const acked = this.acked[partition]!;
    const prev = acked.get(base);
    if (prev && !prev.content.equals(entry.content)) return this.noteFailure(`${tp}: offset ${base} acknowledged for ${name} after being acknowledged for ${prev.label} (an acknowledged record was replaced)`);
    acked.set(base, entry);
    const c = this.committed[partition]!.get(base);
    if (c && !contentOf(c.bytes).equals(entry.content)) return this.noteFailure(`${tp}: ${name} acknowledged at ${base}, where ${c.source} saw ${label(c.bytes)} committed`);
  }

  /** Adds a batch seen below a HW to the committed history, or checks it against it. */
  private noteCommitted(partition: number, b: StoredBatch, source: string): void {
    const tp = `${TOPIC}-${partition}`;
    const history = this.committed[partition]!;
    const prev = history.get(b.base);
    if (prev) {
      if (!prev.bytes.equals(b.bytes) || prev.last !== b.last) {
        this.fail(
          `${tp}: ${source} has ${label(b.bytes)} (offsets ${b.base}-${b.last}, epoch ${readBatchHeader(b.bytes, 0).partitionLeaderEpoch}) below its HW where ${prev.source} had ${label(prev.bytes)} (offsets ${prev.base}-${prev.last}, epoch ${readBatchHeader(prev.bytes, 0).partitionLeaderEpoch}): replicas diverge below the HW`,
        );
      }
      return;
    }
    history.set(b.base, { ...b, source });
    const h = readBatchHeader(b.bytes, 0);
    if (h.producerId >= 0) {
      const identity = `${h.producerId}:${h.baseSequence}`;
      const seqs = this.committedSequences[partition]!;
      const at = seqs.get(identity);
      if (at !== undefined && at !== b.base) this.fail(`${tp}: idempotent batch ${label(b.bytes)} committed twice, at ${at} and ${b.base}`);
      seqs.set(identity, b.base);
    }
    const a = this.acked[partition]!.get(b.base);
    if (a && !a.content.equals(contentOf(b.bytes))) this.fail(`${tp}: ${source} has ${label(b.bytes)} committed at ${b.base}, where ${a.label} was acknowledged`);
  }

  private hosted(node: SimNode, partition: number): Partition | undefined {
    return node.broker?.replicaManager.hostedPartition(this.topicId, partition);
  }

  private async readLog(p: Partition): Promise<StoredBatch[]> {
    const end = p.logEndOffset;
    if (end <= p.logStartOffset) return [];
    const { records } = await p.log.read(p.logStartOffset, 1 << 30, end, true);
    return splitBatches(Buffer.concat(records));
  }

  private async check(): Promise<void> {
    if (this.failure !== null) return;
    const image = this.controller.image;
    const topic = image.topic(TOPIC)!;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const tp = `${TOPIC}-${partition}`;
      const reg = topic.partitions[partition]!;
      for (const node of this.alive()) {
        const p = this.hosted(node, partition);
        if (!p) continue;
        const batches = await this.readLog(p);
        const who = `broker ${node.id} (${p.isLeader ? 'leader' : 'follower'} at epoch ${p.leaderEpoch}, HW ${p.highWatermark}, LEO ${p.logEndOffset})`;
        let expected = p.logStartOffset;
        for (const b of batches) {
          if (b.base !== expected) this.fail(`${tp}: ${who}'s log jumps from ${expected} to ${b.base}`);
          expected = b.last + 1;
        }
        if (expected !== p.logEndOffset) this.fail(`${tp}: ${who}'s batches end at ${expected}`);
        if (p.highWatermark > p.logEndOffset) this.fail(`${tp}: ${who} has its HW above its LEO`);
        if (p.leaderEpoch < node.lastEpoch[partition]!) this.fail(`${tp}: ${who}'s leader epoch went back from ${node.lastEpoch[partition]}`);
        node.lastEpoch[partition] = p.leaderEpoch;
        if (p.logEndOffset < node.lastLeo[partition]!) {
          this.stats.truncations++;
          this.trace(`broker ${node.id}: ${tp} truncated from ${node.lastLeo[partition]} to ${p.logEndOffset}`);
        }
        node.lastLeo[partition] = p.logEndOffset;
        for (const b of batches) if (b.last < p.highWatermark) this.noteCommitted(partition, b, who);
        // The controller's leader and ISR hold every acknowledged batch (they were all in the ISR the HW
        // waited for, and nothing below a HW is truncated).
        if (node.id === reg.leader || reg.isr.includes(node.id)) {
          const byBase = new Map(batches.map((b) => [b.base, b]));
          for (const a of this.acked[partition]!.values()) {
            const b = byBase.get(a.base);
            if (!b) this.fail(`${tp}: ${a.label}, acknowledged at ${a.base}, is missing on ${who}, which the controller has as ${node.id === reg.leader ? 'leader' : 'in the ISR'} (${this.describeImage(image)})`);
            if (!contentOf(b.bytes).equals(a.content)) this.fail(`${tp}: ${a.label}, acknowledged at ${a.base}, was replaced by ${label(b.bytes)} on ${who}`);
          }
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------- the ending

  /**
   * Everything healed and restarted, then time passes until every broker is unfenced, every partition
   * has all three replicas in its ISR and every replica has the leader's log and HW (a liveness bound:
   * 60 simulated seconds).
   */
  private async healAndConverge(): Promise<void> {
    this.cuts.clear();
    this.releaseHeld();
    this.trace('HEAL: every link healed, every broker restarted');
    for (const node of this.nodes.values()) if (!node.broker) await this.startBroker(node.id);
    await settle();
    const started = this.clock.now();
    for (;;) {
      // A controlled shutdown begun before the heal stops its broker meanwhile: it comes back too.
      for (const node of this.nodes.values()) if (!node.broker && !node.stopping) await this.startBroker(node.id);
      await this.check();
      if (this.failure !== null) return;
      if (this.converged()) break;
      if (this.clock.now() - started > 60_000) this.fail(`no convergence 60 s after the heal: ${this.describeImage(this.latestImage)}; ${this.describeReplicas()}`);
      await this.passTime(50);
    }
    this.stats.convergenceMs = this.clock.now() - started;
    this.trace(`converged after ${this.stats.convergenceMs} ms: ${this.describeReplicas()}`);
  }

  private describeReplicas(): string {
    const out: string[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (const node of this.alive()) {
        const p = this.hosted(node, partition);
        out.push(`p${partition}@${node.id}: ${p ? `${p.isLeader ? 'L' : 'F'}${p.leaderEpoch} HW ${p.highWatermark} LEO ${p.logEndOffset}` : 'not hosted'}`);
      }
    }
    return out.join(', ');
  }

  private converged(): boolean {
    const image = this.latestImage;
    if (BROKER_IDS.some((id) => image.brokers.get(id)?.fenced !== false)) return false;
    if (this.alive().some((n) => n.appliedOffset < image.offset)) return false;
    for (const reg of image.topic(TOPIC)!.partitions) {
      if (reg.isr.length !== 3 || reg.leader < 0) return false;
      const leader = this.hosted(this.nodes.get(reg.leader)!, reg.partition);
      if (!leader || !leader.isLeader || leader.leaderEpoch !== reg.leaderEpoch) return false;
      for (const node of this.alive()) {
        const p = this.hosted(node, reg.partition);
        if (!p || p.logEndOffset !== leader.logEndOffset || p.highWatermark !== leader.logEndOffset) return false;
      }
    }
    return true;
  }

  /** After convergence: identical logs, every acknowledged batch on every replica, a full read agrees. */
  private async finalCheck(): Promise<void> {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const tp = `${TOPIC}-${partition}`;
      let reference: { id: number; bytes: Buffer } | null = null;
      for (const node of this.alive()) {
        const p = this.hosted(node, partition)!;
        const batches = await this.readLog(p);
        const bytes = Buffer.concat(batches.map((b) => b.bytes));
        for (let i = 0; i < bytes.length; i++) this.digestState = Math.imul(this.digestState ^ bytes[i]!, 0x01000193);
        if (reference === null) reference = { id: node.id, bytes };
        else if (!reference.bytes.equals(bytes)) this.fail(`${tp}: after convergence broker ${node.id}'s log differs from broker ${reference.id}'s`);
        const byBase = new Map(batches.map((b) => [b.base, b]));
        for (const a of this.acked[partition]!.values()) {
          const b = byBase.get(a.base);
          if (!b || !contentOf(b.bytes).equals(a.content)) this.fail(`${tp}: ${a.label}, acknowledged at ${a.base}, is not on broker ${node.id} after convergence`);
        }
        for (const b of batches) this.noteCommitted(partition, b, `broker ${node.id} after convergence`);
      }
      for (const c of this.consumers) if (c.position[partition]! > this.hosted(this.alive()[0]!, partition)!.highWatermark) this.fail(`${tp}: consumer ${c.index} is past the final HW`);
    }
    this.trace(`final: ${this.stats.acked} acknowledged batches on every replica; logs identical`);
  }
}

export function runReplicationSeed(options: ReplSimOptions): Promise<ReplSimResult> {
  return new ReplicationSim(options).run();
}
