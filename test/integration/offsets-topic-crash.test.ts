/**
 * The offset commit that creates `__consumer_offsets`, acknowledged and then kill -9: after the restart
 * OffsetFetch returns it. `__consumer_offsets` (50 partitions) is being created by one client's
 * FindCoordinator while another commits; the topic must not be usable before samsa-topics.json names it,
 * else the commit lands in a partition that the restarted broker does not know. Repeated on fresh brokers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js';
import { partitionForGroup } from '../../src/group/coordinator-records.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const dirs: string[] = [];
const running: BrokerProcess[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of running.splice(0)) await b.kill9();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** A group id whose offsets go to partition `target` of 50, so its commit can land early in the creation. */
function groupIn(target: number): string {
  for (let i = 0; ; i++) if (partitionForGroup(`crash-group-${i}`, 50) === target) return `crash-group-${i}`;
}

describe('kill -9 right after the commit that creates __consumer_offsets', () => {
  // Three tries, each on a fresh broker (one test each, so a slow machine does not hit the test timeout).
  for (const attempt of [0, 1, 2]) {
    it(`keeps the acknowledged offset (try ${attempt + 1} of 3)`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'samsa-offsets-crash-'));
      dirs.push(dataDir);
      const b = await startBrokerProcess(dataDir, { 'offsets.topic.num.partitions': '50' });
      running.push(b);
      const admin = await client(b.port);
      const created = await admin.request(CreateTopics, 4, { topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10000, validateOnly: false });
      expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);

      const group = groupIn(0);
      const offset = BigInt(1000 + attempt);
      // One client starts the creation of __consumer_offsets (FindCoordinator), another commits meanwhile.
      const finder = await client(b.port);
      // Not awaited: its answer may never come (the broker is killed); its failure is not this test's.
      void finder.request(FindCoordinator, 2, { key: 'someone-else', keyType: 0 }).catch(() => undefined);
      const committer = await client(b.port);
      let acked = false;
      const deadline = Date.now() + 30_000;
      while (!acked) {
        if (Date.now() > deadline) throw new Error('the commit was never acknowledged');
        const r = await committer.request(OffsetCommit, 2, {
          groupId: group,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          retentionTimeMs: -1n,
          topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: '' }] }],
        });
        const code = r.topics[0]!.partitions[0]!.errorCode;
        if (code === ErrorCode.NONE) acked = true;
        else expect([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR]).toContain(code);
      }
      await b.kill9();

      const again = await startBrokerProcess(dataDir, { 'offsets.topic.num.partitions': '50' });
      running.push(again);
      const reader = await client(again.port);
      const fetched = await reader.request(OffsetFetch, 2, { groupId: group, topics: [{ name: 'orders', partitionIndexes: [0] }] });
      expect({ attempt, offset: fetched.topics[0]?.partitions[0]?.committedOffset }).toEqual({ attempt, offset });
      await again.stop();
    });
  }
});
