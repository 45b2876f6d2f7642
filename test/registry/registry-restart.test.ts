/**
 * The registry's state lives in `_schemas`: after a clean restart and after kill -9 every schema, version,
 * id, deletion, config and mode is back, and new ids continue after the old ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess } from '../helpers/broker-process.js';
import { avro, call, startRegistryBroker, userV1 } from './helpers.js';

const rec = (name: string, fields: object[]): object => ({ type: 'record', name, fields });

/** Writes a mixed history; answers what a reader should see afterwards. */
async function writeHistory(url: string): Promise<Record<string, unknown>> {
  const post = (p: string, body: unknown) => call(url, 'POST', p, body);
  const id1 = ((await post('/subjects/a-value/versions', avro(userV1()))).body as { id: number }).id;
  const id2 = ((await post('/subjects/a-value/versions', avro({ ...userV1(), fields: [{ name: 'id', type: 'int' }] }))).body as { id: number }).id;
  await post('/subjects/b-value/versions', avro(userV1()));
  await post('/subjects/gone-value/versions', avro(rec('G', [{ name: 'g', type: 'int' }])));
  await call(url, 'DELETE', '/subjects/gone-value');
  await call(url, 'DELETE', '/subjects/gone-value?permanent=true');
  await post('/subjects/soft-value/versions', avro(rec('S', [{ name: 's', type: 'int' }])));
  await call(url, 'DELETE', '/subjects/soft-value/versions/1');
  await call(url, 'PUT', '/config', { compatibility: 'FULL_TRANSITIVE' });
  await call(url, 'PUT', '/config/b-value', { compatibility: 'NONE' });
  await call(url, 'PUT', '/mode/b-value', { mode: 'READONLY' });
  return { id1, id2 };
}

async function snapshot(url: string): Promise<Record<string, unknown>> {
  const get = async (p: string) => (await call(url, 'GET', p)).body;
  return {
    subjects: await get('/subjects'),
    deletedSubjects: await get('/subjects?deleted=true'),
    a1: await get('/subjects/a-value/versions/1'),
    a2: await get('/subjects/a-value/versions/2'),
    b: await get('/subjects/b-value/versions/latest'),
    soft: await get('/subjects/soft-value/versions/1?deleted=true'),
    gone: await get('/subjects/gone-value/versions?deleted=true'),
    config: await get('/config'),
    configB: await get('/config/b-value'),
    modeB: await get('/mode/b-value'),
    ids: await get('/schemas/ids/1'),
  };
}

describe('registry restart', () => {
  it('a clean restart brings back every schema, id, deletion, config and mode; ids continue', async () => {
    let b = await startRegistryBroker();
    try {
      const { id2 } = await writeHistory(b.url);
      const before = await snapshot(b.url);
      expect(before.gone).toMatchObject({ error_code: 40401 });
      const restarted = await b.restart();
      b = Object.assign(restarted, { url: restarted.registry!.url });
      expect(await snapshot(b.url)).toEqual(before);
      const next = await call(b.url, 'POST', '/subjects/c-value/versions', avro(rec('New', [{ name: 'n', type: 'int' }])));
      expect((next.body as { id: number }).id).toBeGreaterThan(id2 as number);
      // The restored READONLY mode and FULL_TRANSITIVE config are in force.
      expect((await call(b.url, 'POST', '/subjects/b-value/versions', avro(rec('Other', [])))).body).toMatchObject({ error_code: 42205 });
    } finally {
      await b.destroy();
    }
  });

  it('after kill -9 of a broker process the registry serves the same ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-registry-kill-'));
    const port = await freePort();
    const registryPort = await freePort();
    const url = `http://127.0.0.1:${registryPort}`;
    const overrides = { 'samsa.schema.registry.enable': 'true', 'schema.registry.listeners': url };
    let p = await startBrokerProcess(dir, overrides, port);
    try {
      await p.waitForLine((l) => l.msg === 'schema registry started');
      await writeHistory(url);
      const before = await snapshot(url);
      await p.kill9();
      p = await startBrokerProcess(dir, overrides, port);
      await p.waitForLine((l) => l.msg === 'schema registry started');
      expect(await snapshot(url)).toEqual(before);
    } finally {
      await p.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
