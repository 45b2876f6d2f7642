/**
 * Avro compatibility, case by case from the Avro specification's schema resolution rules (as Avro Java's
 * SchemaCompatibility applies them, which Confluent calls), and the seven compatibility levels through the
 * registry's HTTP API, each with a case that passes and one that is refused, the transitive levels with
 * a third version that only they catch. Messages are Confluent's `verbose` strings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAvro } from '../../src/registry/avro.js';
import type { TestBroker } from '../helpers/broker.js';
import { avro, call, startRegistryBroker } from './helpers.js';

/** The verbose messages when `reader` reads data written with `writer` (BACKWARD's roles: new reads old). */
function canRead(reader: unknown, writer: unknown): string[] {
  return parseAvro(JSON.stringify(reader)).isBackwardCompatible(parseAvro(JSON.stringify(writer))).map((d) => d('new', 'old'));
}

const rec = (fields: object[], name = 'R', extra: object = {}): object => ({ type: 'record', name, fields, ...extra });
const field = (name: string, type: unknown, extra: object = {}): object => ({ name, type, ...extra });
const one = (type: unknown): object => rec([field('f', type)]);
const mismatch = (path: string, reader: string, writer: string): string =>
  `{errorType:'TYPE_MISMATCH', description:'The type (path '${path}') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: ${reader} not compatible with writer type: ${writer}'}`;

describe('Avro schema resolution rules', () => {
  const cases: { rule: string; reader: unknown; writer: unknown; messages: string[] }[] = [
    { rule: 'identical primitives match', reader: one('string'), writer: one('string'), messages: [] },
    { rule: 'int is promoted to long', reader: one('long'), writer: one('int'), messages: [] },
    { rule: 'int is promoted to float and double', reader: rec([field('a', 'float'), field('b', 'double')]), writer: rec([field('a', 'int'), field('b', 'int')]), messages: [] },
    { rule: 'long is promoted to float and double', reader: rec([field('a', 'float'), field('b', 'double')]), writer: rec([field('a', 'long'), field('b', 'long')]), messages: [] },
    { rule: 'float is promoted to double', reader: one('double'), writer: one('float'), messages: [] },
    { rule: 'string and bytes read each other', reader: rec([field('a', 'bytes'), field('b', 'string')]), writer: rec([field('a', 'string'), field('b', 'bytes')]), messages: [] },
    { rule: 'long is not narrowed to int', reader: one('int'), writer: one('long'), messages: [mismatch('/fields/0/type', 'INT', 'LONG')] },
    { rule: 'double is not narrowed to float', reader: one('float'), writer: one('double'), messages: [mismatch('/fields/0/type', 'FLOAT', 'DOUBLE')] },
    { rule: 'boolean does not read int', reader: one('boolean'), writer: one('int'), messages: [mismatch('/fields/0/type', 'BOOLEAN', 'INT')] },
    { rule: 'a record does not read a map', reader: one(rec([], 'X')), writer: one({ type: 'map', values: 'int' }), messages: [mismatch('/fields/0/type', 'RECORD', 'MAP')] },
    { rule: 'a reader field missing from the writer with a default is filled', reader: rec([field('a', 'int'), field('b', 'string', { default: 'x' })]), writer: rec([field('a', 'int')]), messages: [] },
    {
      rule: 'a reader field missing from the writer without a default is refused',
      reader: rec([field('a', 'int'), field('b', 'string')]),
      writer: rec([field('a', 'int')]),
      messages: ["{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}"],
    },
    { rule: 'a writer field missing from the reader is ignored', reader: rec([field('a', 'int')]), writer: rec([field('a', 'int'), field('gone', 'string')]), messages: [] },
    { rule: 'a reader field alias matches a renamed writer field', reader: rec([field('b', 'int', { aliases: ['a'] })]), writer: rec([field('a', 'int')]), messages: [] },
    {
      rule: 'a renamed field without alias or default is refused',
      reader: rec([field('b', 'int')]),
      writer: rec([field('a', 'int')]),
      messages: ["{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/0' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}"],
    },
    { rule: 'named types compare unqualified names (a namespace change is compatible)', reader: rec([], 'R', { namespace: 'a.b' }), writer: rec([], 'R', { namespace: 'c.d' }), messages: [] },
    {
      rule: 'a renamed record is a name mismatch',
      reader: rec([], 'New'),
      writer: rec([], 'Old', { namespace: 'ns' }),
      messages: ["{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '/name')', additionalInfo:'expected: ns.Old'}"],
    },
    { rule: 'a reader alias of the writer\'s full name matches', reader: rec([], 'New', { namespace: 'ns', aliases: ['Old'] }), writer: rec([], 'Old', { namespace: 'ns' }), messages: [] },
    {
      rule: 'fixed sizes must match',
      reader: one({ type: 'fixed', name: 'F', size: 8 }),
      writer: one({ type: 'fixed', name: 'F', size: 4 }),
      messages: ["{errorType:'FIXED_SIZE_MISMATCH', description:'The size of FIXED type field at path '/fields/0/type/size' in the new schema does not match with the old schema', additionalInfo:'expected: 4, found: 8'}"],
    },
    { rule: 'a reader enum with more symbols reads the writer\'s', reader: one({ type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] }), writer: one({ type: 'enum', name: 'E', symbols: ['A', 'B'] }), messages: [] },
    {
      rule: 'writer enum symbols missing from the reader are refused',
      reader: one({ type: 'enum', name: 'E', symbols: ['A'] }),
      writer: one({ type: 'enum', name: 'E', symbols: ['A', 'C', 'B'] }),
      messages: ["{errorType:'MISSING_ENUM_SYMBOLS', description:'The new schema is missing enum symbols '[B, C]' at path '/fields/0/type/symbols' in the old schema', additionalInfo:'[B, C]'}"],
    },
    { rule: 'a reader enum default takes unknown writer symbols (Avro 1.9)', reader: one({ type: 'enum', name: 'E', symbols: ['A', 'UNKNOWN'], default: 'UNKNOWN' }), writer: one({ type: 'enum', name: 'E', symbols: ['A', 'B'] }), messages: [] },
    { rule: 'array items resolve recursively (promotion)', reader: one({ type: 'array', items: 'long' }), writer: one({ type: 'array', items: 'int' }), messages: [] },
    { rule: 'array items resolve recursively (mismatch)', reader: one({ type: 'array', items: 'int' }), writer: one({ type: 'array', items: 'string' }), messages: [mismatch('/fields/0/type/items', 'INT', 'STRING')] },
    { rule: 'map values resolve recursively', reader: one({ type: 'map', values: 'int' }), writer: one({ type: 'map', values: 'boolean' }), messages: [mismatch('/fields/0/type/values', 'INT', 'BOOLEAN')] },
    { rule: 'a writer union whose branches the reader union all has', reader: one(['null', 'string', 'int']), writer: one(['null', 'string']), messages: [] },
    {
      rule: 'a writer union branch missing from the reader union',
      reader: one(['null', 'string']),
      writer: one(['null', 'string', 'int']),
      messages: ["{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '/fields/0/type/2' in the old schema', additionalInfo:'reader union lacking writer type: INT'}"],
    },
    { rule: 'a reader union reads a non-union writer of one of its branches (optional field made nullable)', reader: one(['null', 'long']), writer: one('int'), messages: [] },
    {
      rule: 'a reader union without the writer\'s type',
      reader: one(['null', 'string']),
      writer: one('int'),
      messages: ["{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '/fields/0/type' in the old schema', additionalInfo:'reader union lacking writer type: INT'}"],
    },
    { rule: 'a non-union reader reads a writer union whose every branch it reads', reader: one('double'), writer: one(['int', 'float']), messages: [] },
    { rule: 'a non-union reader and a writer union with an unreadable branch', reader: one('string'), writer: one(['string', 'null']), messages: [mismatch('/fields/0/type/1', 'STRING', 'NULL')] },
    {
      rule: 'recursive types are checked once per pair (a linked list gains a field with a default)',
      reader: rec([field('v', 'long'), field('tag', 'string', { default: '' }), field('next', ['null', 'Node'], { default: null })], 'Node'),
      writer: rec([field('v', 'int'), field('next', ['null', 'Node'], { default: null })], 'Node'),
      messages: [],
    },
    {
      rule: 'recursive types: an incompatible change is found',
      reader: rec([field('v', 'string'), field('next', ['null', 'Node'])], 'Node'),
      writer: rec([field('v', 'int'), field('next', ['null', 'Node'])], 'Node'),
      messages: [mismatch('/fields/0/type', 'STRING', 'INT')],
    },
  ];
  for (const c of cases) {
    it(c.rule, () => {
      expect(canRead(c.reader, c.writer)).toEqual(c.messages);
    });
  }
});

describe('compatibility levels through the registry', () => {
  let b: TestBroker & { url: string };
  beforeAll(async () => {
    b = await startRegistryBroker();
  });
  afterAll(async () => {
    await b.destroy();
  });

  let n = 0;
  /** A fresh subject at `level` with the given versions registered in order (each must be accepted). */
  async function subjectWith(level: string, versions: object[]): Promise<string> {
    const subject = `lvl-${level.toLowerCase()}-${n++}`;
    expect((await call(b.url, 'PUT', `/config/${subject}`, { compatibility: level })).status).toBe(200);
    for (const v of versions) {
      const r = await call(b.url, 'POST', `/subjects/${subject}/versions`, avro(v));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    return subject;
  }

  async function attempt(subject: string, schema: object): Promise<{ status: number; messages: string[] }> {
    const verbose = (await call(b.url, 'POST', `/compatibility/subjects/${subject}/versions?verbose=true`, avro(schema))).body as { is_compatible: boolean; messages: string[] };
    const r = await call(b.url, 'POST', `/subjects/${subject}/versions`, avro(schema));
    expect(verbose.is_compatible).toBe(r.status === 200);
    return { status: r.status, messages: verbose.messages };
  }

  const a = rec([field('a', 'int')]);
  const aB = rec([field('a', 'int'), field('b', 'string')]);
  const aBDefault = rec([field('a', 'int'), field('b', 'string', { default: '' })]);
  const empty = rec([]);
  const fInt = rec([field('f', 'int')]);
  const fIntDefault = rec([field('f', 'int', { default: 0 })]);
  const fString = rec([field('f', 'string')]);
  const fStringDefault = rec([field('f', 'string', { default: '' })]);
  const missingB = "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}";
  const missingA = "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'a' at path '/fields/0' in the old schema has no default value and is missing in the new schema', additionalInfo:'a'}";

  it('NONE accepts anything', async () => {
    const s = await subjectWith('NONE', [a]);
    expect((await attempt(s, rec([field('z', 'boolean')], 'Other'))).status).toBe(200);
  });

  it('BACKWARD: adding a field needs a default (the new schema reads old data)', async () => {
    const s = await subjectWith('BACKWARD', [a]);
    const refused = await attempt(s, aB);
    expect(refused.status).toBe(409);
    expect(refused.messages[0]).toBe(missingB);
    expect(refused.messages.at(-1)).toBe("{validateFields: 'false', compatibility: 'BACKWARD'}");
    expect((await attempt(s, aBDefault)).status).toBe(200);
    // Removing a field is backward compatible.
    expect((await attempt(s, empty)).status).toBe(200);
  });

  it('FORWARD: removing a field needs a default in the old schema (old readers read new data)', async () => {
    const s = await subjectWith('FORWARD', [a]);
    const refused = await attempt(s, empty);
    expect(refused.status).toBe(409);
    expect(refused.messages).toEqual([missingA, '{oldSchemaVersion: 1}', `{oldSchema: '${JSON.stringify(a)}'}`, "{validateFields: 'false', compatibility: 'FORWARD'}"]);
    // Adding a field without a default is forward compatible.
    expect((await attempt(s, aB)).status).toBe(200);
  });

  it('FULL: both directions', async () => {
    const s = await subjectWith('FULL', [a]);
    expect((await attempt(s, aB)).status).toBe(409);
    const removed = await attempt(s, empty);
    expect(removed.status).toBe(409);
    expect(removed.messages[0]).toBe(missingA);
    expect((await attempt(s, aBDefault)).status).toBe(200);
  });

  it('BACKWARD checks only the latest version; BACKWARD_TRANSITIVE every one', async () => {
    // v1 f:int, v2 without f, v3 f:string with a default: v3 reads v2's data, not v1's.
    const plain = await subjectWith('BACKWARD', [fInt, empty]);
    expect((await attempt(plain, fStringDefault)).status).toBe(200);
    const transitive = await subjectWith('BACKWARD_TRANSITIVE', [fInt, empty]);
    const refused = await attempt(transitive, fStringDefault);
    expect(refused.status).toBe(409);
    expect(refused.messages.slice(0, 2)).toEqual([mismatch('/fields/0/type', 'STRING', 'INT'), '{oldSchemaVersion: 1}']);
  });

  it('FORWARD checks only the latest version; FORWARD_TRANSITIVE every one', async () => {
    // v1 f:int (default 0), v2 without f, v3 f:string: v2 reads v3's data, v1 does not.
    const plain = await subjectWith('FORWARD', [fIntDefault, empty]);
    expect((await attempt(plain, fString)).status).toBe(200);
    const transitive = await subjectWith('FORWARD_TRANSITIVE', [fIntDefault, empty]);
    const refused = await attempt(transitive, fString);
    expect(refused.status).toBe(409);
    expect(refused.messages[0]).toBe(
      "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the old schema does not match with the new schema', additionalInfo:'reader type: INT not compatible with writer type: STRING'}",
    );
  });

  it('FULL checks only the latest version; FULL_TRANSITIVE every one', async () => {
    const plain = await subjectWith('FULL', [fIntDefault, empty]);
    expect((await attempt(plain, fStringDefault)).status).toBe(200);
    const transitive = await subjectWith('FULL_TRANSITIVE', [fIntDefault, empty]);
    const refused = await attempt(transitive, fStringDefault);
    expect(refused.status).toBe(409);
    expect(refused.messages.at(-1)).toBe("{validateFields: 'false', compatibility: 'FULL_TRANSITIVE'}");
  });

  it('soft-deleted versions are not checked', async () => {
    const s = await subjectWith('BACKWARD', [a]);
    expect((await call(b.url, 'DELETE', `/subjects/${s}/versions/1`)).status).toBe(200);
    expect((await attempt(s, aB)).status).toBe(200);
  });
});
