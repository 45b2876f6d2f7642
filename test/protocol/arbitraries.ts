/**
 * fast-check arbitraries derived from a message declaration: a value for one version, with every field of
 * that version (tagged ones optional), nullable fields sometimes null. Shared by the round-trip property
 * test and the decoder fuzzer, which mutates the encodings of these values.
 */
import fc from 'fast-check';
import { inRange, parseVersions, type FieldDecl } from '../../protocol/schema.js';

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

export function structArb(fields: readonly FieldDecl[], version: number, flexible: boolean): fc.Arbitrary<Record<string, unknown>> {
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
