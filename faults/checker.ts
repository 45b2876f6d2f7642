/**
 * The fault suite's checker: a pure function from a history (faults/history.ts) to the anomalies in it,
 * after Jepsen's Kafka workload (jepsen/src/jepsen/tests/kafka.clj: lost-write, inconsistent-offsets,
 * duplicate, nonmonotonic-poll, poll-skip, unseen), plus committed offsets going backwards and the
 * unavailability after each fault.
 *
 * Definitions (each counted once per value or per offset, however often it was observed):
 * - final log: what the final reader (assign-style, after the cluster healed) read of each partition, from
 *   its log start to its high watermark. A partition without a `final-end` was not read to the end: its
 *   acknowledged values are `unseen`, never `lost`.
 * - lost: a value known to be committed (acknowledged to an acks=all producer, or read by a consumer, which
 *   only ever sees records below the high watermark) that is nowhere in its partition's final log. Values
 *   read and later gone are also reported on their own (`gone`); they are part of `lost`.
 * - divergent: an offset observed (acks and reads together) with two different values, or an acknowledged
 *   offset that the final log leaves empty while holding the value somewhere else.
 * - duplicated: a value from an idempotent producer found at more than one offset. Values of
 *   non-idempotent producers at several offsets are reported as `duplicatedAllowed` (retries may do that).
 * - nonmonotonic: a consumer read an offset at or below one it read before in that partition with no
 *   rebalance (or seek) of that consumer in between.
 * - skipped: a consumer jumped over offsets that the final log holds, with no rebalance in between.
 * - committedBackwards: a group's committed offset for a partition, as the observer saw it, went down.
 * - unavailability: for each fault start, the time until a send begun after it was acknowledged (to the
 *   partition whose leader the fault hit, when it names one).
 */
import type { History, Op, Value } from './history.js';

export interface Unavailability {
  nemesis: string;
  faultAt: number;
  /** Seconds from the fault's start to the first ack of a send begun at or after it. */
  seconds: number;
  /** False when no send begun after the fault was acknowledged before the history ends. */
  recovered: boolean;
}

export interface WorkloadCounts {
  sent: number;
  acked: number;
  lost: number;
  duplicated: number;
  divergent: number;
}

export interface Anomaly {
  kind: 'lost' | 'gone' | 'divergent' | 'duplicated' | 'nonmonotonic' | 'skipped' | 'committed-backwards' | 'unseen';
  partition: number;
  detail: string;
}

export interface CheckResult {
  /** Fault events (starts). */
  events: number;
  acked: number;
  lost: number;
  gone: number;
  unseen: number;
  duplicated: number;
  duplicatedAllowed: number;
  divergent: number;
  nonmonotonic: number;
  skipped: number;
  committedBackwards: number;
  reads: number;
  errors: number;
  perWorkload: Record<string, WorkloadCounts>;
  unavailability: Unavailability[];
  /** Per nemesis: median and max seconds, and how many faults saw no recovery within the run. */
  unavailabilityByNemesis: Record<string, { faults: number; medianSeconds: number; maxSeconds: number; unrecovered: number }>;
  /** Up to 20 examples of each kind. */
  anomalies: Anomaly[];
  /** True when lost, duplicated and divergent are all 0 (the suite's exit status). */
  ok: boolean;
}

const EXAMPLES = 20;

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function check(history: History): CheckResult {
  const ops = [...history].sort((a, b) => a.t - b.t);
  const anomalies: Anomaly[] = [];
  const perKind = new Map<Anomaly['kind'], number>();
  const note = (a: Anomaly): void => {
    const n = perKind.get(a.kind) ?? 0;
    perKind.set(a.kind, n + 1);
    if (n < EXAMPLES) anomalies.push(a);
  };

  // Who sent what.
  const sendOf = new Map<Value, Extract<Op, { type: 'send' }>>();
  const perWorkload: Record<string, WorkloadCounts> = {};
  const workloadCounts = (w: string): WorkloadCounts => (perWorkload[w] ??= { sent: 0, acked: 0, lost: 0, duplicated: 0, divergent: 0 });
  for (const op of ops) {
    if (op.type === 'send') {
      // A value sent again after an error (the idempotent producer's resends) counts once.
      if (!sendOf.has(op.value)) workloadCounts(op.workload).sent++;
      sendOf.set(op.value, op);
    }
  }
  const workloadOf = (v: Value): string => sendOf.get(v)?.workload ?? 'unknown';

  // Final log, per partition.
  const finalLog = new Map<number, Map<number, Value>>();
  const finalEnd = new Map<number, { logStart: number; end: number }>();
  for (const op of ops) {
    if (op.type === 'read' && op.mode === 'final') {
      let m = finalLog.get(op.partition);
      if (!m) finalLog.set(op.partition, (m = new Map()));
      m.set(op.offset, op.value);
    } else if (op.type === 'final-end') {
      finalEnd.set(op.partition, { logStart: op.logStart, end: op.end });
    }
  }
  const finalPlaces = new Map<number, Map<Value, number[]>>();
  for (const [p, m] of finalLog) {
    const places = new Map<Value, number[]>();
    for (const [o, v] of m) {
      const l = places.get(v);
      if (l) l.push(o);
      else places.set(v, [o]);
    }
    finalPlaces.set(p, places);
  }

  // Every (partition, offset) -> values observed, and every value -> places, from acks and all reads.
  const atOffset = new Map<string, Set<Value>>();
  const places = new Map<Value, Set<string>>();
  const partitionOfValue = new Map<Value, number>();
  const observe = (p: number, o: number, v: Value): void => {
    const key = `${p}:${o}`;
    let s = atOffset.get(key);
    if (!s) atOffset.set(key, (s = new Set()));
    s.add(v);
    let pl = places.get(v);
    if (!pl) places.set(v, (pl = new Set()));
    pl.add(key);
    partitionOfValue.set(v, p);
  };
  const acks: Extract<Op, { type: 'ack' }>[] = [];
  const ackedValues = new Set<Value>();
  let reads = 0;
  let errors = 0;
  for (const op of ops) {
    if (op.type === 'ack') {
      // an ack without an offset (librdkafka's implicit ack) says the value is committed, not where
      if (op.offset !== null) observe(op.partition, op.offset, op.value);
      else partitionOfValue.set(op.value, op.partition);
      if (!ackedValues.has(op.value)) {
        ackedValues.add(op.value);
        acks.push(op);
        workloadCounts(workloadOf(op.value)).acked++;
      }
    } else if (op.type === 'read') {
      observe(op.partition, op.offset, op.value);
      reads++;
    } else if (op.type === 'error' || op.type === 'send-error') {
      errors++;
    }
  }

  // Divergent offsets: two values at one offset.
  let divergent = 0;
  for (const [key, vs] of atOffset) {
    if (vs.size > 1) {
      divergent++;
      const [p] = key.split(':');
      const first = [...vs][0]!;
      workloadCounts(workloadOf(first)).divergent++;
      note({ kind: 'divergent', partition: Number(p), detail: `offset ${key} holds ${[...vs].join(' and ')}` });
    }
  }

  // Lost, gone and unseen: known-committed values checked against the final log.
  let lost = 0;
  let gone = 0;
  let unseen = 0;
  const readValues = new Set<Value>();
  for (const op of ops) if (op.type === 'read' && op.mode !== 'final') readValues.add(op.value);
  const committed = new Set<Value>([...ackedValues, ...readValues]);
  const ackOf = new Map<Value, Extract<Op, { type: 'ack' }>>();
  for (const a of acks) ackOf.set(a.value, a);
  for (const v of committed) {
    const p = partitionOfValue.get(v)!;
    const end = finalEnd.get(p);
    if (!end) {
      if (ackedValues.has(v)) {
        unseen++;
        if (unseen <= EXAMPLES) note({ kind: 'unseen', partition: p, detail: `${v}: partition ${p} was not read to its end` });
      }
      continue;
    }
    const offsets = [...(places.get(v) ?? [])].map((k) => Number(k.split(':')[1]));
    // Below the final log start nothing can be checked (retention or DeleteRecords moved it).
    if (offsets.length > 0 && offsets.every((o) => o < end.logStart)) continue;
    const inFinal = finalPlaces.get(p)?.get(v);
    if (!inFinal) {
      lost++;
      workloadCounts(workloadOf(v)).lost++;
      const wasRead = readValues.has(v);
      const how = ackedValues.has(v) ? `acknowledged at offset ${ackOf.get(v)!.offset ?? '(none given)'}` : `read at offset ${offsets.join(',')}`;
      note({ kind: 'lost', partition: p, detail: `${v} ${how}, not in the final log [${end.logStart}, ${end.end})` });
      if (wasRead) {
        gone++;
        note({ kind: 'gone', partition: p, detail: `${v} was read at offset ${offsets.join(',')} and is gone` });
      }
      continue;
    }
    const a = ackOf.get(v);
    if (a && a.offset !== null && !inFinal.includes(a.offset) && !finalLog.get(p)?.has(a.offset)) {
      // Acknowledged at an offset the final log leaves empty, yet present elsewhere: the ack's offset was wrong.
      divergent++;
      workloadCounts(workloadOf(v)).divergent++;
      note({ kind: 'divergent', partition: p, detail: `${v} acknowledged at offset ${a.offset}, found at ${inFinal.join(',')} with nothing at ${a.offset}` });
    }
  }

  // Duplicates: one value at several offsets.
  let duplicated = 0;
  let duplicatedAllowed = 0;
  for (const [v, pl] of places) {
    if (pl.size < 2) continue;
    const s = sendOf.get(v);
    if (s && !s.idempotent) {
      duplicatedAllowed++;
      continue;
    }
    duplicated++;
    workloadCounts(workloadOf(v)).duplicated++;
    note({ kind: 'duplicated', partition: partitionOfValue.get(v)!, detail: `${v} at ${[...pl].join(', ')}` });
  }

  // Consumers: offsets going back, or skipping, outside a rebalance.
  let nonmonotonic = 0;
  let skipped = 0;
  const last = new Map<string, number>();
  for (const op of ops) {
    if (op.type === 'rebalance') {
      for (const k of [...last.keys()]) if (k.startsWith(`${op.client}\u0000`)) last.delete(k);
    } else if (op.type === 'read' && op.mode !== 'final') {
      const k = `${op.client}\u0000${op.partition}`;
      const prev = last.get(k);
      last.set(k, op.offset);
      if (prev === undefined) continue;
      if (op.offset <= prev) {
        nonmonotonic++;
        note({ kind: 'nonmonotonic', partition: op.partition, detail: `${op.client} read offset ${op.offset} after ${prev} with no rebalance between` });
      } else if (op.offset > prev + 1) {
        const m = finalLog.get(op.partition);
        const missed: number[] = [];
        if (m) for (let o = prev + 1; o < op.offset && missed.length < 5; o++) if (m.has(o)) missed.push(o);
        if (missed.length > 0) {
          skipped++;
          note({ kind: 'skipped', partition: op.partition, detail: `${op.client} jumped from ${prev} to ${op.offset} over ${missed.join(',')}` });
        }
      }
    }
  }

  // Committed offsets going backwards, as the observer saw them.
  let committedBackwards = 0;
  const highest = new Map<string, number>();
  for (const op of ops) {
    if (op.type !== 'committed' || op.offset < 0) continue;
    const k = `${op.group}\u0000${op.partition}`;
    const prev = highest.get(k);
    if (prev !== undefined && op.offset < prev) {
      committedBackwards++;
      note({ kind: 'committed-backwards', partition: op.partition, detail: `group ${op.group} committed ${op.offset} after ${prev}` });
    }
    if (prev === undefined || op.offset > prev) highest.set(k, op.offset);
  }

  // Unavailability after each fault: until the first ack of a send begun at or after it.
  const ackedSends = acks
    .map((a) => ({ sentAt: sendOf.get(a.value)?.t ?? a.t, ackAt: a.t, partition: a.partition }))
    .sort((x, y) => x.sentAt - y.sentAt);
  const lastT = ops.length ? ops[ops.length - 1]!.t : 0;
  const faults = ops.filter((o): o is Extract<Op, { type: 'fault' }> => o.type === 'fault' && o.phase === 'start');
  const unavailability: Unavailability[] = [];
  for (const f of faults) {
    let first = Infinity;
    // ackedSends is sorted by send time: scan those begun at or after the fault for the earliest ack.
    let lo = 0;
    let hi = ackedSends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ackedSends[mid]!.sentAt < f.t) lo = mid + 1;
      else hi = mid;
    }
    // a fault on a partition's leader is over when that partition takes writes again
    for (let i = lo; i < ackedSends.length; i++) if (f.partition === undefined || ackedSends[i]!.partition === f.partition) first = Math.min(first, ackedSends[i]!.ackAt);
    const recovered = first !== Infinity;
    unavailability.push({ nemesis: f.nemesis, faultAt: f.t, seconds: ((recovered ? first : lastT) - f.t) / 1000, recovered });
  }
  const unavailabilityByNemesis: CheckResult['unavailabilityByNemesis'] = {};
  for (const n of new Set(unavailability.map((u) => u.nemesis))) {
    const us = unavailability.filter((u) => u.nemesis === n);
    const secs = us.map((u) => u.seconds);
    unavailabilityByNemesis[n] = { faults: us.length, medianSeconds: median(secs), maxSeconds: Math.max(...secs), unrecovered: us.filter((u) => !u.recovered).length };
  }

  return {
    events: faults.length,
    acked: ackedValues.size,
    lost,
    gone,
    unseen,
    duplicated,
    duplicatedAllowed,
    divergent,
    nonmonotonic,
    skipped,
    committedBackwards,
    reads,
    errors,
    perWorkload,
    unavailability,
    unavailabilityByNemesis,
    anomalies,
    ok: lost === 0 && duplicated === 0 && divergent === 0,
  };
}

/** The suite's last line. */
export function summaryLine(r: CheckResult): string {
  return `faults: ${r.events} events, acked ${r.acked}, lost ${r.lost}, duplicated ${r.duplicated}, divergent ${r.divergent}`;
}
