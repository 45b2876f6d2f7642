/**
 * The same `samsa` CLI session against Samsa and against Apache Kafka 4.4 (the bench's distribution from
 * Maven Central, run in KRaft mode): topics, partitions and offsets, configs, records consumed, a group's
 * committed offsets and lag must read the same. Needs Java and Maven (Kafka's jars are fetched once into
 * bench/.cache, Maven's own cache in ~/.m2); a missing one fails the test with the reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, timeToFirstProduce, type BrokerHandle } from '../../bench/lib/brokers.js';
import { ensureKafka } from '../../bench/lib/kafka-dist.js';
import { runClientCli, type QuorumInfo } from '../../src/cli/client-commands.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

let samsa: TestBroker;
let kafka: BrokerHandle;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samsa-cli-kafka-'));
  const dist = ensureKafka();
  [samsa, kafka] = await Promise.all([startTestBroker({ 'group.initial.rebalance.delay.ms': '0' }), startKafka({ root }, dist)]);
  await timeToFirstProduce(kafka, 170_000);
}, 240_000);

afterAll(async () => {
  await Promise.all([samsa?.destroy(), kafka?.stop()]);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

async function cli(bootstrap: string, args: string[], stdin = ''): Promise<string> {
  let out = '';
  let err = '';
  const code = await runClientCli(['-b', bootstrap, ...args], {
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  if (code !== 0) throw new Error(`samsa ${args.join(' ')} against ${bootstrap}: exit ${code}: ${err}`);
  return out;
}

/** One session of commands; what it returns is compared between the two brokers. */
async function session(bootstrap: string): Promise<Record<string, unknown>> {
  await cli(bootstrap, ['topic', 'create', 'cmp-a', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=123456789']);
  await cli(bootstrap, ['topic', 'create', 'cmp-b', '--partitions', '1']);
  const lines = Array.from({ length: 30 }, (_, i) => `key${i}:value${i}`).join('\n') + '\n';
  await cli(bootstrap, ['produce', 'cmp-a', '--key-separator', ':', '-H', 'h=1'], lines);
  await cli(bootstrap, ['produce', 'cmp-b'], 'x\ny\n');

  const topics = (JSON.parse(await cli(bootstrap, ['--json', 'topic', 'list'])) as { name: string; partitions: number; replicationFactor: number }[])
    .filter((t) => t.name.startsWith('cmp-'))
    .map((t) => [t.name, t.partitions, t.replicationFactor]);
  const described = JSON.parse(await cli(bootstrap, ['--json', 'topic', 'describe', 'cmp-a'])) as {
    partitions: { partition: number; replicas: number[]; isr: number[]; logStartOffset: number; highWatermark: number }[];
    configs: { name: string; value: string; source: string }[];
  };
  const consumed = (await cli(bootstrap, ['consume', 'cmp-a', '-e', '-f', '%p %o %k %s %h\\n'])).trim().split('\n').sort();
  const tail = await cli(bootstrap, ['consume', 'cmp-a', '--partition', '1', '--offset', '-2', '-e', '-f', '%o %k\\n']);

  // A group reads everything, then its offsets are moved back: lag = log end - 2 on each partition.
  await cli(bootstrap, ['consume', 'cmp-a', '--group', 'cmp-g', '-e', '-f', '%s\\n']);
  const afterRead = JSON.parse(await cli(bootstrap, ['--json', 'group', 'describe', 'cmp-g'])) as { state: string; offsets: { topic: string; partition: number; committedOffset: number; logEndOffset: number; lag: number }[] };
  await cli(bootstrap, ['group', 'reset-offsets', 'cmp-g', '--topic', 'cmp-a', '--to-offset', '2', '--execute']);
  const afterReset = JSON.parse(await cli(bootstrap, ['--json', 'group', 'describe', 'cmp-g'])) as typeof afterRead;
  const groups = (JSON.parse(await cli(bootstrap, ['--json', 'group', 'list'])) as { group: string; state: string }[]).filter((g) => g.group === 'cmp-g');
  await cli(bootstrap, ['group', 'delete', 'cmp-g']);
  await cli(bootstrap, ['topic', 'delete', 'cmp-b']);
  const remaining = (JSON.parse(await cli(bootstrap, ['--json', 'topic', 'list'])) as { name: string }[]).map((t) => t.name).filter((n) => n.startsWith('cmp-'));
  const cluster = JSON.parse(await cli(bootstrap, ['--json', 'cluster', 'info'])) as { brokers: unknown[]; controllerId: number };

  return {
    topics,
    partitions: described.partitions.map((p) => [p.partition, p.replicas.length, p.isr.length, p.logStartOffset, p.highWatermark]),
    retention: described.configs.find((c) => c.name === 'retention.ms'),
    consumed,
    tail,
    afterRead: { state: afterRead.state, offsets: afterRead.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.logEndOffset, o.lag]) },
    afterReset: afterReset.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.logEndOffset, o.lag]),
    groups,
    remaining,
    brokers: cluster.brokers.length,
  };
}

describe('the CLI against Samsa and Apache Kafka', () => {
  it('gives the same answers for the same session', async () => {
    const fromSamsa = await session(samsa.bootstrap);
    const fromKafka = await session(kafka.bootstrap);
    expect(fromSamsa).toEqual(fromKafka);
    // And the session is not trivially empty on either.
    expect((fromKafka.consumed as string[]).length).toBe(30);
    expect((fromKafka.afterReset as unknown[][]).every((r) => r[2] === 2)).toBe(true);
    expect(fromKafka.retention).toEqual({ name: 'retention.ms', value: '123456789', source: 'DYNAMIC_TOPIC_CONFIG', readOnly: false, sensitive: false });
    // The quorum through a broker (Kafka forwards DescribeQuorum to its controller): each runs one
    // combined KRaft node, its own leader and only voter (Samsa's single node is a quorum of one).
    const kafkaInfo = JSON.parse(await cli(kafka.bootstrap, ['--json', 'cluster', 'info'])) as { controllerId: number; quorum: QuorumInfo | null };
    expect(kafkaInfo.quorum).not.toBeNull();
    expect(kafkaInfo.quorum!.leaderId).toBe(kafkaInfo.controllerId);
    expect(kafkaInfo.quorum!.leaderEpoch).toBeGreaterThanOrEqual(1);
    expect(kafkaInfo.quorum!.voters.map((v) => [v.nodeId, v.status, v.lag])).toEqual([[kafkaInfo.controllerId, 'Leader', 0]]);
    const samsaInfo = JSON.parse(await cli(samsa.bootstrap, ['--json', 'cluster', 'info'])) as { controllerId: number; quorum: QuorumInfo | null };
    expect(samsaInfo.quorum).not.toBeNull();
    expect(samsaInfo.quorum!.leaderId).toBe(samsaInfo.controllerId);
    expect(samsaInfo.quorum!.leaderEpoch).toBeGreaterThanOrEqual(1);
    expect(samsaInfo.quorum!.voters.map((v) => [v.nodeId, v.status, v.lag])).toEqual([[samsaInfo.controllerId, 'Leader', 0]]);
  }, 180_000);
});
