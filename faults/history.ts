/**
 * The fault suite's history: every operation the workload's clients performed and every fault the nemesis
 * injected, with wall-clock timestamps (ms since the epoch). Written as JSON lines (faults/results/*.history.jsonl)
 * and read by the checker, which is a pure function of it.
 */

/** A producer's record value is unique in a run: `${client}:${seq}`. */
export type Value = string;

export type Op =
  /** A producer sends `value` to `partition` (acks=all). */
  | { type: 'send'; t: number; client: string; workload: string; idempotent: boolean; partition: number; value: Value }
  /** The send was acknowledged at `offset`; null when the client acknowledged it without an offset
   *  (librdkafka's idempotent producer acknowledges earlier messages implicitly, offset -1, when a later
   *  batch of the same producer succeeds after their own answer was lost: rd_kafka_dr_implicit_ack). */
  | { type: 'ack'; t: number; client: string; partition: number; offset: number | null; value: Value }
  /** The send failed; the record may or may not have been written (Kafka gives no definite failure here). */
  | { type: 'send-error'; t: number; client: string; value: Value; error: string }
  /** A consumer read `value` at `offset`. `mode`: in a group (subscribe) or assign-style. `final`: the
   *  reader run after the cluster healed, which reads every partition from its log start to its high watermark. */
  | { type: 'read'; t: number; client: string; mode: 'group' | 'assign' | 'final'; partition: number; offset: number; value: Value }
  /** A consumer's assignment changed (a rebalance) or it seeked: the next read may go back. */
  | { type: 'rebalance'; t: number; client: string; partitions: number[] }
  /** A committed offset of `group` seen by the observer (OffsetFetch). */
  | { type: 'committed'; t: number; client: string; group: string; partition: number; offset: number }
  /** The final reader reached the end of `partition`: `end` is the high watermark it read up to. */
  | { type: 'final-end'; t: number; partition: number; logStart: number; end: number }
  /** Any other client error (poll, commit, metadata...). */
  | { type: 'error'; t: number; client: string; error: string }
  /** A fault began (`start`) or was healed (`end`). `partition`: the fault hit that partition's leader, so
   *  its unavailability is measured on that partition alone. */
  | { type: 'fault'; t: number; nemesis: string; phase: 'start' | 'end'; detail: string; partition?: number };

export type History = Op[];

/** Parses JSON lines into a history, ignoring blank lines; throws on a line that is not an op. */
export function parseHistory(text: string): History {
  const out: History = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const op = JSON.parse(line) as Op;
    if (typeof op !== 'object' || op === null || typeof op.type !== 'string' || typeof op.t !== 'number') {
      throw new Error(`not a history op: ${line}`);
    }
    out.push(op);
  }
  return out;
}
