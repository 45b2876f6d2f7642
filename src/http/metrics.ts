/**
 * The broker's Prometheus metrics (prom-client). Every name starts `samsa_`, in one scheme:
 * `samsa_<subject>_<quantity>[_<unit>][_total]`, subject one of broker, cluster, controller, topic,
 * partition, request, consumer_group, raft, log_dir; units in Prometheus base units (seconds, bytes);
 * counters end `_total`. Labels: topic, partition, api (the Kafka API name: Produce, Fetch, ...), group,
 * log_dir, state. Redpanda names its metrics the same way (redpanda_kafka_request_latency_seconds, ...);
 * each name here keeps the meaning of one Kafka metric, and docs/metrics.md maps every name to Kafka's JMX
 * name as the Prometheus JMX exporter's example Kafka rules print it (and to kafka_exporter's names for
 * group offsets and lag, which Kafka brokers do not export), so Kafka dashboards can be translated. Request
 * latency is a real Prometheus histogram (the JMX exporter only turns TotalTimeMs into quantile gauges).
 * Node's process metrics are prom-client's defaults with the same prefix (samsa_process_*, samsa_nodejs_*).
 *
 * Counters move once per request or per partition of a request (produce: record count from each batch
 * header, bytes from the batch size; fetch: bytes returned): never per record. Gauges (offsets, sizes,
 * partition counts, lag, disk) are read from the broker when scraped.
 */
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MessageValue } from '../../protocol/schema.js';
import type { FetchResponse } from '../../protocol/messages/fetch.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/messages/produce.js';
import { LOG_OVERHEAD, Offsets } from '../../protocol/records/batch.js';
import type { Broker } from '../broker/broker.js';

const PRODUCE = 0;
const FETCH = 1;

/** Seconds; from 0.5 ms (a metadata answer) to 30 s (a long-poll fetch or a join waiting for a rebalance). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type ProduceReq = MessageValue<(typeof ProduceRequest)['decl']>;
type ProduceRes = MessageValue<(typeof ProduceResponse)['decl']>;
type FetchRes = MessageValue<(typeof FetchResponse)['decl']>;

/** What the dispatcher reports after each request (see Dispatcher.observer). */
export interface RequestObserver {
  requestDone(apiKey: number, apiName: string, request: unknown, response: unknown, seconds: number): void;
}

/** Records and total bytes of the whole batches in a produce partition's `records`, from the batch headers. */
function batchTotals(records: Buffer): { records: number; bytes: number } {
  let pos = 0;
  let count = 0;
  while (pos + Offsets.recordCount + 4 <= records.length) {
    count += records.readInt32BE(pos + Offsets.recordCount);
    pos += LOG_OVERHEAD + records.readInt32BE(pos + Offsets.batchLength);
  }
  return { records: count, bytes: records.length };
}

export class BrokerMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly messagesIn: Counter<'topic'>;
  private readonly bytesIn: Counter<'topic'>;
  private readonly bytesOut: Counter<'topic'>;
  private readonly requests: Counter<'api'>;
  private readonly latency: Histogram<'api'>;
  /** Label children by topic or request name, so a request costs no label-set hashing. */
  private readonly children = new Map<string, { inc(n?: number): void }>();
  private readonly latencyChildren = new Map<string, { observe(v: number): void }>();

  constructor(private readonly broker: Broker) {
    const registers = [this.registry];
    this.messagesIn = new Counter({ name: 'samsa_topic_messages_in_total', help: 'Records appended to the log (BrokerTopicMetrics MessagesInPerSec), per topic.', labelNames: ['topic'], registers });
    this.bytesIn = new Counter({ name: 'samsa_topic_bytes_in_total', help: 'Record batch bytes appended by producers (BrokerTopicMetrics BytesInPerSec), per topic.', labelNames: ['topic'], registers });
    this.bytesOut = new Counter({ name: 'samsa_topic_bytes_out_total', help: 'Record batch bytes returned to fetchers (BrokerTopicMetrics BytesOutPerSec), per topic.', labelNames: ['topic'], registers });
    this.requests = new Counter({ name: 'samsa_requests_total', help: 'Requests answered (RequestMetrics RequestsPerSec), per API.', labelNames: ['api'], registers });
    this.latency = new Histogram({ name: 'samsa_request_duration_seconds', help: 'Time from a request read to its response ready (RequestMetrics TotalTimeMs, in seconds), per API.', labelNames: ['api'], buckets: LATENCY_BUCKETS, registers });

    const partitions = (): { topic: string; partition: number; replicas: number; isr: number }[] => {
      const out: { topic: string; partition: number; replicas: number; isr: number }[] = [];
      for (const t of this.broker.image.topics()) for (const p of t.partitions) out.push({ topic: t.name, partition: p.partition, replicas: p.replicas.length, isr: p.isr.length });
      return out;
    };
    const local = (topic: string, partition: number) => this.broker.getPartition(topic, partition);
    const gauge = (name: string, help: string, value: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value());
        },
      });
    };
    const perPartition = (name: string, help: string, read: (topic: string, partition: number) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const t of broker.image.topics()) {
            for (const p of t.partitions) {
              const v = read(t.name, p.partition);
              if (v !== undefined) this.set({ topic: t.name, partition: String(p.partition) }, v);
            }
          }
        },
      });
    };
    // Kafka's PartitionCount is the partitions in this broker's ReplicaManager (leader or follower here), not the cluster's.
    gauge('samsa_broker_partitions', 'Partitions hosted by this broker, as leader or follower (ReplicaManager PartitionCount).', () => partitions().filter((p) => local(p.topic, p.partition) !== undefined).length);
    gauge('samsa_broker_leader_partitions', 'Partitions led by this broker (ReplicaManager LeaderCount).', () => partitions().filter((p) => this.broker.leaderPartition(p.topic, p.partition) !== undefined).length);
    // Kafka counts under-replication on the leader only: each partition is counted once in a cluster.
    const ledHere = (p: { topic: string; partition: number }): boolean => this.broker.leaderPartition(p.topic, p.partition) !== undefined;
    gauge('samsa_broker_under_replicated_partitions', 'Partitions led here whose ISR is smaller than their replica set (ReplicaManager UnderReplicatedPartitions).', () => partitions().filter((p) => ledHere(p) && p.isr < p.replicas).length);
    gauge('samsa_controller_active', 'Whether this broker is the active controller (KafkaController ActiveControllerCount).', () => (this.broker.quorum === null ? 1 : this.broker.quorum.isActiveController() ? 1 : 0));
    gauge('samsa_cluster_offline_partitions', 'Partitions without a leader in the metadata (KafkaController OfflinePartitionsCount).', () => {
      let offline = 0;
      for (const t of this.broker.image.topics()) for (const p of t.partitions) if (p.leader < 0) offline++;
      return offline;
    });
    // The KRaft quorum (Kafka's raft-metrics group, kafka.server:type=raft-metrics), on every node (a single node is a quorum of one).
    const quorum = this.broker.quorum;
    if (quorum !== null) {
      gauge('samsa_raft_leader_id', 'The current quorum leader\'s id; -1 when unknown (raft-metrics current-leader).', () => quorum.leaderId());
      gauge('samsa_raft_epoch', 'The current quorum epoch (raft-metrics current-epoch).', () => quorum.epoch());
      gauge('samsa_raft_high_watermark', 'The metadata log\'s high watermark as this node knows it (raft-metrics high-watermark).', () => quorum.highWatermark());
      gauge('samsa_raft_log_end_offset', 'The metadata log\'s end offset on this node (raft-metrics log-end-offset).', () => quorum.logEndOffset());
      new Gauge({
        name: 'samsa_raft_state',
        help: 'This node\'s Raft state: 1 for the current one (raft-metrics current-state).',
        labelNames: ['state'],
        registers,
        collect() {
          this.reset();
          this.set({ state: quorum.state().toLowerCase() }, 1);
        },
      });
    }
    gauge('samsa_cluster_topics', 'Topics in the cluster (KafkaController GlobalTopicCount).', () => this.broker.image.topicCount);
    gauge('samsa_cluster_partitions', 'Partitions in the cluster (KafkaController GlobalPartitionCount).', () => partitions().length);
    perPartition('samsa_partition_size_bytes', 'Bytes in the partition log\'s segments (Log Size).', (t, p) => local(t, p)?.log.size);
    perPartition('samsa_partition_log_start_offset', 'The partition log\'s first offset (Log LogStartOffset).', (t, p) => local(t, p)?.logStartOffset);
    perPartition('samsa_partition_log_end_offset', 'The partition log\'s end offset (Log LogEndOffset).', (t, p) => local(t, p)?.logEndOffset);
    perPartition('samsa_partition_high_watermark', 'The partition\'s high watermark: the offset up to which consumers read (Kafka brokers export no such metric; kafka_exporter: kafka_topic_partition_current_offset).', (t, p) => local(t, p)?.highWatermark);
    perPartition('samsa_partition_isr_size', 'In-sync replicas of the partition (Partition InSyncReplicasCount).', (t, p) => this.broker.image.partition(t, p)?.isr.length);
    perPartition('samsa_partition_under_replicated', '1 when the partition is led here and its ISR is smaller than its replica set (Partition UnderReplicated).', (t, p) => {
      const r = this.broker.image.partition(t, p);
      return r === undefined ? undefined : this.broker.leaderPartition(t, p) !== undefined && r.isr.length < r.replicas.length ? 1 : 0;
    });

    const groupOffsets = (): { group: string; topic: string; partition: number; offset: number; lag: number }[] => {
      const coordinator = broker.groupCoordinator;
      if (coordinator === undefined) return [];
      const out: { group: string; topic: string; partition: number; offset: number; lag: number }[] = [];
      for (const g of coordinator.listGroups()) {
        const { offsets } = coordinator.fetchOffsets(g.groupId, null);
        for (const o of offsets) {
          if (o.offset < 0n) continue;
          const p = broker.getPartition(o.topic, o.partition);
          // Lag as kafka_exporter computes it: the partition's high watermark minus the committed offset.
          out.push({ group: g.groupId, topic: o.topic, partition: o.partition, offset: Number(o.offset), lag: p === undefined ? 0 : Math.max(0, p.highWatermark - Number(o.offset)) });
        }
      }
      return out;
    };
    new Gauge({
      name: 'samsa_consumer_group_committed_offset',
      help: 'Committed offset of a consumer group on a partition (kafka_exporter).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const o of groupOffsets()) this.set({ group: o.group, topic: o.topic, partition: String(o.partition) }, o.offset);
      },
    });
    new Gauge({
      name: 'samsa_consumer_group_lag',
      help: 'High watermark minus the committed offset of a consumer group on a partition (kafka_exporter).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const o of groupOffsets()) this.set({ group: o.group, topic: o.topic, partition: String(o.partition) }, o.lag);
      },
    });
    gauge('samsa_consumer_groups', 'Consumer groups this broker coordinates (GroupMetadataManager NumGroups).', () => broker.groupCoordinator?.listGroups().length ?? 0);

    // Disk per log dir (Kafka: kafka.log:type=Log,name=Size summed per dir, DescribeLogDirs' totalBytes and
    // usableBytes, KIP-827): what this broker's partitions hold there, and what the file system has left.
    const logDirs = broker.config.logDirList.map((d) => resolve(d));
    new Gauge({
      name: 'samsa_log_dir_used_bytes',
      help: 'Bytes in the segments of the partitions stored in this log dir.',
      labelNames: ['log_dir'],
      registers,
      collect() {
        this.reset();
        const used = new Map(logDirs.map((d) => [d, 0]));
        for (const t of broker.image.topics()) {
          for (const p of t.partitions) {
            const log = local(t.name, p.partition)?.log;
            if (log === undefined) continue;
            const dir = resolve(dirname(log.dir));
            used.set(dir, (used.get(dir) ?? 0) + log.size);
          }
        }
        for (const [dir, bytes] of used) this.set({ log_dir: dir }, bytes);
      },
    });
    const statfs = (dir: string): { free: number; total: number } | null => {
      try {
        const s = statfsSync(dir);
        return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
      } catch {
        // A log dir gone offline: no sample rather than a failed scrape.
        return null;
      }
    };
    new Gauge({
      name: 'samsa_log_dir_free_bytes',
      help: 'Bytes the file system holding this log dir has free for this process (DescribeLogDirs usableBytes).',
      labelNames: ['log_dir'],
      registers,
      collect() {
        this.reset();
        for (const d of logDirs) {
          const s = statfs(d);
          if (s !== null) this.set({ log_dir: d }, s.free);
        }
      },
    });
    new Gauge({
      name: 'samsa_log_dir_total_bytes',
      help: 'Size of the file system holding this log dir (DescribeLogDirs totalBytes).',
      labelNames: ['log_dir'],
      registers,
      collect() {
        this.reset();
        for (const d of logDirs) {
          const s = statfs(d);
          if (s !== null) this.set({ log_dir: d }, s.total);
        }
      },
    });

    // Node's process metrics (CPU, memory, heap, event loop lag, GC, file descriptors), prom-client's
    // names under the same prefix: samsa_process_cpu_user_seconds_total, samsa_nodejs_heap_size_used_bytes.
    collectDefaultMetrics({ register: this.registry, prefix: 'samsa_' });
  }

  requestDone(apiKey: number, apiName: string, request: unknown, response: unknown, seconds: number): void {
    this.child(this.requests, 'r', apiName).inc();
    let h = this.latencyChildren.get(apiName);
    if (h === undefined) this.latencyChildren.set(apiName, (h = this.latency.labels(apiName)));
    h.observe(seconds);
    if (apiKey === PRODUCE) this.produced(request as ProduceReq, response as ProduceRes | null);
    else if (apiKey === FETCH && response !== null) this.fetched(response as FetchRes);
  }

  private child(counter: Counter<string>, kind: string, label: string): { inc(n?: number): void } {
    const key = `${kind}\u0000${label}`;
    let c = this.children.get(key);
    if (c === undefined) this.children.set(key, (c = counter.labels(label)));
    return c;
  }

  /** Counts the partitions the broker appended: NONE in the response, or every partition under acks=0. */
  private produced(req: ProduceReq, res: ProduceRes | null): void {
    for (const topic of req.topicData) {
      const answered = res?.responses.find((r) => r.name === topic.name);
      for (const pd of topic.partitionData) {
        if (pd.records === null) continue;
        if (res !== null && answered?.partitionResponses.find((p) => p.index === pd.index)?.errorCode !== 0) continue;
        const { records, bytes } = batchTotals(pd.records);
        this.child(this.messagesIn, 'm', topic.name).inc(records);
        this.child(this.bytesIn, 'i', topic.name).inc(bytes);
      }
    }
  }

  private fetched(res: FetchRes): void {
    for (const t of res.responses) {
      let bytes = 0;
      for (const p of t.partitions) bytes += p.records?.length ?? 0;
      if (bytes > 0) this.child(this.bytesOut, 'o', t.topic).inc(bytes);
    }
  }
}
