/**
 * Metadata snapshots in a running KRaft node (KIP-630, issue 11): with a small
 * metadata.log.max.record.bytes.between.snapshots the node writes `<offset>-<epoch>.checkpoint` files
 * into `__cluster_metadata-0` as its committed log grows (here also by the active controller's idle
 * NoOpRecords), and with metadata.max.retention.bytes 0 deletes the log before the newest one; after a
 * restart it starts from that snapshot (the topics and their ids come back although the records that
 * created them are gone from the log), and `samsa dump-log` prints the checkpoint's records.
 */
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpFiles } from '../../src/cli/dump-log.js';
import { METADATA_LOG_DIR_NAME } from '../../src/controller/raft/raft-store.js';
import { listSnapshots, snapshotFileName } from '../../src/controller/raft/snapshot.js';
import { freePort } from '../helpers/broker-process.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

let broker: TestBroker;

async function waitFor<T>(what: string, probe: () => Promise<T | null | false> | T | null | false, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const controllerPort = await freePort();
  broker = await startTestBroker({
    'node.id': '1',
    'process.roles': 'broker,controller',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'offsets.topic.replication.factor': '1',
    'metadata.log.max.record.bytes.between.snapshots': '300',
    'metadata.max.retention.bytes': '0',
  });
}, 60_000);

afterAll(async () => {
  await broker?.destroy();
});

describe('a KRaft node with small snapshot thresholds', () => {
  it('writes checkpoints as the log grows, cuts its log at the newest, and restarts from it', async () => {
    const kafka = new Kafka({ clientId: 'kraft-snapshots', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'snap-a', numPartitions: 2 }, { topic: 'snap-b', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    await admin.disconnect();
    const ids = new Map(['snap-a', 'snap-b'].map((t) => [t, broker.broker.image.topic(t)!.topicId]));
    const dir = join(broker.dataDir, METADATA_LOG_DIR_NAME);
    const raft = broker.kraft!.raft;
    // A snapshot that covers the topics, and the log cut there.
    const created = broker.broker.image.offset;
    const snap = await waitFor('a snapshot past the topics and the log start moved to it', async () => {
      const s = (await listSnapshots(dir)).at(-1);
      return s !== undefined && s.offset > created && raft.logStartOffset === s.offset ? s : null;
    });
    expect(snap.offset).toBeGreaterThan(0);

    const lines: string[] = [];
    await dumpFiles([join(dir, snapshotFileName(snap))], {}, (l) => lines.push(l));
    expect(lines[1]).toBe(`Snapshot end offset: ${snap.offset}, epoch: ${snap.epoch}`);
    expect(lines.some((l) => l.includes('"type":"TOPIC_RECORD"') && l.includes('"name":"snap-a"'))).toBe(true);
    expect(lines.some((l) => l.includes('"type":"CONFIG_RECORD"') && l.includes('retention.ms'))).toBe(true);
    expect(lines.at(-1)).toMatch(/SnapshotFooter/);

    broker = await broker.restart();
    const after = broker.kraft!.raft;
    expect(after.logStartOffset).toBeGreaterThanOrEqual(snap.offset);
    await waitFor('the image back from the snapshot', () => broker.broker.image.topic('snap-b') !== undefined);
    for (const [t, id] of ids) expect(broker.broker.image.topic(t)?.topicId).toBe(id);
    expect(broker.broker.image.topic('snap-a')!.partitions).toHaveLength(2);
    expect(Object.fromEntries(broker.broker.image.topic('snap-b')!.configs)).toEqual({ 'retention.ms': '60000' });
    // The node serves: it is unfenced again and a new topic commits on top of the snapshot.
    await waitFor('unfenced after the restart', () => broker.broker.image.brokers.get(1)?.fenced === false);
    const admin2 = new Kafka({ clientId: 'kraft-snapshots-2', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin2.connect();
    await admin2.createTopics({ topics: [{ topic: 'snap-c', numPartitions: 1 }] });
    await admin2.disconnect();
    expect(broker.broker.image.topic('snap-c')).toBeDefined();
  }, 90_000);
});
