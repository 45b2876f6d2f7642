/**
 * Schema contexts as Confluent implements them (QualifiedSubject, ContextsResource, the CONTEXT key of
 * `_schemas`): a subject `:.ctx:name` lives in context `.ctx`, whose ids are a space of their own
 * (IncrementalIdGenerator keeps a max id per context); `:.:name` is the default context's `name`;
 * `GET /contexts` answers the default context `.` and then every context created, in name order; the first
 * registration in a context writes its CONTEXT record, `{"keytype":"CONTEXT","tenant":"default",
 * "context":".ctx","magic":0}` with value `{"tenant":"default","context":".ctx"}`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RegistryHttpServer } from '../../src/registry/http.js';
import { contextOf, qualifiedSubject, SchemaRegistry } from '../../src/registry/registry.js';
import { decodeRecord, encodeKey, encodeValue, type StoreRecord } from '../../src/registry/store-records.js';
import { avro, call } from './helpers.js';

const logger = pino({ level: 'silent' });
const servers: RegistryHttpServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(registry: SchemaRegistry): Promise<string> {
  const http = new RegistryHttpServer(registry, { clusterId: 'c', trace: false }, logger);
  servers.push(http);
  return `http://127.0.0.1:${await http.listen('127.0.0.1', 0)}`;
}

function memoryRegistry(): { registry: SchemaRegistry; written: StoreRecord[] } {
  const written: StoreRecord[] = [];
  const registry = new SchemaRegistry({ append: async (records) => void written.push(...records) }, { defaultCompatibility: 'BACKWARD' }, logger);
  return { registry, written };
}

const a = avro({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] });
const b = avro({ type: 'record', name: 'B', fields: [{ name: 'y', type: 'string' }] });

describe('qualified subjects (QualifiedSubject)', () => {
  it('parses [:.context:]subject', () => {
    expect(contextOf('orders')).toBe('.');
    expect(contextOf(':.ctx:orders')).toBe('.ctx');
    expect(contextOf(':.:orders')).toBe('.');
    expect(contextOf(':.ctx')).toBe('.ctx');
    expect(qualifiedSubject(':.:orders')).toBe('orders');
    expect(qualifiedSubject(':.ctx:orders')).toBe(':.ctx:orders');
    expect(qualifiedSubject(':.ctx')).toBe(':.ctx:');
    expect(qualifiedSubject('orders')).toBe('orders');
  });
});

describe('contexts over HTTP', () => {
  it('GET /contexts is ["."] on an empty registry', async () => {
    const url = await serve(memoryRegistry().registry);
    const res = await call(url, 'GET', '/contexts');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(['.']);
  });

  it('a context has ids of its own, its CONTEXT record, and appears in /contexts and /subjects', async () => {
    const { registry, written } = memoryRegistry();
    const url = await serve(registry);
    expect((await call(url, 'POST', '/subjects/orders-value/versions', a)).body).toEqual({ id: 1 });
    expect((await call(url, 'POST', '/subjects/other/versions', b)).body).toEqual({ id: 2 });
    // In context .prod the first schema is id 1 again, and the same schema as the default context's id 2
    // is not given 2 there: ids are per context.
    expect((await call(url, 'POST', `/subjects/${encodeURIComponent(':.prod:orders-value')}/versions`, b)).body).toEqual({ id: 1 });
    expect((await call(url, 'POST', `/subjects/${encodeURIComponent(':.prod:more')}/versions`, a)).body).toEqual({ id: 2 });
    expect((await call(url, 'POST', `/subjects/${encodeURIComponent(':.dev:x')}/versions`, a)).body).toEqual({ id: 1 });
    expect((await call(url, 'GET', '/contexts')).body).toEqual(['.', '.dev', '.prod']);
    // The CONTEXT record comes once, before the context's first schema, in Confluent's bytes.
    const contextRecords = written.filter((r) => r.keytype === 'CONTEXT');
    expect(contextRecords.length).toBe(2);
    expect(encodeKey(contextRecords[0]!).toString()).toBe('{"keytype":"CONTEXT","tenant":"default","context":".prod","magic":0}');
    expect(encodeValue(contextRecords[0]!)!.toString()).toBe('{"tenant":"default","context":".prod"}');
    expect(written.indexOf(contextRecords[0]!)).toBe(2);
    // /subjects lists every context's subjects (Confluent's default prefix is the wildcard :*:).
    expect((await call(url, 'GET', '/subjects')).body).toEqual([':.dev:x', ':.prod:more', ':.prod:orders-value', 'orders-value', 'other']);
    expect((await call(url, 'GET', `/subjects?subjectPrefix=${encodeURIComponent(':.prod:')}`)).body).toEqual([':.prod:more', ':.prod:orders-value']);
    expect((await call(url, 'GET', '/subjects?subjectPrefix=o')).body).toEqual(['orders-value', 'other']);
    // An id is looked up in the default context, or in the context of the `subject` given.
    expect((await call(url, 'GET', '/schemas/ids/1')).body).toEqual({ schema: '{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}' });
    expect((await call(url, 'GET', `/schemas/ids/1?subject=${encodeURIComponent(':.prod:orders-value')}`)).body).toEqual({ schema: '{"type":"record","name":"B","fields":[{"name":"y","type":"string"}]}' });
    expect((await call(url, 'GET', `/schemas/ids/2/subjects?subject=${encodeURIComponent(':.prod:more')}`)).body).toEqual([':.prod:more']);
    expect((await call(url, 'GET', `/schemas/ids/1?subject=${encodeURIComponent(':.prod:')}&fetchMaxId=true`)).body).toMatchObject({ maxId: 2 });
    expect((await call(url, 'GET', '/schemas/ids/3')).body).toMatchObject({ error_code: 40403 });
    // Confluent's getSchemaKeyUsingContexts: a plain subject not holding the id in the default context is
    // tried in each context (`more` holds id 2 in .prod, where id 2 is A; the default context's id 2 is B)...
    const schemaA = '{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}';
    const schemaB = '{"type":"record","name":"B","fields":[{"name":"y","type":"string"}]}';
    expect((await call(url, 'GET', '/schemas/ids/2?subject=more')).body).toEqual({ schema: schemaA });
    // ...and a subject holding it nowhere falls back to the default context's id under any subject;
    expect((await call(url, 'GET', '/schemas/ids/2?subject=nobody')).body).toEqual({ schema: schemaB });
    // a subject qualified with a context must hold the id there.
    expect((await call(url, 'GET', `/schemas/ids/1?subject=${encodeURIComponent(':.prod:more')}`)).body).toMatchObject({ error_code: 40403 });
    // The versions of a context's subject.
    expect((await call(url, 'GET', `/subjects/${encodeURIComponent(':.prod:orders-value')}/versions/latest`)).body).toMatchObject({ subject: ':.prod:orders-value', version: 1, id: 1 });
  });

  it(':.: is the default context: the same subject as the bare name', async () => {
    const { registry, written } = memoryRegistry();
    const url = await serve(registry);
    expect((await call(url, 'POST', `/subjects/${encodeURIComponent(':.:orders')}/versions`, a)).body).toEqual({ id: 1 });
    expect((await call(url, 'GET', '/subjects')).body).toEqual(['orders']);
    expect((await call(url, 'GET', `/subjects/${encodeURIComponent(':.:orders')}/versions`)).body).toEqual([1]);
    expect((await call(url, 'POST', '/subjects/orders/versions', a)).body).toEqual({ id: 1 });
    expect(written.filter((r) => r.keytype === 'CONTEXT')).toEqual([]);
    expect((await call(url, 'GET', '/contexts')).body).toEqual(['.']);
    // A context without a subject name is not a subject to register under.
    expect((await call(url, 'POST', `/subjects/${encodeURIComponent(':.prod:')}/versions`, a)).body).toMatchObject({ error_code: 42208 });
  });

  it('replaying _schemas brings back contexts and per-context ids', async () => {
    const { registry, written } = memoryRegistry();
    await registry.register(':.prod:s', { ...a, schemaType: 'AVRO', references: [] });
    await registry.register('s', { ...b, schemaType: 'AVRO', references: [] });
    const replayed = memoryRegistry().registry;
    for (const r of written) replayed.apply(decodeRecord(encodeKey(r), encodeValue(r))!);
    expect(replayed.listContexts()).toEqual(['.', '.prod']);
    expect(replayed.getSchemaById(1, '.prod').schema).toBe('{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}');
    expect(replayed.getSchemaById(1).schema).toBe('{"type":"record","name":"B","fields":[{"name":"y","type":"string"}]}');
    expect(await replayed.register(':.prod:t', { ...b, schemaType: 'AVRO', references: [] })).toBe(2);
  });
});
