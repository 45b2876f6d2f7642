/**
 * The requests behind the CLI's commands, routed to the right broker: offsets by timestamp (ListOffsets to
 * each partition's leader), fetching and producing record batches, and group offsets at the coordinator.
 */
import { Fetch } from '../../protocol/messages/fetch.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js';
import { Produce } from '../../protocol/messages/produce.js';
import { LOG_OVERHEAD, Offsets, isControl, readBatchHeader } from '../../protocol/records/batch.js';
import { buildBatch, readRecords, type Record, type RecordInput } from '../../protocol/records/record.js';
import { BrokerError, brokerError, type KafkaClient, type TopicInfo } from './client.js';

/** ListOffsets' special timestamps (ListOffsetsRequest.EARLIEST_TIMESTAMP / LATEST_TIMESTAMP). */
export const EARLIEST = -2n;
export const LATEST = -1n;

function leaderOf(topic: TopicInfo, partition: number): number {
  const p = topic.partitions.find((x) => x.partition === partition);
  if (p === undefined) throw brokerError(3, `partition ${topic.name}-${partition}`);
  if (p.leader < 0) throw brokerError(5, `partition ${topic.name}-${partition}`);
  return p.leader;
}

function byLeader(topic: TopicInfo, partitions: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const p of partitions) {
    const l = leaderOf(topic, p);
    const list = out.get(l) ?? [];
    list.push(p);
    out.set(l, list);
  }
  return out;
}

/**
 * The offset for `timestamp` (EARLIEST, LATEST or milliseconds) of each partition: for a time, the first
 * offset whose timestamp is at or after it, or the log end offset when there is none (as the Java
 * consumer's offsetsForTimes answers null and kafka-consumer-groups falls back to the end).
 */
export async function listOffsets(client: KafkaClient, topic: TopicInfo, partitions: readonly number[], timestamp: bigint): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  const missing: number[] = [];
  for (const [leader, parts] of byLeader(topic, partitions)) {
    const conn = await client.node(leader);
    const { response } = await conn.request(ListOffsets, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic.name, partitions: parts.map((p) => ({ partitionIndex: p, timestamp, currentLeaderEpoch: -1 })) }],
    });
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw brokerError(p.errorCode, `ListOffsets ${topic.name}-${p.partitionIndex}`);
        if (p.offset < 0n) missing.push(p.partitionIndex);
        else out.set(p.partitionIndex, p.offset);
      }
    }
  }
  if (missing.length > 0) for (const [p, o] of await listOffsets(client, topic, missing, LATEST)) out.set(p, o);
  return out;
}

export interface FetchedPartition {
  partition: number;
  highWatermark: bigint;
  logStartOffset: bigint;
  records: Record[];
  /** The offset to fetch next: past the last record returned (or past skipped control batches). */
  nextOffset: bigint;
}

/**
 * One Fetch to each leader of `positions`' partitions; returns what each answered. Capped at v12, the last
 * version naming topics (v13 switched to topic ids, KIP-516).
 */
export async function fetchOnce(
  client: KafkaClient,
  topic: TopicInfo,
  positions: ReadonlyMap<number, bigint>,
  opts: { maxWaitMs: number; partitionMaxBytes?: number },
): Promise<FetchedPartition[]> {
  const results: FetchedPartition[] = [];
  await Promise.all(
    [...byLeader(topic, [...positions.keys()])].map(async ([leader, parts]) => {
      const conn = await client.node(leader);
      const { response } = await conn.request(
        Fetch,
        {
          replicaId: -1,
          maxWaitMs: opts.maxWaitMs,
          minBytes: 1,
          maxBytes: 52_428_800,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: topic.name,
              partitions: parts.map((p) => ({ partition: p, fetchOffset: positions.get(p)!, partitionMaxBytes: opts.partitionMaxBytes ?? 1_048_576, currentLeaderEpoch: -1, logStartOffset: -1n })),
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        },
        12,
      );
      if (response.errorCode !== 0) throw brokerError(response.errorCode, `Fetch from broker ${leader}`);
      for (const t of response.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw brokerError(p.errorCode, `Fetch ${topic.name}-${p.partitionIndex}`);
          const from = positions.get(p.partitionIndex)!;
          const { records, next } = await decodeBatches(p.records, from);
          results.push({ partition: p.partitionIndex, highWatermark: p.highWatermark, logStartOffset: p.logStartOffset, records, nextOffset: next });
        }
      }
    }),
  );
  return results;
}

/** The records at or after `from` in a fetch answer's whole batches (a last, partial batch is left out). */
async function decodeBatches(buf: Buffer | null, from: bigint): Promise<{ records: Record[]; next: bigint }> {
  const records: Record[] = [];
  let next = from;
  if (buf === null) return { records, next };
  let pos = 0;
  while (pos + LOG_OVERHEAD <= buf.length) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + Offsets.batchLength);
    if (pos + size > buf.length) break;
    const batch = buf.subarray(pos, pos + size);
    pos += size;
    const header = readBatchHeader(batch, 0);
    const last = BigInt(header.baseOffset + header.lastOffsetDelta);
    if (last + 1n > next) next = last + 1n;
    if (isControl(header.attributes)) continue;
    for (const r of await readRecords(batch)) if (BigInt(r.offset) >= from) records.push(r);
  }
  return { records, next };
}

export interface ProducedBatch {
  partition: number;
  baseOffset: bigint;
  count: number;
}

/** Produces one batch per partition of `byPartition` and waits for the answers (acks as given). */
export async function produce(
  client: KafkaClient,
  topic: TopicInfo,
  byPartition: ReadonlyMap<number, RecordInput[]>,
  opts: { acks: number; timeoutMs: number },
): Promise<ProducedBatch[]> {
  const out: ProducedBatch[] = [];
  await Promise.all(
    [...byLeader(topic, [...byPartition.keys()])].map(async ([leader, parts]) => {
      const conn = await client.node(leader);
      const partitionData = await Promise.all(parts.map(async (p) => ({ index: p, records: await buildBatch(byPartition.get(p)!) })));
      // v3 is the first version carrying RecordBatch v2 (magic 2), and Kafka 4 accepts no older one.
      const body = { transactionalId: null, acks: opts.acks, timeoutMs: opts.timeoutMs, topicData: [{ name: topic.name, partitionData }] };
      if (opts.acks === 0) {
        // acks=0: the broker sends no response (it closes the connection if the append fails).
        await conn.sendWithoutResponse(Produce, body);
        for (const p of parts) out.push({ partition: p, baseOffset: -1n, count: byPartition.get(p)!.length });
        return;
      }
      const { response } = await conn.request(Produce, body);
      for (const t of response.responses) {
        for (const p of t.partitionResponses) {
          if (p.errorCode !== 0) throw brokerError(p.errorCode, `Produce ${topic.name}-${p.index}`, p.errorMessage);
          out.push({ partition: p.index, baseOffset: p.baseOffset, count: byPartition.get(p.index)?.length ?? 0 });
        }
      }
    }),
  );
  return out;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string | null;
}

/** A group's committed offsets (every topic), from its coordinator. Capped at v7, the last single-group layout. */
export async function fetchCommitted(client: KafkaClient, group: string): Promise<CommittedOffset[]> {
  const out = await client.withCoordinator(group, async (conn) => {
    const { response } = await conn.request(OffsetFetch, { groupId: group, topics: null, requireStable: false }, 7);
    if (response.errorCode !== 0) throw brokerError(response.errorCode, `OffsetFetch for group ${group}`);
    const found: CommittedOffset[] = [];
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw brokerError(p.errorCode, `OffsetFetch ${group} ${t.name}-${p.partitionIndex}`);
        if (p.committedOffset >= 0n) found.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata });
      }
    }
    return found;
  });
  return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

/**
 * Commits offsets for `group`: as a member of a generation when given, else as an admin (generation -1,
 * no member id), which the coordinator accepts only while the group has no members.
 */
export async function commitOffsets(
  client: KafkaClient,
  group: string,
  offsets: readonly { topic: string; partition: number; offset: bigint }[],
  member?: { generationId: number; memberId: string },
): Promise<void> {
  const topics = new Map<string, { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null; committedLeaderEpoch: number }[]>();
  for (const o of offsets) {
    const list = topics.get(o.topic) ?? [];
    list.push({ partitionIndex: o.partition, committedOffset: o.offset, committedMetadata: '', committedLeaderEpoch: -1 });
    topics.set(o.topic, list);
  }
  // v9 is KIP-848's member-epoch form; v8 is the classic group protocol's last.
  await client.withCoordinator(group, async (conn) => {
    const { response } = await conn.request(
      OffsetCommit,
      {
        groupId: group,
        generationIdOrMemberEpoch: member?.generationId ?? -1,
        memberId: member?.memberId ?? '',
        groupInstanceId: null,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      },
      8,
    );
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw brokerError(p.errorCode, `OffsetCommit ${group} ${t.name}-${p.partitionIndex}`);
      }
    }
  });
}

export { BrokerError };
