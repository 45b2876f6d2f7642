/**
 * The declarative message language. A message is declared once, as data, in the vocabulary of Kafka's
 * JSON specs (clients/src/main/resources/common/message/*.json): `validVersions`, `flexibleVersions`, and
 * fields with `versions`, `nullableVersions`, `taggedVersions`/`tag`, `ignorable` and `default`. Field
 * names are Kafka's, camelCased. Object order of `fields` is wire order.
 *
 * From one declaration we derive, for every version, an encoder and a decoder (compiled once per version
 * and cached), and the TypeScript type of the message value. Decoded values always carry every field:
 * a field absent from a version gets its default. Encoding a non-default value for a field that the
 * version lacks throws unless the field is `ignorable` (as Kafka's generated code does).
 *
 * Flexible versions (KIP-482) use compact strings/bytes/arrays and end every struct with a tagged-field
 * section; unknown tags are skipped on decode.
 */
import { ProtocolError, Reader, Writer, NULL_UUID } from './primitives.js';

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

export interface FieldDecl {
  readonly name: string;
  /** A primitive, `[]primitive`, or a struct name (`Foo` / `[]Foo`) with `fields`. */
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  readonly ignorable?: boolean;
  /** Kafka's default: a number, bigint, boolean, string, or null. */
  readonly default?: number | bigint | boolean | string | null;
  readonly fields?: readonly FieldDecl[];
  readonly about?: string;
}

export interface MessageDecl {
  readonly name: string;
  /** The API key, or the record type of a metadata record; -1 for a `data` spec, which has none. */
  readonly apiKey: number;
  /**
   * Kafka's spec `type`: `request`/`response` for RPCs, `metadata` for the records of the KRaft metadata
   * log (protocol/metadata/), `data` for other versioned payloads such as the KRaft control records.
   */
  readonly type: 'request' | 'response' | 'metadata' | 'data';
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly FieldDecl[];
}

// ---------------------------------------------------------------------------------------------------
// Types derived from a declaration

type PrimValue<T extends string> = T extends 'bool'
  ? boolean
  : T extends 'int64'
    ? bigint
    : T extends 'string' | 'uuid'
      ? string
      : T extends 'bytes' | 'records'
        ? Buffer
        : number;

type NullableOf<F> = F extends { nullableVersions: string } ? null : never;

// A field whose type is not a literal (the generic FieldDecl, as in ApiMessages' default parameters) has
// an unknown value: otherwise MessageValue<MessageDecl> collapses to numbers and no concrete API is an
// ApiMessages<MessageDecl>.
export type FieldValue<F extends FieldDecl> = string extends F['type']
  ? unknown
  : F extends { fields: infer Fs extends readonly FieldDecl[] }
    ? F['type'] extends `[]${string}`
      ? StructValue<Fs>[] | NullableOf<F>
      : StructValue<Fs> | NullableOf<F>
    : F['type'] extends `[]${infer E}`
      ? PrimValue<E>[] | NullableOf<F>
      : PrimValue<F['type']> | NullableOf<F> | (F['type'] extends 'records' ? null : never);

export type StructValue<Fs extends readonly FieldDecl[]> = {
  -readonly [F in Fs[number] as F['name']]: FieldValue<F>;
};

export type MessageValue<M extends MessageDecl> = StructValue<M['fields']>;

/** What an encoder accepts: any field may be left out (it is then written as its default). */
export type InputFieldValue<F extends FieldDecl> = F extends { fields: infer Fs extends readonly FieldDecl[] }
  ? F['type'] extends `[]${string}`
    ? InputStruct<Fs>[] | NullableOf<F>
    : InputStruct<Fs> | NullableOf<F>
  : FieldValue<F>;

export type InputStruct<Fs extends readonly FieldDecl[]> = {
  -readonly [F in Fs[number] as F['name']]?: InputFieldValue<F>;
};

export type MessageInput<M extends MessageDecl> = InputStruct<M['fields']>;

// ---------------------------------------------------------------------------------------------------
// Version ranges: '0+', '3-7', '5', 'none'

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export function parseVersions(spec: string | undefined): VersionRange {
  if (spec === undefined || spec === 'none' || spec === '') return { min: 1, max: 0 };
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return { min: Number(plus[1]), max: Number.MAX_SAFE_INTEGER };
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  if (/^\d+$/.test(spec)) return { min: Number(spec), max: Number(spec) };
  throw new Error(`bad version spec ${spec}`);
}

export function inRange(version: number, r: VersionRange): boolean {
  return version >= r.min && version <= r.max;
}

// ---------------------------------------------------------------------------------------------------
// Compiled codecs

type Value = unknown;
type Obj = Record<string, unknown>;

interface CompiledField {
  readonly name: string;
  readonly read: (r: Reader) => Value;
  readonly write: (w: Writer, v: Value) => void;
  readonly defaultValue: () => Value;
  readonly isDefault: (v: Value) => boolean;
}

interface CompiledStruct {
  /** Fields in this version, in wire order, excluding tagged ones. */
  readonly fields: readonly CompiledField[];
  /** Fields tagged in this version, by ascending tag. */
  readonly tagged: readonly (CompiledField & { readonly tag: number })[];
  /** Fields absent from this version (filled with defaults on decode; checked on encode). */
  readonly absent: readonly (CompiledField & { readonly ignorable: boolean })[];
  readonly flexible: boolean;
}

function primitiveDefault(type: string, decl: FieldDecl): () => Value {
  const d = decl.default;
  switch (type) {
    case 'bool':
      return () => d === true || d === 'true';
    case 'int64':
      return () => (d === undefined || d === null ? 0n : BigInt(d as string | number | bigint));
    case 'string':
      return () => (d === null ? null : typeof d === 'string' ? d : '');
    case 'uuid':
      return () => NULL_UUID;
    case 'bytes':
      return () => (d === null ? null : Buffer.alloc(0));
    case 'records':
      return () => null;
    case 'float64':
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return () => (d === undefined || d === null ? 0 : Number(d));
    default:
      throw new Error(`unknown primitive type ${type}`);
  }
}

function deepEqual(a: Value, b: Value): boolean {
  if (valuesEqual(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Buffer.isBuffer(a) || Buffer.isBuffer(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => deepEqual((a as Obj)[k], (b as Obj)[k]));
}

function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === 0 && b.length === 0;
  return false;
}

function primitiveReader(type: string, flexible: boolean, nullable: boolean): (r: Reader) => Value {
  switch (type) {
    case 'bool':
      return (r) => r.bool();
    case 'int8':
      return (r) => r.int8();
    case 'int16':
      return (r) => r.int16();
    case 'uint16':
      return (r) => r.uint16();
    case 'int32':
      return (r) => r.int32();
    case 'uint32':
      return (r) => r.uint32();
    case 'int64':
      return (r) => r.int64();
    case 'float64':
      return (r) => r.float64();
    case 'uuid':
      return (r) => r.uuid();
    case 'string':
      return (r) => r.string(flexible, nullable);
    case 'bytes':
      return (r) => r.bytes(flexible, nullable);
    case 'records':
      return (r) => r.bytes(flexible, true);
    default:
      throw new Error(`unknown primitive type ${type}`);
  }
}

function expectType(ok: boolean, name: string, v: Value, want: string): void {
  if (!ok) throw new ProtocolError(`field ${name}: expected ${want}, got ${typeof v}`);
}

function primitiveWriter(type: string, name: string, flexible: boolean, nullable: boolean): (w: Writer, v: Value) => void {
  const num = (w: Writer, v: Value, f: (n: number) => void): void => {
    expectType(typeof v === 'number', name, v, 'number');
    f.call(w, v as number);
  };
  const nullCheck = (v: Value): void => {
    if (v === null && !nullable) throw new ProtocolError(`field ${name} is not nullable in this version`);
  };
  switch (type) {
    case 'bool':
      return (w, v) => {
        expectType(typeof v === 'boolean', name, v, 'boolean');
        w.bool(v as boolean);
      };
    case 'int8':
      return (w, v) => num(w, v, w.int8);
    case 'int16':
      return (w, v) => num(w, v, w.int16);
    case 'uint16':
      return (w, v) => num(w, v, w.uint16);
    case 'int32':
      return (w, v) => num(w, v, w.int32);
    case 'uint32':
      return (w, v) => num(w, v, w.uint32);
    case 'float64':
      return (w, v) => num(w, v, w.float64);
    case 'int64':
      return (w, v) => {
        expectType(typeof v === 'bigint', name, v, 'bigint');
        w.int64(v as bigint);
      };
    case 'uuid':
      return (w, v) => {
        expectType(typeof v === 'string', name, v, 'uuid string');
        w.uuid(v as string);
      };
    case 'string':
      return (w, v) => {
        nullCheck(v);
        expectType(v === null || typeof v === 'string', name, v, 'string');
        w.string(v as string | null, flexible);
      };
    case 'bytes':
      return (w, v) => {
        nullCheck(v);
        expectType(v === null || v instanceof Uint8Array, name, v, 'Buffer');
        w.bytes(v as Buffer | null, flexible);
      };
    case 'records':
      return (w, v) => {
        expectType(v === null || v instanceof Uint8Array, name, v, 'Buffer');
        w.bytes(v as Buffer | null, flexible);
      };
    default:
      throw new Error(`unknown primitive type ${type}`);
  }
}

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'uuid', 'records']);

function compileField(decl: FieldDecl, version: number, flexible: boolean): CompiledField {
  const nullable = inRange(version, parseVersions(decl.nullableVersions));
  const isArray = decl.type.startsWith('[]');
  const elementType = isArray ? decl.type.slice(2) : decl.type;
  const isStruct = decl.fields !== undefined;
  if (!isStruct && !PRIMITIVES.has(elementType)) throw new Error(`field ${decl.name}: unknown type ${decl.type} without fields`);

  let readElement: (r: Reader) => Value;
  let writeElement: (w: Writer, v: Value) => void;
  let elementDefault: () => Value;
  if (isStruct) {
    const struct = compileStruct(decl.fields!, version, flexible);
    readElement = (r) => readStruct(struct, r);
    writeElement = (w, v) => {
      if (v === null || typeof v !== 'object') throw new ProtocolError(`field ${decl.name}: expected a struct`);
      writeStruct(struct, w, v as Obj);
    };
    elementDefault = () => defaultStruct(struct);
  } else {
    readElement = primitiveReader(elementType, flexible, nullable && !isArray);
    writeElement = primitiveWriter(elementType, decl.name, flexible, nullable && !isArray);
    elementDefault = primitiveDefault(elementType, decl);
  }

  if (isArray) {
    return {
      name: decl.name,
      read: (r) => {
        const n = r.arrayLength(flexible);
        if (n < 0) {
          if (!nullable) throw new ProtocolError(`array ${decl.name} is not nullable in this version`);
          return null;
        }
        const out: Value[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = readElement(r);
        return out;
      },
      write: (w, v) => {
        if (v === null || v === undefined) {
          if (!nullable) throw new ProtocolError(`array ${decl.name} is not nullable in this version`);
          w.arrayLength(-1, flexible);
          return;
        }
        if (!Array.isArray(v)) throw new ProtocolError(`field ${decl.name}: expected an array`);
        w.arrayLength(v.length, flexible);
        for (const e of v) writeElement(w, e);
      },
      // Kafka's default: null makes null the default and an empty array a real value (a tagged
      // PartitionChangeRecord.isr of [] means "the ISR is now empty" and is written; null means "unchanged").
      // A version in which the field is absent gets null too, so a decoded value re-encodes unchanged.
      defaultValue: () => (decl.default === null ? null : []),
      isDefault: (v) => (decl.default === null ? v === null : Array.isArray(v) && v.length === 0),
    };
  }
  if (isStruct) {
    return {
      name: decl.name,
      read: (r) => {
        if (nullable) {
          const present = r.int8();
          if (present < 0) return null;
        }
        return readElement(r);
      },
      write: (w, v) => {
        if (nullable) {
          if (v === null) {
            w.int8(-1);
            return;
          }
          w.int8(1);
        } else if (v === null) {
          throw new ProtocolError(`struct ${decl.name} is not nullable in this version`);
        }
        writeElement(w, v);
      },
      defaultValue: () => (nullable && decl.default === null ? null : elementDefault()),
      // A tagged struct is written only when it differs from its default, as Kafka's generated code does.
      isDefault: (v) => v === null || v === undefined || deepEqual(v, elementDefault()),
    };
  }
  const def = elementDefault;
  return {
    name: decl.name,
    read: readElement,
    write: writeElement,
    defaultValue: def,
    isDefault: (v) => valuesEqual(v, def()),
  };
}

const structCache = new WeakMap<readonly FieldDecl[], Map<string, CompiledStruct>>();

function compileStruct(fields: readonly FieldDecl[], version: number, flexible: boolean): CompiledStruct {
  let perVersion = structCache.get(fields);
  if (!perVersion) {
    perVersion = new Map();
    structCache.set(fields, perVersion);
  }
  const key = `${version}:${flexible}`;
  const cached = perVersion.get(key);
  if (cached) return cached;

  const regular: CompiledField[] = [];
  const tagged: (CompiledField & { tag: number })[] = [];
  const absent: (CompiledField & { ignorable: boolean })[] = [];
  for (const decl of fields) {
    const compiled = compileField(decl, version, flexible);
    const present = inRange(version, parseVersions(decl.versions));
    if (!present) {
      absent.push({ ...compiled, ignorable: decl.ignorable === true });
      continue;
    }
    const isTagged = decl.tag !== undefined && flexible && inRange(version, parseVersions(decl.taggedVersions ?? decl.versions));
    if (isTagged) tagged.push({ ...compiled, tag: decl.tag! });
    else regular.push(compiled);
  }
  tagged.sort((a, b) => a.tag - b.tag);
  const struct: CompiledStruct = { fields: regular, tagged, absent, flexible };
  perVersion.set(key, struct);
  return struct;
}

function defaultStruct(s: CompiledStruct): Obj {
  const out: Obj = {};
  for (const f of s.fields) out[f.name] = f.defaultValue();
  for (const f of s.tagged) out[f.name] = f.defaultValue();
  for (const f of s.absent) out[f.name] = f.defaultValue();
  return out;
}

function readStruct(s: CompiledStruct, r: Reader): Obj {
  const out: Obj = {};
  for (const f of s.fields) out[f.name] = f.read(r);
  for (const f of s.absent) out[f.name] = f.defaultValue();
  if (s.flexible) {
    for (const f of s.tagged) out[f.name] = f.defaultValue();
    const count = r.uvarint();
    let lastTag = -1;
    for (let i = 0; i < count; i++) {
      const tag = r.uvarint();
      if (tag <= lastTag) throw new ProtocolError(`tagged fields out of order: ${tag} after ${lastTag}`);
      lastTag = tag;
      const size = r.uvarint();
      const field = s.tagged.find((t) => t.tag === tag);
      const body = r.raw(size);
      if (field) {
        const sub = new Reader(body);
        out[field.name] = field.read(sub);
        if (sub.remaining() !== 0) throw new ProtocolError(`tagged field ${field.name}: ${sub.remaining()} trailing bytes`);
      }
      // Unknown tags are skipped (KIP-482: they exist so old readers can ignore new data).
    }
  }
  return out;
}

function writeStruct(s: CompiledStruct, w: Writer, v: Obj): void {
  for (const f of s.fields) {
    const value = v[f.name];
    f.write(w, value === undefined ? f.defaultValue() : value);
  }
  for (const f of s.absent) {
    const value = v[f.name];
    if (value !== undefined && !f.ignorable && !f.isDefault(value)) {
      throw new ProtocolError(`field ${f.name} has a non-default value but does not exist in this version`);
    }
  }
  if (s.flexible) {
    const present = s.tagged.filter((f) => v[f.name] !== undefined && !f.isDefault(v[f.name]));
    w.uvarint(present.length);
    for (const f of present) {
      const sub = new Writer(64);
      f.write(sub, v[f.name]);
      const bytes = sub.toBuffer();
      w.uvarint(f.tag);
      w.uvarint(bytes.length);
      w.raw(bytes);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Public codec API

export interface MessageCodec<M extends MessageDecl> {
  readonly decl: M;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  isFlexible(version: number): boolean;
  decode(r: Reader, version: number): MessageValue<M>;
  encode(w: Writer, value: MessageInput<M>, version: number): void;
  /** A value with every field at its default, for the given version. */
  defaults(version: number): MessageValue<M>;
}

export function message<const M extends MessageDecl>(decl: M): MessageCodec<M> {
  const valid = parseVersions(decl.validVersions);
  const flexibleVersions = parseVersions(decl.flexibleVersions);
  const compiled = new Map<number, CompiledStruct>();
  const structFor = (version: number): CompiledStruct => {
    let s = compiled.get(version);
    if (!s) {
      if (!inRange(version, valid)) throw new ProtocolError(`${decl.name} version ${version} is not in ${decl.validVersions}`);
      s = compileStruct(decl.fields, version, inRange(version, flexibleVersions));
      compiled.set(version, s);
    }
    return s;
  };
  return {
    decl,
    validVersions: valid,
    flexibleVersions,
    isFlexible: (version) => inRange(version, flexibleVersions),
    decode: (r, version) => readStruct(structFor(version), r) as MessageValue<M>,
    encode: (w, value, version) => writeStruct(structFor(version), w, value as Obj),
    defaults: (version) => defaultStruct(structFor(version)) as MessageValue<M>,
  };
}

/** A request/response pair for one API key. */
export interface ApiMessages<Req extends MessageDecl = MessageDecl, Res extends MessageDecl = MessageDecl> {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
}

export function api<const Req extends MessageDecl, const Res extends MessageDecl>(
  name: string,
  request: MessageCodec<Req>,
  response: MessageCodec<Res>,
): ApiMessages<Req, Res> {
  if (request.decl.apiKey !== response.decl.apiKey) throw new Error(`${name}: api keys differ`);
  return { apiKey: request.decl.apiKey, name, request, response };
}

/** Iterates every field declaration (depth first), for tests and tooling. */
export function* walkFields(fields: readonly FieldDecl[], path = ''): Generator<{ path: string; decl: FieldDecl }> {
  for (const f of fields) {
    const p = path ? `${path}.${f.name}` : f.name;
    yield { path: p, decl: f };
    if (f.fields) yield* walkFields(f.fields, p);
  }
}
