/**
 * Faults in the log directory get one clear log line and a safe outcome, never an uncaught exception and
 * never data dropped on the strength of a file that does not read:
 *   - a corrupt samsa-topics.json (an old single-node directory's topics, waiting to be migrated into the
 *     metadata log), samsa-producer-ids.json or samsa-broker-configs.json (an old node's dynamic broker
 *     configs, waiting to be migrated likewise) stops the start (exit 1 for `samsa start`) with a fatal
 *     line naming the file, and the file and the partition directories are left as they were;
 *   - a full disk (ENOSPC, injected into the index rebuild) while loading stops the start with
 *     "Log directory <dir> is full";
 *   - a partition whose log cannot be created (ENOSPC injected into the log creation) after the controller
 *     created its topic is offline on this node, as in Kafka's KRaft mode (the controller's CreateTopics
 *     answer stands): its clients get KAFKA_STORAGE_ERROR, the connection and the other partitions go on,
 *     and it opens once the disk has room (a restart).
 * (ENOSPC is injected so the tests run unprivileged and deterministically.)
 */
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { Produce } from '../../protocol/messages/produce.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { startBroker } from '../../src/app.js';
import { buildConfig } from '../../src/config.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { Log } from '../../storage/log.js';
import { OffsetIndex } from '../../storage/offset-index.js';
import { runBrokerProcessExpectingExit } from '../helpers/broker-process.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { readPartition } from '../helpers/read-all.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-faults-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Line {
  level: number;
  msg: string;
  path?: string;
}

/** Starts a broker in this process with a logger whose lines the test can read. */
async function startLogged(dir: string): Promise<{ lines: Line[]; result: Promise<{ stop(): Promise<void>; port: number }> }> {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const config = buildConfig(new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'num.partitions': '1', 'samsa.http.listeners': '' })));
  return { lines, result: startBroker(config, logger) };
}

/** Produces one record to `no-room`'s partition on a new connection; the partition's error code. */
async function produce0(port: number, partition: number): Promise<number> {
  const { buildBatch } = await import('../../protocol/records/record.js');
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Produce, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'no-room', partitionData: [{ index: partition, records: await buildBatch([{ key: null, value: Buffer.from(`p${partition}`) }]) }] }] });
    return res.responses[0]!.partitionResponses[0]!.errorCode;
  } finally {
    c.close();
  }
}

async function withData(dir: string): Promise<void> {
  const b = await startTestBroker({ 'num.partitions': '1' }, dir);
  const c = await RawClient.connect(b.port);
  const r = await c.request(CreateTopics, 4, { topics: [{ name: 'kept', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  c.close();
  // A transactional id is what this node keeps in samsa-producer-ids.json (producer id blocks come from
  // the controller).
  await b.broker.producerIds.initTransactional('kept-tx', 60000, null);
  await b.broker.setDynamicBrokerConfigs('clusterDefault', new Map([['log.retention.ms', '604800001']]));
  await b.stop();
}

describe('a corrupt metadata file in the log dir', () => {
  for (const file of ['samsa-topics.json', 'samsa-producer-ids.json', 'samsa-broker-configs.json']) {
    it(`${file}: the start stops with a fatal line naming it, nothing is changed`, async () => {
      const dir = await tempDir();
      await withData(dir);
      const path = join(dir, file);
      // samsa-topics.json and samsa-broker-configs.json are no longer written (the metadata log has the
      // topics and the dynamic broker configs): the old path's file, cut short.
      const whole =
        file === 'samsa-topics.json'
          ? JSON.stringify([{ name: 'kept', topicId: 'AAECAwQFBgcICQoLDA0ODw', numPartitions: 1, configs: {} }])
          : file === 'samsa-broker-configs.json'
            ? JSON.stringify({ perBroker: {}, clusterDefault: { 'log.retention.ms': '604800001' } })
            : await readFile(path, 'utf8');
      const text = whole.slice(0, 20);
      await writeFile(path, text);
      const before = (await readdir(dir)).sort();
      const { lines, result } = await startLogged(dir);
      const err = await result.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LogDirFailureError);
      expect((err as LogDirFailureError).path).toBe(path);
      const fatal = lines.filter((l) => l.level === 60);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.msg).toContain(path);
      expect(fatal[0]!.msg).toContain('corrupt');
      expect(await readFile(path, 'utf8')).toBe(text);
      expect((await readdir(dir)).sort()).toEqual(before);
      expect(await readdir(join(dir, 'kept-0'))).toContain('00000000000000000000.log');
    });
  }

  it('samsa start exits 1 with one fatal line and no stack trace', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'samsa-topics.json'), '[{"name": "x", "topicId": ');
    const run = await runBrokerProcessExpectingExit(dir);
    expect(run.code).toBe(1);
    expect(run.lines.filter((l) => l.level === 60).map((l) => l.msg)).toEqual([expect.stringContaining(`Topic metadata file ${join(dir, 'samsa-topics.json')} is corrupt`)]);
    expect(run.lines.some((l) => l.msg.includes('    at ') || l.msg.includes('SyntaxError'))).toBe(false);
  });
});

describe('a full disk', () => {
  it('while an index is rebuilt at start: the start stops with "Log directory <dir> is full", the data stays', async () => {
    const dir = await tempDir();
    let b: TestBroker = await startTestBroker({ 'num.partitions': '1' }, dir);
    const c = await RawClient.connect(b.port);
    await c.request(CreateTopics, 4, { topics: [{ name: 'full', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    c.close();
    const partition = b.broker.getPartition('full', 0)!;
    const { buildBatch } = await import('../../protocol/records/record.js');
    await partition.appendAsLeader(await buildBatch([{ key: null, value: Buffer.from('one') }, { key: null, value: Buffer.from('two') }]));
    await b.stop();
    await unlink(join(dir, 'full-0', '00000000000000000000.index'));
    vi.spyOn(OffsetIndex.prototype, 'persist').mockRejectedValueOnce(Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write' }));

    const { lines, result } = await startLogged(dir);
    const err = await result.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogDirFailureError);
    const fatal = lines.filter((l) => l.level === 60);
    expect(fatal.map((l) => l.msg)).toEqual([expect.stringContaining(`Log directory ${dir} is full: ENOSPC`)]);

    vi.restoreAllMocks();
    b = await startTestBroker({ 'num.partitions': '1' }, dir);
    cleanup.push(() => b.stop());
    expect((await readPartition(b.port, 'full', 0)).records.map((r) => r.value)).toEqual(['one', 'two']);
  });

  it('a partition whose log cannot be created is offline here: KAFKA_STORAGE_ERROR to its clients, the rest goes on', async () => {
    const dir = await tempDir();
    let b = await startTestBroker({ 'num.partitions': '3' }, dir);
    cleanup.push(() => b.stop());
    const c = await RawClient.connect(b.port);
    const open = Log.open.bind(Log);
    let calls = 0;
    // The second partition's log cannot be created: the disk filled up in the middle of the topic.
    vi.spyOn(Log, 'open').mockImplementation(async (...args: Parameters<typeof Log.open>) => {
      if (++calls === 2) throw Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
      return open(...args);
    });
    const r = await c.request(CreateTopics, 4, {
      topics: [{ name: 'no-room', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(r.topics.map((t) => [t.name, t.errorCode])).toEqual([['no-room', ErrorCode.NONE]]);
    vi.restoreAllMocks();
    const produce = async (partition: number): Promise<number> => {
      const { buildBatch } = await import('../../protocol/records/record.js');
      const res = await c.request(Produce, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'no-room', partitionData: [{ index: partition, records: await buildBatch([{ key: null, value: Buffer.from(`p${partition}`) }]) }] }] });
      return res.responses[0]!.partitionResponses[0]!.errorCode;
    };
    const offline = [0, 1, 2].filter((p) => b.broker.getPartition('no-room', p) === undefined);
    expect(offline).toHaveLength(1);
    const online = [0, 1, 2].filter((p) => !offline.includes(p));
    expect(await produce(offline[0]!)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    for (const p of online) expect(await produce(p)).toBe(ErrorCode.NONE);
    // Once the disk has room, the next start opens it.
    c.close();
    await b.stop();
    b = await startTestBroker({ 'num.partitions': '3' }, dir);
    expect(await produce0(b.port, offline[0]!)).toBe(ErrorCode.NONE);
    for (const p of online) expect((await readPartition(b.port, 'no-room', p)).records.map((x) => x.value)).toEqual([`p${p}`]);
  });
});
