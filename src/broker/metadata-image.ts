/**
 * The metadata image: the cluster as this node knows it, as one immutable value (Kafka's MetadataImage):
 * the registered brokers, the topics by name and by id, each partition's replicas, ISR, leader and epochs,
 * the topic config overrides, the dynamic broker configs, the finalized feature levels (metadata.version),
 * the next producer id block, and the metadata log offset it was built up to.
 *
 * Every change builds a new image (the `with...` methods) and the broker swaps its reference to it in one
 * assignment, so a request handler that reads `broker.image` once sees one consistent state, never half of
 * a change. It is the replay of `__cluster_metadata` up to the committed offset, on every node, a single
 * node included (metadata-replay.ts applies one record; ../shared/design/cluster.md A.4, A.11). Nothing here touches storage: which replicas this node
 * hosts, and their logs, are the replica manager's (replica-manager.ts).
 */

/** One listener of a registered broker (RegisterBrokerRecord.endPoints). */
export interface BrokerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Kafka's SecurityProtocol id: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL. */
  readonly securityProtocol: number;
}

/**
 * A registered broker (RegisterBrokerRecord, then BrokerRegistrationChangeRecord / FenceBrokerRecord /
 * UnfenceBrokerRecord). `host`/`port` are the endpoint clients are told about: the first listener the
 * broker registered (a broker registers its client listeners only, never the CONTROLLER one); all of them
 * are in `listeners`, so Metadata can answer with the listener a request came in on.
 */
export interface BrokerRegistration {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /** The broker epoch: the metadata log offset of its RegisterBrokerRecord (KIP-631); -1 for a node not registered through the log. */
  readonly epoch: number;
  /** The incarnation id of the broker process (a random uuid per start); the zero uuid when unknown. */
  readonly incarnationId: string;
  /** A fenced broker leads nothing and is left out of Metadata's broker list (KIP-631). */
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  readonly listeners: readonly BrokerEndpoint[];
}

/** What `withBroker` accepts: the single-node broker knows only its address; the rest defaults to an unfenced, live node. */
export type BrokerRegistrationInput = Pick<BrokerRegistration, 'nodeId' | 'host' | 'port' | 'rack'> & Partial<BrokerRegistration>;

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
  /** KIP-704: 0 RECOVERED (absent = 0), 1 RECOVERING after an unclean election. */
  readonly leaderRecoveryState?: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly PartitionRegistration[];
  /** The topic's config overrides (ConfigRecords of the TOPIC resource). */
  readonly configs: ReadonlyMap<string, string>;
}

/** The parts of an image; each `with...` copies it and replaces one. */
interface ImageState {
  readonly clusterId: string;
  readonly controllerId: number;
  readonly brokers: ReadonlyMap<number, BrokerRegistration>;
  readonly byName: ReadonlyMap<string, TopicImage>;
  readonly byId: ReadonlyMap<string, TopicImage>;
  readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly features: ReadonlyMap<string, number>;
  readonly nextProducerId: bigint;
  readonly offset: number;
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export class MetadataImage {
  static readonly EMPTY = new MetadataImage({
    clusterId: '',
    controllerId: -1,
    brokers: new Map(),
    byName: new Map(),
    byId: new Map(),
    brokerConfigs: new Map(),
    features: new Map(),
    nextProducerId: 0n,
    offset: -1,
  });

  private constructor(private readonly s: ImageState) {
    Object.freeze(this);
  }

  get clusterId(): string {
    return this.s.clusterId;
  }

  /** The node clients are told is the controller (DescribeCluster, Metadata). */
  get controllerId(): number {
    return this.s.controllerId;
  }

  get brokers(): ReadonlyMap<number, BrokerRegistration> {
    return this.s.brokers;
  }

  /**
   * Dynamic broker configs by resource name (ConfigRecord, resource type BROKER): '' is the cluster-wide
   * default, '1' the overrides of node 1.
   */
  get brokerConfigs(): ReadonlyMap<string, ReadonlyMap<string, string>> {
    return this.s.brokerConfigs;
  }

  /** The finalized feature levels (FeatureLevelRecord): metadata.version, kraft.version, ... */
  get features(): ReadonlyMap<string, number> {
    return this.s.features;
  }

  /** The finalized metadata.version level, 0 before any FeatureLevelRecord set it. */
  get metadataVersion(): number {
    return this.s.features.get('metadata.version') ?? 0;
  }

  /** The first producer id of the next block AllocateProducerIds hands out (ProducerIdsRecord, KIP-730). */
  get nextProducerId(): bigint {
    return this.s.nextProducerId;
  }

  /** The metadata log offset of the last record applied; -1 for an image built from nothing. */
  get offset(): number {
    return this.s.offset;
  }

  topic(name: string): TopicImage | undefined {
    return this.s.byName.get(name);
  }

  topicById(topicId: string): TopicImage | undefined {
    return this.s.byId.get(topicId);
  }

  partition(topic: string, index: number): PartitionRegistration | undefined {
    return this.s.byName.get(topic)?.partitions[index];
  }

  /** Every topic, in creation order. */
  topics(): IterableIterator<TopicImage> {
    return this.s.byName.values();
  }

  get topicCount(): number {
    return this.s.byName.size;
  }

  private with(change: Partial<ImageState>): MetadataImage {
    return new MetadataImage({ ...this.s, ...change });
  }

  withCluster(clusterId: string, controllerId: number): MetadataImage {
    return this.with({ clusterId, controllerId });
  }

  withBroker(input: BrokerRegistrationInput): MetadataImage {
    const listeners = input.listeners ?? [{ name: 'PLAINTEXT', host: input.host, port: input.port, securityProtocol: 0 }];
    const broker: BrokerRegistration = Object.freeze({
      nodeId: input.nodeId,
      host: input.host,
      port: input.port,
      rack: input.rack,
      epoch: input.epoch ?? -1,
      incarnationId: input.incarnationId ?? ZERO_UUID,
      fenced: input.fenced ?? false,
      inControlledShutdown: input.inControlledShutdown ?? false,
      listeners: Object.freeze(listeners.map((l) => Object.freeze({ ...l }))),
    });
    const brokers = new Map(this.s.brokers);
    brokers.set(broker.nodeId, broker);
    return this.with({ brokers });
  }

  withoutBroker(nodeId: number): MetadataImage {
    if (!this.s.brokers.has(nodeId)) return this;
    const brokers = new Map(this.s.brokers);
    brokers.delete(nodeId);
    return this.with({ brokers });
  }

  /** Adds or replaces a topic (by id; a renamed id is not a thing in Kafka). */
  withTopic(topic: TopicImage): MetadataImage {
    const configs = topic.configs instanceof ReadonlyConfigMap ? topic.configs : new ReadonlyConfigMap(topic.configs);
    return this.withFrozenTopic(makeTopic(topic.name, topic.topicId, PartitionVector.of(topic.partitions.map(freezePartition)), configs));
  }

  /**
   * Adds or replaces one partition of a topic (PartitionRecord, PartitionChangeRecord): one copy of the
   * partition list, the other partitions shared.
   */
  withPartition(topicId: string, partition: PartitionRegistration): MetadataImage {
    const topic = this.s.byId.get(topicId);
    if (!topic) throw new RangeError(`no topic with id ${topicId}`);
    const vector = partitionVector(topic);
    if (partition.partition < 0 || partition.partition > vector.length) throw new RangeError(`partition ${partition.partition} would leave a gap`);
    return this.withFrozenTopic(makeTopic(topic.name, topic.topicId, vector.set(partition.partition, freezePartition(partition)), topic.configs));
  }

  /** Replaces a topic's config overrides, keeping its partitions. */
  withTopicConfigs(topicId: string, configs: ReadonlyMap<string, string>): MetadataImage {
    const topic = this.s.byId.get(topicId);
    if (!topic) throw new RangeError(`no topic with id ${topicId}`);
    return this.withFrozenTopic(makeTopic(topic.name, topic.topicId, partitionVector(topic), new ReadonlyConfigMap(configs)));
  }

  /** How many partitions a topic has (without materializing its frozen partition list). */
  partitionCount(topicId: string): number {
    const topic = this.s.byId.get(topicId);
    return topic ? partitionVector(topic).length : 0;
  }

  /** One partition of a topic by id (without materializing its frozen partition list). */
  partitionOf(topicId: string, index: number): PartitionRegistration | undefined {
    const topic = this.s.byId.get(topicId);
    return topic ? partitionVector(topic).get(index) : undefined;
  }

  private withFrozenTopic(frozen: TopicImage): MetadataImage {
    const byName = new Map(this.s.byName);
    const byId = new Map(this.s.byId);
    const previous = byId.get(frozen.topicId);
    if (previous && previous.name !== frozen.name) byName.delete(previous.name);
    byName.set(frozen.name, frozen);
    byId.set(frozen.topicId, frozen);
    return this.with({ byName, byId });
  }

  withoutTopic(topicId: string): MetadataImage {
    const topic = this.s.byId.get(topicId);
    if (!topic) return this;
    const byName = new Map(this.s.byName);
    const byId = new Map(this.s.byId);
    byName.delete(topic.name);
    byId.delete(topicId);
    return this.with({ byName, byId });
  }

  /** Replaces the dynamic configs of one broker resource ('' = cluster default); an empty map removes the entry. */
  withBrokerConfigs(resourceName: string, configs: ReadonlyMap<string, string>): MetadataImage {
    const brokerConfigs = new Map(this.s.brokerConfigs);
    if (configs.size === 0) brokerConfigs.delete(resourceName);
    else brokerConfigs.set(resourceName, new ReadonlyConfigMap(configs));
    return this.with({ brokerConfigs });
  }

  /** Sets a finalized feature level; level 0 removes the feature (Kafka: "0: the feature is not supported"). */
  withFeature(name: string, level: number): MetadataImage {
    const features = new Map(this.s.features);
    if (level === 0) features.delete(name);
    else features.set(name, level);
    return this.with({ features });
  }

  withNextProducerId(nextProducerId: bigint): MetadataImage {
    return this.with({ nextProducerId });
  }

  /** The image as of metadata log offset `offset` (the record just applied). */
  withOffset(offset: number): MetadataImage {
    return this.with({ offset });
  }
}

const FROZEN_PARTITIONS = new WeakSet<PartitionRegistration>();

function freezePartition(p: PartitionRegistration): PartitionRegistration {
  if (FROZEN_PARTITIONS.has(p)) return p;
  const frozen = Object.freeze({ ...p, replicas: Object.freeze([...p.replicas]), isr: Object.freeze([...p.isr]) });
  FROZEN_PARTITIONS.add(frozen);
  return frozen;
}

/**
 * A topic's partitions as a persistent vector: chunks of CHUNK partitions, so setting or appending one
 * partition copies the chunk directory and one chunk, not the whole list. Replaying a 10,000-partition
 * topic record by record (a new topic object per record: its creation, or a fencing that changes every
 * partition) is then linear, where copying (and freezing) a full array per record was quadratic.
 */
const CHUNK = 64;

class PartitionVector {
  static readonly EMPTY = new PartitionVector([], 0);

  private constructor(
    private readonly chunks: readonly (readonly PartitionRegistration[])[],
    readonly length: number,
  ) {}

  static of(list: readonly PartitionRegistration[]): PartitionVector {
    const chunks: PartitionRegistration[][] = [];
    for (let i = 0; i < list.length; i += CHUNK) chunks.push(list.slice(i, i + CHUNK));
    return new PartitionVector(chunks, list.length);
  }

  get(index: number): PartitionRegistration | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.chunks[Math.floor(index / CHUNK)]![index % CHUNK];
  }

  /** A new vector with `index` (at most `length`: an append) set to `p`. */
  set(index: number, p: PartitionRegistration): PartitionVector {
    const c = Math.floor(index / CHUNK);
    const chunks = this.chunks.slice();
    const chunk = c < chunks.length ? chunks[c]!.slice() : [];
    chunk[index % CHUNK] = p;
    chunks[c] = chunk;
    return new PartitionVector(chunks, Math.max(this.length, index + 1));
  }

  toArray(): PartitionRegistration[] {
    return this.chunks.flat();
  }
}

const PARTITIONS = new WeakMap<TopicImage, PartitionVector>();

function partitionVector(topic: TopicImage): PartitionVector {
  return PARTITIONS.get(topic) ?? PartitionVector.of(topic.partitions);
}

/**
 * A frozen topic whose `partitions` array is built and frozen when first read (once per topic object):
 * intermediate topics of a replay are never read. `partitions` is an own enumerable getter, so
 * `{ ...topic }` copies the (frozen) list.
 */
function makeTopic(name: string, topicId: string, vector: PartitionVector, configs: ReadonlyMap<string, string>): TopicImage {
  let frozen: readonly PartitionRegistration[] | null = null;
  const topic = { name, topicId, configs } as TopicImage;
  Object.defineProperty(topic, 'partitions', { enumerable: true, get: () => (frozen ??= Object.freeze(vector.toArray())) });
  PARTITIONS.set(topic, vector);
  return Object.freeze(topic);
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
