/**
 * An in-process cluster for the replication tests (issue 12): N real brokers (Broker + Dispatcher +
 * Server on loopback, each with its own data dir, in KRaft broker mode) and a small controller standing in
 * for the quorum controller: it keeps the metadata image, publishes it to every live broker
 * (Broker.publishImage, as the MetadataLoader does), answers the leaders' AlterPartition with Kafka's
 * checks (leader epoch, partition epoch; a committed change bumps the partition epoch and is published),
 * and on a node's death fences it, drops it from every ISR and elects the first live ISR replica in
 * replica order with the leader epoch bumped (Kafka's PartitionChangeBuilder, unclean election off).
 * The replication path under test (Fetch between brokers, the fetcher, the ISR rules) is all real.
 *
 * Each node is registered in the image at a LinkProxy (faults/proxy.ts) in front of its listener, so the
 * followers' fetches from it pass the proxy: `proxy.cut()` pauses replication from that node (bytes held,
 * as a stopped process or a partition would) while clients, which connect to `port` directly, still reach it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { Broker } from '../../src/broker/broker.js';
import { ControllerChannel } from '../../src/broker/controller-channel.js';
import type { AlterPartitionRequestBody, AlterPartitionResponseBody } from '../../src/broker/isr-manager.js';
import { MetadataImage, type PartitionRegistration, type TopicImage } from '../../src/broker/metadata-image.js';
import { buildConfig } from '../../src/config.js';
import { HANDLERS } from '../../src/handlers/index.js';
import { Dispatcher } from '../../src/server/dispatcher.js';
import { Server } from '../../src/server/server.js';
import { systemClock } from '../../src/util/clock.js';
import { randomTopicId } from '../../storage/kafka-uuid.js';
import { LinkProxy } from '../../faults/proxy.js';
import { AlterPartition } from '../../protocol/messages/alter-partition.js';
import { Reader, Writer } from '../../protocol/primitives.js';

export interface ClusterNode {
  readonly id: number;
  readonly dir: string;
  broker: Broker | null;
  server: Server | null;
  port: number;
  /** What the other nodes connect to (the image's address of this node). */
  proxy: LinkProxy | null;
}

export class ReplicationCluster {
  image: MetadataImage;
  readonly nodes = new Map<number, ClusterNode>();
  /** Every AlterPartition the leaders sent, in order, with the answer's error code. */
  readonly alterPartitions: { from: number; request: AlterPartitionRequestBody; errorCode: number }[] = [];
  private readonly publishing: Promise<void>[] = [];
  private nextBrokerEpoch = 100;

  private constructor(private readonly props: Record<string, string>) {
    this.image = MetadataImage.EMPTY.withCluster('replication-test', 1);
  }

  static async start(n: number, props: Record<string, string> = {}): Promise<ReplicationCluster> {
    const c = new ReplicationCluster(props);
    for (let id = 1; id <= n; id++) {
      const dir = await mkdtemp(join(tmpdir(), `samsa-repl-${id}-`));
      c.nodes.set(id, { id, dir, broker: null, server: null, port: 0, proxy: null });
      await c.startNode(id, false);
    }
    await c.publish();
    return c;
  }

  node(id: number): ClusterNode {
    return this.nodes.get(id)!;
  }

  broker(id: number): Broker {
    const b = this.node(id).broker;
    if (!b) throw new Error(`node ${id} is down`);
    return b;
  }

  private async startNode(id: number, publish = true): Promise<void> {
    const node = this.node(id);
    const config = buildConfig(
      new Map(
        Object.entries({
          listeners: 'PLAINTEXT://127.0.0.1:0',
          'log.dirs': node.dir,
          'node.id': String(id),
          'samsa.log.level': 'silent',
          'samsa.schema.registry.enable': 'false',
          'samsa.http.listeners': '',
          'replica.fetch.wait.max.ms': '200',
          'replica.fetch.backoff.ms': '50',
          ...this.props,
        }),
      ),
    );
    const logger = pino({ level: process.env.SAMSA_TEST_LOG ?? 'silent' }).child({ node: id });
    // A channel with no controllers: admin forwarding is not used here; AlterPartition goes to this class.
    const channel = new ControllerChannel({ nodeId: id, controllers: [], leaderHint: () => -1, clock: systemClock, logger });
    const broker = await Broker.start(config, logger, systemClock, { channel, requestTimeoutMs: 2000 });
    // Through the wire codec at v3 (what the broker sends the real controller), so a body that does not
    // encode fails here as it would there.
    broker.replicaManager.isrManager.transport = (request) => {
      const w = new Writer();
      AlterPartition.request.encode(w, request, 3);
      return this.alterPartition(id, AlterPartition.request.decode(new Reader(w.toBuffer()), 3) as AlterPartitionRequestBody);
    };
    const dispatcher = new Dispatcher(broker, HANDLERS, logger, false);
    broker.advertisedApis = dispatcher.apiVersionsList();
    const server = new Server(dispatcher, config.socketRequestMaxBytes, logger);
    const port = await server.listen('127.0.0.1', 0, 'PLAINTEXT');
    broker.advertised = { host: '127.0.0.1', port };
    node.broker = broker;
    node.server = server;
    node.port = port;
    await node.proxy?.close();
    node.proxy = new LinkProxy({ name: `->${id}`, targetPort: port });
    const proxyPort = await node.proxy.start();
    this.image = this.image.withBroker({ nodeId: id, host: '127.0.0.1', port: proxyPort, rack: null, epoch: this.nextBrokerEpoch++, fenced: false });
    if (publish) await this.publish();
  }

  /** Publishes the current image to every live broker, in order. */
  async publish(): Promise<void> {
    const image = this.image;
    const runs: Promise<void>[] = [];
    for (const node of this.nodes.values()) if (node.broker) runs.push(node.broker.publishImage(image));
    const all = Promise.all(runs).then(() => undefined);
    this.publishing.push(all);
    await all;
  }

  createTopic(name: string, replicas: readonly number[], partitions = 1, configs: Record<string, string> = {}): Promise<TopicImage> {
    const topic: TopicImage = {
      name,
      topicId: randomTopicId(),
      configs: new Map(Object.entries(configs)),
      partitions: Array.from({ length: partitions }, (_, p) => {
        const rotated = replicas.map((_, i) => replicas[(i + p) % replicas.length]!);
        return { partition: p, replicas: rotated, isr: rotated, leader: rotated[0]!, leaderEpoch: 0, partitionEpoch: 0 };
      }),
    };
    this.image = this.image.withTopic(topic);
    return this.publish().then(() => topic);
  }

  registration(topic: string, partition = 0): PartitionRegistration {
    return this.image.topic(topic)!.partitions[partition]!;
  }

  private setRegistration(topic: string, reg: PartitionRegistration): void {
    const t = this.image.topic(topic)!;
    const partitions = t.partitions.map((p) => (p.partition === reg.partition ? reg : p));
    this.image = this.image.withTopic({ ...t, partitions });
  }

  /** The controller's AlterPartition (KIP-497/841 checks, reduced to what these tests exercise). */
  private async alterPartition(from: number, request: AlterPartitionRequestBody): Promise<AlterPartitionResponseBody> {
    const topics = [];
    let errorCode: number = ErrorCode.NONE;
    for (const t of request.topics ?? []) {
      const topic = this.image.topicById(t.topicId!);
      const partitions = [];
      for (const p of t.partitions ?? []) {
        const reg = topic?.partitions[p.partitionIndex!];
        let code: number = ErrorCode.NONE;
        if (!topic || !reg) code = ErrorCode.UNKNOWN_TOPIC_ID;
        else if (reg.leader !== from) code = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        else if (p.leaderEpoch !== reg.leaderEpoch) code = ErrorCode.FENCED_LEADER_EPOCH;
        else if (p.partitionEpoch !== reg.partitionEpoch) code = ErrorCode.INVALID_UPDATE_VERSION;
        else if ((p.newIsrWithEpochs ?? []).map((b) => b.brokerId!).some((id) => this.image.brokers.get(id)?.fenced !== false)) code = ErrorCode.INELIGIBLE_REPLICA;
        let answer = reg;
        if (code === ErrorCode.NONE && reg && topic) {
          answer = { ...reg, isr: Object.freeze([...(p.newIsrWithEpochs ?? []).map((b) => b.brokerId!)]), partitionEpoch: reg.partitionEpoch + 1 };
          this.setRegistration(topic.name, answer);
        }
        errorCode = errorCode || code;
        partitions.push({ partitionIndex: p.partitionIndex, errorCode: code, leaderId: answer?.leader ?? -1, leaderEpoch: answer?.leaderEpoch ?? -1, isr: [...(answer?.isr ?? [])], leaderRecoveryState: 0, partitionEpoch: answer?.partitionEpoch ?? -1 });
      }
      topics.push({ topicId: t.topicId!, partitions });
    }
    this.alterPartitions.push({ from, request, errorCode });
    // The commit reaches the brokers through the image too (after the answer, as the log would).
    void this.publish();
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics } as AlterPartitionResponseBody;
  }

  /**
   * Stops a node abruptly (its server and broker close without a controlled shutdown) and does what the
   * controller does once its session expires: fence it, remove it from every ISR it is in (unless it is
   * the last member), and elect a new leader where it led. With `fence: false` the controller does not
   * notice (a stopped process before its session expires): the image stays as it is. With `halt: true`
   * the broker is killed rather than stopped (Broker.halt, as kill -9: no clean-shutdown markers, producer
   * snapshots or HW checkpoint written); its fetchers are stopped first and its AlterPartitions refused,
   * as nothing of a dead process reaches the others.
   */
  async kill(id: number, opts: { fence?: boolean; halt?: boolean } = {}): Promise<void> {
    const node = this.node(id);
    await node.proxy?.close();
    node.proxy = null;
    await node.server?.close();
    const broker = node.broker;
    if (broker && opts.halt) {
      broker.replicaManager.isrManager.transport = () => Promise.reject(new Error(`node ${id} was killed`));
      await broker.replicaManager.fetchers.shutdown();
      await broker.halt();
    } else {
      await broker?.shutdown();
    }
    node.broker = null;
    node.server = null;
    if (opts.fence === false) return;
    const reg = this.image.brokers.get(id)!;
    this.image = this.image.withBroker({ ...reg, fenced: true });
    for (const t of this.image.topics()) {
      for (const p of t.partitions) {
        if (!p.replicas.includes(id)) continue;
        const isr = p.isr.length > 1 ? p.isr.filter((r) => r !== id) : p.isr;
        let leader = p.leader;
        if (leader === id) leader = p.replicas.find((r) => r !== id && isr.includes(r) && this.image.brokers.get(r)?.fenced === false) ?? -1;
        this.setRegistration(t.name, { ...p, isr, leader, leaderEpoch: leader !== p.leader ? p.leaderEpoch + 1 : p.leaderEpoch, partitionEpoch: p.partitionEpoch + 1 });
      }
    }
    await this.publish();
  }

  /** Starts a killed node again on its data dir; it registers (unfenced) and gets the current image. */
  async restart(id: number): Promise<void> {
    await this.startNode(id);
  }

  async destroy(): Promise<void> {
    await Promise.allSettled(this.publishing);
    for (const node of this.nodes.values()) {
      await node.proxy?.close();
      await node.server?.close();
      await node.broker?.shutdown();
      node.broker = null;
      await rm(node.dir, { recursive: true, force: true });
    }
  }
}
