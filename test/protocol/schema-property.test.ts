/**
 * Every declared API x every version, request and response, with values generated from the declaration
 * itself (fast-check): encode -> decode gives back every generated field, and re-encoding the decoded
 * value gives the same bytes. Fields absent from a version are left out of the generated value (the
 * decoder fills their defaults), nullable fields are sometimes null, tagged fields sometimes set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../protocol/apis.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { inRange, parseVersions, type FieldDecl, type MessageCodec, type MessageDecl } from '../../protocol/schema.js';

type Arb = fc.Arbitrary<unknown>;

function primitive(type: string): Arb {
  switch (type) {
    case 'bool': return fc.boolean();
    case 'int8': return fc.integer({ min: -128, max: 127 });
    case 'int16': return fc.integer({ min: -32768, max: 32767 });
    case 'uint16': return fc.integer({ min: 0, max: 65535 });
    case 'int32': return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32': return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64': return fc.double({ noNaN: true });
    case 'string': return fc.string({ maxLength: 20, unit: 'grapheme' });
    case 'uuid': return fc.uuid();
    case 'bytes':
    case 'records': return fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
    default: throw new Error(`no arbitrary for ${type}`);
  }
}

function fieldArb(f: FieldDecl, version: number, flexible: boolean): Arb {
  const nullable = inRange(version, parseVersions(f.nullableVersions)) || f.type === 'records';
  const isArray = f.type.startsWith('[]');
  const element = f.fields ? structArb(f.fields, version, flexible) : primitive(isArray ? f.type.slice(2) : f.type);
  const base = isArray ? fc.array(element, { maxLength: 3 }) : element;
  return nullable ? fc.option(base, { nil: null, freq: 4 }) : base;
}

function structArb(fields: readonly FieldDecl[], version: number, flexible: boolean): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, Arb> = {};
  const optional: string[] = [];
  for (const f of fields) {
    if (!inRange(version, parseVersions(f.versions))) continue;
    const tagged = f.tag !== undefined && flexible && inRange(version, parseVersions(f.taggedVersions ?? f.versions));
    model[f.name] = fieldArb(f, version, flexible);
    if (tagged) optional.push(f.name);
  }
  return fc.record(model, { requiredKeys: Object.keys(model).filter((k) => !optional.includes(k)) });
}

function check(codec: MessageCodec<MessageDecl>, version: number): void {
  const flexible = codec.isFlexible(version);
  fc.assert(
    fc.property(structArb(codec.decl.fields, version, flexible), (value) => {
      const w = new Writer(32);
      codec.encode(w, value as never, version);
      const bytes = w.toBuffer();
      const r = new Reader(bytes);
      const decoded = codec.decode(r, version);
      expect(r.remaining()).toBe(0);
      expect(decoded).toMatchObject(value);
      const again = new Writer(32);
      codec.encode(again, decoded as never, version);
      expect(again.toBuffer().equals(bytes)).toBe(true);
    }),
    { numRuns: 25 },
  );
}

describe('every api x version round-trips property-generated values', () => {
  for (const api of ALL_APIS) {
    it(`${api.name} (key ${api.apiKey})`, () => {
      for (const codec of [api.request, api.response]) {
        for (let v = codec.validVersions.min; v <= codec.validVersions.max; v++) check(codec, v);
      }
    });
  }
});
