/**
 * Issue 9: ten connections that pipeline fifty Fetches each and never read their responses took a broker
 * from 96 MiB to 15.7 GiB in 25 s. With connections muted while their output is unsent, the broker's
 * resident memory stays bounded under the same client. This runs the real broker as a child process and
 * reads its RSS from /proc; the bound is generous (each connection may hold about 16 MiB of unsent output
 * plus one response), the growth it guards against is gigabytes. The exact rule (no request taken while
 * muted) is checked deterministically in test/server/backpressure.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fetch } from '../../protocol/messages/fetch.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const CONNECTIONS = 10;
const FETCHES_PER_CONNECTION = 50;
const VALUE_BYTES = 900_000;
const RECORDS = 9; // about 8 MiB per Fetch response
const RSS_BOUND = 1536 * 1024 * 1024;
const WATCH_MS = 5_000;

let broker: BrokerProcess;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-unread-'));
  broker = await startBrokerProcess(dir);
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(VALUE_BYTES, 7);
  for (let i = 0; i < RECORDS; i++) await producer.send({ topic: 'big', acks: 1, messages: [{ value }] });
  await producer.disconnect();
});
afterAll(async () => {
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error('no VmRSS in /proc status');
  return Number(kb[1]) * 1024;
}

describe('a client that never reads its responses', () => {
  it('keeps the broker RSS bounded', async () => {
    const pid = broker.proc.pid!;
    const before = await rssBytes(pid);
    const encoder = await RawClient.connect(broker.port);
    const pipeline = Buffer.concat(
      Array.from({ length: FETCHES_PER_CONNECTION }, () =>
        encoder.encodeRequest(Fetch, 11, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 16 << 20, isolationLevel: 0,
          topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 16 << 20 }] }],
        }),
      ),
    );
    encoder.close();
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) {
        const s = connect(broker.port, '127.0.0.1');
        s.pause(); // never read
        s.on('error', () => undefined);
        await new Promise<void>((res) => s.once('connect', () => res()));
        s.write(pipeline);
        sockets.push(s);
      }
      let peak = before;
      const deadline = Date.now() + WATCH_MS;
      while (Date.now() < deadline) {
        peak = Math.max(peak, await rssBytes(pid));
        if (peak > RSS_BOUND) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const mib = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;
      expect(peak, `broker RSS ${mib(before)} before, peak ${mib(peak)} while ${CONNECTIONS} clients did not read`).toBeLessThan(RSS_BOUND);
      // The broker still serves others meanwhile.
      const other = await RawClient.connect(broker.port);
      const res = await other.request(ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(res.errorCode).toBe(0);
      other.close();
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
