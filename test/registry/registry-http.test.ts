/**
 * The Schema Registry's REST API against an in-process broker: Confluent's paths, JSON shapes, status codes
 * and error codes for AVRO schemas, and what reaches `_schemas`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.js';
import { readPartition } from '../helpers/read-all.js';
import { avro, call, startRegistryBroker, userV1 } from './helpers.js';

let b: TestBroker & { url: string };
beforeAll(async () => {
  b = await startRegistryBroker();
});
afterAll(async () => {
  await b.destroy();
});

const get = (path: string) => call(b.url, 'GET', path);
const post = (path: string, body?: unknown) => call(b.url, 'POST', path, body);
const put = (path: string, body?: unknown) => call(b.url, 'PUT', path, body);
const del = (path: string) => call(b.url, 'DELETE', path);

function schemasEnd(): number {
  return b.broker.getPartition('_schemas', 0)?.logEndOffset ?? 0;
}

function record(name: string, fields: object[], extra: object = {}): object {
  return { type: 'record', name, fields, ...extra };
}

describe('root, types, contexts', () => {
  it('GET / answers {} with Confluent\'s content type', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/vnd.schemaregistry.v1+json');
    expect(r.body).toEqual({});
  });

  it('GET /schemas/types lists AVRO, GET /contexts the default context', async () => {
    expect((await get('/schemas/types')).body).toContain('AVRO');
    expect((await get('/contexts')).body).toEqual(['.']);
  });

  it('an unknown path is 404 with error_code 404, a wrong method 405', async () => {
    const r = await get('/nope');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error_code: 404, message: 'HTTP 404 Not Found' });
    expect((await call(b.url, 'PATCH', '/subjects')).status).toBe(405);
  });
});

describe('register and read back', () => {
  it('registers, is idempotent, and gives an identical schema under another subject the same id', async () => {
    const first = await post('/subjects/reg-a-value/versions', avro(userV1()));
    expect(first.status).toBe(200);
    const id = (first.body as { id: number }).id;
    expect(id).toBeGreaterThan(0);
    const end = schemasEnd();
    // The same schema again, and with different whitespace: the same id, no new version, nothing written.
    expect((await post('/subjects/reg-a-value/versions', avro(userV1()))).body).toEqual({ id });
    expect((await post('/subjects/reg-a-value/versions', { schema: JSON.stringify(userV1(), null, 2) })).body).toEqual({ id });
    expect(schemasEnd()).toBe(end);
    expect((await get('/subjects/reg-a-value/versions')).body).toEqual([1]);
    // Another subject: same id, version 1 there.
    expect((await post('/subjects/reg-b-value/versions', avro(userV1()))).body).toEqual({ id });
    expect((await get('/schemas/ids/' + id + '/subjects')).body).toEqual(['reg-a-value', 'reg-b-value']);
    expect((await get('/schemas/ids/' + id + '/versions')).body).toEqual([
      { subject: 'reg-a-value', version: 1 },
      { subject: 'reg-b-value', version: 1 },
    ]);
  });

  it('serves versions, latest, raw schema and ids in Confluent\'s shapes (canonical compact JSON, no schemaType for AVRO)', async () => {
    const v2 = record('User', [{ name: 'id', type: 'int' }, { name: 'nome', type: 'string' }, { name: 'email', type: ['null', 'string'], default: null, doc: 'optional' }], { namespace: 'com.example' });
    const r = await post('/subjects/reg-c-value/versions', avro(userV1()));
    const id1 = (r.body as { id: number }).id;
    const id2 = ((await post('/subjects/reg-c-value/versions', avro(v2))).body as { id: number }).id;
    expect(id2).toBe(id1 + 1);
    const canonical2 =
      '{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"id","type":"int"},{"name":"nome","type":"string"},{"name":"email","type":["null","string"],"doc":"optional","default":null}]}';
    expect((await get('/subjects/reg-c-value/versions/latest')).body).toEqual({ subject: 'reg-c-value', version: 2, id: id2, schema: canonical2 });
    expect((await get('/subjects/reg-c-value/versions/-1')).body).toEqual({ subject: 'reg-c-value', version: 2, id: id2, schema: canonical2 });
    expect((await get('/subjects/reg-c-value/versions/1')).body).toMatchObject({ version: 1, id: id1 });
    expect((await get('/subjects/reg-c-value/versions/2/schema')).text).toBe(canonical2);
    expect((await get(`/schemas/ids/${id2}`)).body).toEqual({ schema: canonical2 });
    expect((await get(`/schemas/ids/${id2}/schema`)).text).toBe(canonical2);
    expect((await get(`/schemas/ids/${id2}?fetchMaxId=true`)).body).toMatchObject({ maxId: expect.any(Number) });
    expect((await get('/subjects/reg-c-value/versions')).body).toEqual([1, 2]);
  });

  it('keeps doc and default in the identity (not avsc\'s Parsing Canonical Form): schemas differing only there get different ids', async () => {
    const a = record('D', [{ name: 'x', type: 'int', default: 1 }]);
    const c = record('D', [{ name: 'x', type: 'int', default: 2 }]);
    const idA = ((await post('/subjects/reg-d1/versions', avro(a))).body as { id: number }).id;
    const idC = ((await post('/subjects/reg-d2/versions', avro(c))).body as { id: number }).id;
    expect(idC).not.toBe(idA);
  });

  it('lists subjects sorted, by prefix', async () => {
    await post('/subjects/zz-last/versions', avro(userV1()));
    await post('/subjects/aa-first/versions', avro(userV1()));
    const all = (await get('/subjects')).body as string[];
    expect(all).toEqual([...all].sort());
    expect(all).toContain('aa-first');
    expect((await get('/subjects?subjectPrefix=zz-')).body).toEqual(['zz-last']);
  });

  it('looks a schema up under a subject (POST /subjects/{s})', async () => {
    await post('/subjects/look-value/versions', avro(userV1()));
    const r = await post('/subjects/look-value', avro(userV1()));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ subject: 'look-value', version: 1, id: expect.any(Number), schema: expect.stringContaining('"User"') });
    const other = await post('/subjects/look-value', avro(record('Other', [{ name: 'q', type: 'int' }])));
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ error_code: 40403, message: 'Schema not found' });
    const noSubject = await post('/subjects/look-missing', avro(userV1()));
    expect(noSubject.body).toEqual({ error_code: 40401, message: "Subject 'look-missing' not found." });
  });

  it('accepts unknown JSON properties in the body, and subjects needing percent-encoding', async () => {
    const r = await post('/subjects/odd%2Fname%20x/versions', { ...avro(userV1()), someFutureField: { a: 1 }, metadata: null });
    expect(r.status).toBe(200);
    expect((await get('/subjects?subjectPrefix=odd')).body).toEqual(['odd/name x']);
  });

  it('resolves references to other subjects\' named types', async () => {
    const address = { type: 'record', name: 'Address', namespace: 'com.example', fields: [{ name: 'street', type: 'string' }] };
    await post('/subjects/address/versions', avro(address));
    const person = { type: 'record', name: 'Person', namespace: 'com.example', fields: [{ name: 'home', type: 'com.example.Address' }] };
    const r = await post('/subjects/person-value/versions', { ...avro(person), references: [{ name: 'com.example.Address', subject: 'address', version: 1 }] });
    expect(r.status).toBe(200);
    const id = (r.body as { id: number }).id;
    expect((await get(`/schemas/ids/${id}`)).body).toEqual({
      schema: '{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"Address"}]}',
      references: [{ name: 'com.example.Address', subject: 'address', version: 1 }],
    });
    const addrId = ((await get('/subjects/address/versions/1')).body as { id: number }).id;
    expect((await get('/subjects/address/versions/1/referencedby')).body).toEqual([id]);
    // A referenced version cannot be deleted.
    expect((await del('/subjects/address/versions/1')).body).toMatchObject({ error_code: 42206 });
    expect(addrId).toBeGreaterThan(0);
    // Without the reference the name is unknown: 42201.
    expect((await post('/subjects/person2-value/versions', avro(person))).body).toMatchObject({ error_code: 42201 });
  });
});

describe('errors', () => {
  it('unknown subject 40401, version 40402, id 40403, bad version 42202', async () => {
    expect(await get('/subjects/none/versions')).toMatchObject({ status: 404, body: { error_code: 40401, message: "Subject 'none' not found." } });
    await post('/subjects/err-value/versions', avro(userV1()));
    expect(await get('/subjects/err-value/versions/7')).toMatchObject({ status: 404, body: { error_code: 40402, message: 'Version 7 not found.' } });
    expect(await get('/schemas/ids/99999')).toMatchObject({ status: 404, body: { error_code: 40403, message: 'Schema 99999 not found' } });
    const bad = await get('/subjects/err-value/versions/abc');
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({ error_code: 42202, message: 'The specified version \'abc\' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"' });
    expect((await get('/subjects/err-value/versions/0')).body).toMatchObject({ error_code: 42202 });
  });

  it('a malformed schema is 42201 and writes nothing', async () => {
    const end = schemasEnd();
    for (const schema of ['{"type":"record","name":"X"}', 'not json', '{"type":"nosuchtype"}', '{"type":"record","name":"X","fields":[{"name":"a","type":"int","default":"str"}]}']) {
      const r = await post('/subjects/bad-value/versions', { schema });
      expect(r.status, schema).toBe(422);
      expect((r.body as { error_code: number }).error_code, schema).toBe(42201);
    }
    expect((await post('/subjects/bad-value/versions', {})).body).toMatchObject({ error_code: 42201 });
    expect((await post('/subjects/bad-value/versions', { schema: '"int"', schemaType: 'XML' })).body).toMatchObject({ error_code: 42201 });
    expect(schemasEnd()).toBe(end);
  });

  it('a body that is not JSON is 400', async () => {
    const r = await call(b.url, 'POST', '/subjects/x/versions', undefined, '{"schema": ');
    expect(r.status).toBe(400);
    expect((r.body as { error_code: number }).error_code).toBe(400);
  });

  it('a body declared over 32 MiB is answered 413 before it is read, and nothing is written', async () => {
    const { request } = await import('node:http');
    const end = schemasEnd();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${b.url}/subjects/big-body/versions`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(40 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      // Only the start of the declared body is sent: the answer must not wait for the rest.
      req.write('{"schema": "');
    });
    expect(status).toBe(413);
    expect(schemasEnd()).toBe(end);
  });

  it('a 10 MB schema is refused (42209, larger than the topic\'s max.message.bytes) and nothing reaches _schemas', async () => {
    await post('/subjects/warm/versions', avro(userV1()));
    const end = schemasEnd();
    const fields = Array.from({ length: 1 }, () => ({ name: 'f', type: 'string', doc: 'x'.repeat(10 * 1024 * 1024) }));
    const r = await post('/subjects/huge-value/versions', avro(record('Huge', fields)));
    expect(r.status).toBe(422);
    expect((r.body as { error_code: number }).error_code).toBe(42209);
    expect(schemasEnd()).toBe(end);
    expect((await get('/subjects/huge-value/versions')).status).toBe(404);
  });
});

describe('config', () => {
  it('global config defaults to BACKWARD; PUT changes it and echoes {compatibility}', async () => {
    expect((await get('/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await put('/config', { compatibility: 'full' })).body).toEqual({ compatibility: 'FULL' });
    expect((await get('/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await del('/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await get('/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('a subject without its own config is 404/40408 (kafkajs relies on it), unless defaultToGlobal', async () => {
    const r = await get('/config/cfg-value');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error_code: 40408, message: "Subject 'cfg-value' does not have subject-level compatibility configured" });
    expect((await get('/config/cfg-value?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await put('/config/cfg-value', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await get('/config/cfg-value')).body).toEqual({ compatibilityLevel: 'NONE' });
  });

  it('an invalid level is 42203', async () => {
    const r = await put('/config', { compatibility: 'SIDEWAYS' });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({
      error_code: 42203,
      message: 'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    });
    expect((await put('/config/x', {})).body).toMatchObject({ error_code: 42203 });
  });

  it('DELETE /config/{s} of an unknown subject is 40401; of a known one answers the removed level', async () => {
    expect((await del('/config/cfg-unknown')).body).toMatchObject({ error_code: 40401 });
    await post('/subjects/cfg2/versions', avro(userV1()));
    await put('/config/cfg2', { compatibility: 'FORWARD' });
    expect((await del('/config/cfg2')).body).toEqual({ compatibilityLevel: 'FORWARD' });
    expect((await get('/config/cfg2')).status).toBe(404);
  });
});

describe('compatibility', () => {
  const v1 = record('C', [{ name: 'a', type: 'int' }]);
  const addNoDefault = record('C', [{ name: 'a', type: 'int' }, { name: 'b', type: 'string' }]);
  const addWithDefault = record('C', [{ name: 'a', type: 'int' }, { name: 'b', type: 'string', default: '' }]);

  it('register refuses an incompatible schema with 409/40901 and Confluent\'s message; nothing is written', async () => {
    await post('/subjects/compat-value/versions', avro(v1));
    const end = schemasEnd();
    const r = await post('/subjects/compat-value/versions', avro(addNoDefault));
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      error_code: 40901,
      message:
        'Schema being registered is incompatible with an earlier schema for subject "compat-value", details: [' +
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}, " +
        "{oldSchemaVersion: 1}, {oldSchema: '{\"type\":\"record\",\"name\":\"C\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}'}, {validateFields: 'false', compatibility: 'BACKWARD'}]",
    });
    expect(schemasEnd()).toBe(end);
    expect((await post('/subjects/compat-value/versions', avro(addWithDefault))).status).toBe(200);
  });

  it('POST /compatibility/... answers is_compatible, with messages when verbose', async () => {
    await post('/subjects/check-value/versions', avro(v1));
    expect((await post('/compatibility/subjects/check-value/versions/latest', avro(addWithDefault))).body).toEqual({ is_compatible: true });
    expect((await post('/compatibility/subjects/check-value/versions/latest?verbose=true', avro(addWithDefault))).body).toEqual({ is_compatible: true, messages: [] });
    const r = await post('/compatibility/subjects/check-value/versions/1?verbose=true', avro(addNoDefault));
    expect(r.body).toEqual({
      is_compatible: false,
      messages: [
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}",
        '{oldSchemaVersion: 1}',
        '{oldSchema: \'{"type":"record","name":"C","fields":[{"name":"a","type":"int"}]}\'}',
        "{validateFields: 'false', compatibility: 'BACKWARD'}",
      ],
    });
    expect((await post('/compatibility/subjects/check-value/versions', avro(addNoDefault))).body).toEqual({ is_compatible: false });
    expect((await post('/compatibility/subjects/check-none/versions/latest', avro(v1))).body).toMatchObject({ error_code: 40401 });
    expect((await post('/compatibility/subjects/check-value/versions/9', avro(v1))).body).toMatchObject({ error_code: 40402 });
    expect((await post('/compatibility/subjects/check-value/versions/latest', { schema: '{' })).body).toMatchObject({ error_code: 42201 });
  });
});

describe('deletes', () => {
  it('soft then hard delete of a version, with 40406 / 40407 on the wrong order; the id stays resolvable after a soft delete', async () => {
    const s = 'del-v-value';
    const id1 = ((await post(`/subjects/${s}/versions`, avro(record('DV', [{ name: 'a', type: 'int' }])))).body as { id: number }).id;
    await post(`/subjects/${s}/versions`, avro(record('DV', [{ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 0 }])));
    expect((await del(`/subjects/${s}/versions/1?permanent=true`)).body).toEqual({
      error_code: 40407,
      message: `Subject '${s}' Version 1 was not deleted first before being permanently deleted`,
    });
    expect((await del(`/subjects/${s}/versions/1`)).body).toBe(1);
    expect((await del(`/subjects/${s}/versions/1`)).body).toEqual({ error_code: 40406, message: `Subject '${s}' Version 1 was soft deleted.Set permanent=true to delete permanently` });
    expect((await get(`/subjects/${s}/versions`)).body).toEqual([2]);
    expect((await get(`/subjects/${s}/versions?deleted=true`)).body).toEqual([1, 2]);
    expect((await get(`/subjects/${s}/versions/1`)).body).toMatchObject({ error_code: 40402 });
    expect((await get(`/subjects/${s}/versions/1?deleted=true`)).body).toMatchObject({ version: 1, id: id1 });
    expect((await get(`/schemas/ids/${id1}`)).status).toBe(200);
    expect((await del(`/subjects/${s}/versions/1?permanent=true`)).body).toBe(1);
    expect((await get(`/subjects/${s}/versions?deleted=true`)).body).toEqual([2]);
    expect((await get(`/schemas/ids/${id1}`)).body).toMatchObject({ error_code: 40403 });
    // Versions keep counting up.
    const v3 = await post(`/subjects/${s}/versions`, avro(record('DV', [{ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 0 }, { name: 'c', type: 'int', default: 0 }])));
    expect(v3.status).toBe(200);
    expect((await get(`/subjects/${s}/versions`)).body).toEqual([2, 3]);
  });

  it('soft then hard delete of a subject, with 40404 / 40405 on the wrong order', async () => {
    const s = 'del-s-value';
    await post(`/subjects/${s}/versions`, avro(userV1()));
    expect((await del(`/subjects/${s}?permanent=true`)).body).toEqual({ error_code: 40405, message: `Subject '${s}' was not deleted first before being permanently deleted` });
    expect((await del(`/subjects/${s}`)).body).toEqual([1]);
    expect((await del(`/subjects/${s}`)).body).toEqual({ error_code: 40404, message: `Subject '${s}' was soft deleted.Set permanent=true to delete permanently` });
    expect((await get('/subjects')).body).not.toContain(s);
    expect((await get('/subjects?deleted=true')).body).toContain(s);
    expect((await get('/subjects?deletedOnly=true')).body).toContain(s);
    expect((await get(`/subjects/${s}/versions/latest`)).body).toMatchObject({ error_code: 40401 });
    expect((await del(`/subjects/${s}?permanent=true`)).body).toEqual([1]);
    expect((await get('/subjects?deleted=true')).body).not.toContain(s);
    expect((await del(`/subjects/${s}`)).body).toMatchObject({ error_code: 40401 });
  });
});

describe('mode', () => {
  it('READONLY refuses registration with 42205; subject modes 40409 when unset; an invalid mode 42204', async () => {
    expect((await get('/mode')).body).toEqual({ mode: 'READWRITE' });
    expect((await get('/mode/mode-value')).body).toEqual({ error_code: 40409, message: "Subject 'mode-value' does not have subject-level mode configured" });
    expect((await get('/mode/mode-value?defaultToGlobal=true')).body).toEqual({ mode: 'READWRITE' });
    expect((await put('/mode/mode-value', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    const r = await post('/subjects/mode-value/versions', avro(userV1()));
    expect(r.status).toBe(422);
    expect((r.body as { error_code: number }).error_code).toBe(42205);
    expect((await del('/mode/mode-value')).body).toEqual({ mode: 'READONLY' });
    expect((await post('/subjects/mode-value/versions', avro(userV1()))).status).toBe(200);
    expect((await put('/mode', { mode: 'SOMETIMES' })).body).toMatchObject({ error_code: 42204 });
  });

  it('IMPORT keeps the given id and version (force needed where subjects exist)', async () => {
    expect((await put('/mode/imp-value', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    const r = await post('/subjects/imp-value/versions', { ...avro(record('Imp', [{ name: 'z', type: 'long' }])), id: 5000, version: 7 });
    expect(r.body).toEqual({ id: 5000 });
    expect((await get('/subjects/imp-value/versions/7')).body).toMatchObject({ id: 5000, version: 7 });
    expect((await put('/mode', { mode: 'IMPORT' })).body).toMatchObject({ error_code: 42205 });
    await del('/mode/imp-value');
  });
});

describe('parse cache', () => {
  it('parses a schema text once while it is recent, and keeps at most 256 texts', () => {
    const registry = b.registry!.registry;
    const req = (n: number) => ({ schema: JSON.stringify(record(`P${n}`, [{ name: 'x', type: 'int' }])), schemaType: 'AVRO' as const, references: [] });
    const first = registry.parse(req(0));
    expect(registry.parse(req(0))).toBe(first);
    for (let n = 1; n <= 256; n++) registry.parse(req(n));
    // 256 newer texts pushed the first one out: it is parsed again.
    expect(registry.parse(req(0))).not.toBe(first);
  });
});

describe('storage', () => {
  it('writes Confluent\'s key and value JSON to the compacted _schemas topic', async () => {
    await post('/subjects/store-value/versions', avro(userV1()));
    const topic = b.broker.image.topic('_schemas')!;
    expect(topic.configs.get('cleanup.policy')).toBe('compact');
    expect(topic.partitions.length).toBe(1);
    // Read back over the Kafka protocol, as any consumer (or Confluent's registry) would.
    const { records } = await readPartition(b.port, '_schemas');
    const mine = records.find((r) => r.key?.includes('"store-value"'));
    expect(mine?.key).toBe('{"keytype":"SCHEMA","subject":"store-value","version":1,"magic":1}');
    expect(JSON.parse(mine!.value!)).toEqual({ subject: 'store-value', version: 1, id: expect.any(Number), schema: expect.any(String), deleted: false });
    expect(records.some((r) => r.key === '{"keytype":"CONFIG","subject":null,"magic":0}')).toBe(true);
  });
});
