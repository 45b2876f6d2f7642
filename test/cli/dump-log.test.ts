/**
 * `samsa dump-log`: segments (batches, records with --print-data-log, codecs, producer fields, the
 * compaction delete horizon, a torn tail), .index / .timeindex entries, checkpoints, producer snapshots,
 * __consumer_offsets records decoded, and the command itself run as a process.
 */
import { execFile } from 'node:child_process';
import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Compression, readBatchHeader } from '../../protocol/records/batch.js';
import { buildBatch, type RecordInput } from '../../protocol/records/record.js';
import { decodeOffsetsRecord, dumpFiles, fileKind, type DumpOptions } from '../../src/cli/dump-log.js';
import { groupMetadataKey, groupMetadataValue, offsetCommitKey, offsetCommitValue } from '../../src/group/coordinator-records.js';
import { logConfig } from '../../storage/log-config.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { LogManager } from '../../storage/log-manager.js';
import type { Log } from '../../storage/log.js';
import { tempDir } from '../storage/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('samsa-dump-'));
  manager = new LogManager(dir);
});
afterEach(async () => {
  await manager.closeAll();
  await cleanup();
});

async function append(log: Log, records: RecordInput[], opts: Parameters<typeof buildBatch>[1] = {}): Promise<void> {
  const b = await buildBatch(records, opts);
  const h = readBatchHeader(b);
  await log.append(b, [{ pos: 0, size: b.length, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp }], 3);
}

async function dump(paths: string[], options: DumpOptions = {}): Promise<string[]> {
  const lines: string[] = [];
  await dumpFiles(paths, options, (l) => lines.push(l));
  return lines;
}

const T = 1_700_000_000_000;

describe('dump-log', () => {
  it('prints batches like kafka-dump-log, and records with --print-data-log', async () => {
    const log = await manager.getOrCreate('t', 0, logConfig({ indexIntervalBytes: 10 }));
    await append(log, [{ key: Buffer.from('k0'), value: Buffer.from('v0'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: T }, { key: null, value: null, timestamp: T + 5 }], { producerId: 5, producerEpoch: 1, baseSequence: 10 });
    await append(log, [{ key: Buffer.from('k1'), value: Buffer.from('zipped'), timestamp: T + 7 }], { compression: Compression.GZIP });
    const file = join(log.dir, '00000000000000000000.log');
    const batchesOnly = await dump([file]);
    expect(batchesOnly[0]).toBe(`Dumping ${file}`);
    expect(batchesOnly[1]).toBe('Log starting offset: 0');
    expect(batchesOnly[2]).toMatch(
      /^baseOffset: 0 lastOffset: 1 count: 2 baseSequence: 10 lastSequence: 11 producerId: 5 producerEpoch: 1 partitionLeaderEpoch: 3 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000005 size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/,
    );
    expect(batchesOnly[3]).toMatch(/^baseOffset: 2 lastOffset: 2 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 .* CreateTime: 1700000000007 size: \d+ magic: 2 compresscodec: gzip crc: \d+ isvalid: true$/);
    expect(batchesOnly).toHaveLength(4);

    const data = await dump([file], { printDataLog: true });
    expect(data.slice(3, 5)).toEqual([
      '| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 2 sequence: 10 headerKeys: [h] key: k0 payload: v0 headers: [h=x]',
      '| offset: 1 CreateTime: 1700000000005 keySize: -1 valueSize: -1 sequence: 11 headerKeys: [] payload: null',
    ]);
    expect(data[6]).toBe('| offset: 2 CreateTime: 1700000000007 keySize: 2 valueSize: 6 sequence: -1 headerKeys: [] key: k1 payload: zipped');
    const deep = await dump([file], { deepIteration: true });
    expect(deep[3]).toBe('| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 2 sequence: 10 headerKeys: [h]');
  });

  it('reports a corrupt batch as invalid and a torn tail as invalid bytes', async () => {
    const log = await manager.getOrCreate('t', 0, logConfig());
    await append(log, [{ key: Buffer.from('a'), value: Buffer.from('1'), timestamp: T }]);
    await append(log, [{ key: Buffer.from('b'), value: Buffer.from('2'), timestamp: T }]);
    await manager.closeAll();
    const file = join(log.dir, '00000000000000000000.log');
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(file, bytes);
    await appendFile(file, Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0]));
    const lines = await dump([file], { printDataLog: true });
    expect(lines.filter((l) => l.startsWith('baseOffset')).map((l) => /isvalid: (\w+)/.exec(l)![1])).toEqual(['true', 'false']);
    expect(lines.at(-1)).toBe('Found 10 invalid bytes at the end of 00000000000000000000.log');
  });

  it('prints index, time index, leader epoch and cleaner checkpoints, producer snapshots', async () => {
    const log = await manager.getOrCreate('c', 0, logConfig({ indexIntervalBytes: 10, cleanupPolicy: 'compact', fileDeleteDelayMs: 0, segmentBytes: 300 }));
    for (let i = 0; i < 6; i++) await append(log, [{ key: Buffer.from(`k${i % 2}`), value: Buffer.from(`v${i}`), timestamp: T + i }], { producerId: 9, producerEpoch: 0, baseSequence: i });
    await log.roll();
    const cleaner = new LogCleaner(manager, { inProcess: true });
    await cleaner.cleanLog('c', 0);
    await manager.closeAll();
    const names = await readdir(log.dir);
    // The first group emptied entirely (an empty segment keeps its base offset); the second kept v4, v5.
    const { stat } = await import('node:fs/promises');
    const logs = names.filter((n) => n.endsWith('.log')).sort();
    expect((await stat(join(log.dir, logs[0]!))).size).toBe(0);
    const first = logs[1]!;
    const stem = first.slice(0, 20);
    const base = Number(stem);
    const idx = await dump([join(log.dir, `${stem}.index`)]);
    expect(idx.slice(1).every((l) => /^offset: \d+ position: \d+$/.test(l))).toBe(true);
    const tidx = await dump([join(log.dir, `${stem}.timeindex`)]);
    expect(tidx.at(-1)).toMatch(/^timestamp: 17000000000\d\d offset: \d+$/);
    expect(Number(/offset: (\d+)/.exec(tidx.at(-1)!)![1])).toBeGreaterThanOrEqual(base);
    expect(await dump([join(log.dir, 'leader-epoch-checkpoint')])).toEqual([`Dumping ${join(log.dir, 'leader-epoch-checkpoint')}`, 'version: 0', 'entries: 1', 'epoch: 3 startOffset: 0']);
    const cp = await dump([join(dir, 'cleaner-offset-checkpoint')]);
    expect(cp.slice(1)).toEqual(['version: 0', 'entries: 1', `topic: c partition: 0 offset: ${log.segmentBaseOffsets().at(-1)}`]);
    // The cleaned segment shows the kept records only.
    const seg = await dump([join(log.dir, first)], { printDataLog: true });
    const payloads = seg.filter((l) => l.startsWith('|')).map((l) => /payload: (\S+)/.exec(l)![1]);
    expect(payloads).toEqual(['v4', 'v5']);
    // A producer state snapshot written at the clean shutdown.
    const snap = names.find((n) => n.endsWith('.snapshot'));
    if (snap) {
      const s = await dump([join(log.dir, snap)]);
      expect(s[1]).toMatch(/^producerId: 9 producerEpoch: 0 lastTimestamp: \d+ firstSequence: \d+ lastSequence: 5 firstOffset: \d+ lastOffset: 5 offsetDelta: 0 timestamp: \d+$/);
    }
  });

  it('decodes __consumer_offsets records with --offsets-decoder', async () => {
    const key = offsetCommitKey('g1', 'orders', 3);
    const value = offsetCommitValue({ offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestampMs: T, expireTimestampMs: -1 });
    expect(decodeOffsetsRecord(key, value)).toEqual({
      key: '{"type":"1","data":{"group":"g1","topic":"orders","partition":3}}',
      payload: `{"version":"3","data":{"offset":42,"leaderEpoch":7,"metadata":"m","commitTimestamp":${T}}}`,
    });
    expect(decodeOffsetsRecord(key, null).payload).toBe('null');
    const gkey = groupMetadataKey('g1');
    const gvalue = groupMetadataValue({
      protocolType: 'consumer', generation: 2, protocol: 'range', leader: 'm-1', currentStateTimestamp: BigInt(T),
      members: [{ memberId: 'm-1', groupInstanceId: null, clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeout: 300000, sessionTimeout: 10000, subscription: Buffer.from([0, 1]), assignment: Buffer.from([]) }],
    });
    const g = decodeOffsetsRecord(gkey, gvalue);
    expect(g.key).toBe('{"type":"2","data":{"group":"g1"}}');
    expect(JSON.parse(g.payload)).toMatchObject({ version: '3', data: { protocolType: 'consumer', generation: 2, protocol: 'range', leader: 'm-1', members: [{ memberId: 'm-1', subscription: 'AAE=', assignment: '' }] } });
    expect(decodeOffsetsRecord(Buffer.from([0, 9, 1]), null).key).toBe('unknown key version 9');

    const log = await manager.getOrCreate('__consumer_offsets', 0, logConfig({ cleanupPolicy: 'compact' }));
    await append(log, [{ key, value, timestamp: T }, { key: gkey, value: null, timestamp: T }]);
    const file = join(log.dir, '00000000000000000000.log');
    const lines = await dump([file], { offsetsDecoder: true });
    expect(lines[3]).toBe(`| offset: 0 CreateTime: ${T} keySize: ${key.length} valueSize: ${value.length} sequence: -1 headerKeys: [] key: {"type":"1","data":{"group":"g1","topic":"orders","partition":3}} payload: {"version":"3","data":{"offset":42,"leaderEpoch":7,"metadata":"m","commitTimestamp":${T}}}`);
    expect(lines[4]).toBe(`| offset: 1 CreateTime: ${T} keySize: ${gkey.length} valueSize: -1 sequence: -1 headerKeys: [] key: {"type":"2","data":{"group":"g1"}} payload: null`);
  });

  it('knows file kinds, also with .deleted / .cleaned / .swap suffixes', () => {
    expect(fileKind('/x/00000000000000000000.log')).toBe('log');
    expect(fileKind('/x/00000000000000000000.log.swap')).toBe('log');
    expect(fileKind('00000000000000000000.index.deleted')).toBe('index');
    expect(fileKind('00000000000000000000.timeindex.cleaned')).toBe('timeindex');
    expect(fileKind('00000000000000000012.snapshot')).toBe('snapshot');
    expect(fileKind('leader-epoch-checkpoint')).toBe('leader-epoch-checkpoint');
    expect(fileKind('cleaner-offset-checkpoint')).toBe('offset-checkpoint');
    expect(fileKind('replication-offset-checkpoint')).toBe('offset-checkpoint');
    expect(fileKind('partition.metadata')).toBeNull();
  });

  it("prints the high watermarks of a replication-offset-checkpoint written by Kafka's OffsetCheckpointFile", async () => {
    // Captured by conformance/tools/capture-offset-checkpoint.sh; Kafka's entry order is its HashMap's.
    const file = join(ROOT, 'test/vectors/kafka/offset-checkpoint-kafka-4.4.0/replication-offset-checkpoint');
    const lines = await dump([file]);
    expect(lines.slice(0, 3)).toEqual([`Dumping ${file}`, 'version: 0', 'entries: 4']);
    expect(lines.slice(3).sort()).toEqual([
      'topic: __consumer_offsets partition: 7 offset: 38',
      'topic: my.topic_v2-x partition: 12 offset: 9007199254740991',
      'topic: orders partition: 0 offset: 1200',
      'topic: orders partition: 1 offset: 0',
    ]);
  });

  it('runs as `samsa dump-log <file> --print-data-log`', async () => {
    const log = await manager.getOrCreate('cli', 0, logConfig());
    await append(log, [{ key: Buffer.from('hello'), value: Buffer.from('world'), timestamp: T }]);
    const file = join(log.dir, '00000000000000000000.log');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dump-log', file, '--print-data-log'], { cwd: ROOT });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`Dumping ${file}`);
    expect(lines[2]).toMatch(/^baseOffset: 0 lastOffset: 0 count: 1 /);
    expect(lines[3]).toBe(`| offset: 0 CreateTime: ${T} keySize: 5 valueSize: 5 sequence: -1 headerKeys: [] key: hello payload: world`);
  });
});
