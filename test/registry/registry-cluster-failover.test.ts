/**
 * Failover of the schema registry's writer in a three-node KRaft cluster (three real processes), with
 * `_schemas` at its default replication factor (3, bounded by the live brokers): the registry leader's node
 * is killed with SIGKILL; the group evicts it after its session timeout, the survivors elect another
 * leader, which catches up with `_schemas` and goes on writing. Checked: a registration through a surviving
 * node succeeds again, its id is new and above every id given before (no id reused), a schema registered
 * before the kill keeps its id, and the survivors agree on subjects and schemas.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata } from '../../protocol/messages/metadata.js';
import { freePort } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { startClusterProcesses, type ClusterProcesses } from '../helpers/cluster-processes.js';
import { avro, call, type Reply } from './helpers.js';
import { eventually as pollUntil } from '../helpers/eventually.js';

let dir: string;
let cluster: ClusterProcesses;
const registryPort = new Map<number, number>();
const url = (id: number): string => `http://127.0.0.1:${registryPort.get(id)!}`;

const eventually = <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> => pollUntil(what, probe, ok, timeoutMs);

const record = (name: string): { schema: string } => avro({ type: 'record', name, fields: [{ name: 'f', type: 'string' }] });

async function register(id: number, subject: string, body: unknown, timeoutMs = 60_000): Promise<number> {
  const reply = await eventually(`register ${subject} through node ${id}`, () => call(url(id), 'POST', `/subjects/${subject}/versions`, body), (r) => r.status !== 500, timeoutMs);
  expect(reply.status, reply.text).toBe(200);
  return (reply.body as { id: number }).id;
}

/** The leader of `_schemas-0` as node `via` describes it. */
async function schemasLeader(via: number): Promise<number> {
  const c = await RawClient.connect(cluster.node(via).clientPort);
  try {
    const res = await c.request(Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: '_schemas' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return res.topics[0]?.partitions[0]?.leaderId ?? -1;
  } finally {
    c.close();
  }
}

async function agree(nodes: readonly number[], subjects: readonly string[], ids: readonly number[]): Promise<void> {
  for (const id of nodes) {
    await eventually(`node ${id} /subjects`, () => call(url(id), 'GET', '/subjects'), (r: Reply) => JSON.stringify(r.body) === JSON.stringify(subjects));
  }
  for (const n of ids) {
    const answers = await Promise.all(nodes.map((id) => call(url(id), 'GET', `/schemas/ids/${n}`)));
    for (const a of answers) expect(a.status, a.text).toBe(200);
    for (const a of answers) expect(a.text).toBe(answers[0]!.text);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-registry-failover-'));
  for (const id of [1, 2, 3]) registryPort.set(id, await freePort());
  cluster = await startClusterProcesses(3, dir, (id) => ({ 'samsa.schema.registry.enable': 'true', 'schema.registry.listeners': `http://127.0.0.1:${registryPort.get(id)!}` }));
  await Promise.all(cluster.nodes.map((n) => n.process!.waitForLine((l) => l.msg === 'schema registry started', 90_000)));
}, 180_000);

afterAll(async () => {
  await cluster?.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('schema registry writer failover', () => {
  it('after SIGKILL of the leader node another node is elected and writes go on with new ids', async () => {
    const before = [await register(2, 's1-value', record('S1')), await register(3, 's2-value', record('S2'))];
    const leaderUrl = cluster.nodes.map((n) => n.process!.lines.filter((l) => l.msg === 'schema registry leader elected').at(-1)?.leader).find((u) => u !== undefined);
    const leader = [1, 2, 3].find((id) => url(id) === leaderUrl);
    expect(leader, `leader URL ${String(leaderUrl)}`).toBeDefined();
    const partitionLeader = await schemasLeader(2);
    console.log(`registry leader: node ${leader}, _schemas-0 leader: node ${partitionLeader}`);
    await cluster.kill9(leader!);
    const survivors = [1, 2, 3].filter((id) => id !== leader);
    // Until the group evicts the dead leader (session timeout 10 s) forwarding fails with 50003; then a
    // survivor is elected and the write succeeds.
    const after = await register(survivors[0]!, 's3-value', record('S3'), 90_000);
    expect(after).toBeGreaterThan(Math.max(...before));
    expect(await register(survivors[1]!, 's1-value', record('S1'))).toBe(before[0]);
    await agree(survivors, ['s1-value', 's2-value', 's3-value'], [...before, after]);

    // The killed node restarts on its data directory: its registry catches up and serves the same ids.
    await cluster.start(leader!);
    await cluster.node(leader!).process!.waitForLine((l) => l.msg === 'schema registry started', 90_000);
    await agree([1, 2, 3], ['s1-value', 's2-value', 's3-value'], [...before, after]);

    // Now the node leading _schemas-0 dies: the partition moves to an in-sync replica, the registry
    // (re-elected if that node was its leader) writes there.
    const host = await schemasLeader(survivors[0]!);
    expect([1, 2, 3]).toContain(host);
    await cluster.kill9(host);
    const rest = [1, 2, 3].filter((id) => id !== host);
    const third = await register(rest[0]!, 's4-value', record('S4'), 90_000);
    expect(third).toBeGreaterThan(after);
    await agree(rest, ['s1-value', 's2-value', 's3-value', 's4-value'], [...before, after, third]);
  }, 300_000);
});
