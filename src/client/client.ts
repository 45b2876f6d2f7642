/**
 * A small Kafka client for the `samsa` command line: bootstrap, cluster metadata, one connection per broker,
 * requests routed to partition leaders and group coordinators. It speaks to Samsa or Apache Kafka alike,
 * using only this project's protocol declarations (no kafkajs at runtime).
 */
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { ErrorCode, errorName } from '../../protocol/errors.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';
import { BrokerConnection, ConnectionError } from './connection.js';

const { LEADER_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR } = ErrorCode;

/** The broker answered with a Kafka error code. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function brokerError(code: number, context: string, message?: string | null): BrokerError {
  return new BrokerError(code, `${context}: ${errorName(code)}${message ? ` (${message})` : ''}`);
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  internal: boolean;
  errorCode: number;
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicInfo[];
}

export interface ClientOptions {
  bootstrap: string;
  clientId?: string;
  timeoutMs?: number;
}

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s.trim());
  if (m === null) throw new ConnectionError(`bootstrap server '${s}' is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

export class KafkaClient {
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  private brokers = new Map<number, BrokerInfo>();
  private readonly clientId: string;
  readonly timeoutMs: number;

  constructor(private readonly opts: ClientOptions) {
    this.clientId = opts.clientId ?? 'samsa-cli';
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Any broker: the bootstrap servers in order, the first that answers. */
  async any(): Promise<BrokerConnection> {
    let last: unknown = null;
    for (const server of this.opts.bootstrap.split(',')) {
      const { host, port } = parseHostPort(server);
      try {
        return await this.connection(host, port);
      } catch (err) {
        last = err;
      }
    }
    throw last instanceof Error ? last : new ConnectionError(`no bootstrap server reachable: ${this.opts.bootstrap}`);
  }

  async node(nodeId: number): Promise<BrokerConnection> {
    let b = this.brokers.get(nodeId);
    if (b === undefined) {
      await this.metadata([]);
      b = this.brokers.get(nodeId);
    }
    if (b === undefined) throw new ConnectionError(`broker ${nodeId} is not in the cluster metadata`);
    return this.connection(b.host, b.port);
  }

  private connection(host: string, port: number): Promise<BrokerConnection> {
    const key = `${host}:${port}`;
    let c = this.connections.get(key);
    if (c === undefined) {
      c = BrokerConnection.open(host, port, { clientId: this.clientId, timeoutMs: this.timeoutMs });
      this.connections.set(key, c);
      c.catch(() => this.connections.delete(key));
    }
    return c;
  }

  /** Metadata for `topics` (null: every topic), never creating one. */
  async metadata(topics: string[] | null): Promise<ClusterMetadata> {
    const conn = await this.any();
    const { response: res } = await conn.request(Metadata, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
    });
    this.brokers = new Map(res.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }]));
    return {
      clusterId: res.clusterId,
      controllerId: res.controllerId,
      brokers: [...this.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
      topics: res.topics.map((t) => ({
        name: t.name ?? '',
        topicId: t.topicId,
        internal: t.isInternal,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offline: p.offlineReplicas,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      })),
    };
  }

  /**
   * Runs `fn` again while it fails with one of the transient errors `codes` (a coordinator still loading, a
   * leader not yet elected for a new topic), as Kafka's clients do, until the client's timeout; then the
   * last error. An unknown topic, though retriable for a client waiting on metadata, is an answer here.
   */
  async retrying<T>(codes: readonly number[], fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    let backoffMs = 50;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof BrokerError) || !codes.includes(err.code) || Date.now() + backoffMs > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 1000);
    }
  }

  /**
   * One topic's metadata, once every partition has a leader (retried meanwhile: a topic just created on
   * Kafka has none for a moment); a BrokerError when the topic does not exist.
   */
  topic(name: string): Promise<TopicInfo> {
    return this.retrying([LEADER_NOT_AVAILABLE], async () => {
      const md = await this.metadata([name]);
      const t = md.topics.find((x) => x.name === name);
      if (t === undefined) throw brokerError(3, `topic ${name}`);
      if (t.errorCode !== 0) throw brokerError(t.errorCode, `topic ${name}`);
      if (t.partitions.some((p) => p.leader < 0)) throw brokerError(LEADER_NOT_AVAILABLE, `topic ${name}`);
      return t;
    });
  }

  /** The group coordinator's connection (FindCoordinator, key type 0), retried while it is not available. */
  coordinator(group: string): Promise<BrokerConnection> {
    return this.retrying([COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR], () => this.findCoordinator(group));
  }

  /**
   * Runs `fn` with the group's coordinator, again (finding the coordinator anew) while the answer is that
   * the coordinator is loading, unavailable or another broker: Kafka answers so while __consumer_offsets is
   * being created or its partition loaded, and after the coordinator moved.
   */
  withCoordinator<T>(group: string, fn: (conn: BrokerConnection) => Promise<T>): Promise<T> {
    return this.retrying([COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR], async () => fn(await this.findCoordinator(group)));
  }

  private async findCoordinator(group: string): Promise<BrokerConnection> {
    const conn = await this.any();
    const version = conn.versionFor(FindCoordinator);
    const res = await conn.send(FindCoordinator, version, version >= 4 ? { keyType: 0, coordinatorKeys: [group] } : { key: group, keyType: 0 });
    let node: { errorCode: number; nodeId: number; host: string; port: number; errorMessage: string | null };
    if (version >= 4) {
      const c = res.coordinators[0];
      if (c === undefined) throw new BrokerError(-1, `FindCoordinator for group ${group} answered no coordinator`);
      node = c;
    } else {
      node = res;
    }
    if (node.errorCode !== 0) throw brokerError(node.errorCode, `coordinator of group ${group}`, node.errorMessage);
    return this.connection(node.host, node.port);
  }

  /** Sends to the controller when the cluster names one (admin requests), else to any broker. */
  async controller(): Promise<BrokerConnection> {
    const md = await this.metadata([]);
    return md.controllerId >= 0 && this.brokers.has(md.controllerId) ? this.node(md.controllerId) : this.any();
  }

  async requestAny<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, body: MessageInput<Req>, cap?: number): Promise<{ version: number; response: MessageValue<Res> }> {
    return (await this.any()).request(api, body, cap);
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const c of all) {
      try {
        (await c).close();
      } catch {
        // a connection that never opened has nothing to close
      }
    }
  }
}
