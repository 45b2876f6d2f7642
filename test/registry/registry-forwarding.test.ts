/**
 * A registry that is not the leader (in a cluster): its writes go to the leader's URL and come back as the
 * leader answered them (status, body, content type), reads stay local; Confluent's 50003 when the leader
 * cannot be reached and 50004 while no leader is known or when a forwarded write reaches a non-leader (no
 * forwarding loop during a re-election). Also the group leader's choice of the registry leader.
 * In-process: two RegistryHttpServers over in-memory logs, the "leader view" set by the test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RegistryHttpServer, type LeaderView } from '../../src/registry/http.js';
import { assignLeader, encodeAssignment, encodeIdentity, leaderOf, parseIdentity, type RegistryIdentity } from '../../src/registry/leader-election.js';
import { SchemaRegistry } from '../../src/registry/registry.js';
import { SchemasTopicError } from '../../src/registry/schemas-topic.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { StoreRecord } from '../../src/registry/store-records.js';
import { freePort } from '../helpers/broker-process.js';
import { avro, call } from './helpers.js';

const logger = pino({ level: 'silent' });
const servers: RegistryHttpServer[] = [];

async function serve(leader?: LeaderView, forwardTimeouts?: { connectMs: number; readMs: number }): Promise<{ url: string; written: StoreRecord[][] }> {
  const written: StoreRecord[][] = [];
  const registry = new SchemaRegistry({ append: async (records) => void written.push([...records]) }, { defaultCompatibility: 'BACKWARD' }, logger);
  const http = new RegistryHttpServer(registry, { clusterId: 'c', trace: false, leader, forwardTimeouts }, logger);
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

  it('50003 when the leader accepts the connection but stays silent past leader.read.timeout.ms', async () => {
    // A "leader" that reads the request and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as AddressInfo).port;
      const follower = await serve({ isLeader: false, leaderUrl: `http://127.0.0.1:${port}` }, { connectMs: 60_000, readMs: 200 });
      const res = await call(follower.url, 'POST', '/subjects/s/versions', schema);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error_code: 50003, message: `Error while forwarding the request to the leader: http://127.0.0.1:${port}/subjects/s/versions: read timed out after 200 ms (leader.read.timeout.ms)` });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
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

describe('kafkastore.timeout.ms exceeded', () => {
  it("answers 50002 '<operation> operation timed out' and registers nothing", async () => {
    const registry = new SchemaRegistry(
      {
        append: async () => {
          throw new SchemasTopicError('timed out after 500 ms waiting for the acks=all answer of _schemas-0', ErrorCode.REQUEST_TIMED_OUT);
        },
      },
      { defaultCompatibility: 'BACKWARD' },
      logger,
    );
    const http = new RegistryHttpServer(registry, { clusterId: 'c', trace: false }, logger);
    servers.push(http);
    const url = `http://127.0.0.1:${await http.listen('127.0.0.1', 0)}`;
    const res = await call(url, 'POST', '/subjects/s/versions', schema);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error_code: 50002, message: 'Register operation timed out' });
    expect((await call(url, 'PUT', '/mode/s', { mode: 'READONLY' })).body).toEqual({ error_code: 50002, message: 'Update mode operation timed out' });
    expect((await call(url, 'GET', '/subjects')).body).toEqual([]);
  });
});

describe('the group leader elects the registry leader (Confluent SchemaRegistryCoordinator)', () => {
  const id = (port: number, eligible = true, host = '127.0.0.1'): RegistryIdentity => ({ version: 1, host, port, master_eligibility: eligible, scheme: 'http' });

  it('the eligible member with the smallest URL (not member id); none when no member is eligible', () => {
    // Member ids in the opposite order to the URLs: Confluent compares SchemaRegistryIdentity.getUrl().
    expect(assignLeader([{ memberId: 'sr-1-a', identity: id(2) }, { memberId: 'sr-1-c', identity: id(1) }, { memberId: 'sr-1-b', identity: id(3) }])).toEqual({ error: 0, master: 'sr-1-c', master_identity: id(1) });
    // A string comparison of the URLs: port 10000 sorts before port 9000, host "a" before "b".
    expect(assignLeader([{ memberId: 'x', identity: id(9000) }, { memberId: 'y', identity: id(10000) }])).toMatchObject({ master: 'y' });
    expect(assignLeader([{ memberId: 'x', identity: id(1, true, 'b') }, { memberId: 'y', identity: id(2, true, 'a') }])).toMatchObject({ master: 'y' });
    expect(assignLeader([{ memberId: 'sr-1-a', identity: id(1, false) }, { memberId: 'sr-1-b', identity: id(2) }])).toMatchObject({ error: 0, master: 'sr-1-b' });
    expect(assignLeader([{ memberId: 'sr-1-a', identity: id(1, false) }])).toEqual({ error: 0, master: null, master_identity: null });
  });

  it('DUPLICATE_URLS (error 1) still names the leader, as Confluent does, but a member reading it knows none', () => {
    const a = assignLeader([{ memberId: 'sr-1-a', identity: id(1) }, { memberId: 'sr-1-b', identity: id(1) }]);
    expect(a).toEqual({ error: 1, master: 'sr-1-a', master_identity: id(1) });
    expect(leaderOf(encodeAssignment(a))).toBeNull();
  });

  it("identity and assignment bytes are Confluent's Jackson JSON (key names and order)", () => {
    // Creator properties (host, port, master_eligibility, scheme) first, then version, then the sticky
    // election's "leader" flag of current releases (SchemaRegistryIdentity.java).
    expect(encodeIdentity(id(8081, true, 'schemaregistry1')).toString()).toBe('{"host":"schemaregistry1","port":8081,"master_eligibility":true,"scheme":"http","version":1,"leader":false}');
    expect(encodeAssignment({ error: 0, master: 'sr-1-x', master_identity: id(8081) }).toString()).toBe(
      '{"error":0,"master":"sr-1-x","master_identity":{"host":"127.0.0.1","port":8081,"master_eligibility":true,"scheme":"http","version":1,"leader":false},"version":1}',
    );
    // No eligible member: master and master_identity are null and omitted (@JsonInclude(NON_EMPTY)).
    expect(encodeAssignment({ error: 0, master: null, master_identity: null }).toString()).toBe('{"error":0,"version":1}');
    expect(leaderOf(Buffer.from('{"error":0,"version":1}'))).toBeNull();
  });

  it('reads the identity a Confluent registry writes (a value recorded by kafbat/kafka-ui\'s tests)', () => {
    // kafka-ui's topic-message fixture holds an identity written by a Confluent 7.x registry.
    const confluent = Buffer.from('{"host":"schemaregistry1","port":8085,"master_eligibility":true,"scheme":"http","version":1}');
    expect(parseIdentity(confluent)).toEqual({ version: 1, host: 'schemaregistry1', port: 8085, master_eligibility: true, scheme: 'http' });
    expect(leaderOf(Buffer.from(`{"error":0,"master":"sr-1-0b7c","master_identity":${confluent.toString()},"version":1}`))).toEqual(parseIdentity(confluent));
    // Unknown properties ignored; a missing scheme is http; eligibility must be true to count.
    expect(parseIdentity(Buffer.from('{"host":"h","port":1,"master_eligibility":true,"version":1,"leader":true,"x":1}'))).toEqual({ version: 1, host: 'h', port: 1, master_eligibility: true, scheme: 'http' });
    expect(parseIdentity(Buffer.from('{"host":"h","port":1}'))?.master_eligibility).toBe(false);
    expect(parseIdentity(Buffer.from('not json'))).toBeNull();
  });
});
