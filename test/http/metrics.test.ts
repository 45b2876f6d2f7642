/**
 * /metrics and /health on the broker's HTTP listener (samsa.http.listeners): the text parses with a
 * Prometheus text-format parser, counters move by exactly the traffic sent (records, bytes, requests),
 * gauges match the broker's state (log sizes, offsets, group lag), and the listener's configuration
 * (off when empty, a bad value, a port in use) is handled. Every name is samsa_ and listed in docs/metrics.md.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../src/client/client.js';
import { commitOffsets, fetchOnce, produce } from '../../src/client/operations.js';
import { BrokerMetrics } from '../../src/http/metrics.js';
import { HttpConfigError } from '../../src/http/server.js';
import { ListenerError } from '../../src/server/server.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { ReplicationCluster } from '../helpers/replication-cluster.js';

let broker: TestBroker;
let client: KafkaClient;
let base: string;

beforeAll(async () => {
  broker = await startTestBroker({ 'samsa.http.listeners': 'http://127.0.0.1:0', 'group.initial.rebalance.delay.ms': '0' });
  base = `http://127.0.0.1:${broker.httpPort}`;
  client = new KafkaClient({ bootstrap: broker.bootstrap });
});
afterAll(async () => {
  await client.close();
  await broker.destroy();
});

type Scrape = MetricFamily[] & { text: string };

async function scrape(): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return Object.assign(parsePrometheusTextFormat(text), { text });
}

/**
 * A labelled histogram's _count: read from the text, as the parser folds every labelled histogram series
 * into one (it handles only unlabelled histograms).
 */
function histogramCount(s: Scrape, name: string, api: string): number {
  const m = new RegExp(`^${name}_count\\{api="${api}"\\} (\\d+)$`, 'm').exec(s.text);
  return m === null ? 0 : Number(m[1]);
}

/** The value of `name` for the sample whose labels include `labels` (0 when there is none yet). */
function value(families: Scrape, name: string, labels: Record<string, string> = {}): number {
  const f = families.find((x) => x.name === name);
  const s = f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (s === undefined) return 0;
  return Number(f!.type === 'HISTOGRAM' ? s.count : s.value);
}

async function createTopic(name: string, partitions: number): Promise<void> {
  await broker.broker.createTopic(name, partitions, 1, new Map());
}

describe('/metrics', () => {
  it('counts produced records and bytes per topic, per request, once per batch', async () => {
    await createTopic('metrics-in', 2);
    const before = await scrape();
    const t = await client.topic('metrics-in');
    const rec = (v: string) => ({ key: null, value: Buffer.from(v) });
    // One Produce request carrying two partitions: 5 records and 2.
    await produce(client, t, new Map([[0, ['a', 'b', 'c', 'd', 'e'].map(rec)], [1, ['f', 'g'].map(rec)]]), { acks: -1, timeoutMs: 5000 });
    // acks=0: no answer, still appended and counted.
    await produce(client, t, new Map([[1, [rec('h')]]]), { acks: 0, timeoutMs: 5000 });
    const p1 = broker.broker.getPartition('metrics-in', 1)!;
    for (let deadline = Date.now() + 10_000; p1.logEndOffset < 3; ) {
      if (Date.now() > deadline) throw new Error('acks=0 record never appended');
      await new Promise((r) => setImmediate(r));
    }
    // A refused partition (it does not exist) counts no record.
    await expect(produce(client, { ...t, partitions: [...t.partitions, { ...t.partitions[0]!, partition: 7 }] }, new Map([[7, [rec('x')]]]), { acks: -1, timeoutMs: 5000 })).rejects.toThrow(/UNKNOWN_TOPIC_OR_PARTITION/);

    const after = await scrape();
    const logBytes = broker.broker.getPartition('metrics-in', 0)!.log.size + p1.log.size;
    expect(value(after, 'samsa_topic_messages_in_total', { topic: 'metrics-in' })).toBe(8);
    // Batches are stored as they arrive (only the base offset is rewritten), so bytes in = bytes in the log.
    expect(value(after, 'samsa_topic_bytes_in_total', { topic: 'metrics-in' })).toBe(logBytes);
    expect(value(after, 'samsa_requests_total', { api: 'Produce' }) - value(before, 'samsa_requests_total', { api: 'Produce' })).toBe(3);
    const produceLatency = (s: Scrape): number => histogramCount(s, 'samsa_request_duration_seconds', 'Produce');
    expect(produceLatency(after) - produceLatency(before)).toBe(3);
    expect(after.find((f) => f.name === 'samsa_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramCount(after, 'samsa_request_duration_seconds', 'Metadata')).toBeGreaterThan(0);

    expect(value(after, 'samsa_partition_log_end_offset', { topic: 'metrics-in', partition: '0' })).toBe(5);
    expect(value(after, 'samsa_partition_log_end_offset', { topic: 'metrics-in', partition: '1' })).toBe(3);
    expect(value(after, 'samsa_partition_log_start_offset', { topic: 'metrics-in', partition: '1' })).toBe(0);
    expect(value(after, 'samsa_partition_size_bytes', { topic: 'metrics-in', partition: '0' })).toBe(broker.broker.getPartition('metrics-in', 0)!.log.size);
    expect(value(after, 'samsa_partition_isr_size', { topic: 'metrics-in', partition: '0' })).toBe(1);
    expect(value(after, 'samsa_partition_high_watermark', { topic: 'metrics-in', partition: '0' })).toBe(5);
    expect(value(after, 'samsa_partition_high_watermark', { topic: 'metrics-in', partition: '1' })).toBe(3);
  });

  it('counts fetched bytes per topic and reports consumer group offsets and lag', async () => {
    await createTopic('metrics-out', 1);
    const t = await client.topic('metrics-out');
    await produce(client, t, new Map([[0, Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`r${i}`) }))]]), { acks: -1, timeoutMs: 5000 });
    const before = await scrape();
    const fetched = await fetchOnce(client, t, new Map([[0, 0n]]), { maxWaitMs: 0 });
    expect(fetched[0]!.records).toHaveLength(10);
    const after = await scrape();
    const size = broker.broker.getPartition('metrics-out', 0)!.log.size;
    expect(value(after, 'samsa_topic_bytes_out_total', { topic: 'metrics-out' }) - value(before, 'samsa_topic_bytes_out_total', { topic: 'metrics-out' })).toBe(size);
    expect(value(after, 'samsa_requests_total', { api: 'Fetch' }) - value(before, 'samsa_requests_total', { api: 'Fetch' })).toBe(1);

    await commitOffsets(client, 'metrics-group', [{ topic: 'metrics-out', partition: 0, offset: 4n }]);
    const g = await scrape();
    expect(value(g, 'samsa_consumer_group_committed_offset', { group: 'metrics-group', topic: 'metrics-out', partition: '0' })).toBe(4);
    expect(value(g, 'samsa_consumer_group_lag', { group: 'metrics-group', topic: 'metrics-out', partition: '0' })).toBe(6);
    expect(value(g, 'samsa_consumer_groups')).toBeGreaterThanOrEqual(1);
  });

  it('reports partition counts, controller and health gauges, and process metrics', async () => {
    const m = await scrape();
    let partitions = 0;
    for (const t of broker.broker.image.topics()) partitions += t.partitions.length;
    expect(value(m, 'samsa_broker_partitions')).toBe(partitions);
    expect(value(m, 'samsa_broker_leader_partitions')).toBe(partitions);
    expect(value(m, 'samsa_cluster_partitions')).toBe(partitions);
    expect(value(m, 'samsa_cluster_topics')).toBe(broker.broker.image.topicCount);
    expect(value(m, 'samsa_broker_under_replicated_partitions')).toBe(0);
    expect(value(m, 'samsa_cluster_offline_partitions')).toBe(0);
    expect(value(m, 'samsa_controller_active')).toBe(1);
    expect(m.find((f) => f.name === 'samsa_process_cpu_user_seconds_total')?.type).toBe('COUNTER');
    expect(value(m, 'samsa_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('reports disk used and free per log dir', async () => {
    const m = await scrape();
    const dir = resolve(broker.dataDir);
    let used = 0;
    for (const t of broker.broker.image.topics()) for (const p of t.partitions) used += broker.broker.getPartition(t.name, p.partition)?.log.size ?? 0;
    expect(used).toBeGreaterThan(0);
    expect(value(m, 'samsa_log_dir_used_bytes', { log_dir: dir })).toBe(used);
    const fs = statfsSync(dir);
    const free = value(m, 'samsa_log_dir_free_bytes', { log_dir: dir });
    // Other processes write to the same file system meanwhile: within 1 GiB of a fresh statfs.
    expect(Math.abs(free - fs.bavail * fs.bsize)).toBeLessThan(2 ** 30);
    expect(value(m, 'samsa_log_dir_total_bytes', { log_dir: dir })).toBe(fs.blocks * fs.bsize);
  });

  it('names every metric samsa_ (one scheme: docs/metrics.md)', async () => {
    const m = await scrape();
    const names = m.map((f) => f.name);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !/^samsa_[a-z0-9_]+$/.test(n))).toEqual([]);
    // Counters end _total; the docs table lists every name the broker exports (process metrics aside).
    expect(m.filter((f) => f.type === 'COUNTER' && !f.name.endsWith('_total')).map((f) => f.name)).toEqual([]);
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(names.filter((n) => !/^samsa_(process|nodejs)_/.test(n) && !doc.includes(`\`${n}\``))).toEqual([]);
  });
});

describe('/metrics in a cluster (replication gauges)', () => {
  let cluster: ReplicationCluster | null = null;
  afterAll(async () => {
    await cluster?.destroy();
  });

  /** A scrape of node `id`'s metrics (the registry /metrics serves), parsed. */
  async function scrapeNode(id: number): Promise<Scrape> {
    const text = await new BrokerMetrics(cluster!.broker(id)).registry.metrics();
    return Object.assign(parsePrometheusTextFormat(text), { text });
  }

  it('counts under-replicated partitions on their leader only, ISR sizes, and partitions left without a leader', async () => {
    // Three brokers (test/helpers/replication-cluster.ts); node 3's death shrinks urp's ISR and leaves
    // lonely, whose only replica it is, without a leader (unclean election off).
    cluster = await ReplicationCluster.start(3);
    await cluster.createTopic('urp', [1, 2, 3]);
    await cluster.createTopic('lonely', [3]);
    const before = await scrapeNode(1);
    expect(value(before, 'samsa_partition_isr_size', { topic: 'urp', partition: '0' })).toBe(3);
    expect(value(before, 'samsa_broker_under_replicated_partitions')).toBe(0);
    expect(value(before, 'samsa_cluster_offline_partitions')).toBe(0);

    await cluster.kill(3);
    expect(cluster.registration('urp').isr).toEqual([1, 2]);
    expect(cluster.registration('lonely').leader).toBe(-1);
    const leader = await scrapeNode(1);
    expect(value(leader, 'samsa_partition_isr_size', { topic: 'urp', partition: '0' })).toBe(2);
    expect(value(leader, 'samsa_partition_under_replicated', { topic: 'urp', partition: '0' })).toBe(1);
    expect(value(leader, 'samsa_broker_under_replicated_partitions')).toBe(1);
    expect(value(leader, 'samsa_cluster_offline_partitions')).toBe(1);
    expect(value(leader, 'samsa_cluster_partitions')).toBe(2);
    // Hosted here: urp only (lonely lives on node 3).
    expect(value(leader, 'samsa_broker_partitions')).toBe(1);
    expect(value(leader, 'samsa_broker_leader_partitions')).toBe(1);
    // Kafka counts an under-replicated partition on its leader only, so a cluster sums to the true count.
    const follower = await scrapeNode(2);
    expect(value(follower, 'samsa_partition_isr_size', { topic: 'urp', partition: '0' })).toBe(2);
    expect(value(follower, 'samsa_partition_under_replicated', { topic: 'urp', partition: '0' })).toBe(0);
    expect(value(follower, 'samsa_broker_under_replicated_partitions')).toBe(0);
    expect(value(follower, 'samsa_broker_leader_partitions')).toBe(0);
    expect(value(follower, 'samsa_broker_partitions')).toBe(1);
    expect(value(follower, 'samsa_cluster_offline_partitions')).toBe(1);
  });
});

describe('/health and the listener', () => {
  it('answers /health with 200 and unknown paths with 404', async () => {
    const h = await fetch(`${base}/health`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'UP', nodeId: broker.broker.nodeId });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('answers /health with 503 on a KRaft node while no quorum leader is known, 200 once one is', async () => {
    // The quorum as src/kraft.ts reports it (broker.quorum), here with a leader that comes and goes.
    let leader = -1;
    const b = broker.broker;
    b.quorum = { leaderId: () => leader, epoch: () => 3, highWatermark: () => 10, logEndOffset: () => 10, state: () => 'Unattached', isActiveController: () => false };
    try {
      const down = await fetch(`${base}/health`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'DOWN', nodeId: b.nodeId, quorumLeaderId: -1 });
      leader = 2;
      const up = await fetch(`${base}/health`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'UP', quorumLeaderId: 2 });
    } finally {
      b.quorum = null;
    }
  });

  it('is off when samsa.http.listeners is empty, refuses a bad value, and reports a port in use', async () => {
    const off = await startTestBroker({ 'samsa.http.listeners': '' });
    expect(off.httpPort).toBeNull();
    await off.destroy();
    await expect(startTestBroker({ 'samsa.http.listeners': 'https://127.0.0.1:1' })).rejects.toThrow(HttpConfigError);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startTestBroker({ 'samsa.http.listeners': `http://127.0.0.1:${port}` })).rejects.toThrow(ListenerError);
      await expect(startTestBroker({ 'samsa.http.listeners': `http://127.0.0.1:${port}` })).rejects.toThrow(/address already in use/);
    } finally {
      blocker.close();
    }
  });
});
