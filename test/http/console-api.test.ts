/**
 * The web console's JSON API (src/http/console-*.ts) against an in-process broker with its schema registry:
 * every number is checked against the broker's own state or a Kafka protocol answer (ListOffsets,
 * OffsetFetch), records are decoded through the registry (Avro, Protobuf, JSON Schema) or as text/hex,
 * a group's offsets are reset only while it is Empty, and the protocol trace keeps a bounded ring.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../src/client/client.js';
import { commitOffsets, EARLIEST, fetchCommitted, fetchOnce, LATEST, listOffsets, produce } from '../../src/client/operations.js';
import { request as httpRequest } from 'node:http';
import { writeAllowedFromHost } from '../../src/http/console-api.js';
import { diffLines } from '../../src/http/console-registry.js';
import { ProtocolTrace } from '../../src/http/protocol-trace.js';
import { buildConfig } from '../../src/config.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startTestQuorum } from '../helpers/raft-quorum.js';

let broker: TestBroker;
let client: KafkaClient;
let base: string;
let registryUrl: string;

beforeAll(async () => {
  broker = await startTestBroker({
    'samsa.http.listeners': 'http://127.0.0.1:0',
    'samsa.schema.registry.enable': 'true',
    'schema.registry.listeners': 'http://127.0.0.1:0',
    'group.initial.rebalance.delay.ms': '0',
  });
  base = `http://127.0.0.1:${broker.httpPort}`;
  registryUrl = broker.registry!.url;
  client = new KafkaClient({ bootstrap: broker.bootstrap });
});
afterAll(async () => {
  await client.close();
  await broker.destroy();
});

async function api<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/api/${path}`, init);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: res.status, body: (await res.json()) as T };
}

async function register(subject: string, schema: string, schemaType = 'AVRO'): Promise<number> {
  const res = await fetch(`${registryUrl}/subjects/${subject}/versions`, { method: 'POST', headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema, schemaType }) });
  const body = (await res.json()) as { id: number };
  expect(res.status).toBe(200);
  return body.id;
}

function wire(id: number, payload: Buffer, indexes?: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeInt32BE(id, 1);
  return Buffer.concat([h, ...(indexes ? [indexes] : []), payload]);
}

describe('cluster and topics', () => {
  it('lists the broker, the topics and a topic\'s partitions, segments and configs as the broker has them', async () => {
    await broker.broker.createTopic('c-topics', 2, 1, new Map([['retention.ms', '123456']]));
    const t = await client.topic('c-topics');
    await produce(client, t, new Map([[0, ['a', 'b', 'c'].map((v) => ({ value: Buffer.from(v) }))], [1, [{ value: Buffer.from('d') }]]]), { acks: -1, timeoutMs: 5000 });

    const cluster = (await api<{ brokers: { nodeId: number; port: number; partitions: number; logBytes: number }[]; mode: string; clusterId: string }>('cluster')).body;
    // The single node is a quorum of one voter: itself, leading.
    expect(cluster.mode).toBe('raft');
    const own = (await api<{ leader: boolean; quorum: { leaderId: number; currentVoters: { replicaId: number }[] } }>('cluster')).body;
    expect(own.leader).toBe(true);
    expect(own.quorum.leaderId).toBe(broker.broker.nodeId);
    expect(own.quorum.currentVoters.map((v) => v.replicaId)).toEqual([broker.broker.nodeId]);
    expect(cluster.clusterId).toBe(broker.broker.config.clusterId);
    expect(cluster.brokers).toHaveLength(1);
    expect(cluster.brokers[0]!.nodeId).toBe(broker.broker.nodeId);
    expect(cluster.brokers[0]!.port).toBe(broker.port);

    const list = (await api<{ name: string; partitions: number; records: number; size: number }[]>('topics')).body;
    const row = list.find((x) => x.name === 'c-topics')!;
    expect(row).toMatchObject({ partitions: 2, records: 4 });
    expect(row.size).toBe(broker.broker.getPartition('c-topics', 0)!.log.size + broker.broker.getPartition('c-topics', 1)!.log.size);

    const detail = (await api<{ configs: { name: string; value: string; source: string }[]; partitions: { partition: number; leader: number; hostedHere: boolean; offline: boolean; replicas: number[]; isr: number[]; highWatermark: number; logStartOffset: number; segmentList: { baseOffset: number; size: number; indexBytes: number; active: boolean }[] }[] }>('topics/c-topics')).body;
    expect(detail.configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '123456', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(detail.configs.find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', source: 'DEFAULT_CONFIG' });
    // The high watermark the console shows is the one ListOffsets(LATEST) answers.
    const latest = await listOffsets(client, t, [0, 1], LATEST);
    const earliest = await listOffsets(client, t, [0, 1], EARLIEST);
    for (const p of detail.partitions) {
      expect(BigInt(p.highWatermark)).toBe(latest.get(p.partition));
      expect(BigInt(p.logStartOffset)).toBe(earliest.get(p.partition));
      expect(p.leader).toBe(broker.broker.nodeId);
      expect(p).toMatchObject({ hostedHere: true, offline: false });
      expect(p.isr).toEqual([broker.broker.nodeId]);
      expect(p.segmentList).toHaveLength(1);
      expect(p.segmentList[0]).toMatchObject({ baseOffset: 0, active: true, size: broker.broker.getPartition('c-topics', p.partition)!.log.size });
    }
    expect((await api('topics/nope')).status).toBe(404);
  });

  it('shows the Raft quorum through the broker\'s optional describeQuorum accessor: leader, epoch, voters\' log end offsets', async () => {
    const quorum = startTestQuorum();
    quorum.runUntil(10_000);
    const leader = quorum.leader()!;
    const lagging = [...quorum.cores.values()].find((c) => c !== leader)!.config.nodeId;
    quorum.isolated.add(lagging);
    quorum.propose(3);
    quorum.runUntil(12_000);
    const target = broker.broker as unknown as { describeQuorum?: (now: number) => unknown };
    // The broker's own quorum view, put back after each substitution below.
    const ownDescribe = target.describeQuorum;
    const ownStatus = broker.broker.quorum;
    // The test quorum runs on its own virtual clock.
    target.describeQuorum = () => leader.describeQuorum(quorum.now());
    try {
      type Voter = { replicaId: number; logEndOffset: number };
      const c = (await api<{ mode: string; leader: boolean; quorum: { leaderId: number; leaderEpoch: number; highWatermark: number; currentVoters: Voter[] } }>('cluster')).body;
      const d = leader.describeQuorum(quorum.now())!;
      expect(c.mode).toBe('raft');
      expect(c.leader).toBe(true);
      expect(c.quorum).toMatchObject({ leaderId: leader.config.nodeId, leaderEpoch: leader.epoch, highWatermark: d.highWatermark });
      const ends = new Map(c.quorum.currentVoters.map((v) => [v.replicaId, v.logEndOffset]));
      // The cut-off voter is behind the leader by the three records proposed meanwhile.
      expect(ends.get(leader.config.nodeId)! - ends.get(lagging)!).toBe(3);
    } finally {
      target.describeQuorum = ownDescribe;
    }
    expect((await api<{ quorum: { leaderId: number } }>('cluster')).body.quorum.leaderId).toBe(broker.broker.nodeId);

    // A follower: no voter table (DescribeQuorum answers on the leader only), its own status instead.
    const follower = [...quorum.cores.values()].find((x) => x !== leader && x.config.nodeId !== lagging)!;
    const b = broker.broker;
    b.quorum = { leaderId: () => follower.leaderId, epoch: () => follower.epoch, highWatermark: () => follower.highWatermark, logEndOffset: () => follower.logEndOffset, state: () => follower.stateName, isActiveController: () => false };
    target.describeQuorum = () => follower.describeQuorum(quorum.now());
    try {
      const f = (await api<{ mode: string; leader: boolean; quorum: null; status: { state: string; leaderId: number; epoch: number; highWatermark: number } }>('cluster')).body;
      expect(f).toMatchObject({ mode: 'raft', leader: false, quorum: null, status: { state: 'Follower', leaderId: leader.config.nodeId, epoch: leader.epoch, highWatermark: follower.highWatermark } });
    } finally {
      target.describeQuorum = ownDescribe;
      b.quorum = ownStatus;
    }
  });

  it('shows a partition\'s files: the listing, batch headers of the .log, index entries, text files', async () => {
    await broker.broker.createTopic('c-files', 1, 1, new Map([['index.interval.bytes', '1']]));
    const t = await client.topic('c-files');
    for (let i = 0; i < 3; i++) await produce(client, t, new Map([[0, [{ value: Buffer.from(`v${i}`) }, { value: Buffer.from(`w${i}`) }]]]), { acks: -1, timeoutMs: 5000 });
    const files = (await api<{ files: { name: string; kind: string; size: number }[] }>('topics/c-files/partitions/0/files')).body.files;
    const names = files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['00000000000000000000.log', '00000000000000000000.index', '00000000000000000000.timeindex', 'partition.metadata']));
    const log = (await api<{ batches: { position: number; baseOffset: number; lastOffset: number; count: number; compression: string }[]; nextPosition: number | null }>('topics/c-files/partitions/0/files/00000000000000000000.log')).body;
    expect(log.batches.map((b) => [b.baseOffset, b.lastOffset, b.count])).toEqual([[0, 1, 2], [2, 3, 2], [4, 5, 2]]);
    expect(log.batches[0]!.position).toBe(0);
    expect(log.nextPosition).toBeNull();
    // index.interval.bytes=1: an entry for every batch after the first.
    const index = (await api<{ entries: { offset: number; position: number }[] }>('topics/c-files/partitions/0/files/00000000000000000000.index')).body;
    expect(index.entries.map((e) => e.position)).toEqual(log.batches.slice(1).map((b) => b.position));
    const meta = (await api<{ text: string }>('topics/c-files/partitions/0/files/partition.metadata')).body;
    expect(meta.text).toMatch(/^version: 0\ntopic_id: [A-Za-z0-9_-]{22}\n/);
    // Only listed names: no way out of the directory.
    expect((await api('topics/c-files/partitions/0/files/..%2F..%2Fsamsa-topics.json')).status).toBe(404);
    expect((await api('topics/c-files/partitions/9/files')).status).toBe(404);
  });
});

describe('message browser', () => {
  it('decodes Avro, Protobuf and JSON Schema values through the registry, text and hex otherwise, from an offset or a timestamp', async () => {
    const avroId = await register('c-msgs-value', JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] }));
    const protoId = await register('c-proto-value', 'syntax = "proto3";\npackage demo;\nmessage Other { string x = 1; }\nmessage Order { int64 id = 1; string item = 2; }\n', 'PROTOBUF');
    const jsonId = await register('c-json-value', JSON.stringify({ type: 'object', properties: { n: { type: 'number' } } }), 'JSON');
    await broker.broker.createTopic('c-msgs', 1, 1, new Map());
    const t = await client.topic('c-msgs');
    // Avro binary of {id: 7, name: "ana"}: zig-zag varint 14, then length 6 and the bytes.
    const avro = Buffer.from([14, 6, ...Buffer.from('ana')]);
    // Protobuf Order {id: 5, item: "pen"}, the second message of the file: indexes [1] = count 1 (zig-zag 2), index 1 (2).
    const proto = Buffer.from([0x08, 0x05, 0x12, 0x03, ...Buffer.from('pen')]);
    const t0 = 1_700_000_000_000;
    await produce(client, t, new Map([[0, [
      { key: Buffer.from('k1'), value: wire(avroId, avro), headers: [{ key: 'h', value: Buffer.from('hv') }], timestamp: t0 },
      { key: null, value: wire(protoId, proto, Buffer.from([2, 2])), timestamp: t0 + 1000 },
      { key: Buffer.from([0xff, 0x00, 0x01]), value: wire(jsonId, Buffer.from('{"n":1.5}')), timestamp: t0 + 2000 },
      { key: null, value: Buffer.from('plain text'), timestamp: t0 + 3000 },
      { key: null, value: Buffer.from('{"a":[1,2]}'), timestamp: t0 + 4000 },
      { key: null, value: wire(avroId, Buffer.from([0x80])), timestamp: t0 + 5000 },
      { key: null, value: null, timestamp: t0 + 6000 },
    ]]]), { acks: -1, timeoutMs: 5000 });

    type Msg = { offset: number; timestamp: number; key: { format: string | null; value: unknown }; value: { format: string | null; schemaId?: number; type?: string; value: unknown; error?: string }; headers: { key: string; value: { value: unknown } }[] };
    const all = (await api<{ messages: Msg[]; highWatermark: number; nextOffset: number }>('topics/c-msgs/partitions/0/messages?offset=0')).body;
    expect(all.highWatermark).toBe(7);
    expect(all.nextOffset).toBe(7);
    const m = all.messages;
    expect(m.map((x) => x.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(m[0]!.value).toMatchObject({ format: 'avro', schemaId: avroId, type: 'User', value: { id: 7, name: 'ana' } });
    expect(m[0]!.key).toMatchObject({ format: 'text', value: 'k1' });
    expect(m[0]!.headers).toEqual([{ key: 'h', value: expect.objectContaining({ value: 'hv' }) }]);
    expect(m[0]!.timestamp).toBe(t0);
    expect(m[1]!.value).toMatchObject({ format: 'protobuf', schemaId: protoId, type: 'demo.Order', value: { id: '5', item: 'pen' } });
    expect(m[1]!.key).toMatchObject({ format: null, value: null });
    expect(m[2]!.value).toMatchObject({ format: 'json-schema', schemaId: jsonId, value: { n: 1.5 } });
    expect(m[2]!.key).toMatchObject({ format: 'hex', value: 'ff 00 01' });
    expect(m[3]!.value).toMatchObject({ format: 'text', value: 'plain text' });
    expect(m[4]!.value).toMatchObject({ format: 'json', value: { a: [1, 2] } });
    // Bytes that claim a schema but do not decode with it: hex, with the reason.
    expect(m[5]!.value.format).toBe('hex');
    expect(m[5]!.value.error).toMatch(new RegExp(`schema ${avroId} \\(AVRO\\)`));
    expect(m[6]!.value).toMatchObject({ format: null, value: null });

    // From a timestamp: the first record at or after it (what ListOffsets by timestamp answers).
    const byTime = (await api<{ messages: Msg[] }>(`topics/c-msgs/partitions/0/messages?timestamp=${t0 + 2500}&limit=2`)).body;
    expect(byTime.messages.map((x) => x.offset)).toEqual([3, 4]);
    const last = (await api<{ messages: Msg[] }>('topics/c-msgs/partitions/0/messages?from=end&limit=2')).body;
    expect(last.messages.map((x) => x.offset)).toEqual([5, 6]);
    // Forced formats.
    const hex = (await api<{ messages: Msg[] }>('topics/c-msgs/partitions/0/messages?offset=3&limit=1&valueFormat=hex')).body;
    expect(hex.messages[0]!.value).toMatchObject({ format: 'hex', value: Buffer.from('plain text').toString('hex').replace(/(..)(?!$)/g, '$1 ') });
    expect((await api('topics/c-msgs/partitions/0/messages?valueFormat=nope')).status).toBe(400);
    expect((await api('topics/c-msgs/partitions/0/messages?offset=abc')).status).toBe(400);
    expect((await api('topics/c-msgs/partitions/3/messages')).status).toBe(404);
  });
});

describe('consumer groups', () => {
  it('shows state, members, assignments, committed offsets and lag; resets offsets only when the group is empty', async () => {
    await broker.broker.createTopic('c-groups', 2, 1, new Map());
    const t = await client.topic('c-groups');
    await produce(client, t, new Map([[0, Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`r${i}`) }))], [1, Array.from({ length: 4 }, (_, i) => ({ value: Buffer.from(`s${i}`) }))]]), { acks: -1, timeoutMs: 5000 });
    await commitOffsets(client, 'c-group', [{ topic: 'c-groups', partition: 0, offset: 3n }, { topic: 'c-groups', partition: 1, offset: 4n }]);

    type Detail = { state: string; members: { memberId: string; clientId: string; assignment: { topic: string; partitions: number[] }[] }[]; offsets: { topic: string; partition: number; committed: number; highWatermark: number; lag: number; memberId: string | null }[]; lag: number; canResetOffsets: boolean };
    const d = (await api<Detail>('groups/c-group')).body;
    expect(d.state).toBe('Empty');
    expect(d.offsets.map((o) => [o.partition, o.committed, o.highWatermark, o.lag])).toEqual([[0, 3, 10, 7], [1, 4, 4, 0]]);
    expect(d.lag).toBe(7);
    expect(d.canResetOffsets).toBe(true);
    const list = (await api<{ groupId: string; state: string; lag: number }[]>('groups')).body;
    expect(list.find((g) => g.groupId === 'c-group')).toMatchObject({ state: 'Empty', lag: 7 });

    // A live consumer: Stable, one member owning both partitions, and the reset is refused.
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'console-test', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'c-group', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'c-groups' });
    await consumer.run({ autoCommit: false, eachMessage: async () => {} });
    let stable: Detail | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const g = (await api<Detail>('groups/c-group')).body;
      if (g.state === 'Stable' && g.members[0]?.assignment.length) {
        stable = g;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      expect(stable, 'the kafkajs consumer never became a Stable member').toBeDefined();
      expect(stable!.members).toHaveLength(1);
      expect(stable!.members[0]!.clientId).toBe('console-test');
      expect(stable!.members[0]!.assignment).toEqual([{ topic: 'c-groups', partitions: [0, 1] }]);
      expect(stable!.offsets.every((o) => o.memberId === stable!.members[0]!.memberId)).toBe(true);
      expect(stable!.canResetOffsets).toBe(false);
      const refused = await api<{ error: string }>('groups/c-group/reset-offsets', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: 'earliest' }) });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe("Assignments can only be reset if the group 'c-group' is inactive, but the current state is Stable.");
    } finally {
      await consumer.disconnect();
    }

    // Empty again: reset to earliest, then to an offset (clamped to the high watermark), as OffsetFetch sees it.
    const post = (body: unknown, type = 'application/json') => api<{ reset: { partition: number; offset: number }[]; error?: string }>('groups/c-group/reset-offsets', { method: 'POST', headers: { 'Content-Type': type }, body: JSON.stringify(body) });
    const r1 = await post({ to: 'earliest' });
    expect(r1.status).toBe(200);
    expect((await fetchCommitted(client, 'c-group')).map((o) => [o.partition, o.offset])).toEqual([[0, 0n], [1, 0n]]);
    const r2 = await post({ to: 'offset', offset: 8, topics: ['c-groups'] });
    expect(r2.body.reset.map((o) => [o.partition, o.offset])).toEqual([[0, 8], [1, 4]]);
    expect((await fetchCommitted(client, 'c-group')).map((o) => [o.partition, o.offset])).toEqual([[0, 8n], [1, 4n]]);
    const r3 = await post({ to: 'latest' });
    expect(r3.body.reset.map((o) => o.offset)).toEqual([10, 4]);
    expect((await api<Detail>('groups/c-group')).body.lag).toBe(0);
    // Bad requests.
    expect((await post({ to: 'yesterday' })).status).toBe(400);
    expect((await post({ to: 'earliest' }, 'text/plain')).status).toBe(415);
    // DNS rebinding: a page served under another name that resolves here may not write.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = httpRequest({ host: '127.0.0.1', port: broker.httpPort!, path: '/api/groups/c-group/reset-offsets', method: 'POST', headers: { Host: `attacker.example:${broker.httpPort}`, 'Content-Type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      r.on('error', reject);
      r.end(JSON.stringify({ to: 'earliest' }));
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('attacker.example');
    expect(writeAllowedFromHost('localhost:8080')).toBe(true);
    expect(writeAllowedFromHost('[::1]:8080')).toBe(true);
    expect(writeAllowedFromHost('10.0.0.5')).toBe(true);
    expect(writeAllowedFromHost('evil.example')).toBe(false);
    expect(writeAllowedFromHost(undefined)).toBe(false);
    expect((await post({ to: 'earliest', topics: ['missing'] })).status).toBe(404);
    expect((await api('groups/never-seen')).status).toBe(404);
    // The commits as stored in __consumer_offsets, decoded as the coordinator reads them.
    const partition = broker.broker.groupCoordinator.partitionFor('c-group');
    type Rec = { key: { format: string; value: { type: string; group: string; topic?: string; partition?: number } }; value: { format: string; value: { offset?: string } | null } };
    const stored = (await api<{ messages: Rec[] }>(`topics/__consumer_offsets/partitions/${partition}/messages?from=end&limit=500`)).body.messages;
    const commits = stored.filter((m) => m.key.value.type === 'OffsetCommitKey' && m.key.value.group === 'c-group' && m.key.value.partition === 0);
    expect(commits.length).toBeGreaterThanOrEqual(4);
    expect(commits.at(-1)!.key.format).toBe('consumer-offsets');
    expect(commits.at(-1)!.value.value!.offset).toBe('10');
  });
});

describe('schema registry', () => {
  it('lists subjects with versions and compatibility, and diffs two versions line by line', async () => {
    const v1 = JSON.stringify({ type: 'record', name: 'Pet', fields: [{ name: 'id', type: 'int' }] });
    const v2 = JSON.stringify({ type: 'record', name: 'Pet', fields: [{ name: 'id', type: 'int' }, { name: 'nick', type: 'string', default: '' }] });
    await register('c-pet-value', v1);
    await register('c-pet-value', v2);
    const overview = (await api<{ enabled: boolean; compatibility: string; subjects: { subject: string; versions: number[]; compatibility: string; latest: { version: number } }[] }>('registry')).body;
    expect(overview.enabled).toBe(true);
    expect(overview.compatibility).toBe('BACKWARD');
    expect(overview.subjects.find((s) => s.subject === 'c-pet-value')).toMatchObject({ versions: [1, 2], compatibility: 'BACKWARD', latest: { version: 2 } });
    const detail = (await api<{ versions: { version: number; pretty: string }[] }>('registry/subjects/c-pet-value')).body;
    expect(detail.versions.map((v) => v.version)).toEqual([1, 2]);
    const diff = (await api<{ added: number; removed: number; lines: { op: string; text: string }[] }>('registry/subjects/c-pet-value/diff?from=1&to=2')).body;
    expect(diff.removed).toBe(0);
    expect(diff.lines.filter((l) => l.op === '+').map((l) => l.text.trim())).toEqual(['},', '{', '"name": "nick",', '"type": "string",', '"default": ""']);
    expect((await api('registry/subjects/nope')).status).toBe(404);
    expect((await api('registry/subjects/c-pet-value/diff?from=1&to=9')).status).toBe(404);
  });

  it('diffLines: an LCS line diff that keeps common lines and orders removals before additions', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([{ op: ' ', text: 'a' }, { op: '-', text: 'b' }, { op: '+', text: 'x' }, { op: ' ', text: 'c' }]);
    expect(diffLines([], ['a'])).toEqual([{ op: '+', text: 'a' }]);
    expect(diffLines(['a', 'b'], ['b'])).toEqual([{ op: '-', text: 'a' }, { op: ' ', text: 'b' }]);
  });
});

describe('protocol trace', () => {
  it('records decoded requests only while watched, with produce batches summarised from their headers', async () => {
    await broker.broker.createTopic('c-trace', 1, 1, new Map());
    const t = await client.topic('c-trace');
    // Not watched yet: nothing is recorded.
    await produce(client, t, new Map([[0, [{ value: Buffer.from('unwatched') }]]]), { acks: -1, timeoutMs: 5000 });
    const first = (await api<{ entries: { seq: number; api: string }[] }>('trace')).body;
    expect(first.entries.filter((e) => e.api === 'Produce')).toHaveLength(0);
    await produce(client, t, new Map([[0, [{ value: Buffer.from('x') }, { value: Buffer.from('y') }]]]), { acks: -1, timeoutMs: 5000 });
    type Entry = { seq: number; api: string; version: number; request: string; response: string; batches: { topic: string; partition: number; batches: { baseOffset: number; records: number }[] }[] };
    const after = (await api<{ entries: Entry[] }>(`trace?after=${first.entries.at(-1)?.seq ?? 0}`)).body;
    const p = after.entries.find((e) => e.api === 'Produce')!;
    expect(p).toBeDefined();
    expect(JSON.parse(p.request)).toMatchObject({ acks: -1, topicData: [{ name: 'c-trace', partitionData: [{ index: 0 }] }] });
    expect(JSON.parse(p.response)).toMatchObject({ responses: [{ name: 'c-trace', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: '1' }] }] });
    // The producer's batch starts at 0; the broker assigns 1 (the response's baseOffset).
    expect(p.batches).toEqual([{ topic: 'c-trace', partition: 0, batches: [expect.objectContaining({ records: 2 })] }]);
    // A fetch's response batches, named by topic even when the version names topics by id (v13+).
    await fetchOnce(client, t, new Map([[0, 0n]]), { maxWaitMs: 0 });
    const fetched = (await api<{ entries: Entry[] }>(`trace?after=${p.seq}`)).body.entries.find((e) => e.api === 'Fetch')!;
    expect(fetched).toBeDefined();
    expect(fetched.batches).toEqual([{ topic: 'c-trace', partition: 0, batches: [expect.objectContaining({ baseOffset: 0, records: 1 }), expect.objectContaining({ baseOffset: 1, lastOffset: 2, records: 2 })] }]);
    expect(fetched.response).toMatch(/"records":"<\d+ bytes>"/);
  });

  it('keeps at most capacity entries, each cut at maxEntryChars', () => {
    let now = 0;
    const trace = new ProtocolTrace(3, 50, 1000, () => now);
    expect(trace.active).toBe(false);
    trace.arm();
    expect(trace.active).toBe(true);
    for (let i = 0; i < 5; i++) trace.record({ connection: 1, apiKey: 3, api: 'Metadata', version: 12, correlationId: i, clientId: 'c', durationMs: 1, request: { topics: 'x'.repeat(i * 10) }, response: null });
    const entries = trace.entries();
    expect(entries.map((e) => e.correlationId)).toEqual([2, 3, 4]);
    expect(entries.map((e) => e.request.length <= 50)).toEqual([true, true, true]);
    // '{"topics":"' + 10*i x's + '"}': 33 and 43 characters fit, 53 do not.
    expect(entries.map((e) => e.truncated)).toEqual([false, false, true]);
    expect(trace.entries(3).map((e) => e.seq)).toEqual([4, 5]);
    now = 1000;
    expect(trace.active).toBe(false);
  });
});

describe('failures', () => {
  it('a broker read that fails is answered 500 with the reason as JSON, and logged', async () => {
    await broker.broker.createTopic('c-broken', 1, 1, new Map());
    await produce(client, await client.topic('c-broken'), new Map([[0, [{ value: Buffer.from('x') }]]]), { acks: -1, timeoutMs: 5000 });
    // A log closed under the broker: the read fails as after an I/O error.
    await broker.broker.getPartition('c-broken', 0)!.log.close();
    const r = await api<{ error: string }>('topics/c-broken/partitions/0/messages');
    expect(r.status).toBe(500);
    expect(r.body.error).toMatch(/^internal error: /);
    // The rest of the console still answers.
    expect((await api('topics')).status).toBe(200);
  });
});

describe('the console switch and static pages', () => {
  it('serves the page at / and the API; samsa.console.enable=false leaves only /metrics and /health', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('Samsa');
    expect((await fetch(`${base}/ui/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/ui/..%2Fpackage.json`)).status).toBe(404);
    expect(() => buildConfig(new Map([['samsa.console.enable', 'maybe']]))).toThrow('Invalid value maybe for configuration samsa.console.enable: Expected value to be either true or false');
    const off = await startTestBroker({ 'samsa.http.listeners': 'http://127.0.0.1:0', 'samsa.console.enable': 'false' });
    try {
      const offBase = `http://127.0.0.1:${off.httpPort}`;
      expect((await fetch(`${offBase}/`)).status).toBe(404);
      expect((await fetch(`${offBase}/api/topics`)).status).toBe(404);
      expect((await fetch(`${offBase}/health`)).status).toBe(200);
    } finally {
      await off.destroy();
    }
  });
});
