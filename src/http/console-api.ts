/**
 * The web console's JSON API under /api/ (docs/console.md), read from the in-process broker objects (the
 * metadata image, the replica manager's partitions, the group coordinator, the schema registry): no Kafka
 * client, no second copy of any state. One file per area: this one routes and answers the cluster and
 * topic views; console-messages.ts, console-groups.ts, console-registry.ts and console-files.ts the rest.
 *
 * Errors are JSON `{"error": "..."}` with an HTTP status: 404 for an unknown topic, partition, group or
 * subject, 400 for a bad parameter, 409 for an operation the state refuses (resetting a group with members).
 * The one write (POST reset-offsets) must carry `Content-Type: application/json`: a browser sends that
 * cross-origin only after a CORS preflight, which this server never approves, so another web page cannot
 * make a visitor's browser reset offsets; and its Host must be an address (writeAllowedFromHost: DNS
 * rebinding).
 */
import { statfs } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInternalTopic } from '../broker/internal-topics.js';
import { ConfigSource, resolveTopicConfig, TOPIC_CONFIGS } from '../broker/topic-config.js';
import { isSensitiveConfig } from '../kafka-broker-configs.js';
import { ApiError, intParam, sendJson, type ConsoleContext } from './console-common.js';
import { partitionFile, partitionFiles } from './console-files.js';
import { groupDetail, groupList, resetGroupOffsets } from './console-groups.js';
import { browseMessages } from './console-messages.js';
import { registryOverview, subjectDetail, subjectDiff } from './console-registry.js';

export { consoleContext, type ConsoleContext } from './console-common.js';

/**
 * The Raft quorum as DescribeQuorum reports it (KIP-595/836), if the broker exposes it. The quorum is being
 * wired into the broker separately; the console reads it through this optional accessor and shows
 * "single node" while the broker has none.
 */
export interface QuorumView {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly currentVoters: readonly { readonly replicaId: number; readonly logEndOffset: number; readonly lastFetchTimestamp: number; readonly lastCaughtUpTimestamp: number }[];
  readonly observers: readonly { readonly replicaId: number; readonly logEndOffset: number; readonly lastFetchTimestamp: number; readonly lastCaughtUpTimestamp: number }[];
}
type QuorumSource = { describeQuorum?: (now: number) => QuorumView | null };

const CONFIG_SOURCE_NAMES = new Map<number, string>(Object.entries(ConfigSource).map(([k, v]) => [v, k]));
/** Largest request body the API reads (a reset-offsets request is a few hundred bytes). */
const MAX_BODY = 64 * 1024;

/**
 * DNS rebinding: a web page on attacker.example whose name later resolves to 127.0.0.1 is same-origin with
 * this server in the victim's browser, so the content-type rule above does not stop it. Its requests carry
 * `Host: attacker.example`, so a write is accepted only for a Host that is an IP address or localhost
 * (the console's own page, opened at http://127.0.0.1:8080/ or http://localhost:8080/).
 */
export function writeAllowedFromHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')).toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!writeAllowedFromHost(req.headers.host)) throw new ApiError(403, `writes are accepted only with a Host that is an IP address or localhost (got ${JSON.stringify(req.headers.host ?? null)}): open the console by address`);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'send the body as Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new ApiError(413, `request body over ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (err) {
    throw new ApiError(400, `body is not JSON: ${(err as Error).message}`);
  }
}

/** This node's own view of the quorum (Broker.quorum, filled by src/kraft.ts): known on every voter. */
interface QuorumStatusView {
  readonly nodeId: number;
  readonly state: string;
  readonly leaderId: number;
  readonly epoch: number;
  readonly highWatermark: number;
  readonly logEndOffset: number;
}

/** Every node runs the quorum (a single node is a quorum of one voter): `mode` stays for the console's API. */
type QuorumAnswer = { mode: 'raft'; leader: boolean; quorum: QuorumView | null; status: QuorumStatusView | null };

function quorum(ctx: ConsoleContext): QuorumAnswer {
  const b = ctx.broker;
  const source = b as unknown as QuorumSource;
  const st = b.quorum;
  const status: QuorumStatusView | null = st === null ? null : { nodeId: b.nodeId, state: st.state(), leaderId: st.leaderId(), epoch: st.epoch(), highWatermark: st.highWatermark(), logEndOffset: st.logEndOffset() };
  if (typeof source.describeQuorum !== 'function') {
    // A broker whose quorum view is not exposed: its own status only.
    return { mode: 'raft', leader: false, quorum: null, status };
  }
  // The broker's clock (src/util/clock.ts), the one its timers and a wired quorum run on. DescribeQuorum's
  // voter table is known on the leader only; elsewhere this node's own status is shown.
  const q = source.describeQuorum(b.clock.now());
  return { mode: 'raft', leader: q !== null, quorum: q, status };
}

async function cluster(ctx: ConsoleContext): Promise<unknown> {
  const b = ctx.broker;
  const image = b.image;
  let bytes = 0;
  let partitions = 0;
  let leaders = 0;
  for (const t of image.topics()) {
    for (const p of t.partitions) {
      partitions++;
      const local = b.getPartition(t.name, p.partition);
      if (local !== undefined) bytes += local.log.size;
      if (p.leader === b.nodeId) leaders++;
    }
  }
  const logDirs = await Promise.all(
    b.config.logDirList.map(async (dir) => {
      try {
        const s = await statfs(dir);
        return { path: dir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      } catch {
        return { path: dir, freeBytes: null, totalBytes: null };
      }
    }),
  );
  const self = b.advertised;
  // Every registered broker of the image (one on a single node; a cluster's from its metadata log); this
  // node's own log figures are added to its row.
  const registered = image.brokers.size > 0 ? [...image.brokers.values()] : [{ nodeId: b.nodeId, host: self.host, port: self.port, rack: null, fenced: false }];
  const brokers = registered
    .sort((x, y) => x.nodeId - y.nodeId)
    .map((r) => {
      const isSelf = r.nodeId === b.nodeId;
      return { nodeId: r.nodeId, host: isSelf ? self.host : r.host, port: isSelf ? self.port : r.port, rack: r.rack, fenced: r.fenced, controller: r.nodeId === image.controllerId, self: isSelf, ...(isSelf ? { partitions, leaders, logBytes: bytes, logDirs } : {}) };
    });
  return {
    clusterId: b.config.clusterId,
    controllerId: image.controllerId,
    brokers,
    topics: image.topicCount,
    partitions,
    ...quorum(ctx),
    registry: ctx.registryUrl,
    apis: b.advertisedApis.length,
  };
}

function partitionSummary(ctx: ConsoleContext, topic: string, p: { partition: number; leader: number; leaderEpoch: number; replicas: readonly number[]; isr: readonly number[] }): Record<string, unknown> {
  const local = ctx.broker.getPartition(topic, p.partition);
  const base = { partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr, underReplicated: p.isr.length < p.replicas.length };
  // Not hosted here (led by another broker of a cluster): the log figures are that broker's to show. Offline
  // means no leader in the metadata (leader -1), as OfflinePartitionsCount counts it.
  if (local === undefined) return { ...base, hostedHere: false, offline: p.leader < 0 };
  // Replication (docs/replication.md): a leader shows each follower's LEO and lag behind its log end.
  const replication = local.isLeader ? { role: 'leader', followers: local.followerStates() } : { role: 'follower' };
  return { ...base, hostedHere: true, offline: false, logStartOffset: local.logStartOffset, highWatermark: local.highWatermark, lastStableOffset: local.lastStableOffset, logEndOffset: local.logEndOffset, size: local.log.size, segments: local.log.numberOfSegments, ...replication };
}

function topics(ctx: ConsoleContext): unknown {
  const out = [];
  for (const t of ctx.broker.image.topics()) {
    let size = 0;
    let records = 0;
    let underReplicated = 0;
    for (const p of t.partitions) {
      const local = ctx.broker.getPartition(t.name, p.partition);
      if (local !== undefined) {
        size += local.log.size;
        records += local.highWatermark - local.logStartOffset;
      }
      if (p.isr.length < p.replicas.length) underReplicated++;
    }
    out.push({ name: t.name, topicId: t.topicId, internal: isInternalTopic(t.name), partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, size, records, underReplicated, overrides: t.configs.size });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function topicDetail(ctx: ConsoleContext, name: string): unknown {
  const t = ctx.broker.image.topic(name);
  if (t === undefined) throw new ApiError(404, `topic ${name} does not exist`);
  const configs = TOPIC_CONFIGS.map((def) => {
    const r = resolveTopicConfig(ctx.broker.config, t.configs, def.name)!;
    const sensitive = isSensitiveConfig(def.name);
    return { name: def.name, value: sensitive ? null : r.value, source: CONFIG_SOURCE_NAMES.get(r.source) ?? String(r.source), isDefault: r.isDefault, sensitive };
  });
  const partitions = t.partitions.map((p) => {
    const summary = partitionSummary(ctx, name, p);
    const local = ctx.broker.getPartition(name, p.partition);
    if (local === undefined) return summary;
    let segments: unknown[] = [];
    try {
      const view = local.log.cleanerView().segments;
      segments = view.map((s, i) => ({
        baseOffset: s.baseOffset,
        nextOffset: s.segment.nextOffset,
        size: s.size,
        indexEntries: s.segment.offsetIndex.entries,
        indexBytes: s.segment.offsetIndex.entries * 8,
        timeIndexEntries: s.segment.timeIndex.entries,
        timeIndexBytes: s.segment.timeIndex.entries * 12,
        largestTimestamp: s.largestTimestamp,
        lastModifiedMs: s.lastModifiedMs,
        active: i === view.length - 1,
      }));
    } catch (err) {
      // A log taken offline after an I/O error: the partition row stays, its segments are not listed.
      summary['segmentsError'] = (err as Error).message;
    }
    return { ...summary, dir: local.log.dir, segmentList: segments };
  });
  return { name: t.name, topicId: t.topicId, internal: isInternalTopic(t.name), configs, partitions };
}

/** Route table: the path's segments after /api/. */
export async function handleConsoleApi(ctx: ConsoleContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const head = req.method === 'HEAD';
  const parts = url.pathname.slice('/api/'.length).split('/').filter((s) => s !== '').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ApiError(400, `bad percent-encoding in ${s}`);
    }
  });
  const q = url.searchParams;
  const get = req.method === 'GET' || head;
  const route = parts.join('/');
  let body: unknown;
  try {
    if (get && route === 'cluster') body = await cluster(ctx);
    else if (get && route === 'topics') body = topics(ctx);
    else if (get && parts[0] === 'topics' && parts.length === 2) body = topicDetail(ctx, parts[1]!);
    else if (get && parts[0] === 'topics' && parts[2] === 'partitions' && parts.length >= 5) {
      const index = intParam(new URLSearchParams({ partition: parts[3]! }), 'partition', 0, 0, 1 << 30)!;
      if (parts[4] === 'messages' && parts.length === 5) body = await browseMessages(ctx, parts[1]!, index, q);
      else if (parts[4] === 'files' && parts.length === 5) body = await partitionFiles(ctx, parts[1]!, index);
      else if (parts[4] === 'files' && parts.length === 6) body = await partitionFile(ctx, parts[1]!, index, parts[5]!, q);
      else throw new ApiError(404, `no such API: /api/${route}`);
    } else if (get && route === 'groups') body = groupList(ctx);
    else if (get && parts[0] === 'groups' && parts.length === 2) body = groupDetail(ctx, parts[1]!);
    else if (req.method === 'POST' && parts[0] === 'groups' && parts[2] === 'reset-offsets' && parts.length === 3) body = await resetGroupOffsets(ctx, parts[1]!, await readJsonBody(req));
    else if (get && route === 'registry') body = registryOverview(ctx);
    else if (get && parts[0] === 'registry' && parts[1] === 'subjects' && parts.length === 3) body = subjectDetail(ctx, parts[2]!);
    else if (get && parts[0] === 'registry' && parts[1] === 'subjects' && parts[3] === 'diff' && parts.length === 4) body = subjectDiff(ctx, parts[2]!, q);
    else if (get && route === 'trace') {
      // Reading the trace is what keeps it recording (protocol-trace.ts).
      ctx.trace.arm();
      body = { capacity: ctx.trace.capacity, maxEntryChars: ctx.trace.maxEntryChars, entries: ctx.trace.entries(intParam(q, 'after', 0) ?? 0) };
    } else if (parts.length > 0 && ['cluster', 'topics', 'groups', 'registry', 'trace'].includes(parts[0]!) && !get && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new ApiError(405, `${req.method} is not allowed here`);
    } else throw new ApiError(404, `no such API: ${req.method} /api/${route}`);
  } catch (err) {
    if (err instanceof ApiError) {
      sendJson(res, err.status, { error: err.message }, head);
      return;
    }
    // A failure reading the broker's state (a log taken offline after an I/O error, ...): logged, and
    // answered as JSON so the page can show it.
    ctx.logger.error({ err, path: url.pathname }, 'console API request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    sendJson(res, 500, { error: `internal error: ${(err as Error).message}` }, head);
    return;
  }
  sendJson(res, 200, body, head);
}
