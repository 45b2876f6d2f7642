/**
 * The metadata image: the cluster as this node knows it, as one immutable value (Kafka's MetadataImage):
 * the registered brokers, the topics by name and by id, each partition's replicas, ISR, leader and epochs,
 * and the topic config overrides.
 *
 * Every change builds a new image (the `with...` methods) and the broker swaps its reference to it in one
 * assignment, so a request handler that reads `broker.image` once sees one consistent state, never half of
 * a change. Today the image is built from `samsa-topics.json` and this node's registration (src/broker/
 * broker.ts); with the KRaft quorum it will be the replay of `__cluster_metadata` up to the committed
 * offset (../shared/design/cluster.md A.4, A.11). Nothing here touches storage: which replicas this node
 * hosts, and their logs, are the replica manager's (replica-manager.ts).
 */

/** A registered broker (RegisterBrokerRecord's endpoint of the client listener). */
export interface BrokerRegistration {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** One partition's assignment and leadership (PartitionRecord / PartitionChangeRecord). */
export interface PartitionRegistration {
  readonly partition: number;
  /** The assigned replicas, preferred leader first. */
  readonly replicas: readonly number[];
  /** The in-sync replicas. */
  readonly isr: readonly number[];
  /** The leader's node id, -1 when the partition has none (offline). */
  readonly leader: number;
  /** Bumped on every leader change (KIP-101, KIP-320). */
  readonly leaderEpoch: number;
  /** Bumped on every change of the partition's registration (KIP-841's PartitionEpoch). */
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly PartitionRegistration[];
  /** The topic's config overrides (ConfigRecords of the TOPIC resource). */
  readonly configs: ReadonlyMap<string, string>;
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage('', -1, new Map(), new Map(), new Map());

  private constructor(
    readonly clusterId: string,
    /** The node clients are told is the controller (DescribeCluster, Metadata). */
    readonly controllerId: number,
    readonly brokers: ReadonlyMap<number, BrokerRegistration>,
    private readonly byName: ReadonlyMap<string, TopicImage>,
    private readonly byId: ReadonlyMap<string, TopicImage>,
  ) {
    Object.freeze(this);
  }

  topic(name: string): TopicImage | undefined {
    return this.byName.get(name);
  }

  topicById(topicId: string): TopicImage | undefined {
    return this.byId.get(topicId);
  }

  partition(topic: string, index: number): PartitionRegistration | undefined {
    return this.byName.get(topic)?.partitions[index];
  }

  /** Every topic, in creation order. */
  topics(): IterableIterator<TopicImage> {
    return this.byName.values();
  }

  get topicCount(): number {
    return this.byName.size;
  }

  withCluster(clusterId: string, controllerId: number): MetadataImage {
    return new MetadataImage(clusterId, controllerId, this.brokers, this.byName, this.byId);
  }

  withBroker(broker: BrokerRegistration): MetadataImage {
    const brokers = new Map(this.brokers);
    brokers.set(broker.nodeId, Object.freeze({ ...broker }));
    return new MetadataImage(this.clusterId, this.controllerId, brokers, this.byName, this.byId);
  }

  /** Adds or replaces a topic (by id; a renamed id is not a thing in Kafka). */
  withTopic(topic: TopicImage): MetadataImage {
    const frozen = freezeTopic(topic);
    const byName = new Map(this.byName);
    const byId = new Map(this.byId);
    const previous = byId.get(topic.topicId);
    if (previous && previous.name !== topic.name) byName.delete(previous.name);
    byName.set(topic.name, frozen);
    byId.set(topic.topicId, frozen);
    return new MetadataImage(this.clusterId, this.controllerId, this.brokers, byName, byId);
  }

  withoutTopic(topicId: string): MetadataImage {
    const topic = this.byId.get(topicId);
    if (!topic) return this;
    const byName = new Map(this.byName);
    const byId = new Map(this.byId);
    byName.delete(topic.name);
    byId.delete(topicId);
    return new MetadataImage(this.clusterId, this.controllerId, this.brokers, byName, byId);
  }
}

function freezeTopic(topic: TopicImage): TopicImage {
  const partitions = Object.freeze(
    topic.partitions.map((p) => Object.freeze({ ...p, replicas: Object.freeze([...p.replicas]), isr: Object.freeze([...p.isr]) })),
  );
  return Object.freeze({ name: topic.name, topicId: topic.topicId, partitions, configs: new ReadonlyConfigMap(topic.configs) });
}

/** A Map whose mutators throw: the image's configs cannot be changed behind its back. */
class ReadonlyConfigMap extends Map<string, string> {
  private sealed = false;
  constructor(entries: ReadonlyMap<string, string>) {
    super(entries);
    this.sealed = true;
  }
  override set(key: string, value: string): this {
    if (this.sealed) throw new TypeError('a metadata image is immutable');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new TypeError('a metadata image is immutable');
  }
  override clear(): void {
    throw new TypeError('a metadata image is immutable');
  }
}

/** A single-node partition registration: this node is the only replica, the ISR and the leader. */
export function localPartition(nodeId: number, partition: number, leaderEpoch = 0): PartitionRegistration {
  return { partition, replicas: [nodeId], isr: [nodeId], leader: nodeId, leaderEpoch, partitionEpoch: 0 };
}
