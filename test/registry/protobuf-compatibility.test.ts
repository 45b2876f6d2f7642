/**
 * Protobuf in the registry: parsing with references and the built-in well-known types, the canonical
 * (Wire-layout) string that makes formatting irrelevant to identity, and compatibility case by case from
 * Confluent's protobuf SchemaDiff table (compatible: fields added/removed/renamed, messages added or moved,
 * enums, oneofs added; incompatible: kind and scalar-group changes, named type changes, package changes,
 * messages removed, required fields, fields moved into oneofs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProtobuf, serializedDescriptor } from '../../src/registry/protobuf.js';
import type { TestBroker } from '../helpers/broker.js';
import { call, startRegistryBroker } from './helpers.js';

const proto = (body: string, pkg = 'com.example'): string => `syntax = "proto3";\npackage ${pkg};\n\n${body}\n`;

/** The incompatibilities when `update` (new) replaces `original` (old), as BACKWARD checks them. */
function backward(update: string, original: string): string[] {
  return parseProtobuf(update).isBackwardCompatible(parseProtobuf(original)).map((d) => d('new', 'old'));
}

describe('protobuf canonical form', () => {
  it("prints the file in Confluent's layout (ProtobufSchemaUtils.toString), so formatting and comments do not change identity", () => {
    const messy = `// a comment
syntax="proto3"; package com.example;
import "google/protobuf/timestamp.proto";
option java_package = "com.example.gen";
message User { int32 id=1; string nome = 2 ; repeated string tags = 3; map<string,int32> scores = 4;
  optional string email = 5; google.protobuf.Timestamp created = 6;
  oneof contact { string phone = 7; string fax = 8; }
  enum Kind { KIND_UNKNOWN = 0; KIND_ADMIN = 1; }
  Kind kind = 9;
}`;
    const canonical = parseProtobuf(messy).canonical;
    expect(canonical).toBe(`syntax = "proto3";
package com.example;

import "google/protobuf/timestamp.proto";

option java_package = "com.example.gen";

message User {
  int32 id = 1;
  string nome = 2;
  repeated string tags = 3;
  map<string, int32> scores = 4;
  optional string email = 5;
  google.protobuf.Timestamp created = 6;
  Kind kind = 9;

  oneof contact {
    string phone = 7;
    string fax = 8;
  }

  enum Kind {
    KIND_UNKNOWN = 0;
    KIND_ADMIN = 1;
  }
}
`);
    expect(parseProtobuf(canonical).canonical).toBe(canonical);
  });

  it("follows ProtobufSchemaUtils.toString: messages before enums with no blank line between types, reserved before options, default and json_name last, services", () => {
    const text = `syntax = "proto2";
package com.example;
option java_package = "com.example.gen";
option optimize_for = SPEED;
enum Level { option allow_alias = true; LOW = 0; HIGH = 1; }
message User {
  option deprecated = true;
  reserved 9;
  optional int32 id = 1 [deprecated = true, default = 7];
  optional string nome = 2 [json_name = "name", default = "it's"];
  message Inner { optional int32 x = 1; }
  enum Kind { A = 0; }
  message Inner2 { optional int32 y = 1; oneof o { int32 p = 2; string q = 3; } }
}
service Users { rpc Get (User) returns (stream User); }
`;
    // Each section of a message follows a newline (so a blank line separates sections), nested lines are
    // indented by appendIndented (an empty line too, hence "  " on the blank line inside Inner2), a field
    // with several options lists them one per line, strings are escaped with escapeChars (it\'s), enum-valued
    // options (optimize_for) are unquoted.
    expect(parseProtobuf(text).canonical).toBe(
      'syntax = "proto2";\npackage com.example;\n\noption java_package = "com.example.gen";\noption optimize_for = SPEED;\n\nmessage User {\n  reserved 9;\n\n  option deprecated = true;\n\n  optional int32 id = 1 [\n    deprecated = true,\n    default = 7\n  ];\n  optional string nome = 2 [\n    default = "it\\\'s",\n    json_name = "name"\n  ];\n\n  message Inner {\n    optional int32 x = 1;\n  }\n  message Inner2 {\n    optional int32 y = 1;\n  \n    oneof o {\n      int32 p = 2;\n      string q = 3;\n    }\n  }\n  enum Kind {\n    A = 0;\n  }\n}\nenum Level {\n  option allow_alias = true;\n  LOW = 0;\n  HIGH = 1;\n}\n\nservice Users {\n  rpc Get (User) returns (stream User);\n}\n',
    );
    // No syntax and no package: the first section still starts with its newline.
    expect(parseProtobuf('message A { optional int32 a = 1; }').canonical).toBe('\nmessage A {\n  optional int32 a = 1;\n}\n');
  });

  it("keeps reserved statements apart as written (Wire's ReservedElements; ProtobufSchemaTest.testEnumReserved's statements)", () => {
    const text = `syntax = "proto2";
message FooOptions {
  reserved 20, 100 to max;
  reserved 10;
  reserved 1 to 3;
  reserved 'BAD', "OLD"; // a comment; reserved 99;
  optional string name = 4;
}
enum FooParameterType {
  reserved 20, 100 to max;
  reserved 10;
  reserved 5 to 5;
  NUMBER = 1;
  STRING = 2;
}
`;
    expect(parseProtobuf(text).canonical).toBe(
      'syntax = "proto2";\n\nmessage FooOptions {\n  reserved 20, 100 to max;\n  reserved 10;\n  reserved 1 to 3;\n  reserved "BAD", "OLD";\n\n  optional string name = 4;\n}\nenum FooParameterType {\n  reserved 20, 100 to max;\n  reserved 10;\n  reserved 5 to 5;\n  NUMBER = 1;\n  STRING = 2;\n}\n',
    );
  });

  it('prints an option written with an identifier (an enum constant) unquoted, a string quoted, normalized too', () => {
    const text = 'syntax = "proto3";\npackage p;\n\nmessage M {\n  int32 a = 1 [(my.kind) = FAST];\n  int32 b = 2 [(my.note) = "FAST"];\n}\n';
    const parsed = parseProtobuf(text);
    expect(parsed.canonical).toBe(text);
    expect(parsed.normalize().canonical).toBe(text);
  });

  it('reads a base64 FileDescriptorProto (what confluent-kafka-python registers) as the same schema, and serves one back', () => {
    const text = proto('message User {\n  int32 id = 1;\n  repeated string tags = 2;\n  E e = 3;\n}\n\nenum E {\n  E_A = 0;\n}');
    const base64 = serializedDescriptor(text);
    expect(base64).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(parseProtobuf(base64).canonical).toBe(parseProtobuf(text).canonical);
    expect(() => parseProtobuf('AAAA')).toThrow(/FileDescriptorProto|package/);
  });

  it('refuses text that does not parse, unknown types and imports nobody provides', () => {
    expect(() => parseProtobuf('message {')).toThrow(/Invalid schema/);
    expect(() => parseProtobuf(proto('message A { Missing m = 1; }'))).toThrow(/no such Type or Enum 'Missing'/);
    expect(() => parseProtobuf(proto('import "other.proto";\nmessage A { int32 x = 1; }'))).toThrow(/neither a reference nor a built-in/);
  });
});

describe('protobuf diff rules (Confluent SchemaDiff)', () => {
  const base = proto('message User {\n  int32 id = 1;\n  string nome = 2;\n}');
  const cases: { rule: string; update: string; original: string; messages: string[] }[] = [
    { rule: 'a field added is compatible', update: proto('message User {\n  int32 id = 1;\n  string nome = 2;\n  bool active = 3;\n}'), original: base, messages: [] },
    { rule: 'a field removed is compatible', update: proto('message User {\n  int32 id = 1;\n}'), original: base, messages: [] },
    { rule: 'a field renamed (same tag) is compatible', update: proto('message User {\n  int32 id = 1;\n  string name = 2;\n}'), original: base, messages: [] },
    { rule: 'int32 -> int64 (same scalar group) is compatible', update: proto('message User {\n  int64 id = 1;\n  string nome = 2;\n}'), original: base, messages: [] },
    { rule: 'string -> bytes (same scalar group) is compatible', update: proto('message User {\n  int32 id = 1;\n  bytes nome = 2;\n}'), original: base, messages: [] },
    { rule: 'an int field -> an enum is compatible (enums are numbers)', update: proto('message User {\n  K id = 1;\n  string nome = 2;\n}\nenum K {\n  A = 0;\n}'), original: base, messages: [] },
    {
      rule: 'int32 -> sint32 changes the scalar group',
      update: proto('message User {\n  sint32 id = 1;\n  string nome = 2;\n}'),
      original: base,
      messages: ["Difference{fullPath='#/User/1', type=FIELD_SCALAR_KIND_CHANGED}"],
    },
    {
      rule: 'a scalar -> a message changes the field kind',
      update: proto('message User {\n  Id id = 1;\n  string nome = 2;\n}\nmessage Id {\n  int32 v = 1;\n}'),
      original: base,
      messages: ["Difference{fullPath='#/User/1', type=FIELD_KIND_CHANGED}"],
    },
    {
      rule: 'a field\'s message type renamed is incompatible',
      update: proto('message User {\n  B b = 1;\n}\nmessage B {\n  int32 v = 1;\n}'),
      original: proto('message User {\n  A b = 1;\n}\nmessage A {\n  int32 v = 1;\n}'),
      messages: ["Difference{fullPath='#/User/1', type=FIELD_NAMED_TYPE_CHANGED}", "Difference{fullPath='#/A', type=MESSAGE_REMOVED}"],
    },
    {
      rule: 'an incompatible change inside a field\'s message type is found',
      update: proto('message User {\n  A a = 1;\n}\nmessage A {\n  string v = 1;\n}'),
      original: proto('message User {\n  A a = 1;\n}\nmessage A {\n  int32 v = 1;\n}'),
      messages: [
        "Difference{fullPath='#/User/1/1', type=FIELD_SCALAR_KIND_CHANGED}",
        "Difference{fullPath='#/User/1', type=FIELD_NAMED_TYPE_CHANGED}",
        "Difference{fullPath='#/A/1', type=FIELD_SCALAR_KIND_CHANGED}",
      ],
    },
    {
      rule: 'the package changed is incompatible',
      update: proto('message User {\n  int32 id = 1;\n  string nome = 2;\n}', 'com.other'),
      original: base,
      messages: ["Difference{fullPath='#', type=PACKAGE_CHANGED}"],
    },
    { rule: 'a message added or moved is compatible', update: proto('message Other {\n  int32 x = 1;\n}\nmessage User {\n  int32 id = 1;\n  string nome = 2;\n}'), original: base, messages: [] },
    {
      rule: 'a message removed is incompatible',
      update: proto('message Other {\n  int32 x = 1;\n}'),
      original: base,
      messages: ["Difference{fullPath='#/User', type=MESSAGE_REMOVED}"],
    },
    { rule: 'enum constants added and removed are compatible', update: proto('message User {\n  E e = 1;\n}\nenum E {\n  A = 0;\n  C = 2;\n}'), original: proto('message User {\n  E e = 1;\n}\nenum E {\n  A = 0;\n  B = 1;\n}'), messages: [] },
    {
      rule: 'a required field added is incompatible (proto2)',
      update: 'syntax = "proto2";\nmessage User {\n  optional int32 id = 1;\n  required string nome = 2;\n}\n',
      original: 'syntax = "proto2";\nmessage User {\n  optional int32 id = 1;\n}\n',
      messages: ["Difference{fullPath='#/User/2', type=REQUIRED_FIELD_ADDED}"],
    },
    { rule: 'a oneof added with new fields is compatible', update: proto('message User {\n  int32 id = 1;\n  string nome = 2;\n  oneof c {\n    string phone = 3;\n    string fax = 4;\n  }\n}'), original: base, messages: [] },
    { rule: 'one existing field moved into a new oneof is compatible', update: proto('message User {\n  int32 id = 1;\n  oneof c {\n    string nome = 2;\n  }\n}'), original: base, messages: [] },
    {
      rule: 'several existing fields moved into one oneof are incompatible',
      update: proto('message User {\n  oneof c {\n    int32 id = 1;\n    string nome = 2;\n  }\n}'),
      original: base,
      messages: ["Difference{fullPath='#/User/c', type=MULTIPLE_FIELDS_MOVED_TO_ONEOF}"],
    },
    {
      rule: 'a field removed from a oneof is incompatible',
      update: proto('message User {\n  oneof c {\n    string phone = 3;\n  }\n}'),
      original: proto('message User {\n  oneof c {\n    string phone = 3;\n    string fax = 4;\n  }\n}'),
      messages: ["Difference{fullPath='#/User/c/4', type=ONEOF_FIELD_REMOVED}"],
    },
    {
      rule: 'repeated added to a numeric field is incompatible; to a string field compatible',
      update: proto('message User {\n  repeated int32 id = 1;\n  repeated string nome = 2;\n}'),
      original: base,
      messages: ["Difference{fullPath='#/User/1', type=FIELD_NUMERIC_LABEL_CHANGED}"],
    },
  ];
  for (const c of cases) {
    it(c.rule, () => {
      expect(backward(c.update, c.original)).toEqual(c.messages);
    });
  }
});

describe('Protobuf through the registry', () => {
  let b: TestBroker & { url: string };
  beforeAll(async () => {
    b = await startRegistryBroker();
  });
  afterAll(async () => {
    await b.destroy();
  });
  const reg = (subject: string, schema: string, extra: object = {}) => call(b.url, 'POST', `/subjects/${subject}/versions`, { schemaType: 'PROTOBUF', schema, ...extra });

  it('registers, serves schemaType PROTOBUF and the canonical text, and gives a reformatted schema the same id', async () => {
    const text = proto('message User {\n  int32 id = 1;\n  string nome = 2;\n}');
    const r = await reg('users-proto-value', text);
    expect(r.status).toBe(200);
    const id = (r.body as { id: number }).id;
    expect((await reg('users-proto-value', 'syntax="proto3"; package com.example; message User { int32 id = 1; string nome = 2; }')).body).toEqual({ id });
    expect((await call(b.url, 'GET', `/schemas/ids/${id}`)).body).toEqual({ schemaType: 'PROTOBUF', schema: text });
    expect((await call(b.url, 'GET', '/schemas/types')).body).toEqual(['JSON', 'PROTOBUF', 'AVRO']);
  });

  it('serves a Protobuf schema as a base64 FileDescriptorProto with format=serialized', async () => {
    const text = proto('message Serialized {\n  int64 n = 1;\n}');
    const id = ((await reg('serialized-proto', text)).body as { id: number }).id;
    const r = (await call(b.url, 'GET', `/schemas/ids/${id}?format=serialized`)).body as { schemaType: string; schema: string };
    expect(r.schemaType).toBe('PROTOBUF');
    expect(parseProtobuf(r.schema).canonical).toBe(text);
    // Registering the descriptor form finds the same schema.
    expect((await reg('serialized-proto', r.schema)).body).toEqual({ id });
  });

  it('refuses an incompatible evolution with 409 and accepts a compatible one', async () => {
    await reg('evolve-proto', proto('message User {\n  int32 id = 1;\n}'));
    const refused = await reg('evolve-proto', proto('message User {\n  string id = 1;\n}'));
    expect(refused.status).toBe(409);
    expect((refused.body as { message: string }).message).toContain("Difference{fullPath='#/User/1', type=FIELD_SCALAR_KIND_CHANGED}");
    expect((await reg('evolve-proto', proto('message User {\n  int32 id = 1;\n  string nome = 2;\n}'))).status).toBe(200);
  });

  it('resolves imports through references', async () => {
    const address = proto('message Address {\n  string street = 1;\n}');
    await reg('address-proto', address);
    const person = proto('import "address.proto";\n\nmessage Person {\n  Address home = 1;\n}');
    expect((await reg('person-proto', person, { references: [{ name: 'address.proto', subject: 'address-proto', version: 1 }] })).status).toBe(200);
    expect((await reg('person-proto-2', person)).body).toMatchObject({ error_code: 42201 });
  });
});
