/**
 * The workloads, as data, and the figures the report compares. bench/README.md explains each one.
 * `--cluster` has its own plan (makeClusterPlan): three nodes each side, every topic with replication
 * factor 3 and min.insync.replicas=2, the Java producers with acks=all.
 */

export type Workload =
  | { id: string; kind: 'producer'; topic: string; partitions: number; recordSize: number; acks: '1' | 'all'; records: number }
  | { id: string; kind: 'consumer'; topic: string; partitions: number; recordSize: number; records: number }
  | { id: string; kind: 'replay-produce'; topic: string; partitions: number; recordSize: number; acks: '1' | 'all'; records: number }
  | { id: string; kind: 'replay-fetch'; topic: string; partitions: number; recordSize: number; records: number }
  | { id: string; kind: 'e2e'; topic: string; partitions: number; recordSize: number; acks: '1' | 'all'; rate: number; seconds: number; warmupSeconds: number };

/** What a cluster run adds to every topic it creates (issue 12's bench: RF=3, min.insync.replicas=2). */
export interface ClusterShape {
  nodes: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

export interface Plan {
  mode: 'quick' | 'full';
  /** null: one broker each side (the default bench); otherwise a cluster of this shape each side. */
  cluster: ClusterShape | null;
  repetitions: number;
  /** Time limit for one load generator run. */
  toolTimeoutMs: number;
  /** 1 KiB records the replayer produces and fetches back after start, untimed, to warm both brokers' JITs. */
  warmupRecords: number;
  workloads: Workload[];
}

export function makePlan(mode: 'quick' | 'full'): Plan {
  const q = mode === 'quick';
  const n1k = q ? 40_000 : 500_000; // 1 KiB records: 39 MiB quick, 488 MiB full
  const n100 = q ? 200_000 : 3_000_000; // 100-byte records
  const replay1k = q ? 100_000 : 1_000_000;
  const replay100 = q ? 500_000 : 5_000_000;
  return {
    mode,
    cluster: null,
    repetitions: q ? 1 : 3,
    toolTimeoutMs: q ? 90_000 : 600_000,
    warmupRecords: q ? 50_000 : 300_000,
    workloads: [
      { id: 'producer-1k-p1-acks1', kind: 'producer', topic: 'pp-1k-p1-acks1', partitions: 1, recordSize: 1024, acks: '1', records: n1k },
      { id: 'producer-1k-p6-acks1', kind: 'producer', topic: 'pp-1k-p6-acks1', partitions: 6, recordSize: 1024, acks: '1', records: n1k },
      { id: 'producer-1k-p1-acksall', kind: 'producer', topic: 'pp-1k-p1-acksall', partitions: 1, recordSize: 1024, acks: 'all', records: n1k },
      { id: 'producer-1k-p6-acksall', kind: 'producer', topic: 'pp-1k-p6-acksall', partitions: 6, recordSize: 1024, acks: 'all', records: n1k },
      { id: 'producer-100b-p6-acks1', kind: 'producer', topic: 'pp-100b-p6-acks1', partitions: 6, recordSize: 100, acks: '1', records: n100 },
      { id: 'consumer-1k-p1', kind: 'consumer', topic: 'pp-1k-p1-acks1', partitions: 1, recordSize: 1024, records: n1k },
      { id: 'consumer-1k-p6', kind: 'consumer', topic: 'pp-1k-p6-acks1', partitions: 6, recordSize: 1024, records: n1k },
      { id: 'replay-produce-1k-p1-acks1', kind: 'replay-produce', topic: 'rp-1k-p1-acks1', partitions: 1, recordSize: 1024, acks: '1', records: replay1k },
      { id: 'replay-produce-1k-p6-acksall', kind: 'replay-produce', topic: 'rp-1k-p6-acksall', partitions: 6, recordSize: 1024, acks: 'all', records: replay1k },
      { id: 'replay-produce-100b-p6-acks1', kind: 'replay-produce', topic: 'rp-100b-p6-acks1', partitions: 6, recordSize: 100, acks: '1', records: replay100 },
      { id: 'replay-fetch-1k-p6', kind: 'replay-fetch', topic: 'rp-1k-p6-acksall', partitions: 6, recordSize: 1024, records: replay1k },
      { id: 'e2e-1k-p1-acksall', kind: 'e2e', topic: 'e2e-1k-p1-acksall', partitions: 1, recordSize: 1024, acks: 'all', rate: q ? 1000 : 2000, seconds: q ? 8 : 30, warmupSeconds: q ? 2 : 5 },
    ],
  };
}

/**
 * The `--cluster` plan. Only Java-client workloads: they find each partition's leader through Metadata,
 * which the replayer (one connection to one broker) does not. The consumers read the acks=all producers'
 * backlog, so nothing is written with acks=1 in a cluster run.
 */
export function makeClusterPlan(mode: 'quick' | 'full'): Plan {
  const q = mode === 'quick';
  const n1k = q ? 20_000 : 100_000; // 1 KiB records, each written three times (RF=3): 59 / 293 MiB on disk
  return {
    mode,
    cluster: { nodes: 3, replicationFactor: 3, minInsyncReplicas: 2 },
    repetitions: 1,
    toolTimeoutMs: q ? 120_000 : 600_000,
    // Warm-up with ProducerPerformance (acks=all), not the replayer: see above.
    warmupRecords: q ? 20_000 : 50_000,
    workloads: [
      { id: 'producer-1k-p1-acksall', kind: 'producer', topic: 'pp-1k-p1-acksall', partitions: 1, recordSize: 1024, acks: 'all', records: n1k },
      { id: 'producer-1k-p6-acksall', kind: 'producer', topic: 'pp-1k-p6-acksall', partitions: 6, recordSize: 1024, acks: 'all', records: n1k },
      { id: 'consumer-1k-p6', kind: 'consumer', topic: 'pp-1k-p6-acksall', partitions: 6, recordSize: 1024, records: n1k },
      { id: 'e2e-1k-p1-acksall', kind: 'e2e', topic: 'e2e-1k-p1-acksall', partitions: 1, recordSize: 1024, acks: 'all', rate: q ? 500 : 1000, seconds: q ? 8 : 30, warmupSeconds: q ? 2 : 5 },
    ],
  };
}

export type Better = 'higher' | 'lower';

export interface Figure {
  /** Where the value lives: a workload id, or 'broker' for start/memory figures. */
  source: string;
  metric: string;
  label: string;
  unit: string;
  better: Better;
  /** The Samsa/Kafka ratio asked for (issue 6), if any. */
  target?: { op: '>=' | '<='; ratio: number };
}

const PRODUCE_TARGET = { op: '>=', ratio: 1.0 } as const;

/**
 * The figures of the summary table, in order. A cluster run (issue 12) adds the producers' own latency
 * percentiles (ProducerPerformance's send-to-ack, at saturation) and sets no targets on start time and
 * memory: issue 6's ratios were for one node against Kafka's default heap, and the cluster's Kafka nodes
 * run with a smaller one.
 */
export function figuresFor(workloads: readonly Workload[], cluster = false): Figure[] {
  const out: Figure[] = [];
  for (const w of workloads) {
    switch (w.kind) {
      case 'producer':
      case 'replay-produce':
        out.push({ source: w.id, metric: 'mbPerSec', label: `${w.id}`, unit: 'MB/s', better: 'higher', target: PRODUCE_TARGET });
        if (w.recordSize < 1024) out.push({ source: w.id, metric: 'recordsPerSec', label: `${w.id}`, unit: 'records/s', better: 'higher', target: PRODUCE_TARGET });
        if (cluster && w.kind === 'producer') {
          out.push({ source: w.id, metric: 'p50Ms', label: `${w.id} send-to-ack p50`, unit: 'ms', better: 'lower' });
          out.push({ source: w.id, metric: 'p99Ms', label: `${w.id} send-to-ack p99`, unit: 'ms', better: 'lower' });
        }
        break;
      case 'consumer':
      case 'replay-fetch':
        out.push({ source: w.id, metric: 'mbPerSec', label: `${w.id}`, unit: 'MB/s', better: 'higher', target: PRODUCE_TARGET });
        break;
      case 'e2e':
        out.push({ source: w.id, metric: 'p50Ms', label: `${w.id} p50`, unit: 'ms', better: 'lower' });
        out.push({ source: w.id, metric: 'p99Ms', label: `${w.id} p99`, unit: 'ms', better: 'lower', target: { op: '<=', ratio: 1.0 } });
        out.push({ source: w.id, metric: 'p999Ms', label: `${w.id} p99.9`, unit: 'ms', better: 'lower' });
        break;
    }
  }
  const of = (t: Figure['target']): { target?: Figure['target'] } => (cluster ? {} : { target: t });
  const nodes = cluster ? ' (3 nodes' : '';
  out.push({ source: 'broker', metric: 'firstProduceMs', label: cluster ? 'start to first produce (3 nodes, RF=3 topic)' : 'start to first produce', unit: 'ms', better: 'lower', ...of({ op: '<=', ratio: 0.1 }) });
  out.push({ source: 'broker', metric: 'idleRssMb', label: cluster ? `RSS idle${nodes} summed)` : 'RSS idle', unit: 'MiB', better: 'lower', ...of({ op: '<=', ratio: 0.2 }) });
  out.push({ source: 'broker', metric: 'loadRssMb', label: cluster ? `RSS under load${nodes}' peak VmRSS summed)` : 'RSS under load (peak VmRSS)', unit: 'MiB', better: 'lower', ...of({ op: '<=', ratio: 0.2 }) });
  out.push({ source: 'broker', metric: 'hwmMb', label: cluster ? `VmHWM at end${nodes} summed)` : 'VmHWM at end', unit: 'MiB', better: 'lower' });
  return out;
}
