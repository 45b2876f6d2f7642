/**
 * The `samsa` client commands (topic, group, produce, consume, cluster) against an in-process broker on a
 * free port, through the function entry (runClientCli), plus the real command line as a process for exit
 * codes. Answers are checked against what kafkajs (a stock client) sees of the same state.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, formatRecord, runClientCli, table } from '../../src/cli/client-commands.js';
import { murmur2 } from '../../src/client/partitioner.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const ROOT = resolve(import.meta.dirname, '../..');
let broker: TestBroker;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  await broker.destroy();
});

async function cli(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runClientCli(['-b', broker.bootstrap, ...args], {
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

async function json<T>(args: string[], stdin = ''): Promise<T> {
  const r = await cli(['--json', ...args], stdin);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as T;
}

describe('samsa topic', () => {
  it('creates, lists, describes, alters and deletes a topic', async () => {
    const created = await cli(['topic', 'create', 'cli-topics', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=12345']);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/^TOPIC\s+PARTITIONS\s+REPLICAS\s+STATUS\ncli-topics\s+3\s+1\s+CREATED\n$/);

    const again = await cli(['topic', 'create', 'cli-topics', '--partitions', '3']);
    expect(again.code).toBe(ExitCode.ERROR);
    expect(again.err).toContain('TOPIC_ALREADY_EXISTS');

    const list = await json<{ name: string; partitions: number; replicationFactor: number }[]>(['topic', 'list']);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const names = (await admin.listTopics()).filter((n) => !n.startsWith('__')).sort();
      expect(list.map((t) => t.name)).toEqual(names);
      expect(list.find((t) => t.name === 'cli-topics')).toMatchObject({ partitions: 3, replicationFactor: 1 });

      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'cli-topics', messages: [{ value: 'a', partition: 1 }, { value: 'b', partition: 1 }] });
      await producer.disconnect();

      const d = await json<{ partitions: { partition: number; leader: number; isr: number[]; logStartOffset: number; highWatermark: number }[]; configs: { name: string; value: string; source: string }[] }>(['topic', 'describe', 'cli-topics']);
      const offsets = await admin.fetchTopicOffsets('cli-topics');
      expect(d.partitions.map((p) => [p.partition, p.highWatermark, p.logStartOffset])).toEqual(offsets.map((o) => [o.partition, Number(o.high), Number(o.low)]).sort((a, b) => a[0]! - b[0]!));
      expect(d.partitions[1]!.highWatermark).toBe(2);
      expect(d.configs).toContainEqual(expect.objectContaining({ name: 'retention.ms', value: '12345', source: 'DYNAMIC_TOPIC_CONFIG' }));

      const human = await cli(['topic', 'describe', 'cli-topics']);
      expect(human.out).toMatch(/PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+LOG-START-OFFSET\s+HIGH-WATERMARK/);
      expect(human.out).toMatch(/\n1\s+\d+\s+\d+\s+\d+\s+\d+\s+0\s+2\n/);

      const altered = await cli(['topic', 'alter-config', 'cli-topics', '--set', 'cleanup.policy=compact', '--delete', 'retention.ms']);
      expect(altered.code, altered.err).toBe(0);
      const cfg = await admin.describeConfigs({ resources: [{ type: 2, name: 'cli-topics', configNames: ['cleanup.policy', 'retention.ms'] }], includeSynonyms: false });
      const entries = cfg.resources[0]!.configEntries;
      expect(entries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact');
      expect(entries.find((e) => e.configName === 'retention.ms')?.isDefault).toBe(true);

      const deleted = await cli(['topic', 'delete', 'cli-topics']);
      expect(deleted.code, deleted.err).toBe(0);
      expect(await admin.listTopics()).not.toContain('cli-topics');
    } finally {
      await admin.disconnect();
    }
    const missing = await cli(['topic', 'describe', 'cli-topics']);
    expect(missing.code).toBe(ExitCode.ERROR);
    expect(missing.err).toContain('UNKNOWN_TOPIC_OR_PARTITION');
    const delMissing = await cli(['topic', 'delete', 'cli-topics']);
    expect(delMissing.code).toBe(ExitCode.ERROR);
  });
});

describe('samsa produce and consume', () => {
  it('produces stdin lines with keys and headers where Kafka would put them, and consumes them with a format', async () => {
    expect((await cli(['topic', 'create', 'cli-pc', '--partitions', '4'])).code).toBe(0);
    const lines = Array.from({ length: 20 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n';
    const p = await cli(['produce', 'cli-pc', '--key-separator', ':', '-H', 'source=cli', '-H', 'n=1'], lines);
    expect(p.code, p.err).toBe(0);
    expect(p.err).toContain('produced 20 records');

    // kafkajs reads the same records, each on the partition its own (murmur2) partitioner picks.
    const consumer = kafka.consumer({ groupId: 'cli-pc-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'cli-pc', fromBeginning: true });
    const seen: { key: string; value: string; partition: number; headers: Record<string, string> }[] = [];
    await new Promise<void>((done, fail) => {
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            seen.push({ key: String(message.key), value: String(message.value), partition, headers });
            if (seen.length === 20) done();
          },
        })
        .catch(fail);
    });
    await consumer.disconnect();
    const { Partitioners } = await import('kafkajs');
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2, 3].map((id) => ({ partitionId: id, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    for (const s of seen) {
      expect(s.value).toBe(`v${s.key.slice(1)}`);
      expect(s.headers).toEqual({ source: 'cli', n: '1' });
      expect(s.partition).toBe(partitioner({ topic: 'cli-pc', partitionMetadata, message: { key: s.key, value: null } }));
    }

    const c = await cli(['consume', 'cli-pc', '-e', '-f', '%p %o %k=%s %h\\n']);
    expect(c.code, c.err).toBe(0);
    const printed = c.out.trim().split('\n').sort();
    expect(printed).toHaveLength(20);
    expect(printed.map((l) => l.split(' ')[2]).sort()).toEqual(seen.map((s) => `${s.key}=${s.value}`).sort());
    for (const l of printed) expect(l.endsWith(' source=cli,n=1')).toBe(true);

    const two = await cli(['consume', 'cli-pc', '-c', '2', '--partition', '0', '-f', '%o\\n']);
    expect(two.out).toBe('0\n1\n');

    // -1: one record before the end; --json prints one document per record.
    const last = await cli(['--json', 'consume', 'cli-pc', '-e', '--partition', '0', '--offset', '-1']);
    const rec = JSON.parse(last.out.trim()) as { partition: number; headers: { key: string; value: string }[] };
    expect(rec.partition).toBe(0);
    expect(rec.headers).toEqual([{ key: 'source', value: 'cli' }, { key: 'n', value: '1' }]);
  });

  it('starts at a timestamp', async () => {
    expect((await cli(['topic', 'create', 'cli-ts', '--partitions', '1'])).code).toBe(0);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'cli-ts', messages: [{ value: 'old', timestamp: '1000' }, { value: 'mid', timestamp: '2000' }, { value: 'new', timestamp: '3000' }] });
    await producer.disconnect();
    const r = await cli(['consume', 'cli-ts', '-e', '--from-timestamp', '2000', '-f', '%T %s\\n']);
    expect(r.out).toBe('2000 mid\n3000 new\n');
    const iso = await cli(['consume', 'cli-ts', '-e', '--from-timestamp', new Date(2500).toISOString(), '-f', '%s\\n']);
    expect(iso.out).toBe('new\n');
  });

  it('starts at the end (--offset latest, kcat\'s -o end): only records produced after it starts', async () => {
    expect((await cli(['topic', 'create', 'cli-end', '--partitions', '1'])).code).toBe(0);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'cli-end', messages: [{ value: 'before-1' }, { value: 'before-2' }] });
      // With -e there is nothing between the end and the end.
      const atEnd = await cli(['consume', 'cli-end', '--offset', 'latest', '-e', '-f', '%s\\n']);
      expect(atEnd.code, atEnd.err).toBe(0);
      expect(atEnd.out).toBe('');
      // Without: it waits for the next record. Records are produced until it has one (it may start after
      // some of them), and that one must be new, never one from before it started.
      const waiting = cli(['consume', 'cli-end', '--offset', 'latest', '-c', '1', '-f', '%s\\n']);
      let done = false;
      void waiting.then(() => (done = true));
      for (let i = 0; !done; i++) await producer.send({ topic: 'cli-end', messages: [{ value: `after-${i}` }] });
      const r = await waiting;
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^after-\d+\n$/);
    } finally {
      await producer.disconnect();
    }
  });
});

describe('samsa group', () => {
  it('consumes as a group member, then describes lag, resets offsets and deletes the group', async () => {
    expect((await cli(['topic', 'create', 'cli-g', '--partitions', '2'])).code).toBe(0);
    const lines = Array.from({ length: 10 }, (_, i) => `v${i}`).join('\n') + '\n';
    expect((await cli(['produce', 'cli-g', '--partition', '0'], lines)).code).toBe(0);
    expect((await cli(['produce', 'cli-g', '--partition', '1'], 'x\ny\n')).code).toBe(0);

    const c = await cli(['consume', 'cli-g', '--group', 'cli-group', '-c', '4', '-f', '%p:%s\\n']);
    expect(c.code, c.err).toBe(0);
    expect(c.out.trim().split('\n')).toHaveLength(4);

    const d = await json<{ state: string; offsets: { topic: string; partition: number; committedOffset: number | null; logEndOffset: number; lag: number | null }[] }>(['group', 'describe', 'cli-group']);
    expect(d.state).toBe('Empty');
    // kafkajs' view of the same group: committed offsets; lag is the log end offset minus them.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = (await admin.fetchOffsets({ groupId: 'cli-group', topics: ['cli-g'] }))[0]!.partitions;
      const ends = await admin.fetchTopicOffsets('cli-g');
      const expected = committed
        .filter((p) => Number(p.offset) >= 0)
        .map((p) => {
          const end = Number(ends.find((e) => e.partition === p.partition)!.high);
          return { topic: 'cli-g', partition: p.partition, committedOffset: Number(p.offset), logEndOffset: end, lag: end - Number(p.offset) };
        })
        .sort((a, b) => a.partition - b.partition);
      expect(d.offsets.map((o) => ({ topic: o.topic, partition: o.partition, committedOffset: o.committedOffset, logEndOffset: o.logEndOffset, lag: o.lag }))).toEqual(expected);
      expect(expected.reduce((s, e) => s + e.committedOffset, 0)).toBe(4);

      const human = await cli(['group', 'describe', 'cli-group']);
      expect(human.out).toMatch(/TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/);

      const list = await json<{ group: string; state: string }[]>(['group', 'list']);
      expect(list).toContainEqual(expect.objectContaining({ group: 'cli-group', state: 'Empty' }));

      const dry = await cli(['group', 'reset-offsets', 'cli-group', '--topic', 'cli-g', '--to-earliest']);
      expect(dry.code, dry.err).toBe(0);
      expect(dry.err).toContain('dry run');
      expect(Number((await admin.fetchOffsets({ groupId: 'cli-group', topics: ['cli-g'] }))[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0))).toBe(4);

      const exec = await cli(['group', 'reset-offsets', 'cli-group', '--topic', 'cli-g', '--partition', '0', '--to-offset', '7', '--execute']);
      expect(exec.code, exec.err).toBe(0);
      const after = (await admin.fetchOffsets({ groupId: 'cli-group', topics: ['cli-g'] }))[0]!.partitions.find((p) => p.partition === 0);
      expect(after?.offset).toBe('7');

      const shifted = await json<{ offsets: { partition: number; offset: number }[] }>(['group', 'reset-offsets', 'cli-group', '--topic', 'cli-g', '--partition', '0', '--shift-by', '-100', '--execute']);
      expect(shifted.offsets).toEqual([{ topic: 'cli-g', partition: 0, offset: 0 }]);

      const usage = await cli(['group', 'reset-offsets', 'cli-group', '--topic', 'cli-g']);
      expect(usage.code).toBe(ExitCode.USAGE);

      const del = await cli(['group', 'delete', 'cli-group']);
      expect(del.code, del.err).toBe(0);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('cli-group');
      const gone = await cli(['group', 'describe', 'cli-group']);
      expect(gone.code).toBe(ExitCode.ERROR);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses to reset the offsets of a group with members', async () => {
    expect((await cli(['topic', 'create', 'cli-active', '--partitions', '1'])).code).toBe(0);
    const consumer = kafka.consumer({ groupId: 'cli-active-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'cli-active', fromBeginning: true });
    const joined = new Promise<void>((done) => consumer.on(consumer.events.GROUP_JOIN, () => done()));
    await consumer.run({ eachMessage: async () => undefined });
    await joined;
    try {
      const r = await cli(['group', 'reset-offsets', 'cli-active-group', '--topic', 'cli-active', '--to-latest', '--execute']);
      expect(r.code).toBe(ExitCode.ERROR);
      expect(r.err).toContain('inactive');
      const del = await cli(['group', 'delete', 'cli-active-group']);
      expect(del.code).toBe(ExitCode.ERROR);
      expect(del.out).toContain('NON_EMPTY_GROUP');
    } finally {
      await consumer.disconnect();
    }
  });
});

describe('samsa cluster info', () => {
  it('names the cluster, its controller and brokers as kafkajs sees them', async () => {
    const info = await json<{ clusterId: string; controllerId: number; brokers: { nodeId: number; host: string; port: number }[]; quorum: unknown }>(['cluster', 'info']);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const c = await admin.describeCluster();
      expect(info.clusterId).toBe(c.clusterId);
      expect(info.controllerId).toBe(c.controller);
      expect(info.brokers.map((b) => [b.nodeId, b.host, b.port])).toEqual(c.brokers.map((b) => [b.nodeId, b.host, b.port]));
      // A single node is a KRaft quorum of one voter: itself, leading.
      const quorum = info.quorum as { leaderId: number; voters: { nodeId: number; status: string; lag: number }[]; observers: unknown[] };
      expect(quorum.leaderId).toBe(c.controller);
      expect(quorum.voters.map((v) => [v.nodeId, v.status, v.lag])).toEqual([[c.controller, 'Leader', 0]]);
      expect(quorum.observers).toEqual([]);
      const text = await cli(['cluster', 'info']);
      expect(text.code).toBe(0);
      expect(text.out).toContain(`QUORUM LEADER ${c.controller}`);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('exit codes and output helpers', () => {
  it('connects to 127.0.0.1:9092 unless -b says otherwise', async () => {
    // Read from the help, not by connecting: a test may not depend on what listens on a fixed port.
    let help = '';
    const code = await runClientCli(['--help'], { stdin: Readable.from([]), stdout: { write: (t: string) => (help += t) }, stderr: { write: (t: string) => (help += t) } });
    expect(code).toBe(0);
    // Wrapped to the terminal's width: compared with the whitespace collapsed.
    expect(help.replace(/\s+/g, ' ')).toContain('-b, --bootstrap-server <host:port> broker to connect to (comma-separated list) (default: "127.0.0.1:9092")');
  });

  it('exits 3 when no broker answers, 2 on a usage error', async () => {
    const r = await runClientCli(['-b', '127.0.0.1:1', 'topic', 'list'], { stdin: Readable.from([]), stdout: { write: () => true }, stderr: { write: () => true } });
    expect(r).toBe(ExitCode.UNREACHABLE);
    expect((await cli(['topic', 'create'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['topic', 'nonsense'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['topic', 'create', 't', '--partitions', 'x'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['consume', 'x', '--offset', 'soon'])).code).toBe(ExitCode.USAGE);
  });

  it('the samsa command itself exits with those codes', async () => {
    const run = promisify(execFile);
    const ok = await run('npx', ['tsx', 'src/cli/main.ts', '-b', broker.bootstrap, 'cluster', 'info'], { cwd: ROOT });
    expect(ok.stdout).toMatch(/^CLUSTER \S+ {2}CONTROLLER \d+\n\nID\s+HOST\s+PORT\s+RACK\s+CONTROLLER\n/);
    const codeOf = async (args: string[]): Promise<number> => {
      try {
        await run('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: ROOT });
        return 0;
      } catch (err) {
        return (err as { code: number }).code;
      }
    };
    expect(await codeOf(['-b', broker.bootstrap, 'topic', 'describe', 'no-such-topic'])).toBe(ExitCode.ERROR);
    expect(await codeOf(['topic', 'create'])).toBe(ExitCode.USAGE);
  }, 60_000);

  it('formats records as kcat does, aligns tables, hashes keys as Kafka', () => {
    const r = { offset: 5, timestamp: 1700000000000, attributes: 0, key: Buffer.from('k'), value: Buffer.from('hello'), headers: [{ key: 'a', value: Buffer.from('1') }, { key: 'b', value: null }] };
    expect(formatRecord('%t/%p@%o %k=%s (%K,%S) %T [%h] 100%%\\t|\\n', 'tp', 2, r)).toBe('tp/2@5 k=hello (1,5) 1700000000000 [a=1,b=] 100%\t|\n');
    expect(formatRecord('%k|%s\\n', 'tp', 0, { ...r, key: null, value: null })).toBe('|\n');
    expect(table(['A', 'LONGER'], [['xyz', 1], ['w', 22]])).toBe('A    LONGER\nxyz  1\nw    22\n');
    // Values from Kafka's UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });
});
