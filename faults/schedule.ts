/**
 * The fault suite's schedule: which faults happen, in what order, on which nodes and for how long, as a
 * pure function of the seed, the node count, the nemeses asked for and the run time. The harness prints it
 * before running, and `--seed N` with the same options replays it. Targets named `leader` are resolved at
 * run time (the current leader of partition 0, from Metadata) and logged; the seeded node is the fallback.
 */

/** mulberry32: a small, fast 32-bit PRNG; enough for choosing faults, and stable across Node versions. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const NEMESES = ['kill', 'pause', 'partition', 'rolling', 'stop-all', 'disk-ro', 'disk-full', 'corrupt', 'truncate', 'slow', 'lag-kill'] as const;
export type Nemesis = (typeof NEMESES)[number];

/** Partitions on one node cut the clients from it; on several, the nodes from each other (clients see all). */
export type PartitionVariant =
  | { kind: 'clients'; node: number; oneWay: boolean }
  | { kind: 'halves'; groups: number[][] }
  | { kind: 'isolate'; node: number }
  | { kind: 'bridge'; left: number[]; right: number[]; bridge: number }
  | { kind: 'one-way'; from: number; to: number }
  /** The leader of partition 0 cut from the other nodes (so from the controller quorum) but not from clients. */
  | { kind: 'leader-from-quorum'; fallback: number }
  /** The active controller (Raft leader) cut from the other nodes. */
  | { kind: 'isolate-controller'; fallback: number };

/** A node by id, or whichever node is the leader of partition 0 / the active controller when the step runs. */
export type Target = number | 'leader' | 'controller';

export type Step =
  | { nemesis: 'kill' | 'pause' | 'disk-ro' | 'disk-full' | 'corrupt' | 'truncate'; target: Target; fallback: number; seconds: number }
  | { nemesis: 'partition'; variant: PartitionVariant; seconds: number }
  | { nemesis: 'rolling'; order: number[] }
  | { nemesis: 'stop-all'; seconds: number }
  | { nemesis: 'slow'; delayMs: number; seconds: number }
  /** Several nodes: every node but the leader of partition 0 (else `fallback`) paused for `pauseSeconds`
   *  (below the 9 s broker session timeout, so none is fenced and the ISR keeps them), the leader killed
   *  at the end of the pause, the others resumed, the old leader restarted after `downSeconds` (past the
   *  session timeout, so a follower is elected first). What an acks=1 leader acknowledged during the pause
   *  is on no follower: the replicated negative control of issue 13. With acks=all nothing is
   *  acknowledged during the pause (the high watermark waits for the ISR), so nothing may be lost. */
  | { nemesis: 'lag-kill'; fallback: number; pauseSeconds: number; downSeconds: number };

export interface ScheduledStep {
  /** Seconds of quiet before this step (after the previous one healed). */
  gap: number;
  step: Step;
}

export interface ScheduleOptions {
  seed: number;
  nodes: number;
  nemeses: Nemesis[];
  /** Seconds of faults (the run's --time). */
  seconds: number;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function between(r: () => number, lo: number, hi: number): number {
  return Math.round((lo + r() * (hi - lo)) * 10) / 10;
}

function shuffle<T>(r: () => number, xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Rough seconds a step takes, for fitting the schedule in the run time. */
export function estimatedSeconds(s: Step, nodes: number): number {
  switch (s.nemesis) {
    case 'rolling':
      return nodes * 6;
    case 'kill':
    case 'corrupt':
    case 'truncate':
    case 'stop-all':
      return s.seconds + 3;
    case 'lag-kill':
      return s.pauseSeconds + s.downSeconds + 3;
    default:
      return s.seconds;
  }
}

function partitionVariant(r: () => number, nodes: number): PartitionVariant {
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  if (nodes === 1) return { kind: 'clients', node: 1, oneWay: r() < 0.3 };
  const kinds = nodes >= 3 ? (['halves', 'isolate', 'bridge', 'one-way', 'leader-from-quorum', 'isolate-controller', 'clients'] as const) : (['isolate', 'one-way', 'clients'] as const);
  const kind = pick(r, kinds);
  const order = shuffle(r, ids);
  switch (kind) {
    case 'halves': {
      const minority = Math.floor((nodes - 1) / 2);
      return { kind: 'halves', groups: [order.slice(0, minority).sort(), order.slice(minority).sort()] };
    }
    case 'isolate':
      return { kind: 'isolate', node: order[0]! };
    case 'bridge': {
      const rest = order.slice(1);
      const half = Math.floor(rest.length / 2);
      return { kind: 'bridge', bridge: order[0]!, left: rest.slice(0, half).sort(), right: rest.slice(half).sort() };
    }
    case 'one-way':
      return { kind: 'one-way', from: order[0]!, to: order[1]! };
    case 'leader-from-quorum':
      return { kind: 'leader-from-quorum', fallback: order[0]! };
    case 'isolate-controller':
      return { kind: 'isolate-controller', fallback: order[0]! };
    case 'clients':
      return { kind: 'clients', node: order[0]!, oneWay: r() < 0.3 };
  }
}

export function makeStep(r: () => number, nemesis: Nemesis, nodes: number): Step {
  const node = 1 + Math.floor(r() * nodes);
  // On several nodes, target the partition leader or the active controller more than half the time: that
  // is where failover is measured.
  const target = (): Target => {
    if (nodes === 1) return node;
    const x = r();
    return x < 0.35 ? 'leader' : x < 0.55 ? 'controller' : node;
  };
  switch (nemesis) {
    case 'kill':
      return { nemesis, target: target(), fallback: node, seconds: between(r, 1, 8) };
    case 'pause':
      // longer than the consumers' session timeout (10 s) and the broker session timeout (9 s) half the time
      return { nemesis, target: target(), fallback: node, seconds: between(r, 3, 16) };
    case 'disk-ro':
    case 'disk-full':
      return { nemesis, target: target(), fallback: node, seconds: between(r, 3, 10) };
    case 'corrupt':
    case 'truncate':
      return { nemesis, target: target(), fallback: node, seconds: between(r, 1, 4) };
    case 'partition':
      return { nemesis, variant: partitionVariant(r, nodes), seconds: between(r, 3, 15) };
    case 'rolling':
      return { nemesis, order: shuffle(r, Array.from({ length: nodes }, (_, i) => i + 1)) };
    case 'stop-all':
      return { nemesis, seconds: between(r, 1, 5) };
    case 'slow':
      return { nemesis, delayMs: Math.round(between(r, 20, 400)), seconds: between(r, 3, 10) };
    case 'lag-kill':
      return { nemesis, fallback: node, pauseSeconds: between(r, 2, 5), downSeconds: between(r, 12, 16) };
  }
}

/** The whole schedule: steps with gaps, until their estimated time fills `seconds`. */
export function makeSchedule(o: ScheduleOptions): ScheduledStep[] {
  if (o.nemeses.length === 0) return [];
  const r = prng(o.seed);
  const out: ScheduledStep[] = [];
  let used = 0;
  for (;;) {
    const gap = between(r, 2, 6);
    const step = makeStep(r, pick(r, o.nemeses), o.nodes);
    const cost = gap + estimatedSeconds(step, o.nodes);
    if (used + cost > o.seconds && out.length > 0) break;
    out.push({ gap, step });
    used += cost;
    if (used >= o.seconds) break;
  }
  return out;
}

/** One line per step, for printing and for the results file. */
export function describeStep(s: Step): string {
  switch (s.nemesis) {
    case 'kill':
    case 'pause':
    case 'disk-ro':
    case 'disk-full':
    case 'corrupt':
    case 'truncate':
      return `${s.nemesis} node ${s.target === 'leader' ? `leader of partition 0 (else ${s.fallback})` : s.target === 'controller' ? `active controller (else ${s.fallback})` : s.target} for ${s.seconds} s`;
    case 'partition': {
      const v = s.variant;
      const what =
        v.kind === 'clients' ? `clients cut from node ${v.node}${v.oneWay ? ' (requests only)' : ''}`
        : v.kind === 'halves' ? `halves ${v.groups.map((g) => `[${g.join(',')}]`).join(' | ')}`
        : v.kind === 'isolate' ? `node ${v.node} isolated from the other nodes`
        : v.kind === 'bridge' ? `bridge [${v.left.join(',')}] - ${v.bridge} - [${v.right.join(',')}]`
        : v.kind === 'one-way' ? `node ${v.from} cannot send to node ${v.to}`
        : v.kind === 'isolate-controller' ? `active controller (else ${v.fallback}) cut from the other nodes`
        : `leader of partition 0 (else ${v.fallback}) cut from the other nodes, not from clients`;
      return `partition: ${what} for ${s.seconds} s`;
    }
    case 'rolling':
      return `rolling restart in order ${s.order.join(', ')}`;
    case 'stop-all':
      return `stop all nodes (kill -9) for ${s.seconds} s`;
    case 'slow':
      return `every link delayed ${s.delayMs} ms for ${s.seconds} s`;
    case 'lag-kill':
      return `every node but the leader of partition 0 (else ${s.fallback}) paused for ${s.pauseSeconds} s, then the leader killed for ${s.downSeconds} s`;
  }
}
