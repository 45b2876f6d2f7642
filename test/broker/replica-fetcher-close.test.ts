/**
 * The replica fetcher leaves a leader that does not answer without waiting for it (replica-fetcher.ts,
 * close()). A broker still starting holds every request until it serves; before this, a partition leaving
 * such a leader's fetcher waited for replica.socket.timeout.ms, and since image publication waits for
 * that, a cluster whose nodes all restarted at once stalled ~30 s with each node waiting on another (the
 * stop-all outages in docs/faults.md). Here the "leader" accepts connections and never answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { ReplicaFetcherManager, DEFAULT_REPLICA_FETCHER_CONFIG } from '../../src/broker/replica-fetcher.js';
import type { Partition } from '../../src/broker/partition.js';
import { systemClock } from '../../src/util/clock.js';

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

/** A listener that reads and never writes; resolves each accepted socket through `accepted`. */
async function silentLeader(): Promise<{ port: number; accepted: Promise<Socket>; closed: Promise<void> }> {
  let onAccept!: (s: Socket) => void;
  let onClose!: () => void;
  const accepted = new Promise<Socket>((r) => (onAccept = r));
  const closed = new Promise<void>((r) => (onClose = r));
  server = createServer((s) => {
    s.on('error', () => {});
    s.on('close', () => onClose());
    s.resume();
    onAccept(s);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return { port: typeof a === 'object' && a ? a.port : 0, accepted, closed };
}

/** Only what the fetcher reads to build its request. */
function followedPartition(): Partition {
  return {
    topic: 't',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    partition: 0,
    key: 't-0',
    leaderEpoch: 3,
    logEndOffset: 0,
    logStartOffset: 0,
    isLeader: false,
    log: { leaderEpochCache: { latestEpoch: () => 2 } },
  } as unknown as Partition;
}

describe('replica fetcher and a leader that holds its requests', () => {
  it('a partition leaves the fetcher while its connection is still opening (ApiVersions unanswered), and the socket is closed', async () => {
    const leader = await silentLeader();
    const manager = new ReplicaFetcherManager({
      nodeId: 2,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      // Far beyond the test's timeout: only abandoning the open lets removePartition resolve in time.
      config: { ...DEFAULT_REPLICA_FETCHER_CONFIG, socketTimeoutMs: 600_000 },
      leaderEndpoint: () => ({ host: '127.0.0.1', port: leader.port }),
    });
    const p = followedPartition();
    await manager.addPartition(p, 1);
    await leader.accepted;
    await manager.removePartition(p);
    expect(manager.leaderFor(p)).toBeUndefined();
    await leader.closed;
    await manager.shutdown();
  }, 15_000);
});
