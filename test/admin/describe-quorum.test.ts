/**
 * DescribeQuorum (55) on the client listener (src/handlers/describe-quorum.ts), what kafka-metadata-quorum
 * --bootstrap-server sends: the single-node default (a quorum of one voter) describes itself; a node
 * forwards the request whole, at the client's version, to the controller its channel names and answers
 * with that controller's answer; REQUEST_TIMED_OUT when no controller can be reached.
 * The quorum's own answer (leader, voters, lags) is checked against Kafka's tool by
 * conformance/kraft-cluster.
 */
import { createServer } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { ControllerChannel } from '../../src/broker/controller-channel.js';
import { systemClock } from '../../src/util/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const request = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An answer without its wall-clock fields (lastFetchTimestamp, lastCaughtUpTimestamp), which move between two asks. */
function withoutClock<T>(answer: T): T {
  return JSON.parse(JSON.stringify(answer, (k, v: unknown) => (k === 'lastFetchTimestamp' || k === 'lastCaughtUpTimestamp' ? undefined : typeof v === 'bigint' ? String(v) : v))) as T;
}

let single: TestBroker;
let forwarding: TestBroker;

beforeAll(async () => {
  [single, forwarding] = await Promise.all([startTestBroker(), startTestBroker()]);
});
afterAll(async () => {
  await Promise.all([single.destroy(), forwarding.destroy()]);
});

describe('DescribeQuorum on the client listener', () => {
  it('is advertised at versions 0-2', async () => {
    const c = await RawClient.connect(single.port);
    try {
      const res = await c.request(ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(res.apiKeys.find((k) => k.apiKey === 55)).toEqual({ apiKey: 55, minVersion: 0, maxVersion: 2 });
    } finally {
      c.close();
    }
  });

  it('the single-node default (a quorum of one) names itself leader and only voter, at v0 and v2', async () => {
    const c = await RawClient.connect(single.port);
    try {
      for (const version of [0, 2]) {
        const res = await c.request(DescribeQuorum, version, request);
        expect(res.errorCode).toBe(ErrorCode.NONE);
        const p = res.topics[0]!.partitions[0]!;
        expect(p.errorCode).toBe(ErrorCode.NONE);
        expect(p.leaderId).toBe(1);
        expect(p.leaderEpoch).toBeGreaterThanOrEqual(1);
        expect(p.currentVoters.map((v) => v.replicaId)).toEqual([1]);
        expect(p.observers).toEqual([]);
      }
    } finally {
      c.close();
    }
  });

  it('a node in a cluster forwards it to the controller and returns that answer, at the client\'s version', async () => {
    // The "controller" here is the other broker's client listener: whatever it answers must come back
    // unchanged, and its answer differs by version (errorMessage exists from v2 only).
    const channel = new ControllerChannel({ nodeId: 2, controllers: [{ id: 1, host: '127.0.0.1', port: single.port }], leaderHint: () => 1, clock: systemClock, logger: pino({ level: 'silent' }) });
    const own = forwarding.broker.kraft;
    forwarding.broker.kraft = { channel, requestTimeoutMs: 5000 };
    const c = await RawClient.connect(forwarding.port);
    const direct = await RawClient.connect(single.port);
    try {
      for (const version of [0, 1, 2]) {
        const viaForward = await c.request(DescribeQuorum, version, request);
        expect(withoutClock(viaForward)).toEqual(withoutClock(await direct.request(DescribeQuorum, version, request)));
      }
      expect((await c.request(DescribeQuorum, 1, request)).errorMessage || null).toBeNull(); // absent before v2
    } finally {
      c.close();
      direct.close();
      channel.close();
      forwarding.broker.kraft = own;
    }
  });

  it('REQUEST_TIMED_OUT with the channel\'s reason when no controller can be reached', async () => {
    const port = await closedPort();
    const channel = new ControllerChannel({ nodeId: 2, controllers: [{ id: 1, host: '127.0.0.1', port }], leaderHint: () => -1, clock: systemClock, logger: pino({ level: 'silent' }) });
    const own = forwarding.broker.kraft;
    forwarding.broker.kraft = { channel, requestTimeoutMs: 300 };
    const c = await RawClient.connect(forwarding.port);
    try {
      const res = await c.request(DescribeQuorum, 2, request);
      expect(res.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
      expect(res.errorMessage).toMatch(/DescribeQuorum could not reach the active controller within 300 ms/);
    } finally {
      c.close();
      channel.close();
      forwarding.broker.kraft = own;
    }
  });
});
