/**
 * A small pipelining Kafka connection for the bench, built from Samsa's own codecs (protocol/). It talks to
 * Samsa and Apache Kafka alike: the versions used (ApiVersions 3, CreateTopics 5, Produce 9, Fetch 12,
 * Metadata 12) are in the range both brokers serve.
 *
 * Responses are matched to requests by correlation id; framing allocates a frame once its size is known
 * (no Buffer.concat per chunk), so the client stays cheap next to the broker it measures.
 */
import { connect, type Socket } from 'node:net';
import { readResponseHeader, responseHeaderVersion, writeRequestHeader } from '../../protocol/headers.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { Produce } from '../../protocol/messages/produce.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { ErrorCode, errorInfo } from '../../protocol/errors.js';

export const VERSIONS = { apiVersions: 3, createTopics: 5, produce: 9, fetch: 12, metadata: 12 } as const;

type Waiter = (frame: Buffer | null) => void;

export class WireConnection {
  private sizeBuf = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;
  private readonly waiters = new Map<number, Waiter>();
  private nextCorrelationId = 1;
  closed = false;
  /** Called for every response frame whose correlation id has no waiter (the replayer's fast path). */
  onFrame: ((correlationId: number, frame: Buffer) => void) | null = null;
  onClose: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.values()) w(null);
      this.waiters.clear();
      this.onClose?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(new WireConnection(s));
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private onData(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.frame === null) {
        const take = Math.min(4 - this.sizeFilled, chunk.length - pos);
        chunk.copy(this.sizeBuf, this.sizeFilled, pos, pos + take);
        this.sizeFilled += take;
        pos += take;
        if (this.sizeFilled < 4) return;
        this.sizeFilled = 0;
        const size = this.sizeBuf.readInt32BE(0);
        if (chunk.length - pos >= size) {
          this.deliver(chunk.subarray(pos, pos + size));
          pos += size;
          continue;
        }
        this.frame = Buffer.allocUnsafe(size);
        this.frameFilled = 0;
      }
      const take = Math.min(this.frame.length - this.frameFilled, chunk.length - pos);
      chunk.copy(this.frame, this.frameFilled, pos, pos + take);
      this.frameFilled += take;
      pos += take;
      if (this.frameFilled === this.frame.length) {
        const done = this.frame;
        this.frame = null;
        this.deliver(done);
      }
    }
  }

  private deliver(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const w = this.waiters.get(correlationId);
    if (w) {
      this.waiters.delete(correlationId);
      w(frame);
    } else {
      this.onFrame?.(correlationId, frame);
    }
  }

  allocateCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff || 1;
    return id;
  }

  /** Encodes a whole frame (size prefix included) for api/version with the given correlation id. */
  static encode<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>, correlationId: number, clientId = 'samsa-bench'): Buffer {
    const w = new Writer(1024);
    w.int32(0);
    writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId }, api.request.isFlexible(version));
    api.request.encode(w, body, version);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return frame;
  }

  static decode<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, frame: Buffer): MessageValue<Res> {
    const r = new Reader(frame);
    readResponseHeader(r, responseHeaderVersion(api.apiKey, api.response.isFlexible(version)));
    return api.response.decode(r, version);
  }

  write(frame: Buffer): boolean {
    return this.socket.write(frame);
  }

  async request<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>, timeoutMs = 30_000): Promise<MessageValue<Res>> {
    if (this.closed) throw new Error('connection closed');
    const correlationId = this.allocateCorrelationId();
    const frame = await new Promise<Buffer | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(correlationId);
        reject(new Error(`${api.name} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(correlationId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.socket.write(WireConnection.encode(api, version, body, correlationId));
    });
    if (frame === null) throw new Error(`connection closed before the ${api.name} response`);
    return WireConnection.decode(api, version, frame);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The api keys the broker advertises. */
export async function advertisedApiKeys(conn: WireConnection): Promise<Set<number>> {
  const res = await conn.request(ApiVersions, VERSIONS.apiVersions, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '1' });
  return new Set(res.apiKeys.map((k) => k.apiKey));
}

/** How a topic is created: replication factor 1 and no configs unless a cluster run asks for more. */
export interface TopicShape {
  replicationFactor: number;
  configs: { name: string; value: string }[];
}

export const SINGLE_NODE_TOPIC: TopicShape = { replicationFactor: 1, configs: [] };

/** Creates a topic; an existing topic is fine. Throws on any other error. */
export async function createTopic(conn: WireConnection, name: string, partitions: number, shape: TopicShape = SINGLE_NODE_TOPIC): Promise<void> {
  const res = await conn.request(CreateTopics, VERSIONS.createTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: shape.replicationFactor, assignments: [], configs: shape.configs }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  const t = res.topics[0]!;
  if (t.errorCode !== ErrorCode.NONE && t.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
    throw new Error(`CreateTopics ${name}: ${errorInfo(t.errorCode).name} ${t.errorMessage ?? ''}`);
  }
}

/** Produces one small record to a partition with acks=1; returns the error code. */
export async function produceOne(conn: WireConnection, topic: string, partition = 0): Promise<number> {
  const batch = buildBatchSync([{ key: null, value: Buffer.from('first') }]);
  const res = await conn.request(Produce, VERSIONS.produce, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  return res.responses[0]?.partitionResponses[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * Creates a topic and waits until Metadata shows a leader for every partition and, with a replication
 * factor above 1, a full ISR (so an acks=all workload does not start while a follower is still joining).
 * With `probe`, it also produces one small record to each partition, at its leader, until the leader
 * accepts it (Kafka's replica manager can lag its metadata by a moment), so a load generator that does
 * not retry starts on a ready topic.
 */
export async function ensureTopic(conn: WireConnection, name: string, partitions: number, probe: boolean, shape: TopicShape = SINGLE_NODE_TOPIC, timeoutMs = 60_000): Promise<void> {
  await createTopic(conn, name, partitions, shape);
  const deadline = Date.now() + timeoutMs;
  const leaders = new Map<number, number>();
  const ports = new Map<number, number>();
  for (;;) {
    const md = await conn.request(Metadata, VERSIONS.metadata, { topics: [{ name }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const t = md.topics[0];
    const ready = t && t.errorCode === ErrorCode.NONE && t.partitions.length === partitions &&
      t.partitions.every((p) => p.errorCode === ErrorCode.NONE && p.leaderId >= 0 && p.isrNodes.length >= shape.replicationFactor);
    if (ready) {
      for (const p of t.partitions) leaders.set(p.partitionIndex, p.leaderId);
      for (const b of md.brokers) ports.set(b.nodeId, b.port);
      break;
    }
    if (Date.now() > deadline) throw new Error(`topic ${name} has no leaders or no full ISR after ${timeoutMs} ms`);
    await sleep(20);
  }
  if (!probe) return;
  const opened = new Map<number, WireConnection>();
  try {
    for (let p = 0; p < partitions; p++) {
      const port = ports.get(leaders.get(p)!);
      let leader = conn;
      if (port !== undefined && port !== conn.socket.remotePort) {
        leader = opened.get(port) ?? (await WireConnection.open(port));
        opened.set(port, leader);
      }
      for (;;) {
        const code = await produceOne(leader, name, p);
        if (code === ErrorCode.NONE) break;
        if (Date.now() > deadline) throw new Error(`topic ${name} partition ${p} refuses produce (error ${code})`);
        await sleep(20);
      }
    }
  } finally {
    for (const c of opened.values()) c.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
