/**
 * The console's consumer groups: state, members and their assignments (the consumer protocol's
 * ConsumerProtocolAssignment, decoded as the CLI does), committed offsets and lag per partition (lag =
 * high watermark − committed offset, as kafka-consumer-groups.sh and kafka_exporter compute it), and the
 * reset of a group's offsets.
 *
 * A reset is an OffsetCommit from outside group management (generation -1, no member id), which the
 * coordinator accepts only while the group is Empty (or does not exist yet): Kafka's own rule, so a reset
 * never races a running consumer. kafka-consumer-groups.sh --reset-offsets refuses the same way.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { decodeAssignment } from '../client/group-member.js';
import { ApiError, type ConsoleContext } from './console-common.js';

function coordinator(ctx: ConsoleContext) {
  const c = ctx.broker.groupCoordinator;
  if (c === undefined) throw new ApiError(503, 'the group coordinator is not started');
  return c;
}

function errorName(code: number): string {
  return Object.entries(ErrorCode).find(([, v]) => v === code)?.[0] ?? String(code);
}

interface OffsetRow {
  topic: string;
  partition: number;
  committed: number;
  logStartOffset: number | null;
  highWatermark: number | null;
  logEndOffset: number | null;
  lag: number | null;
  metadata: string;
  memberId: string | null;
}

function offsets(ctx: ConsoleContext, groupId: string, owners: Map<string, string>): OffsetRow[] {
  const { errorCode, offsets: fetched } = coordinator(ctx).fetchOffsets(groupId, null);
  if (errorCode !== ErrorCode.NONE) throw new ApiError(503, `group ${groupId}: ${errorName(errorCode)}`);
  return fetched
    .filter((o) => o.offset >= 0n)
    .map((o) => {
      const p = ctx.broker.getPartition(o.topic, o.partition);
      const committed = Number(o.offset);
      return {
        topic: o.topic,
        partition: o.partition,
        committed,
        logStartOffset: p?.logStartOffset ?? null,
        highWatermark: p?.highWatermark ?? null,
        logEndOffset: p?.logEndOffset ?? null,
        lag: p === undefined ? null : Math.max(0, p.highWatermark - committed),
        metadata: o.metadata,
        memberId: owners.get(`${o.topic}\u0000${o.partition}`) ?? null,
      };
    });
}

export function groupList(ctx: ConsoleContext): unknown {
  const c = coordinator(ctx);
  return c
    .listGroups()
    .map((g) => {
      const d = c.describeGroup(g.groupId);
      const rows = offsets(ctx, g.groupId, new Map());
      return {
        groupId: g.groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: d.protocolData,
        members: d.members.length,
        topics: [...new Set(rows.map((r) => r.topic))].sort(),
        partitions: rows.length,
        lag: rows.reduce((sum, r) => sum + (r.lag ?? 0), 0),
      };
    })
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

export function groupDetail(ctx: ConsoleContext, groupId: string): unknown {
  const c = coordinator(ctx);
  const d = c.describeGroup(groupId);
  if (d.errorCode !== ErrorCode.NONE) throw new ApiError(503, `group ${groupId}: ${errorName(d.errorCode)}`);
  const known = c.listGroups().some((g) => g.groupId === groupId);
  if (!known) throw new ApiError(404, `group ${groupId} does not exist`);
  const owners = new Map<string, string>();
  const members = d.members.map((m) => {
    let assignment: { topic: string; partitions: number[] }[] = [];
    let assignmentError: string | undefined;
    if (d.protocolType === 'consumer' && m.memberAssignment.length > 0) {
      try {
        assignment = [...decodeAssignment(m.memberAssignment)].map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
      } catch (err) {
        assignmentError = `assignment bytes do not decode as ConsumerProtocolAssignment: ${(err as Error).message}`;
      }
    }
    for (const a of assignment) for (const p of a.partitions) owners.set(`${a.topic}\u0000${p}`, m.memberId);
    return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, assignment, ...(assignmentError !== undefined ? { assignmentError } : {}) };
  });
  const rows = offsets(ctx, groupId, owners);
  return {
    groupId,
    state: d.groupState,
    protocolType: d.protocolType,
    protocol: d.protocolData,
    coordinatorPartition: c.partitionFor(groupId),
    members,
    offsets: rows,
    lag: rows.reduce((sum, r) => sum + (r.lag ?? 0), 0),
    canResetOffsets: d.groupState === 'Empty' || d.groupState === 'Dead',
  };
}

type ResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'offset'; offset: number } | { to: 'timestamp'; timestamp: number };

function parseReset(body: unknown): { target: ResetTarget; topics: string[] | null } {
  if (body === null || typeof body !== 'object') throw new ApiError(400, 'body must be a JSON object: {"to": "earliest"|"latest"|"offset"|"timestamp", ...}');
  const b = body as Record<string, unknown>;
  const topics = b['topics'];
  if (topics !== undefined && (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string'))) throw new ApiError(400, 'topics must be an array of topic names');
  const num = (name: string): number => {
    const v = b[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ApiError(400, `${name} must be a non-negative integer`);
    return v;
  };
  let target: ResetTarget;
  switch (b['to']) {
    case 'earliest':
    case 'latest':
      target = { to: b['to'] };
      break;
    case 'offset':
      target = { to: 'offset', offset: num('offset') };
      break;
    case 'timestamp':
      target = { to: 'timestamp', timestamp: num('timestamp') };
      break;
    default:
      throw new ApiError(400, `to must be earliest, latest, offset or timestamp, got ${JSON.stringify(b['to'])}`);
  }
  return { target, topics: (topics as string[] | undefined) ?? null };
}

/**
 * Resets the committed offsets of `topics` (all their partitions), or of every partition the group has an
 * offset for. Offsets are clamped to [log start, high watermark], as kafka-consumer-groups.sh does.
 */
export async function resetGroupOffsets(ctx: ConsoleContext, groupId: string, body: unknown): Promise<unknown> {
  const c = coordinator(ctx);
  const { target, topics } = parseReset(body);
  const state = c.describeGroup(groupId).groupState;
  if (state !== 'Empty' && state !== 'Dead') {
    // Kafka's message (ConsumerGroupCommand) for the same refusal.
    throw new ApiError(409, `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${state}.`);
  }
  let partitions: { topic: string; partition: number }[];
  if (topics !== null) {
    partitions = [];
    for (const name of topics) {
      const t = ctx.broker.image.topic(name);
      if (t === undefined) throw new ApiError(404, `topic ${name} does not exist`);
      for (const p of t.partitions) partitions.push({ topic: name, partition: p.partition });
    }
  } else {
    partitions = c.fetchOffsets(groupId, null).offsets.filter((o) => o.offset >= 0n).map((o) => ({ topic: o.topic, partition: o.partition }));
  }
  if (partitions.length === 0) throw new ApiError(400, `group ${groupId} has no committed offsets; name the topics to reset`);
  const planned: { topic: string; partition: number; offset: number }[] = [];
  for (const { topic, partition } of partitions) {
    const p = ctx.broker.getPartition(topic, partition);
    if (p === undefined) throw new ApiError(404, `partition ${topic}-${partition} is not hosted on this broker`);
    let offset: number;
    if (target.to === 'earliest') offset = p.logStartOffset;
    else if (target.to === 'latest') offset = p.highWatermark;
    else if (target.to === 'offset') offset = target.offset;
    else offset = (await p.offsetForTimestamp(target.timestamp))?.offset ?? p.highWatermark;
    planned.push({ topic, partition, offset: Math.min(Math.max(offset, p.logStartOffset), p.highWatermark) });
  }
  const errors = await c.commitOffsets({
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets: planned.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1, metadata: '' })),
  });
  const failed = errors.map((e, i) => ({ e, i })).filter(({ e }) => e !== ErrorCode.NONE);
  if (failed.length > 0) {
    const first = failed[0]!;
    // A consumer joined between the state check and the commit: the coordinator refused (UNKNOWN_MEMBER_ID).
    const status = first.e === ErrorCode.UNKNOWN_MEMBER_ID ? 409 : 500;
    throw new ApiError(status, `offset commit for ${planned[first.i]!.topic}-${planned[first.i]!.partition} failed: ${errorName(first.e)}`);
  }
  ctx.logger.info({ group: groupId, to: target.to, partitions: planned.length }, 'console reset consumer group offsets');
  return { groupId, reset: planned };
}
