/**
 * Deterministic simulation of a Raft quorum (the harness of raft-simulation.test.ts), in the manner of
 * Kafka's RaftEventSimulationTest: N RaftCores driven by one event queue, a seeded fake clock, an in-memory
 * network that delays, drops, duplicates and reorders messages and can be partitioned, and in-memory disks
 * whose unflushed tail a crash may tear off. A run is a pure function of its seed.
 *
 * A run has a chaos phase (faults, crashes, client proposals) and a liveness phase (everything healed: a
 * leader must be elected and every proposal committed within a bound). Checked after every step:
 * - at most one leader per epoch;
 * - a node's persisted epoch never goes back, and it never changes its vote within an epoch;
 * - every node applies the same committed records in the same order, and a committed record never changes
 *   (one global committed sequence; each application is compared with it);
 * - a node that becomes leader holds every committed record (so none can disappear);
 * - a node's high watermark never goes back within an incarnation.
 * With observers (non-voters, ids after the voters' ids; `observers` option): an observer is only ever
 * Unattached or Follower, sends no Vote, BeginQuorumEpoch or EndQuorumEpoch, grants no vote, persists no
 * vote, is never among a LeaderChange's granting voters, and its high watermark never passes the highest
 * one a voter reached (it only applies committed prefixes: the applied-records check above covers it too).
 * With `bootstrapObservers`, the observers know no voter (controller.quorum.bootstrap.servers only,
 * KIP-853): they send their discovery Fetches to bootstrap ids (-2, -3, ...) that the network delivers to
 * some of the voters (a subset fixed by the seed), and follow whichever leader the answers name.
 */
import { bootstrapServerId, type QuorumConfig, quorumConfig } from '../../src/controller/raft/config.js';
import type { RaftRecord } from '../../src/controller/raft/log.js';
import type { RaftMessage } from '../../src/controller/raft/messages.js';
import type { QuorumStateData } from '../../src/controller/raft/quorum-state.js';
import { RaftCore, type RaftEffect, type RaftSnapshot, type RecoveredSnapshots } from '../../src/controller/raft/raft-core.js';
import { SeededRandom, type Random } from '../../src/controller/raft/random.js';

export type CoreFactory = (config: QuorumConfig, persisted: QuorumStateData | null, log: readonly RaftRecord[], now: number, random: Random, snapshots?: RecoveredSnapshots | null) => RaftCore;

export interface SimOptions {
  readonly seed: number;
  readonly voters: number;
  /** Non-voters that follow the quorum (broker-only nodes); 0 by default. */
  readonly observers?: number;
  /** The observers know only bootstrap servers standing for some of the voters, not the voters (KIP-853). */
  readonly bootstrapObservers?: boolean;
  /** Simulated length of the chaos phase. */
  readonly chaosMs?: number;
  /** Bound for the liveness phase: a leader and every proposal committed within it. */
  readonly livenessMs?: number;
  readonly factory?: CoreFactory;
  /**
   * Nodes take snapshots of what they applied and delete the log before them; followers behind a leader's
   * log start copy its snapshot with FetchSnapshot (KIP-630). Default: on, unless a factory is given.
   */
  readonly snapshots?: boolean;
}

export interface SimStats {
  events: number;
  messages: number;
  crashes: number;
  tornWrites: number;
  partitions: number;
  elections: number;
  committed: number;
  proposals: number;
  /** Simulated ms from the heal to a leader with every proposal committed. */
  convergenceMs: number;
  /** Snapshots taken, log prefixes deleted, snapshots copied by FetchSnapshot and installed. */
  snapshots: number;
  logStartMoves: number;
  snapshotInstalls: number;
  /** Committed records applied by observers (they followed the quorum). */
  observerApplied: number;
  /** Of those, by observers that knew only bootstrap servers (bootstrapObservers). */
  bootstrapObserverApplied: number;
}

/** The records of proposal "v7/2": "v7.0/2", "v7.1/2". */
function proposalRecords(proposal: string): string[] {
  const [name, count] = proposal.split('/') as [string, string];
  return Array.from({ length: Number(count) }, (_, i) => `${name}.${i}/${count}`);
}

export class SimFailure extends Error {
  override readonly name = 'SimFailure';
}

interface Disk {
  quorumState: QuorumStateData | null;
  /** The log as the OS sees it, by offset (nothing below logStart); records below `flushed` are on the platter. */
  log: RaftRecord[];
  flushed: number;
  /** The log start offset and the epoch before it (the snapshot it starts from). */
  logStart: { offset: number; epoch: number };
  /** The newest snapshot, durable once written. */
  snapshot: RaftSnapshot | null;
}

interface Node {
  readonly id: number;
  core: RaftCore | null;
  readonly disk: Disk;
  incarnation: number;
  /** The offset up to which records are applied (from its snapshot, then one by one). */
  applied: number;
  /** The state machine: the records applied, in order (what its snapshots hold). */
  state: RaftRecord[];
  hw: number;
  wakeAt: number;
  /** A pending crash that cuts the node's next step after this many effects. */
  crashMidStep: number | null;
}

type Event =
  | { kind: 'deliver'; message: RaftMessage }
  | { kind: 'tick'; node: number; at: number }
  | { kind: 'restart'; node: number }
  | { kind: 'chaos' }
  | { kind: 'propose' }
  | { kind: 'heal-partition'; id: number }
  | { kind: 'snapshot' };

/** A binary heap of events by (time, insertion order), so equal times run in a fixed order. */
class EventQueue {
  private heap: { at: number; seq: number; event: Event }[] = [];
  private seq = 0;

  push(at: number, event: Event): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, event });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  pop(): { at: number; event: Event } | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }

  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function describeRecord(r: RaftRecord | undefined): string {
  if (r === undefined) return 'none';
  return r.value.kind === 'data' ? `${textDecoder.decode(r.value.data)}@e${r.epoch}` : `LeaderChange(${r.value.leaderId})@e${r.epoch}`;
}

/** A sim snapshot's bytes: the applied records as JSON ([epoch, data text or leader id, batch continues]). */
function encodeState(records: readonly RaftRecord[]): Uint8Array {
  return textEncoder.encode(JSON.stringify(records.map((r) => [r.epoch, r.value.kind === 'data' ? textDecoder.decode(r.value.data) : r.value.leaderId, r.batchContinues === true ? 1 : 0])));
}

function decodeState(bytes: Uint8Array): RaftRecord[] {
  return (JSON.parse(textDecoder.decode(bytes)) as [number, string | number, number][]).map(([epoch, v, more]) => ({
    epoch,
    value: typeof v === 'string' ? { kind: 'data', data: textEncoder.encode(v) } : { kind: 'leader-change', leaderId: v, voters: [], grantingVoters: [] },
    ...(more === 1 ? { batchContinues: true } : {}),
  }));
}

function sameRecord(a: RaftRecord, b: RaftRecord): boolean {
  if (a.epoch !== b.epoch || a.value.kind !== b.value.kind) return false;
  if (a.value.kind === 'data' && b.value.kind === 'data') return Buffer.from(a.value.data).equals(Buffer.from(b.value.data));
  if (a.value.kind === 'leader-change' && b.value.kind === 'leader-change') return a.value.leaderId === b.value.leaderId;
  return false;
}

export class RaftSimulation {
  readonly stats: SimStats = { events: 0, messages: 0, crashes: 0, tornWrites: 0, partitions: 0, elections: 0, committed: 0, proposals: 0, convergenceMs: -1, snapshots: 0, logStartMoves: 0, snapshotInstalls: 0, observerApplied: 0, bootstrapObserverApplied: 0 };
  private readonly rng: SeededRandom;
  /** Snapshot decisions draw from their own generator, so the faults' schedule of a seed stays as it was. */
  private readonly snapRng: SeededRandom;
  private readonly snapshots: boolean;
  private readonly fetchSnapshotMaxBytes: number;
  private readonly queue = new EventQueue();
  private readonly nodes: Node[] = [];
  /** The voters' ids (1..voters). */
  private readonly ids: number[];
  /** Every node's id: the voters, then the observers. */
  private readonly allIds: number[];
  private now = 0;
  /** The highest high watermark any voter reached: no observer may commit past it. */
  private maxVoterHw = 0;
  private readonly factory: CoreFactory;
  /** Bootstrap server id -> the voter behind that address (bootstrapObservers only). */
  private readonly bootstrapTargets = new Map<number, number>();

  // Faults
  private chaos = true;
  private dropRate: number;
  private dupRate: number;
  private maxDelayMs: number;
  /** Fetch responses capped at a few records in some runs, as Kafka's byte limits cut them, so that a
   * follower can hold an older epoch's records without the new leader's LeaderChange after them. */
  private readonly fetchMaxRecords: number;
  private readonly appendLingerMs: number;
  /** Directed links cut, "a>b", each with the partition ids that cut it. */
  private readonly cut = new Map<string, Set<number>>();
  private nextPartitionId = 0;

  // Checker state
  private readonly committed: RaftRecord[] = [];
  private readonly leaderOfEpoch = new Map<number, number>();
  private readonly lastPersisted = new Map<number, QuorumStateData>();
  /** The last events, formatted only when a check fails (formatting each one would dominate the run time). */
  private readonly trace: (string | (() => string))[] = [];

  // The client
  private nextValue = 0;
  private readonly unsent: string[] = [];
  /** Values appended by some leader, waiting to be seen committed at their offset (or lost and re-sent). */
  private readonly accepted = new Map<string, { offset: number; epoch: number }>();
  private readonly done = new Set<string>();

  constructor(readonly options: SimOptions) {
    this.rng = new SeededRandom(options.seed);
    this.snapRng = new SeededRandom((options.seed ^ 0x5eed5eed) >>> 0);
    this.snapshots = options.snapshots ?? options.factory === undefined;
    this.fetchSnapshotMaxBytes = [256, 4096, 8 * 1024 * 1024][this.snapRng.nextInt(3)]!;
    this.factory = options.factory ?? ((c, p, l, n, r, s) => new RaftCore(c, p, l, n, r, s));
    this.ids = Array.from({ length: options.voters }, (_, i) => i + 1);
    this.allIds = Array.from({ length: options.voters + (options.observers ?? 0) }, (_, i) => i + 1);
    // Each seed draws its own fault intensity, so some runs are calm and some are rough.
    this.dropRate = this.rng.next() * 0.2;
    this.dupRate = this.rng.next() * 0.1;
    this.maxDelayMs = 1 + this.rng.nextInt(60);
    this.fetchMaxRecords = [1, 2, 4, 256][this.rng.nextInt(4)]!;
    this.appendLingerMs = [0, 25][this.rng.nextInt(2)]!;
    if (options.bootstrapObservers === true) {
      // A seed-fixed run of 1..voters voters (no draw from rng: the faults' schedule stays the seed's).
      const count = 1 + ((options.seed >>> 2) % options.voters);
      const first = (options.seed >>> 5) % options.voters;
      for (let i = 0; i < count; i++) this.bootstrapTargets.set(bootstrapServerId(i), ((first + i) % options.voters) + 1);
    }
    for (const id of this.allIds) {
      this.nodes.push({ id, core: null, disk: { quorumState: null, log: [], flushed: 0, logStart: { offset: 0, epoch: 0 }, snapshot: null }, incarnation: 0, applied: 0, state: [], hw: 0, wakeAt: Infinity, crashMidStep: null });
    }
  }

  /** Runs the whole scenario; throws SimFailure with a trace when a check fails. */
  run(): SimStats {
    const chaosMs = this.options.chaosMs ?? 10_000;
    const livenessMs = this.options.livenessMs ?? 15_000;
    try {
      for (const n of this.nodes) this.start(n);
      this.queue.push(this.rng.nextInt(500), { kind: 'chaos' });
      this.queue.push(this.rng.nextInt(200), { kind: 'propose' });
      if (this.snapshots) this.queue.push(200 + this.snapRng.nextInt(1000), { kind: 'snapshot' });
      this.runUntil(chaosMs);
      this.heal();
      const healedAt = this.now;
      const deadline = healedAt + livenessMs;
      // A last proposal made after the heal must commit too.
      this.unsent.push(`v${this.nextValue++}/2`);
      while (this.now < deadline) {
        this.runUntil(Math.min(deadline, this.now + 100));
        if (this.converged()) {
          this.stats.convergenceMs = this.now - healedAt;
          break;
        }
      }
      if (this.stats.convergenceMs < 0) {
        const states = this.nodes.map((n) => `${n.id}:${n.core?.stateName ?? 'down'}(e${n.core?.epoch},hw${n.core?.highWatermark},leo${n.core?.logEndOffset})`).join(' ');
        this.fail(`no convergence within ${livenessMs} ms of the heal: ${states}; unsent ${this.unsent.length}, uncommitted ${this.accepted.size}`);
      }
      this.finalChecks();
      this.stats.committed = this.committed.length;
      return this.stats;
    } catch (e) {
      if (e instanceof SimFailure) throw e;
      throw new SimFailure(`${(e as Error).stack ?? String(e)}\n--- last events ---\n${this.traceText()}`);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Event loop

  private runUntil(until: number): void {
    for (;;) {
      const next = this.queue.pop();
      if (next === undefined) return;
      if (next.at > until) {
        this.queue.push(next.at, next.event);
        this.now = until;
        return;
      }
      this.now = next.at;
      this.stats.events++;
      if (this.stats.events > 2_000_000) this.fail('event budget exhausted (a message storm?)');
      this.dispatch(next.event);
    }
  }

  private dispatch(e: Event): void {
    switch (e.kind) {
      case 'deliver': {
        const n = this.node(e.message.destination);
        if (n.core === null || this.isCut(e.message.source, e.message.destination)) return;
        const at = this.now;
        this.note(() => `${at} deliver ${e.message.source}->${e.message.destination} #${e.message.correlationId} ${summarize(e.message)}`);
        this.step(n, () => n.core!.handle(this.now, e.message));
        return;
      }
      case 'tick': {
        const n = this.node(e.node);
        if (n.core === null || n.wakeAt !== e.at) return;
        n.wakeAt = Infinity;
        this.step(n, () => n.core!.tick(this.now));
        return;
      }
      case 'restart':
        this.start(this.node(e.node));
        return;
      case 'chaos':
        if (!this.chaos) return;
        this.injectFault();
        this.queue.push(this.now + 200 + this.rng.nextInt(1500), { kind: 'chaos' });
        return;
      case 'propose':
        this.propose();
        if (this.chaos || this.unsent.length > 0 || this.accepted.size > 0) this.queue.push(this.now + 20 + this.rng.nextInt(200), { kind: 'propose' });
        return;
      case 'snapshot':
        this.takeSnapshot(this.node(this.allIds[this.snapRng.nextInt(this.allIds.length)]!));
        this.queue.push(this.now + 100 + this.snapRng.nextInt(1000), { kind: 'snapshot' });
        return;
      case 'heal-partition':
        for (const [link, ids] of this.cut) {
          ids.delete(e.id);
          if (ids.size === 0) this.cut.delete(link);
        }
        return;
    }
  }

  private node(id: number): Node {
    return this.nodes[id - 1]!;
  }

  /** Runs one input of a node's core and performs its effects, in order; a pending crash cuts them short. */
  private step(n: Node, input: () => RaftEffect[]): void {
    const before = n.core!.stateName;
    const effects = input();
    let limit = effects.length;
    const crash = n.crashMidStep !== null;
    if (crash) limit = Math.min(limit, n.crashMidStep!);
    for (let i = 0; i < limit; i++) this.perform(n, effects[i]!);
    if (crash) {
      this.note(`${this.now} node ${n.id} crashes after ${limit} of ${effects.length} effects`);
      this.crash(n);
      return;
    }
    this.checkAfterStep(n, before);
    this.scheduleWake(n);
  }

  private scheduleWake(n: Node): void {
    if (n.core === null) return;
    const at = Math.max(this.now, n.core.nextWakeupMs());
    if (at === Infinity || at === n.wakeAt) return;
    n.wakeAt = at;
    this.queue.push(at, { kind: 'tick', node: n.id, at });
  }

  private perform(n: Node, e: RaftEffect): void {
    const d = n.disk;
    switch (e.type) {
      case 'persist-quorum-state': {
        const prev = this.lastPersisted.get(n.id);
        if (prev && e.state.leaderEpoch < prev.leaderEpoch) this.fail(`node ${n.id} persisted epoch ${e.state.leaderEpoch} after ${prev.leaderEpoch}`);
        if (prev && e.state.leaderEpoch === prev.leaderEpoch && prev.votedId >= 0 && e.state.votedId !== prev.votedId) {
          this.fail(`node ${n.id} changed its vote in epoch ${prev.leaderEpoch} from ${prev.votedId} to ${e.state.votedId}`);
        }
        if (this.isObserver(n.id) && (e.state.votedId >= 0 || e.state.leaderId === n.id)) this.fail(`observer ${n.id} persisted a vote or its own leadership: ${JSON.stringify(e.state)}`);
        this.lastPersisted.set(n.id, e.state);
        d.quorumState = e.state;
        return;
      }
      case 'append':
        if (e.baseOffset !== d.log.length) this.fail(`node ${n.id} appends at ${e.baseOffset} but its log ends at ${d.log.length}`);
        d.log.push(...e.records);
        return;
      case 'truncate':
        d.log.length = Math.min(d.log.length, e.offset);
        d.flushed = Math.min(d.flushed, e.offset);
        return;
      case 'flush':
        d.flushed = Math.max(d.flushed, Math.min(e.endOffset, d.log.length));
        return;
      case 'send':
        if (this.isObserver(n.id)) this.checkObserverMessage(n, e.message);
        this.send(e.message);
        return;
      case 'log-start':
        if (d.snapshot === null || d.snapshot.id.offset < e.snapshotId.offset) this.fail(`node ${n.id} deletes its log before ${e.snapshotId.offset} without a durable snapshot there (snapshot ${d.snapshot?.id.offset})`);
        for (let i = d.logStart.offset; i < e.snapshotId.offset; i++) delete d.log[i];
        d.logStart = { ...e.snapshotId };
        // A leader may snapshot past its own flushed end (the followers' copies made it committed): what
        // the snapshot holds needs no log.
        d.flushed = Math.max(d.flushed, e.snapshotId.offset);
        this.stats.logStartMoves++;
        return;
      case 'install-snapshot': {
        const content = decodeState(e.bytes);
        if (content.length !== e.snapshotId.offset) this.fail(`node ${n.id} installs snapshot ${e.snapshotId.offset} holding ${content.length} records`);
        for (let i = 0; i < content.length; i++) {
          const c = this.committed[i];
          if (c === undefined || !sameRecord(c, content[i]!)) this.fail(`node ${n.id} installs a snapshot with ${describeRecord(content[i])} at offset ${i}, where ${describeRecord(c)} was committed`);
        }
        if (e.snapshotId.offset < n.hw) this.fail(`node ${n.id} installs snapshot ${e.snapshotId.offset} below its high watermark ${n.hw}`);
        d.snapshot = { id: e.snapshotId, bytes: e.bytes };
        d.log = [];
        d.log.length = e.snapshotId.offset;
        d.flushed = e.snapshotId.offset;
        d.logStart = { ...e.snapshotId };
        n.state = content;
        n.applied = e.snapshotId.offset;
        n.hw = e.snapshotId.offset;
        this.stats.snapshotInstalls++;
        this.note(`${this.now} node ${n.id} installs snapshot ${e.snapshotId.offset}-${e.snapshotId.epoch}`);
        this.settle();
        return;
      }
      case 'high-watermark':
        if (e.offset < n.hw) this.fail(`node ${n.id} high watermark went back from ${n.hw} to ${e.offset}`);
        // One proposal is one batch, committed whole: the state machine above never sees half of one.
        if (e.offset > 0 && d.log[e.offset - 1]?.batchContinues === true) this.fail(`node ${n.id} high watermark ${e.offset} lands inside a batch`);
        if (!this.isObserver(n.id)) this.maxVoterHw = Math.max(this.maxVoterHw, e.offset);
        else if (e.offset > this.maxVoterHw) this.fail(`observer ${n.id} high watermark ${e.offset} is past every voter's (${this.maxVoterHw})`);
        n.hw = e.offset;
        this.apply(n, e.offset);
        return;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Nodes: start, crash, restart

  private start(n: Node): void {
    n.incarnation++;
    const snap = this.snapshots ? n.disk.snapshot : null;
    // The state machine starts from the newest snapshot, then the log replays after it.
    n.state = snap === null ? [] : decodeState(snap.bytes);
    n.applied = snap?.id.offset ?? 0;
    n.hw = n.applied;
    n.crashMidStep = null;
    n.wakeAt = Infinity;
    const bootstrapOnly = this.isObserver(n.id) && this.bootstrapTargets.size > 0;
    const config = quorumConfig({
      nodeId: n.id,
      clusterId: 'sim-cluster',
      voters: bootstrapOnly ? [] : this.ids,
      bootstrapServers: bootstrapOnly ? [...this.bootstrapTargets.keys()] : [],
      fetchMaxRecords: this.fetchMaxRecords,
      appendLingerMs: this.appendLingerMs,
    });
    const random = new SeededRandom((this.options.seed * 7919 + n.id * 104729 + n.incarnation * 1299709) >>> 0);
    const config2: QuorumConfig = { ...config, fetchSnapshotMaxBytes: this.fetchSnapshotMaxBytes };
    const core = this.snapshots
      ? this.factory(config2, n.disk.quorumState, n.disk.log.slice(n.disk.logStart.offset, n.disk.flushed), this.now, random, { logStart: n.disk.logStart, latest: n.disk.snapshot })
      : this.factory(config, n.disk.quorumState, n.disk.log.slice(0, n.disk.flushed), this.now, random);
    n.disk.log.length = n.disk.flushed;
    n.core = core;
    this.note(`${this.now} node ${n.id} starts (incarnation ${n.incarnation}) as ${core.stateName} e${core.epoch}, log ${n.disk.logStart.offset}..${n.disk.log.length}, snapshot ${snap?.id.offset ?? '-'}`);
    this.step(n, () => core.drain());
  }

  private crash(n: Node): void {
    this.stats.crashes++;
    const d = n.disk;
    // The OS kept some prefix of what was never fsynced: a torn last write loses the rest.
    const unflushed = d.log.length - d.flushed;
    if (unflushed > 0) {
      let kept = this.rng.nextInt(unflushed + 1);
      if (kept < unflushed) this.stats.tornWrites++;
      // A torn batch fails its CRC and recovery drops it whole: the kept prefix ends between batches.
      while (kept > 0 && d.log[d.flushed + kept - 1]!.batchContinues === true) kept--;
      d.flushed += kept;
    }
    d.log.length = d.flushed;
    n.core = null;
    n.crashMidStep = null;
    n.wakeAt = Infinity;
    // Its connections are gone: whatever was in flight to it is lost (dropped at delivery, as core === null).
    if (this.chaos) this.queue.push(this.now + 100 + this.rng.nextInt(3000), { kind: 'restart', node: n.id });
    else this.queue.push(this.now, { kind: 'restart', node: n.id });
  }

  // ------------------------------------------------------------------------------------------------
  // Network

  private isCut(from: number, to: number): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  /** The node a message to `id` reaches: a bootstrap server id is one of the voters' addresses. */
  private resolve(id: number): number {
    return this.bootstrapTargets.get(id) ?? id;
  }

  private send(sent: RaftMessage): void {
    this.stats.messages++;
    const to = this.resolve(sent.destination);
    // The voter behind a bootstrap address gets the request as any other (it answers under its own id).
    const m = to === sent.destination ? sent : { ...sent, destination: to };
    if (this.isCut(m.source, m.destination)) return;
    if (this.chaos && this.rng.chance(this.dropRate)) return;
    this.queue.push(this.now + this.rng.nextInt(this.maxDelayMs + 1), { kind: 'deliver', message: m });
    if (this.chaos && this.rng.chance(this.dupRate)) this.queue.push(this.now + this.rng.nextInt(this.maxDelayMs * 3 + 1), { kind: 'deliver', message: m });
  }

  private injectFault(): void {
    const r = this.rng.nextInt(10);
    // Observers crash and get cut off too (with no observers, allIds is ids: a seed's schedule is unchanged).
    const victim = this.allIds[this.rng.nextInt(this.allIds.length)]!;
    const n = this.node(victim);
    if (r < 3) {
      if (n.core === null) return;
      if (this.rng.chance(0.5)) {
        // Crash in the middle of the node's next step: part of its effects done, the rest (and its sends) lost.
        n.crashMidStep = this.rng.nextInt(4);
      } else {
        this.note(`${this.now} node ${victim} crashes`);
        this.crash(n);
      }
    } else if (r < 4) {
      // Crash the leader, if there is one, since that is where elections and truncation get exercised.
      const leader = this.nodes.find((x) => x.core?.stateName === 'Leader');
      if (leader) {
        this.note(`${this.now} leader ${leader.id} crashes`);
        this.crash(leader);
      }
    } else if (r < 7) {
      this.stats.partitions++;
      const id = this.nextPartitionId++;
      const links: string[] = [];
      const kind = this.rng.nextInt(3);
      if (kind === 0) {
        // Isolate one node.
        for (const o of this.allIds) if (o !== victim) links.push(`${victim}>${o}`, `${o}>${victim}`);
      } else if (kind === 1) {
        // Split into two random groups.
        const side = new Map(this.allIds.map((i) => [i, this.rng.chance(0.5)]));
        for (const a of this.allIds) for (const b of this.allIds) if (side.get(a) !== side.get(b)) links.push(`${a}>${b}`);
      } else {
        // One-way: the victim can send but not receive (or the reverse).
        const inbound = this.rng.chance(0.5);
        for (const o of this.allIds) if (o !== victim) links.push(inbound ? `${o}>${victim}` : `${victim}>${o}`);
      }
      for (const l of links) {
        let s = this.cut.get(l);
        if (!s) this.cut.set(l, (s = new Set()));
        s.add(id);
      }
      this.note(`${this.now} partition #${id}: ${links.join(' ')}`);
      this.queue.push(this.now + 200 + this.rng.nextInt(4000), { kind: 'heal-partition', id });
    } else if (r < 8 && n.core?.stateName === 'Leader') {
      // A graceful resignation (controlled shutdown of the active controller).
      this.step(n, () => n.core!.resign(this.now));
    }
  }

  private heal(): void {
    this.chaos = false;
    this.cut.clear();
    this.note(`${this.now} heal`);
    for (const n of this.nodes) {
      n.crashMidStep = null;
      if (n.core === null) this.queue.push(this.now, { kind: 'restart', node: n.id });
    }
    this.queue.push(this.now, { kind: 'propose' });
  }

  // ------------------------------------------------------------------------------------------------
  // The client

  private propose(): void {
    // A proposal of 1 to 3 records (one batch): "v7.0/2", "v7.1/2" are the two records of proposal v7. The
    // size is a hash of the value's number, not a draw from the run's generator, so that adding batches kept
    // every seed's schedule of faults as it was.
    if (this.chaos && this.rng.chance(0.7)) {
      const n = this.nextValue++;
      this.unsent.push(`v${n}/${1 + (Math.imul(n ^ this.options.seed, 0x9e3779b1) >>> 29) % 3}`);
    }
    if (this.unsent.length === 0) return;
    // Like a client: ask some node; if it is not the leader, follow its hint once.
    let n: Node | undefined = this.node(this.allIds[this.rng.nextInt(this.allIds.length)]!);
    for (let hop = 0; hop < 2 && n?.core != null; hop++) {
      const core: RaftCore = n.core;
      const value = this.unsent[0]!;
      const node: Node = n;
      let result: ReturnType<RaftCore['propose']>['result'] | undefined;
      this.step(node, () => {
        const r = core.propose(this.now, proposalRecords(value).map((x) => textEncoder.encode(x)));
        result = r.result;
        return r.effects;
      });
      if (result === undefined) return;
      if (result.ok) {
        this.stats.proposals++;
        this.unsent.shift();
        this.accepted.set(value, { offset: result.offset, epoch: result.epoch });
        this.settle();
        return;
      }
      n = result.leaderId >= 1 ? this.node(result.leaderId) : undefined;
    }
  }

  /** Values whose offset got committed: done if it is theirs, sent again if another record won it. */
  private settle(): void {
    const last = this.committed[this.committed.length - 1];
    for (const [value, { offset, epoch }] of this.accepted) {
      const c = this.committed[offset];
      if (c === undefined) {
        // Epochs never decrease along the log: once a record of a later epoch is committed before our
        // offset, our record (of an earlier epoch) can never be committed. The client sends it again.
        if (last !== undefined && last.epoch > epoch) {
          this.accepted.delete(value);
          this.unsent.push(value);
        }
        continue;
      }
      this.accepted.delete(value);
      if (c.value.kind === 'data' && textDecoder.decode(c.value.data) === proposalRecords(value)[0]) this.done.add(value);
      else this.unsent.push(value);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Snapshots (KIP-630): a snapshot is the node's applied prefix

  private takeSnapshot(n: Node): void {
    const core = n.core;
    if (core === null) return;
    const d = n.disk;
    const offset = n.applied;
    if (offset <= (d.snapshot?.id.offset ?? 0) || offset !== core.highWatermark) return;
    const epoch = offset - 1 >= d.logStart.offset ? d.log[offset - 1]!.epoch : d.logStart.epoch;
    const snapshot: RaftSnapshot = { id: { offset, epoch }, bytes: encodeState(n.state) };
    // Durable first (written, fsynced, renamed), then the core learns of it.
    d.snapshot = snapshot;
    this.stats.snapshots++;
    this.note(`${this.now} node ${n.id} snapshots at ${offset}-${epoch}`);
    this.step(n, () => core.snapshotCreated(this.now, snapshot));
    if (n.core !== null && this.snapRng.chance(0.6)) {
      this.note(`${this.now} node ${n.id} deletes its log before ${offset}`);
      this.step(n, () => core.deleteBeforeLatestSnapshot(this.now));
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Checks

  private apply(n: Node, hw: number): void {
    const log = n.disk.log;
    while (n.applied < hw) {
      const offset = n.applied;
      const r = log[offset];
      if (r === undefined) this.fail(`node ${n.id} committed offset ${offset} that is not in its log (end ${log.length})`);
      const c = this.committed[offset];
      if (c === undefined) {
        if (offset !== this.committed.length) this.fail(`committed sequence has a gap at ${offset}`);
        this.committed.push(r!);
      } else if (!sameRecord(c, r!)) {
        this.fail(`node ${n.id} applies ${describeRecord(r)} at offset ${offset}, where ${describeRecord(c)} was committed`);
      }
      n.state.push(r!);
      n.applied++;
      if (this.isObserver(n.id)) {
        this.stats.observerApplied++;
        if (this.bootstrapTargets.size > 0) this.stats.bootstrapObserverApplied++;
      }
    }
    this.settle();
  }

  private checkAfterStep(n: Node, before: string): void {
    const core = n.core;
    if (core === null) return;
    if (this.isObserver(n.id) && core.stateName !== 'Unattached' && core.stateName !== 'Follower') this.fail(`observer ${n.id} is ${core.stateName} in epoch ${core.epoch}`);
    if (core.stateName !== 'Leader') return;
    const prev = this.leaderOfEpoch.get(core.epoch);
    if (prev !== undefined && prev !== n.id) this.fail(`two leaders in epoch ${core.epoch}: ${prev} and ${n.id}`);
    if (before === 'Leader') return;
    this.stats.elections++;
    this.leaderOfEpoch.set(core.epoch, n.id);
    this.note(`${this.now} node ${n.id} leads epoch ${core.epoch} (log ${core.logEndOffset}, committed ${this.committed.length})`);
    const lc = core.record(core.logEndOffset - 1);
    if (lc?.value.kind === 'leader-change' && lc.value.grantingVoters.some((v) => this.isObserver(v))) this.fail(`leader ${n.id} of epoch ${core.epoch} counts an observer among its granting voters: ${lc.value.grantingVoters.join(',')}`);
    // Leader completeness: a new leader holds every committed record, or one could disappear.
    // Below its log start it holds them in its snapshot (checked against the committed records when taken or installed).
    for (let i = core.logStartOffset; i < this.committed.length; i++) {
      const r = core.record(i);
      if (r === undefined || !sameRecord(r, this.committed[i]!)) {
        this.fail(`new leader ${n.id} of epoch ${core.epoch} lacks committed offset ${i} (${describeRecord(this.committed[i])}; it has ${describeRecord(r)})`);
      }
    }
  }

  private isObserver(id: number): boolean {
    return id > this.options.voters;
  }

  /** An observer has no say in elections: it never asks for, grants or announces anything of them. */
  private checkObserverMessage(n: Node, m: RaftMessage): void {
    const b = m.body;
    if (b.kind === 'VoteRequest' || b.kind === 'BeginQuorumEpochRequest' || b.kind === 'EndQuorumEpochRequest') this.fail(`observer ${n.id} sends ${b.kind} to ${m.destination}`);
    if (b.kind === 'VoteResponse' && b.voteGranted) this.fail(`observer ${n.id} grants a vote to ${m.destination}`);
    if (b.kind === 'FetchRequest' && !this.ids.includes(this.resolve(m.destination))) this.fail(`observer ${n.id} fetches from non-voter ${m.destination}`);
    // One that knows no voter asks the bootstrap servers, or a leader an answer named: never a voter id out of nowhere.
    if (b.kind === 'FetchRequest' && this.bootstrapTargets.size > 0 && m.destination > 0 && n.core?.leaderId !== m.destination) this.fail(`observer ${n.id} fetches from ${m.destination}, neither a bootstrap server nor its leader`);
  }

  private converged(): boolean {
    if (this.unsent.length > 0 || this.accepted.size > 0) return false;
    const leader = this.nodes.find((x) => x.core?.stateName === 'Leader');
    if (!leader) return false;
    const end = leader.core!.logEndOffset;
    return this.nodes.every((x) => x.core !== null && x.core.epoch === leader.core!.epoch && x.core.highWatermark === end);
  }

  private finalChecks(): void {
    const expected = this.nextValue;
    if (this.done.size !== expected) this.fail(`${expected - this.done.size} of ${expected} proposals never committed`);
    for (const n of this.nodes) {
      if (n.applied !== this.committed.length) this.fail(`node ${n.id} applied ${n.applied} of ${this.committed.length} committed records`);
    }
    // Every value committed exactly once, each proposal's records together and in order, as one batch.
    const seen = new Set<string>();
    for (let i = 0; i < this.committed.length; i++) {
      const r = this.committed[i]!;
      if (r.value.kind !== 'data') continue;
      const v = textDecoder.decode(r.value.data);
      if (seen.has(v)) this.fail(`value ${v} committed twice`);
      seen.add(v);
      const [name, part, count] = /^(v\d+)\.(\d+)\/(\d+)$/.exec(v)!.slice(1) as [string, string, string];
      const next = this.committed[i + 1];
      const expectNext = Number(part) + 1 < Number(count) ? `${name}.${Number(part) + 1}/${count}` : null;
      const nextValue = next?.value.kind === 'data' ? textDecoder.decode(next.value.data) : null;
      if (expectNext !== null && (nextValue !== expectNext || r.batchContinues !== true)) this.fail(`proposal ${name}: record ${v} at ${i} is not followed by ${expectNext} in its batch`);
      if (expectNext === null && r.batchContinues === true) this.fail(`proposal ${name}: its last record ${v} at ${i} claims the batch continues`);
    }
  }

  private note(line: string | (() => string)): void {
    this.trace.push(line);
    if (this.trace.length > 80) this.trace.shift();
  }

  private traceText(): string {
    return this.trace.map((t) => (typeof t === 'string' ? t : t())).join('\n');
  }

  private fail(message: string): never {
    const bootstrap = this.bootstrapTargets.size > 0 ? ` (bootstrap servers: voters ${[...this.bootstrapTargets.values()].join(',')})` : '';
    throw new SimFailure(`seed ${this.options.seed}, ${this.options.voters} voters, ${this.options.observers ?? 0} observers${bootstrap}, t=${this.now} ms: ${message}\n--- last events ---\n${this.traceText()}`);
  }
}

function summarize(m: RaftMessage): string {
  const b = m.body;
  switch (b.kind) {
    case 'VoteRequest':
      return `Vote(e${b.candidateEpoch}, last ${b.lastOffset}@e${b.lastOffsetEpoch})`;
    case 'VoteResponse':
      return `VoteResp(${b.voteGranted ? 'granted' : 'rejected'}, e${b.leaderEpoch}, err ${b.errorCode}/${b.partitionErrorCode})`;
    case 'BeginQuorumEpochRequest':
      return `BeginQuorumEpoch(e${b.leaderEpoch})`;
    case 'BeginQuorumEpochResponse':
      return `BeginResp(e${b.leaderEpoch}, err ${b.partitionErrorCode})`;
    case 'EndQuorumEpochRequest':
      return `EndQuorumEpoch(e${b.leaderEpoch}, [${b.preferredSuccessors.join(',')}])`;
    case 'EndQuorumEpochResponse':
      return `EndResp(e${b.leaderEpoch})`;
    case 'FetchRequest':
      return `Fetch(e${b.currentLeaderEpoch}, ${b.fetchOffset}@e${b.lastFetchedEpoch})`;
    case 'FetchResponse':
      return `FetchResp(e${b.currentLeader.leaderEpoch}, hw ${b.highWatermark}, ${b.divergingEpoch ? `diverging ${b.divergingEpoch.offset}@e${b.divergingEpoch.epoch}` : b.snapshotId ? `snapshot ${b.snapshotId.offset}@e${b.snapshotId.epoch}` : `${b.records.length} records`}, err ${b.errorCode}/${b.partitionErrorCode})`;
    case 'FetchSnapshotRequest':
      return `FetchSnapshot(e${b.currentLeaderEpoch}, ${b.snapshotId.offset}@e${b.snapshotId.epoch}, pos ${b.position})`;
    case 'FetchSnapshotResponse':
      return `FetchSnapshotResp(e${b.currentLeader.leaderEpoch}, ${b.snapshotId.offset}@e${b.snapshotId.epoch}, pos ${b.position}+${b.bytes.length}/${b.size}, err ${b.errorCode}/${b.partitionErrorCode})`;
  }
}

/** Runs one seed; returns the failure message, or null. */
export function runSeed(options: SimOptions): { failure: string | null; stats: SimStats | null } {
  const sim = new RaftSimulation(options);
  try {
    return { failure: null, stats: sim.run() };
  } catch (e) {
    return { failure: (e as Error).message, stats: null };
  }
}
