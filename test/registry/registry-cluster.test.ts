/**
 * The schema registry of a three-node KRaft cluster (three real processes, each with its own registry
 * listener): one writer elected through the group protocol (group `schema-registry`, protocol type `sr`),
 * writes sent to the other nodes forwarded to it, every node following `_schemas` through Fetch. Checked:
 * registrations through node 2 and node 3 succeed, ids are unique across the cluster, an identical
 * registration on any node answers the same id, every node's /subjects, /schemas/ids/N and /config agree,
 * and exactly one leader URL is elected and known to all. `_schemas` is created with replication factor 1
 * here on purpose: killing the node that hosts `_schemas-0` leaves the partition offline and writes fail
 * with Confluent's 50001 (the store) or 50003 (forwarding to a dead leader), while the remaining nodes keep
 * answering reads from what they had read (failover with replicas: registry-cluster-failover.test.ts).
 * A fourth node (broker only) with an empty data directory is started once schemas exist: its registry
 * reads `_schemas` from the partition's leader and serves the same subjects and ids.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata } from '../../protocol/messages/metadata.js';
import { freePort } from '../helpers/broker-process.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { avro, call, type Reply } from './helpers.js';
import { eventually as pollUntil } from '../helpers/eventually.js';

let dir: string;
let cluster: ClusterProcesses;
const registryPort = new Map<number, number>();
const url = (id: number): string => `http://127.0.0.1:${registryPort.get(id)!}`;

const eventually = <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> => pollUntil(what, probe, ok, timeoutMs);

const record = (name: string, fields: string[]): { schema: string } => avro({ type: 'record', name, fields: fields.map((f) => ({ name: f, type: 'string' })) });

/** Registers, retrying while no leader is elected yet (50004) or the first leader is catching up. */
async function register(id: number, subject: string, body: unknown): Promise<number> {
  const reply = await eventually(`register ${subject} through node ${id}`, () => call(url(id), 'POST', `/subjects/${subject}/versions`, body), (r) => r.status === 200 || (r.status !== 500 && r.status !== 404));
  expect(reply.status, reply.text).toBe(200);
  return (reply.body as { id: number }).id;
}

async function schemasLeader(port: number): Promise<number> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: '_schemas' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return res.topics[0]?.partitions[0]?.leaderId ?? -1;
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-registry-cluster-'));
  for (const id of [1, 2, 3, 4]) registryPort.set(id, await freePort());
  cluster = await startClusterProcesses(
    3,
    dir,
    (id) => ({
      'samsa.schema.registry.enable': 'true',
      'schema.registry.listeners': `http://127.0.0.1:${registryPort.get(id)!}`,
      // One replica: the partition goes offline with its node (the last test).
      'kafkastore.topic.replication.factor': '1',
    }),
    // Node 4: a broker-only node started later on an empty data directory (the fresh-node test).
    { brokerOnly: 1, deferBrokerOnly: true },
  );
  await Promise.all(cluster.nodes.filter((n) => n.process !== null).map((n) => n.process!.waitForLine((l) => l.msg === 'schema registry started', 90_000)));
}, 180_000);

afterAll(async () => {
  await cluster?.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('schema registry in a three-node cluster', () => {
  const ids = new Map<string, number>();

  it('registers through non-writer nodes, with cluster-unique ids and one id per schema everywhere', async () => {
    ids.set('a', await register(2, 'a-value', record('A', ['x'])));
    ids.set('b', await register(3, 'b-value', record('B', ['y'])));
    ids.set('c', await register(2, 'c-value', record('C', ['z'])));
    expect(new Set(ids.values()).size).toBe(3);
    // The same schema again, through each node: the same id, no new version.
    for (const id of [1, 2, 3]) {
      expect(await register(id, 'a-value', record('A', ['x']))).toBe(ids.get('a'));
      expect(await register(id, 'b-value', record('B', ['y']))).toBe(ids.get('b'));
    }
    // The same schema under another subject: the same global id (identity is cluster-wide).
    expect(await register(3, 'd-value', record('A', ['x']))).toBe(ids.get('a'));
    // A second version through node 3 (BACKWARD: a field with a default added).
    const v2 = await register(3, 'a-value', avro({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'string' }, { name: 'w', type: 'int', default: 0 }] }));
    expect(new Set([...ids.values(), v2]).size).toBe(4);
    ids.set('a2', v2);
  }, 120_000);

  it('serves the same subjects, versions, schemas and configs on every node', async () => {
    const put = await call(url(2), 'PUT', '/config/b-value', { compatibility: 'FULL' });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({ compatibility: 'FULL' });
    const want = ['a-value', 'b-value', 'c-value', 'd-value'];
    for (const id of [1, 2, 3]) {
      await eventually(`node ${id} /subjects`, () => call(url(id), 'GET', '/subjects'), (r: Reply) => JSON.stringify(r.body) === JSON.stringify(want));
      await eventually(`node ${id} /config/b-value`, () => call(url(id), 'GET', '/config/b-value'), (r: Reply) => r.status === 200 && (r.body as { compatibilityLevel: string }).compatibilityLevel === 'FULL');
    }
    for (const n of ids.values()) {
      const answers = await Promise.all([1, 2, 3].map((id) => call(url(id), 'GET', `/schemas/ids/${n}`)));
      for (const a of answers) expect(a.status, a.text).toBe(200);
      expect(answers[1]!.text).toBe(answers[0]!.text);
      expect(answers[2]!.text).toBe(answers[0]!.text);
    }
    const versions = await Promise.all([1, 2, 3].map((id) => call(url(id), 'GET', '/subjects/a-value/versions')));
    for (const v of versions) expect(v.body).toEqual([1, 2]);
    // One leader, the same for all: each node logged the same elected URL last.
    const leaders = [1, 2, 3].map((id) => cluster.node(id).process!.lines.filter((l) => l.msg === 'schema registry leader elected').at(-1)?.leader);
    expect(leaders[0]).toBeTruthy();
    expect(new Set(leaders).size).toBe(1);
    expect([1, 2, 3].map(url)).toContain(leaders[0]);
  }, 120_000);

  it('a lookup (POST /subjects/{s}) and a compatibility check are answered locally by every node', async () => {
    for (const id of [1, 2, 3]) {
      const lookup = await call(url(id), 'POST', '/subjects/c-value', record('C', ['z']));
      expect(lookup.status, lookup.text).toBe(200);
      expect((lookup.body as { id: number }).id).toBe(ids.get('c'));
    }
  }, 60_000);

  it('a fresh node (empty data directory) started later serves the same subjects, versions, ids and configs, and takes writes', async () => {
    const fresh = await cluster.start(4);
    await fresh.waitForLine((l) => l.msg === 'schema registry started', 90_000);
    const want = ['a-value', 'b-value', 'c-value', 'd-value'];
    await eventually('node 4 /subjects', () => call(url(4), 'GET', '/subjects'), (r: Reply) => JSON.stringify(r.body) === JSON.stringify(want));
    for (const n of ids.values()) {
      const [fromFresh, fromOne] = await Promise.all([call(url(4), 'GET', `/schemas/ids/${n}`), call(url(1), 'GET', `/schemas/ids/${n}`)]);
      expect(fromFresh.status, fromFresh.text).toBe(200);
      expect(fromFresh.text).toBe(fromOne.text);
    }
    expect((await call(url(4), 'GET', '/subjects/a-value/versions')).body).toEqual([1, 2]);
    expect((await call(url(4), 'GET', '/config/b-value')).body).toEqual({ compatibilityLevel: 'FULL' });
    // A registration through the new node (forwarded, or served if it became the writer) gets a new id.
    const f = await register(4, 'f-value', record('F', ['v']));
    expect([...ids.values()]).not.toContain(f);
    expect(await register(1, 'a-value', record('A', ['x']))).toBe(ids.get('a'));
  }, 180_000);

  it('with _schemas at replication factor 1, writes fail with 50001/50003 while its node is down; reads go on', async () => {
    const hosting = await schemasLeader(cluster.node(1).clientPort);
    expect([1, 2, 3]).toContain(hosting);
    await cluster.kill9(hosting);
    const other = [1, 2, 3].find((id) => id !== hosting)!;
    const reply = await eventually(
      `a write through node ${other} failing while node ${hosting} is down`,
      () => call(url(other), 'POST', '/subjects/e-value/versions', record('E', ['q'])),
      (r) => r.status === 500,
      90_000,
    );
    const body = reply.body as { error_code: number; message: string };
    if (body.error_code === 50003) expect(body.message).toMatch(/^Error while forwarding the request to the leader: /);
    // kafkastore.timeout.ms (500) exceeded while the dead node was still named leader: Confluent's 50002.
    else if (body.error_code === 50002) expect(body.message).toBe('Register operation timed out');
    else {
      expect(body.error_code).toBe(50001);
      expect(body.message).toMatch(/^Error while storing the schema: /);
    }
    const subjects = await call(url(other), 'GET', '/subjects');
    expect(subjects.body).toEqual(['a-value', 'b-value', 'c-value', 'd-value', 'f-value']);
  }, 150_000);
});
