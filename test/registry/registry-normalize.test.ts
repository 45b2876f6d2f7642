/**
 * `normalize=true` (register, lookup, compatibility) and the config's `normalize`: Confluent normalizes a
 * schema before computing its identity (ParsedSchema.normalize()). The expected strings follow Confluent's
 * normalizers as their source defines them: AvroSchemaUtils.toNormalizedString re-parsed and printed by
 * Avro's Schema.toString (aliases and custom properties sorted, a valid logical type's own properties
 * first, JSON objects inside properties and defaults sorted, an empty named-type doc dropped);
 * JsonSchema.normalize (the document re-read with every object's keys sorted); ProtobufSchemaUtils'
 * normalized printer (fields by tag, oneofs by first tag, enum constants by tag, message and enum types
 * by full name with a leading dot, imports sorted, `syntax = "proto2"` dropped). References are sorted by
 * subject then version and deduplicated (SchemaReference.compareTo).
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseAvro } from '../../src/registry/avro.js';
import { parseJsonSchema } from '../../src/registry/json-schema.js';
import { normalizeReferences } from '../../src/registry/parsed-schema.js';
import { parseProtobuf } from '../../src/registry/protobuf.js';
import { SchemaRegistry } from '../../src/registry/registry.js';
import type { StoreRecord } from '../../src/registry/store-records.js';
import { decodeRecord, encodeKey, encodeValue } from '../../src/registry/store-records.js';
import { RegistryError } from '../../src/registry/errors.js';
import { RegistryHttpServer } from '../../src/registry/http.js';
import { call } from './helpers.js';

const logger = pino({ level: 'silent' });

function memoryRegistry(): { registry: SchemaRegistry; written: StoreRecord[] } {
  const written: StoreRecord[] = [];
  const registry = new SchemaRegistry({ append: async (records) => void written.push(...records) }, { defaultCompatibility: 'BACKWARD' }, logger);
  return { registry, written };
}

describe('Avro normalization (AvroSchemaUtils.toNormalizedString, then Schema.toString)', () => {
  it('sorts aliases and custom properties, nested objects in properties and defaults; drops an empty record doc', () => {
    const schema = {
      type: 'record',
      name: 'User',
      namespace: 'com.example',
      doc: '',
      aliases: ['com.old.Person', 'Member'],
      zeta: 1,
      alpha: { y: 1, x: 2 },
      fields: [
        { name: 'id', type: 'int', aliases: ['ident', 'code'], doc: '', 'x-b': true, 'x-a': false },
        { name: 'meta', type: { type: 'map', values: 'string' }, default: { z: 'last', a: 'first' } },
      ],
    };
    const parsed = parseAvro(JSON.stringify(schema));
    // Without normalization: Java's Schema.toString keeps the written order.
    expect(parsed.canonical).toBe(
      '{"type":"record","name":"User","namespace":"com.example","doc":"","fields":[{"name":"id","type":"int","doc":"","aliases":["ident","code"],"x-b":true,"x-a":false},{"name":"meta","type":{"type":"map","values":"string"},"default":{"z":"last","a":"first"}}],"zeta":1,"alpha":{"y":1,"x":2},"aliases":["com.old.Person","Member"]}',
    );
    // Normalized: the aliases by full name (com.example.Member < com.old.Person), field aliases sorted, the
    // properties by key with nested objects sorted, the record's empty doc gone (a field's stays).
    expect(parsed.normalize().canonical).toBe(
      '{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"id","type":"int","doc":"","aliases":["code","ident"],"x-a":false,"x-b":true},{"name":"meta","type":{"type":"map","values":"string"},"default":{"a":"first","z":"last"}}],"alpha":{"x":2,"y":1},"zeta":1,"aliases":["Member","com.old.Person"]}',
    );
  });

  it("puts a valid logical type's logicalType, precision and non-zero scale first, the other properties sorted", () => {
    const decimal = parseAvro(JSON.stringify({ type: 'bytes', scale: 2, 'connect.name': 'x', precision: 4, logicalType: 'decimal' }));
    expect(decimal.normalize().canonical).toBe('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2,"connect.name":"x"}');
    // An invalid logical type (timestamp-millis on an int) is only a property: all sorted by key.
    const invalid = parseAvro(JSON.stringify({ type: 'int', logicalType: 'timestamp-millis', 'avro.java': 'y' }));
    expect(invalid.normalize().canonical).toBe('{"type":"int","avro.java":"y","logicalType":"timestamp-millis"}');
    const valid = parseAvro(JSON.stringify({ type: 'long', logicalType: 'timestamp-millis', 'avro.java': 'y' }));
    expect(valid.normalize().canonical).toBe('{"type":"long","logicalType":"timestamp-millis","avro.java":"y"}');
  });

  it('keeps recursive and repeated named types written once', () => {
    const node = { type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }, { name: 'other', type: ['null', 'Node'] }] };
    const parsed = parseAvro(JSON.stringify(node));
    expect(parsed.normalize().canonical).toBe(parsed.canonical);
  });
});

describe('JSON Schema normalization (JsonSchema.normalize)', () => {
  it('sorts the keys of every object, arrays kept in order', () => {
    const parsed = parseJsonSchema(JSON.stringify({ type: 'object', required: ['b', 'a'], properties: { b: { type: 'string', maxLength: 3 }, a: { type: 'integer' } } }));
    expect(parsed.canonical).toBe('{"type":"object","required":["b","a"],"properties":{"b":{"type":"string","maxLength":3},"a":{"type":"integer"}}}');
    expect(parsed.normalize().canonical).toBe('{"properties":{"a":{"type":"integer"},"b":{"maxLength":3,"type":"string"}},"required":["b","a"],"type":"object"}');
  });
});

describe('Protobuf normalization (ProtobufSchemaUtils.toNormalizedString)', () => {
  it('orders fields, oneofs and enum constants by tag and writes types by full name', () => {
    const text = `syntax = "proto3";
package com.example;

import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";

message User {
  string nome = 2;
  int32 id = 1;
  oneof contact {
    string phone = 7;
    string email = 6;
  }
  map<string, Address> addresses = 5;
  google.protobuf.Timestamp at = 4;
  Kind kind = 3;

  message Address {
    string city = 1;
  }

  enum Kind {
    PERSON = 1;
    UNKNOWN = 0;
  }
}
`;
    const parsed = parseProtobuf(text);
    expect(parsed.normalize().canonical).toBe(`syntax = "proto3";
package com.example;

import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";

message User {
  int32 id = 1;
  string nome = 2;
  .com.example.User.Kind kind = 3;
  .google.protobuf.Timestamp at = 4;
  map<string, .com.example.User.Address> addresses = 5;

  oneof contact {
    string email = 6;
    string phone = 7;
  }

  message Address {
    string city = 1;
  }
  enum Kind {
    UNKNOWN = 0;
    PERSON = 1;
  }
}
`);
  });

  it('drops syntax = "proto2" (the default) and writes each reserved value on a line of its own, sorted', () => {
    const parsed = parseProtobuf(`syntax = "proto2";
package p;

message M {
  reserved 20, 100 to max;
  reserved 10;
  reserved 1 to 3;
  reserved "OLD", "BAD";
  reserved 5 to 5;
  optional string name = 4;
}
`);
    expect(parsed.normalize().canonical).toBe(`package p;

message M {
  reserved 1 to 3;
  reserved 5;
  reserved 10;
  reserved 20;
  reserved 100 to max;
  reserved "BAD";
  reserved "OLD";

  optional string name = 4;
}
`);
  });
});

describe('references of a normalized schema', () => {
  it('are sorted by subject, then version, without duplicates (SchemaReference.compareTo)', () => {
    expect(
      normalizeReferences([
        { name: 'z.avsc', subject: 'b', version: 2 },
        { name: 'y.avsc', subject: 'a', version: 3 },
        { name: 'x.avsc', subject: 'b', version: 1 },
        { name: 'y.avsc', subject: 'a', version: 3 },
      ]),
    ).toEqual([
      { name: 'y.avsc', subject: 'a', version: 3 },
      { name: 'x.avsc', subject: 'b', version: 1 },
      { name: 'z.avsc', subject: 'b', version: 2 },
    ]);
  });
});

describe('normalize in the registry', () => {
  const v1 = JSON.stringify({ type: 'record', name: 'R', aliases: ['B', 'A'], fields: [{ name: 'a', type: 'int' }] });
  const v1Reordered = JSON.stringify({ type: 'record', name: 'R', aliases: ['A', 'B'], fields: [{ name: 'a', type: 'int' }] });

  it('normalize=true registers the normalized schema, so equivalent texts get one id; without it they are two schemas', async () => {
    const { registry, written } = memoryRegistry();
    const id = await registry.register('s', { schema: v1, schemaType: 'AVRO', references: [], normalize: true });
    expect(await registry.register('s', { schema: v1Reordered, schemaType: 'AVRO', references: [], normalize: true })).toBe(id);
    expect(written.length).toBe(1);
    expect(registry.getVersion('s', 'latest').schema).toBe('{"type":"record","name":"R","fields":[{"name":"a","type":"int"}],"aliases":["A","B"]}');
    // Lookup: normalized, the reordered text finds the version; not normalized, it does not.
    expect(registry.lookup('s', { schema: v1, schemaType: 'AVRO', references: [], normalize: true }).id).toBe(id);
    expect(() => registry.lookup('s', { schema: v1, schemaType: 'AVRO', references: [] })).toThrow(RegistryError);
    // Registering the original text without normalize is another schema (another version and id).
    expect(await registry.register('other', { schema: v1, schemaType: 'AVRO', references: [] })).not.toBe(id);
  });

  it("the config's normalize applies to every registration and lookup of the subject, and is stored as Confluent's ConfigValue", async () => {
    const { registry, written } = memoryRegistry();
    await registry.setConfig('s', { normalize: true });
    // Merged with what is there (ConfigValue.merge): the level set later keeps normalize.
    await registry.setConfig('s', { compatibilityLevel: 'FULL' });
    expect(registry.getConfig('s')).toEqual({ compatibilityLevel: 'FULL', normalize: true });
    const last = written.at(-1)!;
    expect(encodeKey(last).toString()).toBe('{"keytype":"CONFIG","subject":"s","magic":0}');
    expect(encodeValue(last)!.toString()).toBe('{"compatibilityLevel":"FULL","normalize":true}');
    expect(decodeRecord(encodeKey(last), encodeValue(last))).toEqual(last);
    const id = await registry.register('s', { schema: v1, schemaType: 'AVRO', references: [] });
    expect(await registry.register('s', { schema: v1Reordered, schemaType: 'AVRO', references: [] })).toBe(id);
    expect(registry.lookup('s', { schema: v1, schemaType: 'AVRO', references: [] }).id).toBe(id);
    // Another subject without the config is not normalized.
    expect(registry.getConfig(null)).toEqual({ compatibilityLevel: 'BACKWARD' });
    await registry.register('t', { schema: v1, schemaType: 'AVRO', references: [] });
    expect(registry.getVersion('t', 'latest').schema).toBe('{"type":"record","name":"R","fields":[{"name":"a","type":"int"}],"aliases":["B","A"]}');
  });
});

describe('normalize over HTTP', () => {
  it('?normalize=true on register, lookup and compatibility; PUT/GET /config carry normalize', async () => {
    const { registry } = memoryRegistry();
    const http = new RegistryHttpServer(registry, { clusterId: 'c', trace: false }, logger);
    const url = `http://127.0.0.1:${await http.listen('127.0.0.1', 0)}`;
    try {
      const a = { schema: JSON.stringify({ type: 'object', properties: { b: { type: 'string' }, a: { type: 'integer' } } }), schemaType: 'JSON' };
      const b = { schema: JSON.stringify({ properties: { a: { type: 'integer' }, b: { type: 'string' } }, type: 'object' }), schemaType: 'JSON' };
      const first = await call(url, 'POST', '/subjects/s/versions?normalize=true', a);
      expect(first.body).toEqual({ id: 1 });
      expect((await call(url, 'POST', '/subjects/s/versions?normalize=true', b)).body).toEqual({ id: 1 });
      expect((await call(url, 'GET', '/subjects/s/versions/latest')).body).toMatchObject({ version: 1, schema: '{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}' });
      expect((await call(url, 'POST', '/subjects/s?normalize=true', a)).body).toMatchObject({ id: 1, version: 1 });
      expect((await call(url, 'POST', '/subjects/s', a)).body).toMatchObject({ error_code: 40403 });
      expect((await call(url, 'POST', '/compatibility/subjects/s/versions/latest?normalize=true', b)).body).toEqual({ is_compatible: true });
      // The config: normalize alone, then merged with a level; the PUT answers what it was given.
      expect((await call(url, 'PUT', '/config/t', { normalize: true })).body).toEqual({ normalize: true });
      expect((await call(url, 'PUT', '/config/t', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
      expect((await call(url, 'GET', '/config/t')).body).toEqual({ compatibilityLevel: 'NONE', normalize: true });
      expect((await call(url, 'POST', '/subjects/t/versions', a)).body).toEqual({ id: 1 });
      expect((await call(url, 'PUT', '/config/t', { normalize: 'yes' })).body).toMatchObject({ error_code: 42203 });
    } finally {
      await http.close();
    }
  });
});
