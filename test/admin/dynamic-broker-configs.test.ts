/**
 * Dynamic broker configs (KIP-226) live in the KRaft metadata log, as in Kafka 4, on a single node:
 *   - IncrementalAlterConfigs on the BROKER resource (this node's id, and "" for the cluster default) is
 *     written as ConfigRecords {ResourceType 4, ResourceName "1" or "", Name, Value}, a DELETE as a null
 *     Value, read here straight from the `__cluster_metadata-0` segment; no samsa-broker-configs.json is
 *     written; DescribeConfigs reports DYNAMIC_BROKER_CONFIG / DYNAMIC_DEFAULT_BROKER_CONFIG;
 *   - after a restart the values are back from the replayed log, in force (a partition's log config);
 *   - they are in the snapshot the image is written as (metadata-image-records.ts), and after a restart
 *     whose log starts past them (metadata.max.retention.bytes 0) they come back from the `.checkpoint`;
 *   - an old node's samsa-broker-configs.json is written into the metadata log on the first start and
 *     renamed `.migrated`; on a directory whose log already has some of its keys the log's values stay;
 *     a file whose values the controller refuses stops the start, naming it, and is left as it was.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { ConfigRecord } from '../../protocol/metadata/config-record.js';
import { decodeMetadataRecord, type DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { isControl, LOG_OVERHEAD, readBatchHeader } from '../../protocol/records/batch.js';
import { readRecordsSync } from '../../protocol/records/record.js';
import type { MessageValue } from '../../protocol/schema.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { imageToRecords } from '../../src/broker/metadata-image-records.js';
import { METADATA_LOG_DIR_NAME } from '../../src/controller/raft/raft-store.js';
import { decodeSnapshot, snapshotFileName } from '../../src/controller/raft/snapshot.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const BROKER = 4;
const SET = 0;
const DELETE = 1;
/** DescribeConfigs ConfigSource (KIP-226). */
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-dyn-broker-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A started broker, stopped after the test (the latest incarnation, restarts included). */
async function start(dir: string, props: Record<string, string> = {}): Promise<{ current: TestBroker }> {
  const holder = { current: await startTestBroker({ 'num.partitions': '1', ...props }, dir) };
  cleanup.push(() => holder.current.stop());
  return holder;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

type BrokerConfigRecord = { resourceName: string; name: string; value: string | null };

/** A decoded metadata record's ConfigRecord fields when it is a BROKER ConfigRecord, else null. */
function brokerConfigRecord(d: DecodedMetadataRecord): BrokerConfigRecord | null {
  if (d.type !== ConfigRecord.decl.apiKey) return null;
  const data = d.data as MessageValue<typeof ConfigRecord.decl>;
  return data.resourceType === BROKER ? { resourceName: data.resourceName, name: data.name, value: data.value } : null;
}

/** The BROKER ConfigRecords of the metadata log's segments, in log order (control batches skipped). */
function brokerConfigRecordsInLog(dataDir: string): BrokerConfigRecord[] {
  const dir = join(dataDir, METADATA_LOG_DIR_NAME);
  const out: BrokerConfigRecord[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
    const bytes = readFileSync(join(dir, file));
    for (let pos = 0; pos + LOG_OVERHEAD <= bytes.length; ) {
      const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
      if (pos + size > bytes.length) break;
      const batch = bytes.subarray(pos, pos + size);
      if (!isControl(readBatchHeader(batch).attributes)) {
        for (const r of readRecordsSync(batch)) {
          const c = brokerConfigRecord(decodeMetadataRecord(r.value!));
          if (c !== null) out.push(c);
        }
      }
      pos += size;
    }
  }
  return out;
}

async function iac(port: number, resources: { resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[]) {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(IncrementalAlterConfigs, 1, { resources: resources.map((r) => ({ resourceType: BROKER, ...r })), validateOnly: false });
    return res.responses.map((r) => [r.errorCode, r.errorMessage]);
  } finally {
    c.close();
  }
}

async function describeBroker(port: number, resourceName: string, keys: string[]) {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: BROKER, resourceName, configurationKeys: keys }], includeSynonyms: true, includeDocumentation: false });
    return Object.fromEntries(res.results[0]!.configs.map((e) => [e.name, { value: e.value, source: e.configSource, synonyms: e.synonyms.map((s) => [s.value, s.source]) }]));
  } finally {
    c.close();
  }
}

async function createTopic(port: number, name: string): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const r = await c.request(CreateTopics, 4, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  } finally {
    c.close();
  }
}

describe('dynamic broker configs in the metadata log', () => {
  it('are written as ConfigRecords, described with their sources, and back after a restart', async () => {
    const dir = await tempDir();
    const b = await start(dir);
    const id = String(b.current.broker.nodeId);
    await createTopic(b.current.port, 'dyn-log');
    expect(
      await iac(b.current.port, [
        { resourceName: id, configs: [{ name: 'log.retention.bytes', configOperation: SET, value: '7000000' }, { name: 'num.io.threads', configOperation: SET, value: '6' }] },
        { resourceName: '', configs: [{ name: 'log.segment.bytes', configOperation: SET, value: '3000000' }, { name: 'log.retention.bytes', configOperation: SET, value: '9000000' }] },
      ]),
    ).toEqual([[ErrorCode.NONE, null], [ErrorCode.NONE, null]]);
    // A DELETE is a ConfigRecord with a null value.
    expect(await iac(b.current.port, [{ resourceName: id, configs: [{ name: 'num.io.threads', configOperation: DELETE, value: null }] }])).toEqual([[ErrorCode.NONE, null]]);

    expect(brokerConfigRecordsInLog(dir)).toEqual([
      { resourceName: id, name: 'log.retention.bytes', value: '7000000' },
      { resourceName: id, name: 'num.io.threads', value: '6' },
      { resourceName: '', name: 'log.segment.bytes', value: '3000000' },
      { resourceName: '', name: 'log.retention.bytes', value: '9000000' },
      { resourceName: id, name: 'num.io.threads', value: null },
    ]);
    expect(await exists(join(dir, 'samsa-broker-configs.json'))).toBe(false);
    const check = async (t: TestBroker) => {
      const described = await describeBroker(t.port, id, ['log.retention.bytes', 'log.segment.bytes', 'num.io.threads']);
      expect(described['log.retention.bytes']).toEqual({ value: '7000000', source: DYNAMIC_BROKER_CONFIG, synonyms: [['7000000', DYNAMIC_BROKER_CONFIG], ['9000000', DYNAMIC_DEFAULT_BROKER_CONFIG], ['-1', 5]] });
      expect(described['log.segment.bytes']).toMatchObject({ value: '3000000', source: DYNAMIC_DEFAULT_BROKER_CONFIG });
      expect(described['num.io.threads']).toMatchObject({ value: '8', source: 5 });
      expect(t.broker.getPartition('dyn-log', 0)!.log.config).toMatchObject({ retentionBytes: 7000000, segmentBytes: 3000000 });
    };
    await check(b.current);

    b.current = await b.current.restart();
    // The replayed log is the only copy: nothing else in the directory holds them.
    expect(await exists(join(dir, 'samsa-broker-configs.json'))).toBe(false);
    await check(b.current);
    expect(Object.fromEntries(b.current.broker.dynamicConfig.get('perBroker'))).toEqual({ 'log.retention.bytes': '7000000' });
    expect(Object.fromEntries(b.current.broker.dynamicConfig.get('clusterDefault'))).toEqual({ 'log.segment.bytes': '3000000', 'log.retention.bytes': '9000000' });
  }, 60_000);

  it('survive a snapshot that cuts the log before them', async () => {
    const dir = await tempDir();
    // Retention 0: the log before the newest snapshot is deleted as soon as one is written.
    const b = await start(dir, { 'metadata.max.retention.bytes': '0' });
    const id = String(b.current.broker.nodeId);
    expect(await iac(b.current.port, [{ resourceName: id, configs: [{ name: 'message.max.bytes', configOperation: SET, value: '4000' }] }, { resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '3600000' }] }])).toEqual([
      [ErrorCode.NONE, null],
      [ErrorCode.NONE, null],
    ]);
    const raft = b.current.kraft!.raft;
    const image = b.current.broker.image;
    // The snapshot the loader would write (SnapshotGenerator), asked for now instead of after 20 MB of records.
    expect(await raft.createSnapshot(image.offset + 1, imageToRecords(image))).toBe(true);
    const id0 = raft.latestSnapshotId!;
    expect(id0.offset).toBe(image.offset + 1);
    const snapshot = decodeSnapshot(await readFile(join(dir, METADATA_LOG_DIR_NAME, snapshotFileName(id0))));
    const inSnapshot = snapshot.values.map((v) => brokerConfigRecord(decodeMetadataRecord(v))).filter((c) => c !== null);
    expect(inSnapshot).toEqual(
      expect.arrayContaining([
        { resourceName: id, name: 'message.max.bytes', value: '4000' },
        { resourceName: '', name: 'log.retention.ms', value: '3600000' },
      ]),
    );

    b.current = await b.current.restart();
    // The log starts after the ConfigRecords (all below the snapshot's end): the image has them from the snapshot.
    expect(b.current.kraft!.raft.logStartOffset).toBeGreaterThanOrEqual(id0.offset);
    const described = await describeBroker(b.current.port, id, ['message.max.bytes', 'log.retention.ms']);
    expect(described['message.max.bytes']).toMatchObject({ value: '4000', source: DYNAMIC_BROKER_CONFIG });
    expect(described['log.retention.ms']).toMatchObject({ value: '3600000', source: DYNAMIC_DEFAULT_BROKER_CONFIG });
  }, 60_000);
});

describe('the one-time migration of samsa-broker-configs.json', () => {
  it('a directory of the old path: its values go into the metadata log, the file is renamed .migrated and never read again', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samsa-broker-configs.json');
    await writeFile(file, JSON.stringify({ perBroker: { 'log.retention.ms': '5000000', 'log.cleaner.backoff.ms': '777' }, clusterDefault: { 'log.segment.bytes': '2000000' } }, null, 2));
    const b = await start(dir);
    const id = String(b.current.broker.nodeId);
    expect(await exists(file)).toBe(false);
    expect(await exists(`${file}.migrated`)).toBe(true);
    expect(brokerConfigRecordsInLog(dir)).toEqual([
      { resourceName: id, name: 'log.retention.ms', value: '5000000' },
      { resourceName: id, name: 'log.cleaner.backoff.ms', value: '777' },
      { resourceName: '', name: 'log.segment.bytes', value: '2000000' },
    ]);
    await createTopic(b.current.port, 'after-migration');
    expect(b.current.broker.getPartition('after-migration', 0)!.log.config).toMatchObject({ retentionMs: 5000000, segmentBytes: 2000000 });
    expect((b.current.broker.logCleaner as unknown as { backoffMs: number }).backoffMs).toBe(777);

    // Changed after the migration, then restarted: the log's value counts, the .migrated file is not read.
    expect(await iac(b.current.port, [{ resourceName: id, configs: [{ name: 'log.retention.ms', configOperation: SET, value: '6000000' }] }])).toEqual([[ErrorCode.NONE, null]]);
    b.current = await b.current.restart();
    expect(await exists(file)).toBe(false);
    expect(brokerConfigRecordsInLog(dir)).toHaveLength(4);
    expect(Object.fromEntries(b.current.broker.dynamicConfig.get('perBroker'))).toEqual({ 'log.retention.ms': '6000000', 'log.cleaner.backoff.ms': '777' });
    expect(b.current.broker.getPartition('after-migration', 0)!.log.config.retentionMs).toBe(6000000);
  }, 60_000);

  it('a directory whose metadata log already has some of the keys: those keep the log\'s values', async () => {
    const dir = await tempDir();
    const b = await start(dir);
    const id = String(b.current.broker.nodeId);
    expect(await iac(b.current.port, [{ resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1111111' }] }])).toEqual([[ErrorCode.NONE, null]]);
    await b.current.stop();
    const file = join(dir, 'samsa-broker-configs.json');
    await writeFile(file, JSON.stringify({ perBroker: { 'message.max.bytes': '3000' }, clusterDefault: { 'log.retention.ms': '2222222', 'log.retention.bytes': '123456789' } }));
    b.current = await startTestBroker({ 'num.partitions': '1' }, dir);
    expect(await exists(`${file}.migrated`)).toBe(true);
    expect(brokerConfigRecordsInLog(dir)).toEqual([
      { resourceName: '', name: 'log.retention.ms', value: '1111111' },
      { resourceName: id, name: 'message.max.bytes', value: '3000' },
      { resourceName: '', name: 'log.retention.bytes', value: '123456789' },
    ]);
    expect(Object.fromEntries(b.current.broker.dynamicConfig.get('clusterDefault'))).toEqual({ 'log.retention.ms': '1111111', 'log.retention.bytes': '123456789' });
  }, 60_000);

  it('a file the controller refuses (a static config, edited by hand) stops the start, naming it, and is left as it was', async () => {
    const dir = await tempDir();
    const file = join(dir, 'samsa-broker-configs.json');
    const text = JSON.stringify({ perBroker: { 'num.partitions': '3' }, clusterDefault: {} });
    await writeFile(file, text);
    const err = await startTestBroker({}, dir).then(
      (t) => t.stop().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogDirFailureError);
    expect((err as LogDirFailureError).path).toBe(file);
    expect((err as Error).message).toContain('Cannot update these configs dynamically: Set(num.partitions)');
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(await exists(`${file}.migrated`)).toBe(false);
  }, 60_000);
});
