/**
 * /metrics and /health on the broker's HTTP listener (samsa.http.listeners): the text parses with a
 * Prometheus text-format parser, counters move by exactly the traffic sent (records, bytes, requests),
 * gauges match the broker's state (log sizes, offsets, group lag), and the listener's configuration
 * (off when empty, a bad value, a port in use) is handled.
 */
import { createServer } from 'node:net';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../src/client/client.js';
import { commitOffsets, fetchOnce, produce } from '../../src/client/operations.js';
import { HttpConfigError } from '../../src/http/server.js';
import { ListenerError } from '../../src/server/server.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

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
function histogramCount(s: Scrape, name: string, request: string): number {
  const m = new RegExp(`^${name}_count\\{request="${request}"\\} (\\d+)$`, 'm').exec(s.text);
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
    expect(value(after, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'metrics-in' })).toBe(8);
    // Batches are stored as they arrive (only the base offset is rewritten), so bytes in = bytes in the log.
    expect(value(after, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'metrics-in' })).toBe(logBytes);
    expect(value(after, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' }) - value(before, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' })).toBe(3);
    const produceLatency = (s: Scrape): number => histogramCount(s, 'kafka_network_requestmetrics_totaltime_seconds', 'Produce');
    expect(produceLatency(after) - produceLatency(before)).toBe(3);
    expect(after.find((f) => f.name === 'kafka_network_requestmetrics_totaltime_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramCount(after, 'kafka_network_requestmetrics_totaltime_seconds', 'Metadata')).toBeGreaterThan(0);

    expect(value(after, 'kafka_log_log_logendoffset', { topic: 'metrics-in', partition: '0' })).toBe(5);
    expect(value(after, 'kafka_log_log_logendoffset', { topic: 'metrics-in', partition: '1' })).toBe(3);
    expect(value(after, 'kafka_log_log_logstartoffset', { topic: 'metrics-in', partition: '1' })).toBe(0);
    expect(value(after, 'kafka_log_log_size', { topic: 'metrics-in', partition: '0' })).toBe(broker.broker.getPartition('metrics-in', 0)!.log.size);
    expect(value(after, 'kafka_cluster_partition_insyncreplicascount', { topic: 'metrics-in', partition: '0' })).toBe(1);
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
    expect(value(after, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'metrics-out' }) - value(before, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'metrics-out' })).toBe(size);
    expect(value(after, 'kafka_network_requestmetrics_requests_total', { request: 'Fetch' }) - value(before, 'kafka_network_requestmetrics_requests_total', { request: 'Fetch' })).toBe(1);

    await commitOffsets(client, 'metrics-group', [{ topic: 'metrics-out', partition: 0, offset: 4n }]);
    const g = await scrape();
    expect(value(g, 'kafka_consumergroup_current_offset', { consumergroup: 'metrics-group', topic: 'metrics-out', partition: '0' })).toBe(4);
    expect(value(g, 'kafka_consumergroup_lag', { consumergroup: 'metrics-group', topic: 'metrics-out', partition: '0' })).toBe(6);
    expect(value(g, 'kafka_coordinator_group_groupmetadatamanager_numgroups')).toBeGreaterThanOrEqual(1);
  });

  it('reports partition counts, controller and health gauges, and process metrics', async () => {
    const m = await scrape();
    let partitions = 0;
    for (const t of broker.broker.image.topics()) partitions += t.partitions.length;
    expect(value(m, 'kafka_server_replicamanager_partitioncount')).toBe(partitions);
    expect(value(m, 'kafka_server_replicamanager_leadercount')).toBe(partitions);
    expect(value(m, 'kafka_controller_kafkacontroller_globalpartitioncount')).toBe(partitions);
    expect(value(m, 'kafka_controller_kafkacontroller_globaltopiccount')).toBe(broker.broker.image.topicCount);
    expect(value(m, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    expect(value(m, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    expect(value(m, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(1);
    expect(m.find((f) => f.name === 'process_cpu_user_seconds_total')?.type).toBe('COUNTER');
    expect(value(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
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
