/**
 * Every compatibility level for JSON Schema and Protobuf, through the registry's HTTP API (the Avro table is
 * in avro-compatibility.test.ts): NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL,
 * FULL_TRANSITIVE, each with a compatible and an incompatible case and the verbose message. The cases
 * follow Confluent's documented rules: a level's direction (CompatibilityChecker: BACKWARD = the new schema
 * reads the old data, FORWARD = the old schema reads the new data, FULL = both, TRANSITIVE = against every
 * version, else the latest only) and each format's compatible-change lists (JSON Schema SchemaDiff STRICT:
 * a property added to an open content model is incompatible, to a closed one compatible when optional,
 * removed from a closed one incompatible; Protobuf SchemaDiff: MESSAGE_ADDED, FIELD_ADDED, FIELD_REMOVED
 * compatible, MESSAGE_REMOVED and FIELD_SCALAR_KIND_CHANGED not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RegistryHttpServer } from '../../src/registry/http.js';
import { SchemaRegistry } from '../../src/registry/registry.js';
import { call } from './helpers.js';

const logger = pino({ level: 'silent' });
let http: RegistryHttpServer;
let url = '';

beforeAll(async () => {
  const registry = new SchemaRegistry({ append: async () => undefined }, { defaultCompatibility: 'BACKWARD' }, logger);
  http = new RegistryHttpServer(registry, { clusterId: 'c', trace: false }, logger);
  url = `http://127.0.0.1:${await http.listen('127.0.0.1', 0)}`;
});
afterAll(async () => {
  await http.close();
});

let n = 0;
type Body = { schemaType: string; schema: string };

/** A fresh subject holding `versions` (registered under NONE), then set to `level`. */
async function subjectWith(level: string, versions: Body[]): Promise<string> {
  const subject = `levels-${level.toLowerCase()}-${n++}`;
  await call(url, 'PUT', `/config/${subject}`, { compatibility: 'NONE' });
  for (const v of versions) expect((await call(url, 'POST', `/subjects/${subject}/versions`, v)).status).toBe(200);
  expect((await call(url, 'PUT', `/config/${subject}`, { compatibility: level })).body).toEqual({ compatibility: level });
  return subject;
}

/** The verbose check against all versions, then the registration, which must agree with it. */
async function attempt(subject: string, body: Body): Promise<{ compatible: boolean; messages: string[] }> {
  const verbose = (await call(url, 'POST', `/compatibility/subjects/${subject}/versions?verbose=true`, body)).body as { is_compatible: boolean; messages?: string[] };
  const registered = await call(url, 'POST', `/subjects/${subject}/versions`, body);
  expect(registered.status).toBe(verbose.is_compatible ? 200 : 409);
  if (!verbose.is_compatible) expect((registered.body as { error_code: number }).error_code).toBe(40901);
  return { compatible: verbose.is_compatible, messages: verbose.messages ?? [] };
}

const suffix = (level: string): string => `{validateFields: 'false', compatibility: '${level}'}`;

describe('JSON Schema: every level', () => {
  const json = (schema: object): Body => ({ schemaType: 'JSON', schema: JSON.stringify(schema) });
  const open = (properties: object): Body => json({ type: 'object', properties });
  const closed = (properties: object): Body => json({ type: 'object', properties, additionalProperties: false });
  const err = (type: string, description: string): string => `{errorType:"${type}", description:"${description}"}`;

  it('NONE accepts a changed type', async () => {
    const s = await subjectWith('NONE', [closed({ a: { type: 'string' } })]);
    expect((await attempt(s, closed({ a: { type: 'integer' } }))).compatible).toBe(true);
  });

  it('BACKWARD: an optional property may be added to a closed model, not removed from it', async () => {
    const s = await subjectWith('BACKWARD', [closed({ a: { type: 'string' }, b: { type: 'integer' } })]);
    const refused = await attempt(s, closed({ a: { type: 'string' } }));
    expect(refused.compatible).toBe(false);
    expect(refused.messages[0]).toBe(err('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', "The new schema has a closed content model and is missing a property or item present at path '#/properties/b' in the old schema"));
    expect(refused.messages.at(-1)).toBe(suffix('BACKWARD'));
    expect((await attempt(s, closed({ a: { type: 'string' }, b: { type: 'integer' }, c: { type: 'boolean' } }))).compatible).toBe(true);
  });

  it('FORWARD: the old closed model cannot read a new property; dropping an optional one is fine', async () => {
    const s = await subjectWith('FORWARD', [closed({ a: { type: 'string' }, b: { type: 'integer' } })]);
    const refused = await attempt(s, closed({ a: { type: 'string' }, b: { type: 'integer' }, c: { type: 'boolean' } }));
    expect(refused.compatible).toBe(false);
    expect(refused.messages[0]).toMatch(/^\{errorType:"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", description:".*'#\/properties\/c'.*"\}$/);
    expect(refused.messages.at(-1)).toBe(suffix('FORWARD'));
    expect((await attempt(s, closed({ a: { type: 'string' } }))).compatible).toBe(true);
  });

  it('FULL: both directions; a description change is compatible both ways', async () => {
    const s = await subjectWith('FULL', [closed({ a: { type: 'string' } })]);
    // Backward compatible (optional property added to a closed model) but not forward.
    expect((await attempt(s, closed({ a: { type: 'string' }, b: { type: 'integer' } }))).compatible).toBe(false);
    expect((await attempt(s, closed({ a: { type: 'string', description: 'the a' } }))).compatible).toBe(true);
  });

  it('BACKWARD checks the latest version only; BACKWARD_TRANSITIVE every one', async () => {
    // v1 f:integer, v2 without f, v3 f:string (closed models): v3 reads v2's data, not v1's.
    const versions = [closed({ f: { type: 'integer' } }), closed({})];
    const v3 = closed({ f: { type: 'string' } });
    expect((await attempt(await subjectWith('BACKWARD', versions), v3)).compatible).toBe(true);
    const refused = await attempt(await subjectWith('BACKWARD_TRANSITIVE', versions), v3);
    expect(refused.compatible).toBe(false);
    expect(refused.messages.slice(0, 2)).toEqual([err('TYPE_CHANGED', "A type at path '#/properties/f' is different between the new schema and the old schema"), '{oldSchemaVersion: 1}']);
    expect(refused.messages.at(-1)).toBe(suffix('BACKWARD_TRANSITIVE'));
  });

  it('FORWARD checks the latest version only; FORWARD_TRANSITIVE every one', async () => {
    // v1 f:integer, v2 without f, v3 f:string (open models): v2 reads v3's data, v1 does not.
    const versions = [open({ f: { type: 'integer' } }), open({})];
    const v3 = open({ f: { type: 'string' } });
    expect((await attempt(await subjectWith('FORWARD', versions), v3)).compatible).toBe(true);
    const refused = await attempt(await subjectWith('FORWARD_TRANSITIVE', versions), v3);
    expect(refused.compatible).toBe(false);
    expect(refused.messages[0]).toMatch(/^\{errorType:"TYPE_CHANGED", description:"A type at path '#\/properties\/f' is different between/);
    expect(refused.messages.at(-1)).toBe(suffix('FORWARD_TRANSITIVE'));
  });

  it('FULL checks the latest version only; FULL_TRANSITIVE every one', async () => {
    // v1 f:integer, v2 f:string, v3 = v2 with a description: v3 and v2 read each other, v1 and v3 do not.
    const versions = [closed({ f: { type: 'integer' } }), closed({ f: { type: 'string' } })];
    const v3 = closed({ f: { type: 'string', description: 'the f' } });
    expect((await attempt(await subjectWith('FULL', versions), v3)).compatible).toBe(true);
    const refused = await attempt(await subjectWith('FULL_TRANSITIVE', versions), v3);
    expect(refused.compatible).toBe(false);
    expect(refused.messages).toContain('{oldSchemaVersion: 1}');
    expect(refused.messages.at(-1)).toBe(suffix('FULL_TRANSITIVE'));
  });
});

describe('Protobuf: every level', () => {
  const proto = (body: string): Body => ({ schemaType: 'PROTOBUF', schema: `syntax = "proto3";\npackage com.example;\n\n${body}\n` });
  const user = proto('message User {\n  int32 id = 1;\n}');
  const userNome = proto('message User {\n  int32 id = 1;\n  string nome = 2;\n}');
  const userExtra = proto('message User {\n  int32 id = 1;\n}\n\nmessage Extra {\n  string note = 1;\n}');
  const diff = (path: string, type: string): string => `Difference{fullPath='${path}', type=${type}}`;

  it('NONE accepts a changed field type', async () => {
    const s = await subjectWith('NONE', [user]);
    expect((await attempt(s, proto('message User {\n  string id = 1;\n}'))).compatible).toBe(true);
  });

  it('BACKWARD: a message may be added, not removed', async () => {
    const s = await subjectWith('BACKWARD', [userExtra]);
    const refused = await attempt(s, user);
    expect(refused.compatible).toBe(false);
    expect(refused.messages[0]).toBe(diff('#/Extra', 'MESSAGE_REMOVED'));
    expect(refused.messages.at(-1)).toBe(suffix('BACKWARD'));
    expect((await attempt(s, proto('message User {\n  int32 id = 1;\n}\n\nmessage Extra {\n  string note = 1;\n}\n\nmessage More {\n  bool b = 1;\n}'))).compatible).toBe(true);
  });

  it('FORWARD: a message may be removed (the old schema still reads the data), not added', async () => {
    const s = await subjectWith('FORWARD', [user]);
    const refused = await attempt(s, userExtra);
    expect(refused.compatible).toBe(false);
    expect(refused.messages[0]).toBe(diff('#/Extra', 'MESSAGE_REMOVED'));
    expect(refused.messages.at(-1)).toBe(suffix('FORWARD'));
    expect((await attempt(s, userNome)).compatible).toBe(true);
  });

  it('FULL: a field added is compatible both ways, a message added only backward', async () => {
    const s = await subjectWith('FULL', [user]);
    expect((await attempt(s, userExtra)).compatible).toBe(false);
    expect((await attempt(s, userNome)).compatible).toBe(true);
  });

  it('each level against the latest version only, its TRANSITIVE form against every one', async () => {
    // v1 f:int32, v2 without f, v3 f:string: v3 and v2 are compatible both ways (a field added or
    // removed), v3 and v1 in neither (FIELD_SCALAR_KIND_CHANGED).
    const versions = [proto('message User {\n  int32 f = 1;\n}'), proto('message User {}')];
    const v3 = proto('message User {\n  string f = 1;\n}');
    for (const level of ['BACKWARD', 'FORWARD', 'FULL']) {
      expect((await attempt(await subjectWith(level, versions), v3)).compatible, level).toBe(true);
      const refused = await attempt(await subjectWith(`${level}_TRANSITIVE`, versions), v3);
      expect(refused.compatible, `${level}_TRANSITIVE`).toBe(false);
      expect(refused.messages[0]).toBe(diff('#/User/1', 'FIELD_SCALAR_KIND_CHANGED'));
      expect(refused.messages).toContain('{oldSchemaVersion: 1}');
      expect(refused.messages.at(-1)).toBe(suffix(`${level}_TRANSITIVE`));
    }
  });
});
