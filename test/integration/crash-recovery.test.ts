/**
 * Crash and damage against a real broker process (`node --import tsx src/cli/main.ts start`):
 *   - kill -9 in the middle of a sustained kafkajs produce (acks=1, log.flush.interval.messages=1): after
 *     the restart every acknowledged record reads back, the log is its longest CRC-valid prefix (every
 *     segment file is whole valid batches, offsets contiguous from 0), and no offset is reused;
 *   - bytes corrupted in the middle of the last segment after a crash: the broker starts, truncates at the
 *     bad batch and logs it;
 *   - the last segment's .index deleted: the broker starts, rebuilds it and logs it;
 *   - compaction runs in the worker thread of a real process too.
 */
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { splitBatches } from '../../protocol/records/batch.js';
import { startBrokerProcess, type BrokerProcess, type LogLine } from '../helpers/broker-process.js';
import { readPartition } from '../helpers/read-all.js';

let dataDir: string;
const running: BrokerProcess[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'samsa-crash-'));
});
afterEach(async () => {
  for (const b of running.splice(0)) await b.kill9();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(overrides: Record<string, string> = {}, port?: number): Promise<BrokerProcess> {
  const b = await startBrokerProcess(dataDir, { 'num.partitions': '1', ...overrides }, port);
  running.push(b);
  return b;
}

function kafka(b: BrokerProcess): Kafka {
  return new Kafka({ clientId: 'samsa-crash-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000, requestTimeout: 5000 });
}

/** Every `.log` file of a partition directory must be whole, CRC-valid batches; returns their record offsets' range. */
async function checkSegmentFiles(dir: string): Promise<{ files: number; batches: number }> {
  let batches = 0;
  const logs = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  for (const name of logs) {
    const split = splitBatches(await readFile(join(dir, name)));
    if (!split.ok) throw new Error(`${name}: ${split.message}`);
    batches += split.batches.length;
  }
  return { files: logs.length, batches };
}

const isRecovery = (l: LogLine): boolean => typeof l.msg === 'string' && l.msg.startsWith('recovered segment');

describe('kill -9 during a sustained produce', () => {
  it('keeps every acknowledged record, the log is its longest CRC-valid prefix, no offset is reused', async () => {
    const topic = 'crash';
    let b = await start({ 'log.flush.interval.messages': '1', 'log.segment.bytes': String(256 * 1024) });
    const producer = kafka(b).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, acks: 1, messages: [{ value: 'first' }] });
    const acked = new Map<number, string>([[0, 'first']]);
    let seq = 0;
    let stop = false;
    let errors = 0;
    // Resolved by the producer loops themselves once 4000 records are acknowledged (no polling).
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((r) => (reached = r));
    const loop = async (worker: number): Promise<void> => {
      while (!stop) {
        const values = Array.from({ length: 25 }, () => `w${worker}-${seq++}-${'p'.repeat(80)}`);
        try {
          const res = await producer.send({ topic, acks: 1, messages: values.map((value) => ({ value })) });
          const base = Number(res[0]!.baseOffset);
          values.forEach((v, i) => acked.set(base + i, v));
          if (acked.size >= 4000) reached();
        } catch {
          errors++;
          return;
        }
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    // Produce for a while, then kill the broker with requests in flight. If every loop fails before that, or
    // it takes over 60 s, say so instead of waiting for the test timeout.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      enough.then(() => 'enough' as const),
      Promise.all(loops).then(() => 'loops ended' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'enough') throw new Error(`${outcome} (${errors} errors) with ${acked.size} of 4000 records acknowledged`);
    await b.kill9();
    stop = true;
    await Promise.all(loops);
    await producer.disconnect().catch(() => undefined);
    expect(errors).toBeGreaterThan(0);

    b = await start({ 'log.flush.interval.messages': '1', 'log.segment.bytes': String(256 * 1024) }, b.port);
    const recovery = await b.waitForLine(isRecovery);
    expect(recovery.why).toBe('unclean shutdown');
    const partDir = join(dataDir, `${topic}-0`);
    const files = await checkSegmentFiles(partDir);
    expect(files.files).toBeGreaterThan(1);

    const before = await readPartition(b.port, topic);
    const offsets = before.records.map((r) => r.offset);
    expect(offsets).toEqual(Array.from({ length: before.highWatermark }, (_, i) => i));
    const byOffset = new Map(before.records.map((r) => [r.offset, r.value]));
    for (const [offset, value] of acked) expect(byOffset.get(offset)).toBe(value);
    expect(before.highWatermark).toBeGreaterThanOrEqual(Math.max(...acked.keys()) + 1);

    // New appends continue at the recovered end; the old offsets keep their data.
    const p2 = kafka(b).producer();
    await p2.connect();
    const res = await p2.send({ topic, acks: 1, messages: [{ value: 'after-restart' }] });
    await p2.disconnect();
    expect(Number(res[0]!.baseOffset)).toBe(before.highWatermark);
    const after = await readPartition(b.port, topic);
    expect(after.records.slice(0, before.records.length)).toEqual(before.records);
    expect(after.records.at(-1)).toEqual({ offset: before.highWatermark, key: null, value: 'after-restart' });
  });
});

describe('a damaged log directory at start', () => {
  it('truncates at bytes corrupted in the middle of the last segment and says so', async () => {
    const topic = 'corrupt';
    let b = await start();
    const producer = kafka(b).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    for (let i = 0; i < 100; i++) await producer.send({ topic, acks: 1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${j}`, value: `v${i * 10 + j}-${'x'.repeat(50)}` })) });
    await producer.disconnect();
    await b.kill9();

    const file = join(dataDir, `${topic}-0`, '00000000000000000000.log');
    const bytes = await readFile(file);
    const split = splitBatches(bytes);
    if (!split.ok) throw new Error(split.message);
    const middle = split.batches.find((x) => x.pos + x.size > bytes.length / 2)!;
    bytes[middle.pos + 80] = bytes[middle.pos + 80]! ^ 0xff;
    await writeFile(file, bytes);

    b = await start({}, b.port);
    const line = await b.waitForLine((l) => l.msg === 'recovered segment: truncated invalid bytes');
    expect(line.reason).toBe(`batch at position ${middle.pos} fails its CRC-32C check`);
    expect(line.truncatedBytes).toBe(bytes.length - middle.pos);
    expect(line.nextOffset).toBe(middle.header.baseOffset);
    const read = await readPartition(b.port, topic);
    expect(read.highWatermark).toBe(middle.header.baseOffset);
    expect(read.records.map((r) => r.value)).toEqual(Array.from({ length: middle.header.baseOffset }, (_, i) => `v${i}-${'x'.repeat(50)}`));
    const p2 = kafka(b).producer();
    await p2.connect();
    const res = await p2.send({ topic, messages: [{ key: 'k', value: 'next' }] });
    await p2.disconnect();
    expect(Number(res[0]!.baseOffset)).toBe(middle.header.baseOffset);
  });

  it('rebuilds a deleted index of the last segment and says so', async () => {
    const topic = 'noindex';
    let b = await start({ 'log.segment.bytes': String(64 * 1024), 'log.index.interval.bytes': '1024' });
    const producer = kafka(b).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    for (let i = 0; i < 120; i++) await producer.send({ topic, messages: Array.from({ length: 10 }, (_, j) => ({ value: `v${i * 10 + j}-${'y'.repeat(60)}` })) });
    await producer.disconnect();
    await b.stop();
    const partDir = join(dataDir, `${topic}-0`);
    const lastLog = (await readdir(partDir)).filter((n) => n.endsWith('.log')).sort().at(-1)!;
    const lastBase = Number(lastLog.slice(0, 20));
    expect(lastBase).toBeGreaterThan(0);
    const indexPath = join(partDir, lastLog.replace('.log', '.index'));
    const indexBefore = await readFile(indexPath);
    expect(indexBefore.length).toBeGreaterThan(0);
    await unlink(indexPath);

    b = await start({ 'log.segment.bytes': String(64 * 1024), 'log.index.interval.bytes': '1024' }, b.port);
    const line = await b.waitForLine(isRecovery);
    expect(line).toMatchObject({ msg: 'recovered segment', segment: lastBase, why: 'index rebuilt: offset index is missing' });
    expect(await readFile(indexPath)).toEqual(indexBefore);
    const mid = lastBase + 37;
    const read = await readPartition(b.port, topic, 0, mid);
    expect(read.records[0]).toEqual({ offset: mid, key: null, value: `v${mid}-${'y'.repeat(60)}` });
    expect(read.records.at(-1)!.offset).toBe(1199);
  });
});

describe('compaction in a real broker process', () => {
  it('starts the cleaner worker thread under node --import tsx and compacts', async () => {
    const topic = 'compacted-process';
    const b = await start({ 'log.cleaner.backoff.ms': '100' });
    const admin = kafka(b).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{
        topic,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(16 * 1024) },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
        ],
      }],
    });
    await admin.disconnect();
    const producer = kafka(b).producer();
    await producer.connect();
    for (let i = 0; i < 50; i++) await producer.send({ topic, messages: Array.from({ length: 20 }, (_, j) => ({ key: `key-${j}`, value: `round-${i}` })) });
    await producer.disconnect();
    const cleaned = await b.waitForLine((l) => l.msg === 'cleaned log' && l.log === `${topic}-0`);
    expect(cleaned.groupsSwapped).toBeGreaterThan(0);
    const read = await readPartition(b.port, topic);
    expect(read.records.length).toBeLessThan(1000);
    expect(read.records.filter((r) => r.value === 'round-49').map((r) => r.key).sort()).toEqual(Array.from({ length: 20 }, (_, j) => `key-${j}`).sort());
  });
});
