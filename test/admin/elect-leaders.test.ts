/**
 * ElectLeaders (43) on the client listener (src/handlers/elect-leaders.ts), what kafka-leader-election.sh
 * and Admin.electLeaders send: advertised 0-2; a single node (a quorum of one) answers through its own controller; a node
 * in a cluster forwards to the active controller (here two stand-in controller listeners: one answers
 * NOT_CONTROLLER, so the channel moves on to the other, whose answers come from a real QuorumController
 * with a failed-over partition) and gives the answer back at the client's version (no top-level errorCode
 * at v0); REQUEST_TIMED_OUT on every requested partition when no controller can be reached. The
 * controller's rules themselves are tested in test/controller/quorum-controller.test.ts, and end to end
 * with three processes in test/cluster/leader-election-processes.test.ts.
 */
import { createServer } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { AlterPartitionRequest } from '../../protocol/messages/alter-partition.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { ElectLeaders } from '../../protocol/messages/elect-leaders.js';
import { ControllerChannel } from '../../src/broker/controller-channel.js';
import { electLeadersErrorResponse } from '../../src/controller/elect-leaders-response.js';
import { ControllerDispatcher, defineControllerHandler } from '../../src/controller/raft/raft-handlers.js';
import { Server } from '../../src/server/server.js';
import { systemClock } from '../../src/util/clock.js';
import { Harness, incarnation } from '../controller/controller-harness.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const silent = pino({ level: 'silent' });
const notNeeded = { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A controller listener serving only ElectLeaders, with `answer`. */
async function controllerListener(answer: (req: Parameters<typeof electLeadersErrorResponse>[0], version: number) => ReturnType<typeof electLeadersErrorResponse>): Promise<{ port: number; server: Server }> {
  const handler = defineControllerHandler(ElectLeaders, { minVersion: 0, maxVersion: 2, handle: async (ctx, req) => answer(req, ctx.apiVersion) });
  const server = new Server(new ControllerDispatcher([handler], silent), 1 << 20, silent);
  return { port: await server.listen('127.0.0.1', 0, 'CONTROLLER'), server };
}

/** Brokers 1-2 and topic t (2 partitions, RF 2); the first replica of t-0 failed over and is back in the ISR. */
function failedOver(): { h: Harness; preferred: number; other: number } {
  const h = new Harness(31);
  h.brokers(2);
  h.createTopic('t', 2, 2);
  const preferred = h.image.partition('t', 0)!.replicas[0]!;
  const other = h.image.partition('t', 0)!.replicas[1]!;
  h.now += 9001;
  h.heartbeat(other);
  h.commit(h.controller.tick(h.now));
  h.register(preferred, incarnation(preferred, 1));
  h.heartbeat(preferred);
  for (const p of h.image.topic('t')!.partitions) {
    if (p.isr.includes(preferred)) continue;
    const t = h.image.topic('t')!;
    h.commit(
      h.controller.alterPartition(
        h.now,
        {
          ...AlterPartitionRequest.defaults(3),
          brokerId: other,
          brokerEpoch: BigInt(h.image.brokers.get(other)!.epoch),
          topics: [{ topicId: t.topicId, partitions: [{ partitionIndex: p.partition, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, newIsr: [], newIsrWithEpochs: [...p.isr, preferred].map((brokerId) => ({ brokerId, brokerEpoch: -1n })), leaderRecoveryState: 0 }] }],
        },
        3,
      ),
    );
  }
  return { h, preferred, other };
}

let single: TestBroker;
let forwarding: TestBroker;

beforeAll(async () => {
  [single, forwarding] = await Promise.all([startTestBroker(), startTestBroker()]);
});
afterAll(async () => {
  await Promise.all([single.destroy(), forwarding.destroy()]);
});

describe('ElectLeaders on the client listener', () => {
  it('is advertised at versions 0-2', async () => {
    const c = await RawClient.connect(single.port);
    try {
      const res = await c.request(ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(res.apiKeys.find((k) => k.apiKey === 43)).toEqual({ apiKey: 43, minVersion: 0, maxVersion: 2 });
    } finally {
      c.close();
    }
  });

  it('a single node (a quorum of one) leads every partition: ELECTION_NOT_NEEDED, unknown ones UNKNOWN_TOPIC_OR_PARTITION, null lists the topics alone', async () => {
    await single.broker.createTopic('local', 2, 1, new Map());
    const c = await RawClient.connect(single.port);
    try {
      for (const [version, electionType] of [[0, 0], [1, 0], [2, 0], [2, 1]] as const) {
        const res = await c.request(ElectLeaders, version, { electionType, topicPartitions: [{ topic: 'local', partitions: [0, 1, 5] }, { topic: 'nope', partitions: [0] }], timeoutMs: 1000 });
        expect(res).toMatchObject({
          errorCode: 0,
          replicaElectionResults: [
            {
              topic: 'local',
              partitionResult: [
                { partitionId: 0, ...notNeeded },
                { partitionId: 1, ...notNeeded },
                { partitionId: 5, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such partition as local-5' },
              ],
            },
            { topic: 'nope', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such topic as nope' }] },
          ],
        });
      }
      const all = await c.request(ElectLeaders, 2, { electionType: 0, topicPartitions: null, timeoutMs: 1000 });
      expect(all.replicaElectionResults.find((r) => r.topic === 'local')).toEqual({ topic: 'local', partitionResult: [] });
      expect(await c.request(ElectLeaders, 2, { electionType: 0, topicPartitions: [], timeoutMs: 1000 })).toMatchObject({ errorCode: 0, replicaElectionResults: [] });
      const bad = await c.request(ElectLeaders, 1, { electionType: 7, topicPartitions: [{ topic: 'local', partitions: [0] }], timeoutMs: 1000 });
      expect(bad).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [{ topic: 'local', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown election type 7' }] }] });
    } finally {
      c.close();
    }
  });

  it('a node in a cluster forwards to the active controller (past one that is not) and answers at the client\'s version', async () => {
    const { h, preferred, other } = failedOver();
    const seen: number[] = [];
    let refused = 0;
    const notActive = await controllerListener((req, version) => {
      refused++;
      return electLeadersErrorResponse(req, ErrorCode.NOT_CONTROLLER, 'This is not the correct controller for this cluster.', version);
    });
    const active = await controllerListener((req, version) => {
      seen.push(version);
      return h.commit(h.controller.electLeaders(h.now, req, version));
    });
    const channel = new ControllerChannel({
      nodeId: 3,
      controllers: [
        { id: 1, host: '127.0.0.1', port: notActive.port },
        { id: 2, host: '127.0.0.1', port: active.port },
      ],
      leaderHint: () => -1,
      clock: systemClock,
      logger: silent,
    });
    const own = forwarding.broker.kraft;
    forwarding.broker.kraft = { channel, requestTimeoutMs: 5000 };
    const c = await RawClient.connect(forwarding.port);
    try {
      const imbalanced = h.image.topic('t')!.partitions.filter((p) => p.leader !== p.replicas[0]).map((p) => p.partition);
      expect(imbalanced).toContain(0);
      expect(h.image.partition('t', 0)!.leader).toBe(other);
      // v0 (always PREFERRED): the elected partitions, then ELECTION_NOT_NEEDED for t-0 once it is done.
      const first = await c.request(ElectLeaders, 0, { electionType: 0, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 5000 });
      expect(first).toMatchObject({ replicaElectionResults: [{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null }] }] });
      expect(h.image.partition('t', 0)!.leader).toBe(preferred);
      const again = await c.request(ElectLeaders, 1, { electionType: 0, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 5000 });
      expect(again).toMatchObject({ errorCode: 0, replicaElectionResults: [{ topic: 't', partitionResult: [{ partitionId: 0, ...notNeeded }] }] });
      // null: only what needed an election.
      const all = await c.request(ElectLeaders, 2, { electionType: 0, topicPartitions: null, timeoutMs: 5000 });
      expect(all.replicaElectionResults).toEqual([{ topic: 't', partitionResult: imbalanced.filter((p) => p !== 0).map((partitionId) => ({ partitionId, errorCode: 0, errorMessage: null })) }]);
      for (const p of h.image.topic('t')!.partitions) expect(p.leader).toBe(p.replicas[0]);
      // Forwarded at the highest version the controller takes, whatever the client's.
      expect(seen).toEqual([2, 2, 2]);
      expect(refused).toBe(1);
    } finally {
      c.close();
      channel.close();
      forwarding.broker.kraft = own;
      await Promise.all([notActive.server.close(), active.server.close()]);
    }
  });

  it('REQUEST_TIMED_OUT with the channel\'s reason, on every requested partition, when no controller can be reached', async () => {
    const port = await closedPort();
    const channel = new ControllerChannel({ nodeId: 2, controllers: [{ id: 1, host: '127.0.0.1', port }], leaderHint: () => -1, clock: systemClock, logger: silent });
    const own = forwarding.broker.kraft;
    forwarding.broker.kraft = { channel, requestTimeoutMs: 300 };
    const c = await RawClient.connect(forwarding.port);
    try {
      const res = await c.request(ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: 't', partitions: [0, 1] }], timeoutMs: 300 });
      expect(res.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
      expect(res.replicaElectionResults[0]!.partitionResult.map((p) => p.errorCode)).toEqual([ErrorCode.REQUEST_TIMED_OUT, ErrorCode.REQUEST_TIMED_OUT]);
      expect(res.replicaElectionResults[0]!.partitionResult[0]!.errorMessage).toMatch(/ElectLeaders could not reach the active controller within 300 ms/);
      // v0 has no top-level errorCode: the partitions carry it.
      const v0 = await c.request(ElectLeaders, 0, { electionType: 0, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 300 });
      expect(v0.replicaElectionResults[0]!.partitionResult[0]!.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    } finally {
      c.close();
      channel.close();
      forwarding.broker.kraft = own;
    }
  });
});
