/**
 * A registry that is not the leader (in a cluster): its writes go to the leader's URL and come back as the
 * leader answered them (status, body, content type), reads stay local; Confluent's 50003 when the leader
 * cannot be reached and 50004 while no leader is known or when a forwarded write reaches a non-leader (no
 * forwarding loop during a re-election). Also the group leader's choice of the registry leader.
 * In-process: two RegistryHttpServers over in-memory logs, the "leader view" set by the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RegistryHttpServer, type LeaderView } from '../../src/registry/http.js';
import { assignLeader, type RegistryIdentity } from '../../src/registry/leader-election.js';
import { SchemaRegistry } from '../../src/registry/registry.js';
import type { StoreRecord } from '../../src/registry/store-records.js';
import { freePort } from '../helpers/broker-process.js';
import { avro, call } from './helpers.js';

const logger = pino({ level: 'silent' });
const servers: RegistryHttpServer[] = [];

async function serve(leader?: LeaderView): Promise<{ url: string; written: StoreRecord[][] }> {
  const written: StoreRecord[][] = [];
  const registry = new SchemaRegistry({ append: async (records) => void written.push([...records]) }, { defaultCompatibility: 'BACKWARD' }, logger);
  const http = new RegistryHttpServer(registry, { clusterId: 'c', trace: false, leader }, logger);
  servers.push(http);
  const port = await http.listen('127.0.0.1', 0);
  return { url: `http://127.0.0.1:${port}`, written };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const schema = avro({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] });

describe('forwarding writes to the registry leader', () => {
  it('writes reaching a follower are served by the leader; reads stay local', async () => {
    const leader = await serve({ isLeader: true, leaderUrl: null });
    const follower = await serve({ isLeader: false, leaderUrl: leader.url });
    const reg = await call(follower.url, 'POST', '/subjects/s/versions', schema);
    expect(reg.status, reg.text).toBe(200);
    expect(reg.body).toEqual({ id: 1 });
    expect(reg.contentType).toBe('application/vnd.schemaregistry.v1+json');
    expect(leader.written.length).toBe(1);
    expect(follower.written.length).toBe(0);
    // The leader's errors come back unchanged (here 42201 for an invalid schema, 42203 for a bad level).
    const bad = await call(follower.url, 'POST', '/subjects/s/versions', { schema: '{"type":"nope"}' });
    expect(bad.status).toBe(422);
    expect((bad.body as { error_code: number }).error_code).toBe(42201);
    const badLevel = await call(follower.url, 'PUT', '/config', { compatibility: 'sideways' });
    expect((badLevel.body as { error_code: number }).error_code).toBe(42203);
    // PUT /config, PUT /mode and DELETE are writes too.
    expect((await call(follower.url, 'PUT', '/config/s', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' });
    expect((await call(follower.url, 'PUT', '/mode/s', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    expect((await call(follower.url, 'DELETE', '/mode/s')).body).toEqual({ mode: 'READONLY' });
    expect((await call(follower.url, 'DELETE', '/subjects/s')).body).toEqual([1]);
    expect(leader.written.length).toBe(5);
    expect(follower.written.length).toBe(0);
    // A lookup is a read: the follower answers from its own (here empty) state.
    const lookup = await call(follower.url, 'POST', '/subjects/s', schema);
    expect((lookup.body as { error_code: number }).error_code).toBe(40401);
  });

  it('50003 when the leader cannot be reached; 50004 while no leader is known', async () => {
    const closed = await freePort();
    const follower = await serve({ isLeader: false, leaderUrl: `http://127.0.0.1:${closed}` });
    const res = await call(follower.url, 'POST', '/subjects/s/versions', schema);
    expect(res.status).toBe(500);
    expect((res.body as { error_code: number }).error_code).toBe(50003);
    expect((res.body as { message: string }).message).toMatch(new RegExp(`^Error while forwarding the request to the leader: http://127.0.0.1:${closed}/subjects/s/versions: `));
    // Reads do not need the leader.
    expect((await call(follower.url, 'GET', '/subjects')).body).toEqual([]);

    const orphan = await serve({ isLeader: false, leaderUrl: null });
    const none = await call(orphan.url, 'PUT', '/config', { compatibility: 'NONE' });
    expect(none.status).toBe(500);
    expect(none.body).toEqual({ error_code: 50004, message: 'Leader not known' });
    expect(orphan.written.length).toBe(0);
  });

  it('a forwarded write reaching a node that is not the leader is refused, not forwarded again', async () => {
    // Two nodes each believing the other leads (a re-election in flight).
    const aLeader: { isLeader: boolean; leaderUrl: string | null } = { isLeader: false, leaderUrl: null };
    const a = await serve(aLeader);
    const b = await serve({ isLeader: false, leaderUrl: a.url });
    aLeader.leaderUrl = b.url;
    const res = await call(a.url, 'POST', '/subjects/s/versions', schema);
    expect(res.status).toBe(500);
    expect((res.body as { error_code: number }).error_code).toBe(50004);
    expect(a.written.length + b.written.length).toBe(0);
  });
});

describe('the group leader elects the registry leader (Confluent SchemaRegistryCoordinator)', () => {
  const id = (port: number, eligible = true): RegistryIdentity => ({ version: 1, host: '127.0.0.1', port, master_eligibility: eligible, scheme: 'http' });

  it('the eligible member with the smallest member id; none when no member is eligible; an error for duplicate URLs', () => {
    expect(assignLeader([{ memberId: 'sr-1-b', identity: id(2) }, { memberId: 'sr-1-a', identity: id(1) }, { memberId: 'sr-1-c', identity: id(3) }])).toEqual({ error: 0, master: 'sr-1-a', master_identity: id(1) });
    expect(assignLeader([{ memberId: 'sr-1-a', identity: id(1, false) }, { memberId: 'sr-1-b', identity: id(2) }])).toMatchObject({ error: 0, master: 'sr-1-b' });
    expect(assignLeader([{ memberId: 'sr-1-a', identity: id(1, false) }])).toEqual({ error: 0, master: null, master_identity: null });
    expect(assignLeader([{ memberId: 'sr-1-a', identity: id(1) }, { memberId: 'sr-1-b', identity: id(1) }])).toMatchObject({ error: 1, master: null });
  });
});
