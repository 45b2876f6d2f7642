/**
 * One process per log directory (Kafka's `.lock`): a second broker on the same `log.dirs` refuses to start
 * with a clear message and exit code 1, and the first one's acknowledged records stay intact; a lock left
 * by a killed broker does not stop the next start; a second broker in the same process is refused too.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogDirLockedError } from '../../storage/errors.js';
import { LOCK_FILE } from '../../storage/log-dir-lock.js';
import { runBrokerProcessExpectingExit, startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { startTestBroker } from '../helpers/broker.js';
import { readPartition } from '../helpers/read-all.js';

let dataDir: string;
const running: BrokerProcess[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'samsa-lock-'));
});
afterEach(async () => {
  for (const b of running.splice(0)) await b.kill9();
  await rm(dataDir, { recursive: true, force: true });
});

function kafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'samsa-lock-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

describe('log dir lock', () => {
  it('a second process on the same log dir exits 1 with a message naming the lock, and the first keeps its records', async () => {
    const first = await startBrokerProcess(dataDir, { 'num.partitions': '1' });
    running.push(first);
    const producer = kafka(first.bootstrap).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: 'locked', acks: -1, messages: [{ value: 'one' }, { value: 'two' }] });

    const second = await runBrokerProcessExpectingExit(dataDir, { 'num.partitions': '1' });
    expect(second.code).toBe(1);
    const fatal = second.lines.find((l) => l.level === 60);
    expect(fatal?.msg).toContain(`Failed to acquire lock on file ${LOCK_FILE} in ${dataDir}`);
    expect(fatal?.msg).toContain(`process ${first.proc.pid}`);
    expect(second.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('    at '))).toBe(false);

    // The first broker still owns the directory and its records are intact.
    expect((await readFile(join(dataDir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(first.proc.pid));
    await producer.send({ topic: 'locked', acks: -1, messages: [{ value: 'three' }] });
    await producer.disconnect();
    const values = (await readPartition(first.port, 'locked', 0)).records.map((r) => r.value);
    expect(values).toEqual(['one', 'two', 'three']);
  });

  it('a lock left by a killed broker (dead pid) is taken over by the next start', async () => {
    const first = await startBrokerProcess(dataDir, { 'num.partitions': '1' });
    running.push(first);
    await first.kill9();
    expect((await readFile(join(dataDir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(first.proc.pid));
    const next = await startBrokerProcess(dataDir, { 'num.partitions': '1' });
    running.push(next);
    expect((await readFile(join(dataDir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(next.proc.pid));
    await next.stop();
    // A clean stop removes the lock file.
    await expect(readFile(join(dataDir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a lock naming a live process on this host is respected; an empty one (as Kafka leaves) is taken', async () => {
    // Our test runner's parent is alive: a lock naming it must stop an in-process broker.
    await writeFile(join(dataDir, LOCK_FILE), `${process.ppid}\n${(await import('node:os')).hostname()}\n`);
    await expect(startTestBroker({}, dataDir)).rejects.toBeInstanceOf(LogDirLockedError);
    await writeFile(join(dataDir, LOCK_FILE), '');
    const b = await startTestBroker({}, dataDir);
    try {
      expect((await readFile(join(dataDir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    } finally {
      await b.stop();
    }
  });

  it('a second broker in the same process is refused while the first runs, and starts once it stopped', async () => {
    const a = await startTestBroker({}, dataDir);
    try {
      await expect(startTestBroker({}, dataDir)).rejects.toBeInstanceOf(LogDirLockedError);
    } finally {
      await a.stop();
    }
    const b = await startTestBroker({}, dataDir);
    await b.stop();
  });
});
