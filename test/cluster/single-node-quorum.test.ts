/**
 * The single-node default is a KRaft quorum of one voter on the cluster's code path (issue 11, "one code
 * path"), and a data directory of the old single-node path is migrated into the metadata log once:
 *   - without any controller.quorum.* setting a node derives the quorum {node.id (1)}: it is the Raft leader
 *     and the active controller at once (no election timeout is waited), its CONTROLLER listener is on a
 *     free loopback port, the metadata log is `<log.dirs>/__cluster_metadata-0`, and clients see one
 *     broker, itself, in Metadata and DescribeQuorum;
 *   - a directory written by the old path (samsa-topics.json, partition directories with
 *     partition.metadata, samsa-producer-ids.json), built here by hand from those formats, keeps its
 *     topics, ids, configs, partition counts, records and producer ids; the json is renamed
 *     `samsa-topics.json.migrated` and never read again; a json naming topics an existing metadata log
 *     does not have stops the start;
 *   - a metadata fault stops the node through its shutdown path and is reported (onFault), without ending
 *     the process.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { InitProducerId } from '../../protocol/messages/init-producer-id.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { buildBatch } from '../../protocol/records/record.js';
import { readBatchHeader } from '../../protocol/records/batch.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { defaultLogConfig } from '../../storage/log-config.js';
import { LogManager } from '../../storage/log-manager.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { readPartition } from '../helpers/read-all.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-one-voter-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function broker(dir: string, props: Record<string, string> = {}): Promise<TestBroker> {
  const b = await startTestBroker(props, dir);
  cleanup.push(() => b.stop());
  return b;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

describe('the single-node default', () => {
  it('is a quorum of one voter: leader and active controller without waiting for an election timeout', async () => {
    const dir = await tempDir();
    // An election timeout far beyond the test's: a start that waited for one could not pass.
    const b = await broker(dir, { 'controller.quorum.election.timeout.ms': '600000', 'controller.quorum.fetch.timeout.ms': '600000' });
    expect(b.broker.config.quorum.votersConfigured).toBe(false);
    expect(b.broker.config.processRoles).toEqual(['broker', 'controller']);
    expect(b.broker.config.quorum.voters).toEqual([{ id: 1, host: '127.0.0.1', port: 0 }]);
    expect(b.kraft.raft.isLeader).toBe(true);
    expect(b.kraft.raft.leader.leaderId).toBe(1);
    expect(b.kraft.controller?.isActive).toBe(true);
    // The CONTROLLER listener took a free loopback port; the metadata log lives under log.dirs.
    expect(b.kraft.controllerPort).toBeGreaterThan(0);
    expect(b.kraft.controllerPort).not.toBe(b.port);
    expect(await exists(join(dir, '__cluster_metadata-0'))).toBe(true);
    expect(await exists(join(dir, 'samsa-topics.json'))).toBe(false);
    expect(b.broker.image.brokers.get(1)?.fenced).toBe(false);

    const c = await RawClient.connect(b.port);
    try {
      const md = await c.request(Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.brokers.map((x) => [x.nodeId, x.host, x.port])).toEqual([[1, '127.0.0.1', b.port]]);
      expect(md.controllerId).toBe(1);
      const q = await c.request(DescribeQuorum, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
      expect(q.errorCode).toBe(ErrorCode.NONE);
      const p = q.topics[0]!.partitions[0]!;
      expect(p.leaderId).toBe(1);
      expect(p.currentVoters.map((v) => v.replicaId)).toEqual([1]);
      expect(p.observers).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('auto-creates topics and __consumer_offsets (replication factor 1, as Kafka\'s single-node quickstart) through its controller', async () => {
    const dir = await tempDir();
    const b = await broker(dir, { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3' });
    const kafka = new Kafka({ clientId: 'one-voter', brokers: [b.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'auto', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'g' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'auto', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        if (seen.length === 2) resolve();
      } }).catch(reject);
    });
    await consumer.disconnect();
    expect(seen).toEqual(['a', 'b']);
    const offsets = b.broker.image.topic('__consumer_offsets')!;
    expect(offsets.partitions.map((p) => [p.leader, p.replicas])).toEqual([[1, [1]], [1, [1]], [1, [1]]]);
    expect(b.broker.image.topic('auto')!.partitions.map((p) => p.replicas)).toEqual([[1]]);
  });
});

/** The old path's files, written by hand in their formats (nothing of the new path is called). */
async function writeOldSingleNodeDir(dir: string): Promise<{ orders: string; compacted: string }> {
  const orders = 'AAECAwQFBgcICQoLDA0ODw'; // Kafka Uuid text of 00010203-0405-0607-0809-0a0b0c0d0e0f
  const compacted = 'EBESExQVFhcYGRobHB0eHw';
  await writeFile(
    join(dir, 'samsa-topics.json'),
    JSON.stringify(
      [
        { name: 'orders', topicId: orders, numPartitions: 2, configs: { 'retention.ms': '86400000' } },
        { name: 'compacted', topicId: compacted, numPartitions: 1, configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': '1' } },
      ],
      null,
      2,
    ),
  );
  // The old path reserved producer id blocks of 1000 here; 3000 was its next block.
  await writeFile(join(dir, 'samsa-producer-ids.json'), JSON.stringify({ version: 1, nextProducerIdBlockStart: 3000, transactionalIds: {} }, null, 2));
  await writeFile(join(dir, 'meta.properties'), `#\n#Thu Dec 03 12:00:00 UTC 2026\nnode.id=1\ndirectory.id=AAAAAAAAAAAAAAAAAAAAQA\nversion=1\ncluster.id=samsa-local-cluster-0001\n`);
  // Partition directories as the storage layer writes them (partition.metadata naming the topic id).
  const manager = new LogManager(dir, { defaultConfig: defaultLogConfig });
  const append = async (topic: string, partition: number, topicId: string, values: string[]): Promise<void> => {
    const log = await manager.getOrCreate(topic, partition, defaultLogConfig, topicId);
    const batch = await buildBatch(values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: 1_796_000_000_000 + i, headers: [] })));
    const h = readBatchHeader(batch);
    await log.append(batch, [{ pos: 0, size: batch.length, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp }], 0);
  };
  await append('orders', 0, '00010203-0405-0607-0809-0a0b0c0d0e0f', ['o-0-a', 'o-0-b']);
  await append('orders', 1, '00010203-0405-0607-0809-0a0b0c0d0e0f', ['o-1-a']);
  await append('compacted', 0, '10111213-1415-1617-1819-1a1b1c1d1e1f', ['c-a']);
  await manager.closeAll();
  await mkdir(join(dir, 'unrelated-dir-kept'), { recursive: true });
  return { orders, compacted };
}

describe('an old single-node data directory', () => {
  it('is migrated into the metadata log on first start: same topic ids, configs, partitions, records and producer ids', async () => {
    const dir = await tempDir();
    await writeOldSingleNodeDir(dir);
    let b = await broker(dir);
    const check = async (orders1: string[]): Promise<void> => {
      const orders = b.broker.image.topic('orders')!;
      expect(orders.topicId).toBe('00010203-0405-0607-0809-0a0b0c0d0e0f');
      expect(orders.partitions.map((p) => [p.leader, p.replicas, p.isr])).toEqual([[1, [1], [1]], [1, [1], [1]]]);
      expect(Object.fromEntries(orders.configs)).toEqual({ 'retention.ms': '86400000' });
      const compacted = b.broker.image.topic('compacted')!;
      expect(compacted.topicId).toBe('10111213-1415-1617-1819-1a1b1c1d1e1f');
      expect(Object.fromEntries(compacted.configs)).toEqual({ 'cleanup.policy': 'compact', 'min.insync.replicas': '1' });
      expect((await readPartition(b.port, 'orders', 0)).records.map((r) => r.value)).toEqual(['o-0-a', 'o-0-b']);
      expect((await readPartition(b.port, 'orders', 1)).records.map((r) => r.value)).toEqual(orders1);
      expect((await readPartition(b.port, 'compacted', 0)).records.map((r) => r.value)).toEqual(['c-a']);
    };
    await check(['o-1-a']);
    // Renamed aside, never read again; nothing moved aside as stray.
    const entries = await readdir(dir);
    expect(entries).toContain('samsa-topics.json.migrated');
    expect(entries).not.toContain('samsa-topics.json');
    expect(entries.filter((e) => e.endsWith('-stray'))).toEqual([]);
    // Configs as clients see them.
    const c = await RawClient.connect(b.port);
    try {
      const res = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] }], includeSynonyms: false, includeDocumentation: false });
      expect(res.results[0]!.configs.map((x) => [x.name, x.value])).toEqual([['retention.ms', '86400000']]);
      // The controller continues after the old path's producer id blocks.
      const pid = await c.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
      expect(pid.errorCode).toBe(ErrorCode.NONE);
      expect(pid.producerId).toBeGreaterThanOrEqual(3000n);
    } finally {
      c.close();
    }
    // Produce on top of the migrated data, then restart: everything comes from the metadata log now.
    const producer = new Kafka({ clientId: 'migrated', brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'orders', acks: -1, messages: [{ partition: 1, value: 'o-1-b' }] });
    await producer.disconnect();
    await b.stop();
    b = await broker(dir);
    await check(['o-1-a', 'o-1-b']);
    expect(await readdir(dir)).not.toContain('samsa-topics.json');
  });

  it('a samsa-topics.json naming topics an existing metadata log does not have stops the start, naming both', async () => {
    const dir = await tempDir();
    const b = await broker(dir);
    await b.stop();
    await writeFile(join(dir, 'samsa-topics.json'), JSON.stringify([{ name: 'ghost', topicId: 'AAECAwQFBgcICQoLDA0ODw', numPartitions: 1, configs: {} }]));
    const err = await startTestBroker({}, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogDirFailureError);
    expect((err as Error).message).toContain(`Topic metadata file ${join(dir, 'samsa-topics.json')} names topic(s) ghost that the metadata log`);
    // Left as it was, for the operator to decide.
    expect(await exists(join(dir, 'samsa-topics.json'))).toBe(true);
  });
});

describe('a metadata fault', () => {
  it('stops the node through its shutdown path and is reported, without ending the process', async () => {
    const dir = await tempDir();
    const b = await broker(dir);
    const reported = new Promise<Error>((resolve) => b.onFault(resolve));
    // A committed record that does not decode: the loader must stop rather than serve a wrong image.
    await b.kraft.raft.propose([Buffer.from([0x01, 0x7f, 0x00])]).catch(() => undefined);
    const err = await reported;
    expect(err.name).toBe('MetadataLoadError');
    expect(b.fault).toBe(err);
    // The listener is closed: the node no longer serves.
    await expect(RawClient.connect(b.port)).rejects.toThrow();
  });
});
