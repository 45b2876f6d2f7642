/**
 * JSON Schema in the registry: validation (ajv against the meta-schema, `$ref`s resolved through
 * references), identity, and compatibility case by case from Confluent's documented SchemaDiff rules (the
 * open/closed content model above all), each compatible and incompatible, with the verbose message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonSchema } from '../../src/registry/json-schema.js';
import type { TestBroker } from '../helpers/broker.js';
import { call, startRegistryBroker } from './helpers.js';

/** The incompatibilities when `update` (new) reads data valid under `original` (old): BACKWARD's question. */
function backward(update: unknown, original: unknown): string[] {
  return parseJsonSchema(JSON.stringify(update)).isBackwardCompatible(parseJsonSchema(JSON.stringify(original))).map((d) => d('new', 'old'));
}

const obj = (properties: object, extra: object = {}): object => ({ type: 'object', properties, ...extra });
const closed = (properties: object, extra: object = {}): object => obj(properties, { additionalProperties: false, ...extra });
const err = (type: string, description: string): string => `{errorType:"${type}", description:"${description}"}`;

describe('JSON Schema diff rules (Confluent SchemaDiff, STRICT)', () => {
  const cases: { rule: string; update: unknown; original: unknown; messages: string[] }[] = [
    { rule: 'identical schemas', update: obj({ a: { type: 'string' } }), original: obj({ a: { type: 'string' } }), messages: [] },
    { rule: 'title, description and default changes are compatible', update: obj({ a: { type: 'string', description: 'x', default: 'b' } }, { title: 'T2' }), original: obj({ a: { type: 'string', default: 'a' } }, { title: 'T1' }), messages: [] },
    {
      rule: 'a property added to an open content model is incompatible (old data may hold it with another type)',
      update: obj({ a: { type: 'string' }, b: { type: 'integer' } }),
      original: obj({ a: { type: 'string' } }),
      messages: [err('OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', "The new schema has an open content model and has a property or item at path '#/properties/b' which is missing in the old schema")],
    },
    { rule: 'a property with an empty schema added to an open content model is compatible', update: obj({ a: { type: 'string' }, b: {} }), original: obj({ a: { type: 'string' } }), messages: [] },
    { rule: 'an optional property added to a closed content model is compatible', update: closed({ a: { type: 'string' }, b: { type: 'integer' } }), original: closed({ a: { type: 'string' } }), messages: [] },
    {
      rule: 'a required property added to a closed content model is incompatible',
      update: closed({ a: { type: 'string' }, b: { type: 'integer' } }, { required: ['b'] }),
      original: closed({ a: { type: 'string' } }),
      messages: [err('REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', "The new schema has an unopen content model and has a required property at path '#/properties/b' which is missing in the old schema")],
    },
    { rule: 'a required property with a default added to a closed content model is compatible', update: closed({ b: { type: 'integer', default: 0 } }, { required: ['b'] }), original: closed({}), messages: [] },
    { rule: 'a property removed from an open content model is compatible', update: obj({}), original: obj({ a: { type: 'string' } }), messages: [] },
    {
      rule: 'a property removed from a closed content model is incompatible',
      update: closed({}),
      original: closed({ a: { type: 'string' } }),
      messages: [err('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', "The new schema has a closed content model and is missing a property or item present at path '#/properties/a' in the old schema")],
    },
    { rule: 'a property removed from a partially open model that covers it is compatible', update: obj({}, { additionalProperties: { type: 'string' } }), original: obj({ a: { type: 'string' } }, { additionalProperties: { type: 'string' } }), messages: [] },
    {
      rule: 'a required attribute added is incompatible',
      update: obj({ a: { type: 'string' } }, { required: ['a'] }),
      original: obj({ a: { type: 'string' } }),
      messages: [err('REQUIRED_ATTRIBUTE_ADDED', "The keyword at path '#/required/a' in the new schema is not present in the old schema")],
    },
    { rule: 'a required attribute removed is compatible', update: obj({ a: { type: 'string' } }), original: obj({ a: { type: 'string' } }, { required: ['a'] }), messages: [] },
    { rule: 'additionalProperties false -> allowed is compatible', update: obj({}), original: closed({}), messages: [] },
    {
      rule: 'additionalProperties allowed -> false is incompatible',
      update: closed({}),
      original: obj({}),
      messages: [err('ADDITIONAL_PROPERTIES_REMOVED', "The keyword at path '#/additionalProperties' in the new schema is not present in the old schema")],
    },
    {
      rule: 'a changed type is incompatible',
      update: obj({ a: { type: 'integer' } }),
      original: obj({ a: { type: 'string' } }),
      messages: [err('TYPE_CHANGED', "A type at path '#/properties/a' is different between the new schema and the old schema")],
    },
    { rule: 'integer -> number is compatible (type extended)', update: obj({ a: { type: 'number' } }), original: obj({ a: { type: 'integer' } }), messages: [] },
    {
      rule: 'number -> integer is incompatible (type narrowed)',
      update: obj({ a: { type: 'integer' } }),
      original: obj({ a: { type: 'number' } }),
      messages: [err('TYPE_NARROWED', "A type at path '#/properties/a' is different between the new schema and the old schema")],
    },
    { rule: 'a type widened to a union (sum type extended) is compatible', update: obj({ a: { type: ['string', 'null'] } }), original: obj({ a: { type: 'string' } }), messages: [] },
    {
      rule: 'a union narrowed is incompatible',
      update: obj({ a: { oneOf: [{ type: 'string' }] } }),
      original: obj({ a: { oneOf: [{ type: 'string' }, { type: 'integer' }] } }),
      messages: [err('SUM_TYPE_NARROWED', "An array or combined type at path '#/properties/a' has fewer elements in the new schema than the old schema")],
    },
    { rule: 'maxLength increased is compatible', update: obj({ a: { type: 'string', maxLength: 10 } }), original: obj({ a: { type: 'string', maxLength: 5 } }), messages: [] },
    {
      rule: 'maxLength decreased is incompatible',
      update: obj({ a: { type: 'string', maxLength: 3 } }),
      original: obj({ a: { type: 'string', maxLength: 5 } }),
      messages: [err('MAX_LENGTH_DECREASED', "The value at path '#/properties/a/maxLength' in the new schema is less than its value in the old schema")],
    },
    {
      rule: 'minLength added is incompatible',
      update: obj({ a: { type: 'string', minLength: 1 } }),
      original: obj({ a: { type: 'string' } }),
      messages: [err('MIN_LENGTH_ADDED', "The keyword at path '#/properties/a/minLength' in the new schema is not present in the old schema")],
    },
    { rule: 'pattern removed is compatible', update: obj({ a: { type: 'string' } }), original: obj({ a: { type: 'string', pattern: '^a' } }), messages: [] },
    {
      rule: 'pattern changed is incompatible',
      update: obj({ a: { type: 'string', pattern: '^b' } }),
      original: obj({ a: { type: 'string', pattern: '^a' } }),
      messages: [err('PATTERN_CHANGED', "The value at path '#/properties/a/pattern' is different between the new and old schema")],
    },
    { rule: 'maximum increased and minimum decreased are compatible', update: obj({ n: { type: 'number', maximum: 10, minimum: 0 } }), original: obj({ n: { type: 'number', maximum: 5, minimum: 1 } }), messages: [] },
    {
      rule: 'minimum increased is incompatible',
      update: obj({ n: { type: 'number', minimum: 2 } }),
      original: obj({ n: { type: 'number', minimum: 1 } }),
      messages: [err('MINIMUM_INCREASED', "The value at path '#/properties/n/minimum' in the new schema is more than its value in the old schema")],
    },
    { rule: 'an enum extended is compatible', update: obj({ e: { enum: ['A', 'B', 'C'] } }), original: obj({ e: { enum: ['A', 'B'] } }), messages: [] },
    {
      rule: 'an enum narrowed is incompatible',
      update: obj({ e: { enum: ['A'] } }),
      original: obj({ e: { enum: ['A', 'B'] } }),
      messages: [err('ENUM_ARRAY_NARROWED', "An array or combined type at path '#/properties/e/enum' has fewer elements in the new schema than the old schema")],
    },
    { rule: 'array items are compared (maxItems removed is compatible)', update: obj({ l: { type: 'array', items: { type: 'string' } } }), original: obj({ l: { type: 'array', items: { type: 'string' }, maxItems: 3 } }), messages: [] },
    {
      rule: 'array items are compared (item type changed)',
      update: obj({ l: { type: 'array', items: { type: 'integer' } } }),
      original: obj({ l: { type: 'array', items: { type: 'string' } } }),
      messages: [err('TYPE_CHANGED', "A type at path '#/properties/l/items' is different between the new schema and the old schema")],
    },
    {
      rule: 'uniqueItems added is incompatible',
      update: obj({ l: { type: 'array', uniqueItems: true } }),
      original: obj({ l: { type: 'array' } }),
      messages: [err('UNIQUE_ITEMS_ADDED', "The keyword at path '#/properties/l/uniqueItems' in the new schema is not present in the old schema")],
    },
    {
      rule: '$ref targets are compared (local definitions)',
      update: { definitions: { A: { type: 'integer' } }, ...obj({ a: { $ref: '#/definitions/A' } }) },
      original: { definitions: { A: { type: 'string' } }, ...obj({ a: { $ref: '#/definitions/A' } }) },
      messages: [err('TYPE_CHANGED', "A type at path '#/properties/a' is different between the new schema and the old schema")],
    },
    {
      rule: 'recursive schemas terminate',
      update: { definitions: { N: obj({ next: { $ref: '#/definitions/N' }, v: { type: 'number' } }) }, $ref: '#/definitions/N' },
      original: { definitions: { N: obj({ next: { $ref: '#/definitions/N' }, v: { type: 'integer' } }) }, $ref: '#/definitions/N' },
      messages: [],
    },
  ];
  for (const c of cases) {
    it(c.rule, () => {
      expect(backward(c.update, c.original)).toEqual(c.messages);
    });
  }

  it('refuses invalid schemas and unresolvable $refs', () => {
    expect(() => parseJsonSchema('{"type":"nope"}')).toThrow(/schema is invalid/);
    expect(() => parseJsonSchema('{"$ref":"other.json"}')).toThrow(/can't resolve reference/);
    expect(() => parseJsonSchema('[1]')).toThrow(/object or a boolean/);
    expect(() => parseJsonSchema('{"type":"object"')).toThrow(/Invalid schema JSON/);
  });
});

describe('JSON Schema through the registry', () => {
  let b: TestBroker & { url: string };
  beforeAll(async () => {
    b = await startRegistryBroker();
  });
  afterAll(async () => {
    await b.destroy();
  });
  const reg = (subject: string, schema: object, extra: object = {}) => call(b.url, 'POST', `/subjects/${subject}/versions`, { schemaType: 'JSON', schema: JSON.stringify(schema), ...extra });

  it('registers, answers schemaType JSON, keeps the key order as given, and is idempotent', async () => {
    const s = { type: 'object', properties: { z: { type: 'string' }, a: { type: 'integer' } }, required: ['z'] };
    const r = await reg('json-value', s);
    expect(r.status).toBe(200);
    const id = (r.body as { id: number }).id;
    expect((await reg('json-value', s)).body).toEqual({ id });
    expect((await call(b.url, 'GET', `/schemas/ids/${id}`)).body).toEqual({ schemaType: 'JSON', schema: JSON.stringify(s) });
    expect((await call(b.url, 'GET', '/subjects/json-value/versions/1')).body).toEqual({ subject: 'json-value', version: 1, id, schemaType: 'JSON', schema: JSON.stringify(s) });
    expect((await call(b.url, 'GET', '/schemas/types')).body).toEqual(expect.arrayContaining(['JSON', 'AVRO']));
    // "string" is an Avro schema, not a JSON schema: the type decides how a schema is read.
    const asAvro = await call(b.url, 'POST', '/subjects/json-other/versions', { schema: '"string"' });
    const asJson = await call(b.url, 'POST', '/subjects/json-other2/versions', { schemaType: 'JSON', schema: '"string"' });
    expect(asJson.status).toBe(422);
    expect(asAvro.status).toBe(200);
  });

  it('an invalid JSON schema is 42201', async () => {
    expect((await reg('json-bad', { type: 'nope' })).body).toMatchObject({ error_code: 42201 });
  });

  it('BACKWARD refuses a property added to an open content model and accepts one added to a closed model', async () => {
    await reg('json-open', obj({ a: { type: 'string' } }));
    const refused = await reg('json-open', obj({ a: { type: 'string' }, b: { type: 'integer' } }));
    expect(refused.status).toBe(409);
    expect((refused.body as { message: string }).message).toContain('OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL');
    await reg('json-closed', closed({ a: { type: 'string' } }));
    expect((await reg('json-closed', closed({ a: { type: 'string' }, b: { type: 'integer' } }))).status).toBe(200);
  });

  it('FORWARD applies to JSON schemas: the old schema reads new data', async () => {
    await call(b.url, 'PUT', '/config/json-fwd', { compatibility: 'FORWARD' });
    await reg('json-fwd', closed({ a: { type: 'string' } }));
    // Forward: the old schema must read new data; a closed old schema cannot read a new property.
    const r = await call(b.url, 'POST', '/compatibility/subjects/json-fwd/versions/latest?verbose=true', { schemaType: 'JSON', schema: JSON.stringify(closed({ a: { type: 'string' }, b: { type: 'string' } })) });
    expect(r.body).toMatchObject({ is_compatible: false });
    expect((r.body as { messages: string[] }).messages[0]).toBe(
      err('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', "The old schema has a closed content model and is missing a property or item present at path '#/properties/b' in the new schema"),
    );
  });

  it('resolves references between JSON schemas', async () => {
    const address = { type: 'object', properties: { street: { type: 'string' } } };
    await reg('address-json', address);
    const person = { type: 'object', properties: { home: { $ref: 'address.json' } } };
    const r = await reg('person-json', person, { references: [{ name: 'address.json', subject: 'address-json', version: 1 }] });
    expect(r.status).toBe(200);
    expect((await reg('person-json-2', person)).body).toMatchObject({ error_code: 42201 });
  });
});
