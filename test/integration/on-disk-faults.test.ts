/**
 * Faults in the log directory get one clear log line and a safe outcome, never an uncaught exception and
 * never data dropped on the strength of a file that does not read:
 *   - a corrupt samsa-topics.json, samsa-producer-ids.json or samsa-broker-configs.json stops the start
 *     (exit 1 for `samsa start`) with a fatal line naming the file, and the file and the partition
 *     directories are left as they were;
 *   - a full disk (ENOSPC, injected into the index rebuild) while loading stops the start with
 *     "Log directory <dir> is full";
 *   - CreateTopics on a full disk (ENOSPC injected into the log creation) answers KAFKA_STORAGE_ERROR for
 *     that topic and keeps the connection; nothing of the topic is left.
 * (ENOSPC is injected so the tests run unprivileged and deterministically.)
 */
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
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

async function withData(dir: string): Promise<void> {
  const b = await startTestBroker({ 'num.partitions': '1' }, dir);
  const c = await RawClient.connect(b.port);
  const r = await c.request(CreateTopics, 4, { topics: [{ name: 'kept', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  c.close();
  await b.broker.producerIds.generateProducerId();
  await b.broker.setDynamicBrokerConfigs('clusterDefault', new Map([['log.retention.ms', '604800001']]));
  await b.stop();
}

describe('a corrupt metadata file in the log dir', () => {
  for (const file of ['samsa-topics.json', 'samsa-producer-ids.json', 'samsa-broker-configs.json']) {
    it(`${file}: the start stops with a fatal line naming it, nothing is changed`, async () => {
      const dir = await tempDir();
      await withData(dir);
      const path = join(dir, file);
      const text = (await readFile(path, 'utf8')).slice(0, 20);
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

  it('CreateTopics answers KAFKA_STORAGE_ERROR for the topic, keeps the connection, and leaves nothing behind', async () => {
    const dir = await tempDir();
    const b = await startTestBroker({ 'num.partitions': '3' }, dir);
    cleanup.push(() => b.stop());
    const c = await RawClient.connect(b.port);
    cleanup.push(async () => c.close());
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
    expect(r.topics.map((t) => [t.name, t.errorCode])).toEqual([['no-room', ErrorCode.KAFKA_STORAGE_ERROR]]);
    expect(r.topics[0]!.errorMessage).toContain('full');
    const md = await c.request(Metadata, 9, { topics: [{ name: 'no-room' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(md.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await readdir(dir)).filter((n) => n.startsWith('no-room'))).toEqual([]);
    vi.restoreAllMocks();
    const again = await c.request(CreateTopics, 4, { topics: [{ name: 'no-room', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(again.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  });
});
