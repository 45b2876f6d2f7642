/**
 * A one-voter KRaft node in-process (controller.quorum.voters naming only itself): the whole cluster path
 * - Raft election, the active controller, registration and unfencing, CreateTopics through the
 * controller, the image published to the broker - with a real client, plus what the node reports about its
 * quorum: DescribeCluster's controller, the Raft gauges on /metrics, the console's quorum view, and a
 * restart that replays the metadata log.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { freePort } from '../helpers/broker-process.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker;
let props: Record<string, string>;

beforeAll(async () => {
  const controllerPort = await freePort();
  props = {
    'node.id': '1',
    'process.roles': 'broker,controller',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'samsa.http.listeners': 'http://127.0.0.1:0',
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.replication.factor': '1',
  };
  broker = await startTestBroker(props);
}, 60_000);

afterAll(async () => {
  await broker?.destroy();
});

async function metricsText(b: TestBroker): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${b.httpPort}/metrics`);
  return res.text();
}

describe('a one-voter KRaft node', () => {
  it('is its own active controller and a registered, unfenced broker', async () => {
    expect(broker.kraft).not.toBeNull();
    expect(broker.kraft!.controller!.isActive).toBe(true);
    expect(broker.broker.image.brokers.get(1)?.fenced).toBe(false);
    const c = await RawClient.connect(broker.port);
    try {
      const res = await c.request(DescribeCluster, 0, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(res.controllerId).toBe(1);
      expect(res.brokers.map((b) => [b.brokerId, b.port])).toEqual([[1, broker.port]]);
    } finally {
      c.close();
    }
  });

  it('creates topics through the controller and serves produce, consume and groups on them', async () => {
    const kafka = new Kafka({ clientId: 'kraft-single', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'through-raft', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'through-raft', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'kraft-single-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'through-raft', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        if (seen.length === 10) resolve();
      } }).catch(reject);
    });
    await consumer.disconnect();
    expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
    // The metadata records of the topic are in the image the broker serves from.
    const topic = broker.broker.image.topic('through-raft')!;
    expect(topic.partitions.map((p) => [p.leader, p.replicas, p.isr])).toEqual([[1, [1], [1]], [1, [1], [1]]]);
  }, 60_000);

  it('reports the quorum on /metrics and to the console', async () => {
    const text = await metricsText(broker);
    expect(text).toMatch(/^samsa_raft_leader_id 1$/m);
    expect(text).toMatch(/^samsa_raft_state\{state="leader"\} 1$/m);
    expect(text).toMatch(/^samsa_controller_active 1$/m);
    const hw = Number(/^samsa_raft_high_watermark (\d+)$/m.exec(text)![1]);
    expect(hw).toBeGreaterThan(3);
    // An election happened (epoch 0 is the state before any), and the gauge is the quorum's epoch.
    const epoch = Number(/^samsa_raft_epoch (\d+)$/m.exec(text)![1]);
    expect(epoch).toBeGreaterThanOrEqual(1);
    expect(epoch).toBe(broker.broker.quorum!.epoch());
    // The Raft gauges exist only on cluster nodes, so test/http/metrics.test.ts never sees them: every one
    // exported here is in docs/metrics.md.
    const raftNames = [...new Set([...text.matchAll(/^(samsa_raft_[a-z_]+)[ {]/gm)].map((m) => m[1]!))];
    expect(raftNames.sort()).toEqual(['samsa_raft_epoch', 'samsa_raft_high_watermark', 'samsa_raft_leader_id', 'samsa_raft_log_end_offset', 'samsa_raft_state']);
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(raftNames.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
    const health = await fetch(`http://127.0.0.1:${broker.httpPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'UP', nodeId: 1, quorumLeaderId: 1 });
    const cluster = (await (await fetch(`http://127.0.0.1:${broker.httpPort}/api/cluster`)).json()) as { mode: string; quorum: { leaderId: number; currentVoters: { replicaId: number }[] } };
    expect(cluster.mode).toBe('raft');
    expect(cluster.quorum.leaderId).toBe(1);
    expect(cluster.quorum.currentVoters.map((v) => v.replicaId)).toEqual([1]);
  });

  it('replays its metadata log after a restart: the topics and their ids come back', async () => {
    const before = broker.broker.image.topic('through-raft')!;
    broker = await broker.restart();
    const after = broker.broker.image.topic('through-raft');
    expect(after?.topicId).toBe(before.topicId);
    expect(after?.partitions.length).toBe(2);
    expect(broker.broker.getPartition('through-raft', 0)?.logEndOffset).toBeGreaterThanOrEqual(0);
  }, 60_000);
});

describe('the protocol trace on a KRaft node', () => {
  it('decodes the controller listener traffic: BrokerRegistration and BrokerHeartbeat, both sides', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Writable } = await import('node:stream');
    const { default: pino } = await import('pino');
    const { buildConfig } = await import('../../src/config.js');
    const { startBroker } = await import('../../src/app.js');
    const dir = await mkdtemp(join(tmpdir(), 'samsa-kraft-trace-'));
    const lines: { msg: string; api?: string; side?: string; listener?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as (typeof lines)[number]);
        done();
      },
    });
    const controllerPort = await freePort();
    const config = buildConfig(new Map(Object.entries({
      ...props,
      'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${controllerPort}`,
      'samsa.http.listeners': '',
      'samsa.schema.registry.enable': 'false',
      'log.dirs': dir,
      'samsa.protocol.trace': 'true',
    })));
    const running = await startBroker(config, pino({ level: 'info' }, sink));
    try {
      const served = lines.filter((l) => l.listener === 'CONTROLLER' && l.msg === 'request').map((l) => l.api);
      expect(served).toContain('BrokerRegistration');
      expect(served).toContain('BrokerHeartbeat');
      const sent = lines.filter((l) => l.side === 'client' && l.msg === 'response').map((l) => l.api);
      expect(sent).toContain('BrokerRegistration');
    } finally {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
