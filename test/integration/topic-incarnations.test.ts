/**
 * A deleted topic's data never comes back, and log directories say what they belong to, in Kafka's formats:
 *   - partition.metadata is `version: 0\ntopic_id: <Uuid.toString()>\n` (base64url) with the topic's id;
 *   - meta.properties is a Java properties file with cluster.id, directory.id, node.id and version=1; a
 *     directory of another node or cluster is refused at start with Kafka's messages;
 *   - a crash after the deletion was saved but before the partition directory was renamed `-delete` leaves
 *     the old directory: the next start moves it aside as `-stray` (kept), and the re-created topic starts
 *     empty; leftover `-delete` directories are removed at start;
 *   - a directory whose partition.metadata names another topic id is never opened as the topic's log.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { InconsistentTopicIdError, LogDirFailureError } from '../../storage/errors.js';
import { parseKafkaUuidString, toKafkaUuidString } from '../../storage/kafka-uuid.js';
import { defaultLogConfig } from '../../storage/log-config.js';
import { LogManager } from '../../storage/log-manager.js';
import { parseProperties } from '../../storage/meta-properties.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { readPartition } from '../helpers/read-all.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-incarnation-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function broker(dir: string, props: Record<string, string> = {}): Promise<TestBroker> {
  const b = await startTestBroker({ 'num.partitions': '1', ...props }, dir);
  cleanup.push(() => b.stop());
  return b;
}

function kafka(b: TestBroker): Kafka {
  return new Kafka({ clientId: 'samsa-incarnation-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

async function produce(b: TestBroker, topic: string, values: string[]): Promise<void> {
  const producer = kafka(b).producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
}

describe('Kafka Uuid text', () => {
  it("is Uuid.toString(): URL-safe base64 of the 16 bytes without padding, and back", () => {
    expect(toKafkaUuidString('00000000-0000-0000-0000-000000000001')).toBe('AAAAAAAAAAAAAAAAAAAAAQ');
    expect(toKafkaUuidString('fbffffff-ffff-ffff-ffff-ffffffffffe0')).toBe('-___________________4A'); // base64url's '-' and '_'
    expect(parseKafkaUuidString('AAAAAAAAAAAAAAAAAAAAAQ')).toBe('00000000-0000-0000-0000-000000000001');
    expect(parseKafkaUuidString('0E0A3D2C-1B2A-4C3D-8E9F-001122334455')).toBe('0e0a3d2c-1b2a-4c3d-8e9f-001122334455');
    expect(parseKafkaUuidString('AAAAAAAAAAAAAAAAAAAAA')).toBeNull();
    expect(parseKafkaUuidString('AAAAAAAAAAAAAAAAAAAAA+')).toBeNull();
  });
});

describe('partition.metadata and meta.properties', () => {
  it('are written in Kafka formats, with the topic id the clients see', async () => {
    const dir = await tempDir();
    const b = await broker(dir, { 'node.id': '1', 'cluster.id': 'MkU3OEVBNTcwNTJENDM2Qg' });
    const admin = kafka(b).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'formats', numPartitions: 2 }] });
    await admin.disconnect();
    const topicId = b.broker.image.topic('formats')!.topicId;
    for (const p of [0, 1]) {
      expect(await readFile(join(dir, `formats-${p}`, 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${toKafkaUuidString(topicId)}\n`);
    }
    const text = await readFile(join(dir, 'meta.properties'), 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('#');
    expect(lines[1]).toMatch(/^#(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d UTC \d{4}$/);
    const props = parseProperties(text);
    expect(props.get('cluster.id')).toBe('MkU3OEVBNTcwNTJENDM2Qg');
    expect(props.get('node.id')).toBe('1');
    expect(props.get('version')).toBe('1');
    expect(props.get('directory.id')).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect([...props.keys()].sort()).toEqual(['cluster.id', 'directory.id', 'node.id', 'version']);

    // A restart keeps the directory id.
    await b.stop();
    const again = await broker(dir, { 'node.id': '1', 'cluster.id': 'MkU3OEVBNTcwNTJENDM2Qg' });
    expect(parseProperties(await readFile(join(dir, 'meta.properties'), 'utf8')).get('directory.id')).toBe(props.get('directory.id'));
    await again.stop();
  });

  it("refuses another node's or another cluster's directory, with Kafka's messages", async () => {
    const dir = await tempDir();
    const b = await broker(dir, { 'node.id': '1', 'cluster.id': 'cluster-a' });
    await b.stop();
    const path = join(dir, 'meta.properties');
    await expect(startTestBroker({ 'node.id': '2', 'cluster.id': 'cluster-a' }, dir)).rejects.toThrow(
      `Stored node id 1 doesn't match previous node id 2 in ${path}. If you moved your data, make sure your configured node id matches.`,
    );
    await expect(startTestBroker({ 'node.id': '1', 'cluster.id': 'cluster-b' }, dir)).rejects.toThrow(`Invalid cluster.id in: ${path}. Expected cluster-b, but read cluster-a`);
    await writeFile(path, 'version=1\nnode.id=not-a-number\n');
    await expect(startTestBroker({ 'node.id': '1', 'cluster.id': 'cluster-a' }, dir)).rejects.toBeInstanceOf(LogDirFailureError);
  });
});

describe('a deleted topic', () => {
  it('does not come back when the process died between saving the deletion and removing its directory', async () => {
    const dir = await tempDir();
    let b = await broker(dir);
    const admin = kafka(b).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'reborn', numPartitions: 1 }] });
    await produce(b, 'reborn', ['old-1', 'old-2', 'old-3']);
    const oldId = b.broker.image.topic('reborn')!.topicId;
    await b.stop();
    // The state a crash leaves: the deletion is in the metadata log, the directory is still there, and an
    // earlier deletion's `-delete` directory was not removed either.
    const kept = join(await tempDir(), 'reborn-0');
    await cp(join(dir, 'reborn-0'), kept, { recursive: true });
    b = await broker(dir);
    const admin2 = kafka(b).admin();
    await admin2.connect();
    await admin2.deleteTopics({ topics: ['reborn'] });
    await b.stop();
    await cp(kept, join(dir, 'reborn-0'), { recursive: true });
    await mkdir(join(dir, 'reborn-0.0123456789abcdef0123456789abcdef-delete'));
    await writeFile(join(dir, 'reborn-0.0123456789abcdef0123456789abcdef-delete', '00000000000000000000.log'), 'old');

    b = await broker(dir);
    expect((b.broker.image.topic('reborn') !== undefined)).toBe(false);
    const entries = await readdir(dir);
    expect(entries.filter((e) => e.endsWith('-delete'))).toEqual([]);
    const strays = entries.filter((e) => /^reborn-0\.[0-9a-f]{32}-stray$/.test(e));
    expect(strays).toHaveLength(1);
    // Moved aside, not deleted: the records are still in the stray directory.
    expect(await readFile(join(dir, strays[0]!, 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${toKafkaUuidString(oldId)}\n`);

    const admin3 = kafka(b).admin();
    await admin3.connect();
    await admin3.createTopics({ topics: [{ topic: 'reborn', numPartitions: 1 }] });
    await admin3.disconnect();
    const fresh = await readPartition(b.port, 'reborn', 0);
    expect(fresh.records).toEqual([]);
    expect(fresh.highWatermark).toBe(0);
    await produce(b, 'reborn', ['new-1']);
    expect((await readPartition(b.port, 'reborn', 0)).records.map((r) => r.value)).toEqual(['new-1']);
    await admin.disconnect().catch(() => undefined);
    await admin2.disconnect().catch(() => undefined);
  });

  it('a directory of another incarnation (topic id differs) is moved aside at start, not opened', async () => {
    const dir = await tempDir();
    let b = await broker(dir);
    await produce(b, 'twice', ['live-1']);
    const liveId = b.broker.image.topic('twice')!.topicId;
    await b.stop();
    // Partition 0 of the live topic is replaced by a directory written for another topic id.
    await writeFile(join(dir, 'twice-0', 'partition.metadata'), 'version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n');
    b = await broker(dir);
    expect(b.broker.image.topic('twice')!.topicId).toBe(liveId);
    expect((await readdir(dir)).filter((e) => e.startsWith('twice-0.') && e.endsWith('-stray'))).toHaveLength(1);
    expect((await readPartition(b.port, 'twice', 0)).records).toEqual([]);
    expect(await readFile(join(dir, 'twice-0', 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${toKafkaUuidString(liveId)}\n`);
  });

  it('a malformed partition.metadata stops the start (its topic id cannot be trusted)', async () => {
    const dir = await tempDir();
    const b = await broker(dir);
    await produce(b, 'garbled', ['x']);
    await b.stop();
    await writeFile(join(dir, 'garbled-0', 'partition.metadata'), 'garbage');
    await expect(startTestBroker({}, dir)).rejects.toThrow(`Malformed partition.metadata file ${join(dir, 'garbled-0', 'partition.metadata')}`);
    expect((await readdir(join(dir, 'garbled-0'))).some((f) => f.endsWith('.log'))).toBe(true);
  });
});

describe('the longest topic names (249 characters)', () => {
  it('are deleted and moved aside as stray within the 255-byte file name limit', async () => {
    const dir = await tempDir();
    let b = await broker(dir);
    const long = 'l'.repeat(249);
    const other = `${'m'.repeat(248)}x`;
    await produce(b, long, ['a']);
    await produce(b, other, ['b']);
    const admin = kafka(b).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [long] });
    await admin.disconnect();
    expect((await readdir(dir)).filter((e) => e.startsWith('lll'))).toEqual([]);
    // `other` is deleted too, but its directory comes back (as after a crash right after its deletion was
    // committed, before the directory was renamed).
    await b.stop();
    const kept = join(await tempDir(), `${other}-0`);
    await cp(join(dir, `${other}-0`), kept, { recursive: true });
    b = await broker(dir);
    const admin2 = kafka(b).admin();
    await admin2.connect();
    await admin2.deleteTopics({ topics: [other] });
    await admin2.disconnect();
    await b.stop();
    await cp(kept, join(dir, `${other}-0`), { recursive: true });
    b = await broker(dir);
    const strays = (await readdir(dir)).filter((e) => e.startsWith('mmm'));
    expect(strays).toHaveLength(1);
    expect(strays[0]).toMatch(/^m+-0\.[0-9a-f]{32}-stray$/);
    expect(Buffer.byteLength(strays[0]!)).toBeLessThanOrEqual(255);
  });
});

describe('LogManager.getOrCreate with a topic id', () => {
  it('refuses (INCONSISTENT_TOPIC_ID) a directory written for another topic id and leaves it alone', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'other-0'));
    await writeFile(join(dir, 'other-0', 'partition.metadata'), 'version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n');
    await writeFile(join(dir, 'other-0', '00000000000000000000.log'), 'kept');
    const manager = new LogManager(dir, { defaultConfig: defaultLogConfig });
    const error = await manager.getOrCreate('other', 0, defaultLogConfig, '00000000-0000-0000-0000-000000000002').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InconsistentTopicIdError);
    expect((error as InconsistentTopicIdError).errorCode).toBe(103);
    expect((error as Error).message).toContain('but log already contained topic ID AAAAAAAAAAAAAAAAAAAAAQ');
    expect(await readFile(join(dir, 'other-0', '00000000000000000000.log'), 'utf8')).toBe('kept');
    const same = await manager.getOrCreate('other', 1, defaultLogConfig, '00000000-0000-0000-0000-000000000002');
    expect(await readFile(join(dir, 'other-1', 'partition.metadata'), 'utf8')).toBe('version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAg\n');
    await same.close();
    await manager.closeAll();
  });
});
