/**
 * Registry requests in the logs (the "the protocol trace and logs show registry requests"): with
 * `samsa.protocol.trace=true` every request is logged at info with its method, path, query, status and
 * time, otherwise at debug; a write forwarded to the leader is logged as such, naming the leader.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RegistryHttpServer, type LeaderView } from '../../src/registry/http.js';
import { SchemaRegistry } from '../../src/registry/registry.js';
import { avro, call } from './helpers.js';

interface Line {
  level: number;
  msg: string;
  method?: string;
  path?: string;
  query?: string;
  status?: number;
  ms?: number;
  leader?: string;
}

const servers: RegistryHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(trace: boolean, leader?: LeaderView): Promise<{ url: string; lines: Line[] }> {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const registry = new SchemaRegistry({ append: async () => undefined }, { defaultCompatibility: 'BACKWARD' }, logger);
  const http = new RegistryHttpServer(registry, { clusterId: 'c', trace, leader }, logger);
  servers.push(http);
  return { url: `http://127.0.0.1:${await http.listen('127.0.0.1', 0)}`, lines };
}

const schema = avro({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] });
const INFO = 30;
const DEBUG = 20;

describe('registry requests in the logs', () => {
  it('samsa.protocol.trace=true: each request at info with method, path, query, status and time', async () => {
    const { url, lines } = await serve(true);
    await call(url, 'POST', '/subjects/users-value/versions?normalize=true', schema);
    await call(url, 'GET', '/subjects/nobody/versions/latest');
    const requests = lines.filter((l) => l.msg === 'schema registry request');
    expect(requests.map((l) => [l.level, l.method, l.path, l.query, l.status])).toEqual([
      [INFO, 'POST', '/subjects/users-value/versions', '?normalize=true', 200],
      [INFO, 'GET', '/subjects/nobody/versions/latest', '', 404],
    ]);
    for (const l of requests) expect(typeof l.ms).toBe('number');
  });

  it('without the trace the same lines are at debug', async () => {
    const { url, lines } = await serve(false);
    await call(url, 'GET', '/subjects');
    expect(lines.filter((l) => l.msg === 'schema registry request').map((l) => [l.level, l.method, l.path, l.status])).toEqual([[DEBUG, 'GET', '/subjects', 200]]);
  });

  it('a write forwarded to the leader is logged with the leader it went to', async () => {
    const leader = await serve(true, { isLeader: true, leaderUrl: null });
    const follower = await serve(true, { isLeader: false, leaderUrl: leader.url });
    expect((await call(follower.url, 'POST', '/subjects/s/versions', schema)).status).toBe(200);
    const forwarded = follower.lines.filter((l) => l.msg === 'schema registry request forwarded');
    expect(forwarded.map((l) => [l.level, l.method, l.path, l.status, l.leader])).toEqual([[INFO, 'POST', '/subjects/s/versions', 200, leader.url]]);
    expect(leader.lines.filter((l) => l.msg === 'schema registry request').map((l) => [l.method, l.path, l.status])).toEqual([['POST', '/subjects/s/versions', 200]]);
  });
});
