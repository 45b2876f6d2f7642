/**
 * Avro schemas in the registry.
 *
 * - Validation is avsc's (`Type.forSchema`: names, defaults, unions), with referenced schemas' named types
 *   in its registry.
 * - The canonical string is not avsc's `toString()` (Avro's Parsing Canonical Form drops `doc`, `default`,
 *   `aliases` and custom properties, so schemas differing only in a default would share an id). It is the
 *   string Avro Java's `Schema.toString()` prints, which Confluent stores and serves: compact JSON in Java's
 *   property order, named types written in full once and then by name, namespaces written only where they
 *   differ from the enclosing one, and referenced types by name.
 * - Compatibility is a port of the rules of Avro Java's `SchemaCompatibility.checkReaderWriterCompatibility`
 *   (the Avro specification's schema resolution), which Confluent calls: the same incompatibility types,
 *   messages and JSON-pointer locations, so the `verbose` answers read as Confluent's.
 */
import avsc from 'avsc';
import { numberOf, NumberLexeme, parseLexJson, writeJackson, type LexJson } from './java-json.js';
import { SchemaParseError, sortKeysDeep, type Difference, type ParsedSchema, type ResolvedReference } from './parsed-schema.js';

/** The schema's JSON with numbers kept as written (java-json.ts), so defaults and properties print as Java does. */
type Json = LexJson;
type JsonObject = { [key: string]: Json };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
// Avro Java's Schema.SCHEMA_RESERVED / FIELD_RESERVED / ENUM_RESERVED: keys that are not custom properties.
const SCHEMA_RESERVED = new Set(['doc', 'fields', 'items', 'name', 'namespace', 'size', 'symbols', 'values', 'type', 'aliases']);
const ENUM_RESERVED = new Set([...SCHEMA_RESERVED, 'default']);
const FIELD_RESERVED = new Set(['default', 'doc', 'name', 'order', 'type', 'aliases']);

interface Name {
  readonly name: string;
  readonly space: string | null;
  readonly full: string;
}

type Props = readonly (readonly [string, Json])[];

interface NamedBase {
  readonly name: Name;
  readonly doc: string | undefined;
  readonly aliases: readonly Name[];
  readonly props: Props;
}

interface AvroField {
  readonly name: string;
  readonly pos: number;
  type: AvroNode;
  readonly doc: string | undefined;
  readonly hasDefault: boolean;
  readonly defaultValue: Json;
  readonly order: string;
  readonly aliases: readonly string[];
  readonly props: Props;
}

type AvroNode =
  | { readonly kind: 'primitive'; readonly type: string; readonly props: Props }
  | (NamedBase & { readonly kind: 'record'; readonly isError: boolean; readonly fields: AvroField[] })
  | (NamedBase & { readonly kind: 'enum'; readonly symbols: readonly string[]; readonly enumDefault: string | undefined })
  | (NamedBase & { readonly kind: 'fixed'; readonly size: number })
  | { readonly kind: 'array'; readonly items: AvroNode; readonly props: Props }
  | { readonly kind: 'map'; readonly values: AvroNode; readonly props: Props }
  | { readonly kind: 'union'; readonly types: readonly AvroNode[] };

type NamedNode = Extract<AvroNode, { name: Name }>;

function makeName(name: string, space: string | null): Name {
  const dot = name.lastIndexOf('.');
  let local = name;
  let ns = space;
  if (dot >= 0) {
    ns = name.slice(0, dot);
    local = name.slice(dot + 1);
  }
  if (ns === '') ns = null;
  return { name: local, space: ns, full: ns === null ? local : `${ns}.${local}` };
}

/** The name as written where `space` is the enclosing namespace (Java's Name.getQualified). */
function qualified(name: Name, space: string | null): string {
  return name.space === null || name.space === space ? name.name : name.full;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof NumberLexeme);
}

function optionalString(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

function propsOf(o: JsonObject, reserved: ReadonlySet<string>): Props {
  return Object.entries(o).filter(([k]) => !reserved.has(k));
}

/** Builds the model of an already validated schema; named types are registered in `names` as they appear. */
class ModelParser {
  constructor(readonly names: Map<string, NamedNode>) {}

  parse(json: Json, space: string | null): AvroNode {
    if (typeof json === 'string') return this.byName(json, space);
    if (Array.isArray(json)) return { kind: 'union', types: json.map((t) => this.parse(t, space)) };
    if (!isObject(json)) throw new SchemaParseError(`No type: ${JSON.stringify(json)}`);
    const type = json.type;
    if (typeof type !== 'string') {
      if (type === undefined) throw new SchemaParseError(`No type: ${JSON.stringify(json)}`);
      return this.parse(type, space);
    }
    if (PRIMITIVES.has(type)) return { kind: 'primitive', type, props: propsOf(json, SCHEMA_RESERVED) };
    switch (type) {
      case 'record':
      case 'error': {
        const base = this.namedBase(json, space, SCHEMA_RESERVED);
        const node: NamedNode = { kind: 'record', isError: type === 'error', fields: [], ...base };
        this.define(node);
        const fields = Array.isArray(json.fields) ? json.fields : [];
        fields.forEach((f, pos) => {
          if (!isObject(f) || typeof f.name !== 'string') throw new SchemaParseError(`Invalid field: ${JSON.stringify(f)}`);
          node.fields.push({
            name: f.name,
            pos,
            type: this.parse(f.type ?? null, base.name.space),
            doc: optionalString(f, 'doc'),
            hasDefault: 'default' in f,
            defaultValue: f.default ?? null,
            order: optionalString(f, 'order') ?? 'ascending',
            aliases: Array.isArray(f.aliases) ? f.aliases.filter((a): a is string => typeof a === 'string') : [],
            props: propsOf(f, FIELD_RESERVED),
          });
        });
        return node;
      }
      case 'enum': {
        const base = this.namedBase(json, space, ENUM_RESERVED);
        const symbols = Array.isArray(json.symbols) ? json.symbols.filter((s): s is string => typeof s === 'string') : [];
        const node: NamedNode = { kind: 'enum', symbols, enumDefault: optionalString(json, 'default'), ...base };
        this.define(node);
        return node;
      }
      case 'fixed': {
        const base = this.namedBase(json, space, SCHEMA_RESERVED);
        const node: NamedNode = { kind: 'fixed', size: numberOf(json.size) ?? 0, ...base };
        this.define(node);
        return node;
      }
      case 'array':
        return { kind: 'array', items: this.parse(json.items ?? null, space), props: propsOf(json, SCHEMA_RESERVED) };
      case 'map':
        return { kind: 'map', values: this.parse(json.values ?? null, space), props: propsOf(json, SCHEMA_RESERVED) };
      default:
        // {"type": "SomeNamedType"}: a reference written as an object (its other keys are ignored, as in Java).
        return this.byName(type, space);
    }
  }

  private namedBase(o: JsonObject, space: string | null, reserved: ReadonlySet<string>): NamedBase {
    const ns = optionalString(o, 'namespace') ?? space;
    const name = makeName(optionalString(o, 'name') ?? '', ns);
    const aliases = Array.isArray(o.aliases) ? o.aliases.filter((a): a is string => typeof a === 'string').map((a) => makeName(a, name.space)) : [];
    return { name, doc: optionalString(o, 'doc'), aliases, props: propsOf(o, reserved) };
  }

  private define(node: NamedNode): void {
    this.names.set(node.name.full, node);
  }

  private byName(s: string, space: string | null): AvroNode {
    if (PRIMITIVES.has(s)) return { kind: 'primitive', type: s, props: [] };
    // Java's Names.get: the name in the enclosing namespace, else in the null namespace.
    const found = this.names.get(makeName(s, space).full) ?? this.names.get(makeName(s, null).full);
    if (!found) throw new SchemaParseError(`Undefined name: ${JSON.stringify(s)}`);
    return found;
  }
}

/** Avro Java's Schema.toString(referencedSchemas, false): compact JSON in Java's order. */
function canonicalString(root: AvroNode, referenced: readonly NamedNode[]): string {
  const written = new Set<NamedNode>(referenced);
  let space: string | null = null;
  // Avro's parser reads fractions as DoubleNodes: written as Java's Double.toString.
  const props = (p: Props): string => p.map(([k, v]) => `,${JSON.stringify(k)}:${writeJackson(v, 'double')}`).join('');
  const nameFields = (name: Name): string => {
    let out = `,"name":${JSON.stringify(name.name)}`;
    if (name.space !== null) {
      if (name.space !== space) out += `,"namespace":${JSON.stringify(name.space)}`;
    } else if (space !== null) {
      out += ',"namespace":""';
    }
    return out;
  };
  const aliases = (node: NamedNode): string =>
    node.aliases.length === 0 ? '' : `,"aliases":[${node.aliases.map((a) => JSON.stringify(qualified(a, node.name.space))).join(',')}]`;
  const doc = (d: string | undefined): string => (d === undefined ? '' : `,"doc":${JSON.stringify(d)}`);
  const write = (node: AvroNode): string => {
    switch (node.kind) {
      case 'primitive':
        return node.props.length === 0 ? JSON.stringify(node.type) : `{"type":${JSON.stringify(node.type)}${props(node.props)}}`;
      case 'array':
        return `{"type":"array","items":${write(node.items)}${props(node.props)}}`;
      case 'map':
        return `{"type":"map","values":${write(node.values)}${props(node.props)}}`;
      case 'union':
        return `[${node.types.map(write).join(',')}]`;
      default:
        break;
    }
    if (written.has(node)) return JSON.stringify(qualified(node.name, space));
    written.add(node);
    switch (node.kind) {
      case 'enum': {
        const out = `{"type":"enum"${nameFields(node.name)}${doc(node.doc)},"symbols":${JSON.stringify(node.symbols)}${props(node.props)}${aliases(node)}`;
        return `${out}${node.enumDefault === undefined ? '' : `,"default":${JSON.stringify(node.enumDefault)}`}}`;
      }
      case 'fixed':
        return `{"type":"fixed"${nameFields(node.name)}${doc(node.doc)},"size":${node.size}${props(node.props)}${aliases(node)}}`;
      case 'record': {
        const saved = space;
        let out = `{"type":${node.isError ? '"error"' : '"record"'}${nameFields(node.name)}`;
        space = node.name.space;
        out += doc(node.doc);
        const fields = node.fields.map((f) => {
          let s = `{"name":${JSON.stringify(f.name)},"type":${write(f.type)}${doc(f.doc)}`;
          if (f.hasDefault) s += `,"default":${writeJackson(f.defaultValue, 'double')}`;
          if (f.order !== 'ascending') s += `,"order":${JSON.stringify(f.order)}`;
          if (f.aliases.length > 0) s += `,"aliases":${JSON.stringify(f.aliases)}`;
          return `${s}${props(f.props)}}`;
        });
        out += `,"fields":[${fields.join(',')}]${props(node.props)}${aliases(node)}}`;
        space = saved;
        return out;
      }
    }
  };
  return write(root);
}

// ---- compatibility: Avro Java's SchemaCompatibility.ReaderWriterCompatibilityChecker ----

type IncompatibilityType = 'NAME_MISMATCH' | 'FIXED_SIZE_MISMATCH' | 'MISSING_ENUM_SYMBOLS' | 'READER_FIELD_MISSING_DEFAULT_VALUE' | 'TYPE_MISMATCH' | 'MISSING_UNION_BRANCH';

interface Incompatibility {
  readonly type: IncompatibilityType;
  readonly message: string;
  readonly location: string;
}

/** Avro Java's Schema.Type names, as its messages print them. */
function typeName(node: AvroNode): string {
  return node.kind === 'primitive' ? node.type.toUpperCase() : node.kind.toUpperCase();
}

function kindOf(node: AvroNode): string {
  return node.kind === 'primitive' ? node.type : node.kind;
}

function pointer(location: readonly string[]): string {
  return `/${location.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

class CompatibilityChecker {
  private readonly memo = new Map<AvroNode, Map<AvroNode, Incompatibility[] | null>>();
  private readonly location: string[] = [];

  check(reader: AvroNode, writer: AvroNode): Incompatibility[] {
    let byWriter = this.memo.get(reader);
    if (!byWriter) {
      byWriter = new Map();
      this.memo.set(reader, byWriter);
    }
    if (byWriter.has(writer)) {
      // null: this pair is being checked further up (a recursive type), which is compatible so far.
      return byWriter.get(writer) ?? [];
    }
    byWriter.set(writer, null);
    const result = this.calculate(reader, writer);
    byWriter.set(writer, result);
    return result;
  }

  private at<T>(key: string, f: () => T): T {
    this.location.push(key);
    try {
      return f();
    } finally {
      this.location.pop();
    }
  }

  private incompatible(type: IncompatibilityType, message: string): Incompatibility {
    return { type, message, location: pointer(this.location) };
  }

  private typeMismatch(reader: AvroNode, writer: AvroNode): Incompatibility[] {
    return [this.incompatible('TYPE_MISMATCH', `reader type: ${typeName(reader)} not compatible with writer type: ${typeName(writer)}`)];
  }

  private calculate(reader: AvroNode, writer: AvroNode): Incompatibility[] {
    if (kindOf(reader) === kindOf(writer)) {
      switch (reader.kind) {
        case 'primitive':
          return [];
        case 'array':
          return this.at('items', () => this.check(reader.items, (writer as typeof reader).items));
        case 'map':
          return this.at('values', () => this.check(reader.values, (writer as typeof reader).values));
        case 'fixed': {
          const w = writer as typeof reader;
          const out = this.checkNames(reader, w);
          if (reader.size !== w.size) out.push(this.at('size', () => this.incompatible('FIXED_SIZE_MISMATCH', `expected: ${w.size}, found: ${reader.size}`)));
          return out;
        }
        case 'enum': {
          const w = writer as typeof reader;
          const out = this.checkNames(reader, w);
          const missing = [...new Set(w.symbols)].filter((s) => !reader.symbols.includes(s)).sort();
          // Avro >= 1.9: a reader enum default takes the writer's unknown symbols.
          const hasDefault = reader.enumDefault !== undefined && reader.symbols.includes(reader.enumDefault);
          if (missing.length > 0 && !hasDefault) out.push(this.at('symbols', () => this.incompatible('MISSING_ENUM_SYMBOLS', `[${missing.join(', ')}]`)));
          return out;
        }
        case 'record': {
          const w = writer as typeof reader;
          return [...this.checkNames(reader, w), ...this.checkFields(reader, w)];
        }
        case 'union': {
          const out: Incompatibility[] = [];
          (writer as typeof reader).types.forEach((branch, i) => {
            this.at(String(i), () => {
              if (this.check(reader, branch).length > 0) out.push(this.incompatible('MISSING_UNION_BRANCH', `reader union lacking writer type: ${typeName(branch)}`));
            });
          });
          return out;
        }
      }
    }
    // Different types. A writer union is readable when each of its branches is.
    if (writer.kind === 'union') {
      return writer.types.flatMap((branch, i) => this.at(String(i), () => this.check(reader, branch)));
    }
    const w = kindOf(writer);
    switch (kindOf(reader)) {
      // The promotions of the Avro specification's schema resolution.
      case 'long':
        return w === 'int' ? [] : this.typeMismatch(reader, writer);
      case 'float':
        return w === 'int' || w === 'long' ? [] : this.typeMismatch(reader, writer);
      case 'double':
        return w === 'int' || w === 'long' || w === 'float' ? [] : this.typeMismatch(reader, writer);
      case 'bytes':
        return w === 'string' ? [] : this.typeMismatch(reader, writer);
      case 'string':
        return w === 'bytes' ? [] : this.typeMismatch(reader, writer);
      case 'union': {
        const branches = (reader as Extract<AvroNode, { kind: 'union' }>).types;
        if (branches.some((b) => this.check(b, writer).length === 0)) return [];
        return [this.incompatible('MISSING_UNION_BRANCH', `reader union lacking writer type: ${typeName(writer)}`)];
      }
      default:
        return this.typeMismatch(reader, writer);
    }
  }

  /** Same unqualified name, or the reader aliases the writer's full name. */
  private checkNames(reader: NamedNode, writer: NamedNode): Incompatibility[] {
    if (reader.name.name === writer.name.name || reader.aliases.some((a) => a.full === writer.name.full)) return [];
    return [this.at('name', () => this.incompatible('NAME_MISMATCH', `expected: ${writer.name.full}`))];
  }

  private checkFields(reader: Extract<AvroNode, { kind: 'record' }>, writer: Extract<AvroNode, { kind: 'record' }>): Incompatibility[] {
    const writerFields = new Map(writer.fields.map((f) => [f.name, f]));
    return this.at('fields', () =>
      reader.fields.flatMap((field) =>
        this.at(String(field.pos), () => {
          const writerField = writerFields.get(field.name) ?? field.aliases.map((a) => writerFields.get(a)).find((f) => f !== undefined);
          if (writerField) return this.at('type', () => this.check(field.type, writerField.type));
          // A reader field the writer does not have is filled from its default.
          return field.hasDefault ? [] : [this.incompatible('READER_FIELD_MISSING_DEFAULT_VALUE', field.name)];
        }),
      ),
    );
  }
}

/** Confluent's io.confluent.kafka.schemaregistry.avro.Difference.error(). */
function describe(inc: Incompatibility): Difference {
  return (reader, writer) => {
    const path = inc.location;
    let description: string;
    switch (inc.type) {
      case 'FIXED_SIZE_MISMATCH':
        description = `The size of FIXED type field at path '${path}' in the ${reader} schema does not match with the ${writer} schema`;
        break;
      case 'TYPE_MISMATCH':
        description = `The type (path '${path}') of a field in the ${reader} schema does not match with the ${writer} schema`;
        break;
      case 'NAME_MISMATCH':
        description = `The name of the schema has changed (path '${path}')`;
        break;
      case 'MISSING_ENUM_SYMBOLS':
        description = `The ${reader} schema is missing enum symbols '${inc.message}' at path '${path}' in the ${writer} schema`;
        break;
      case 'MISSING_UNION_BRANCH':
        description = `The ${reader} schema is missing a type inside a union field at path '${path}' in the ${writer} schema`;
        break;
      case 'READER_FIELD_MISSING_DEFAULT_VALUE':
        description = `The field '${inc.message}' at path '${path}' in the ${reader} schema has no default value and is missing in the ${writer} schema`;
        break;
    }
    return `{errorType:'${inc.type}', description:'${description}', additionalInfo:'${inc.message}'}`;
  };
}

export class AvroSchema implements ParsedSchema {
  readonly schemaType = 'AVRO' as const;
  constructor(
    readonly canonical: string,
    private readonly root: AvroNode,
    private readonly referenced: readonly NamedNode[] = [],
  ) {}

  isBackwardCompatible(writer: ParsedSchema): Difference[] {
    if (!(writer instanceof AvroSchema)) return [() => 'Incompatible because of different schema type'];
    return new CompatibilityChecker().check(this.root, writer.root).map(describe);
  }

  /**
   * Confluent's AvroSchema.normalize(): AvroSchemaUtils.toNormalizedString (adapted from Avro's
   * SchemaNormalization) re-parsed and printed by Schema.toString(). What that changes in the printed
   * schema: aliases sorted (types by full name, fields by name); custom properties sorted by key, after a
   * valid logical type's `logicalType`, `precision` and non-zero `scale`; every JSON object inside a
   * property or a default with its keys sorted (a TreeMap node factory); an empty `doc` of a named type
   * dropped (a field's is kept).
   */
  normalize(): AvroSchema {
    const root = normalizeNode(this.root, new Map());
    return new AvroSchema(canonicalString(root, this.referenced), root, this.referenced);
  }
}

const LOGICAL_INT = new Set(['date', 'time-millis']);
const LOGICAL_LONG = new Set(['time-micros', 'timestamp-millis', 'timestamp-micros', 'timestamp-nanos', 'local-timestamp-millis', 'local-timestamp-micros', 'local-timestamp-nanos']);

/** The logical type Avro Java recognises on this schema (LogicalTypes.fromSchemaIgnoreInvalid), or null. */
function validLogicalType(base: string, size: number | null, props: Props): string | null {
  const get = (k: string): Json | undefined => props.find(([key]) => key === k)?.[1];
  const lt = get('logicalType');
  if (typeof lt !== 'string') return null;
  if (lt === 'decimal') {
    if (base !== 'bytes' && base !== 'fixed') return null;
    const precision = numberOf(get('precision'));
    const scale = numberOf(get('scale') ?? 0);
    if (precision === undefined || !Number.isInteger(precision) || precision <= 0) return null;
    if (scale === undefined || !Number.isInteger(scale) || scale < 0 || scale > precision) return null;
    if (size !== null && precision > Math.floor(Math.log10(2) * (8 * size - 1))) return null;
    return lt;
  }
  if (lt === 'uuid') return base === 'string' || (base === 'fixed' && size === 16) ? lt : null;
  if (lt === 'duration') return base === 'fixed' && size === 12 ? lt : null;
  if (LOGICAL_INT.has(lt)) return base === 'int' ? lt : null;
  if (LOGICAL_LONG.has(lt)) return base === 'long' ? lt : null;
  return null;
}

/** Properties as the normalized string writes them: a logical type's first, the rest by key. */
function normalizeProps(props: Props, base: string, size: number | null): Props {
  const sorted = props.map(([k, v]) => [k, sortKeysDeep(v) as Json] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lt = validLogicalType(base, size, props);
  if (lt === null) return sorted;
  const head = ['logicalType'];
  if (lt === 'decimal') {
    head.push('precision');
    const scale = props.find(([k]) => k === 'scale')?.[1];
    if (scale !== undefined && numberOf(scale) !== 0) head.push('scale');
  }
  return [...head.map((k) => sorted.find(([key]) => key === k)!), ...sorted.filter(([k]) => !head.includes(k))];
}

function normalizeNode(node: AvroNode, done: Map<NamedNode, NamedNode>): AvroNode {
  switch (node.kind) {
    case 'primitive':
      return { kind: 'primitive', type: node.type, props: normalizeProps(node.props, node.type, null) };
    case 'array':
      return { kind: 'array', items: normalizeNode(node.items, done), props: normalizeProps(node.props, 'array', null) };
    case 'map':
      return { kind: 'map', values: normalizeNode(node.values, done), props: normalizeProps(node.props, 'map', null) };
    case 'union':
      return { kind: 'union', types: node.types.map((t) => normalizeNode(t, done)) };
    default:
      break;
  }
  const seen = done.get(node);
  if (seen) return seen;
  const base = {
    name: node.name,
    doc: node.doc === '' ? undefined : node.doc,
    aliases: [...node.aliases].sort((a, b) => (a.full < b.full ? -1 : a.full > b.full ? 1 : 0)),
  };
  switch (node.kind) {
    case 'enum': {
      const out: NamedNode = { ...base, kind: 'enum', symbols: node.symbols, enumDefault: node.enumDefault, props: normalizeProps(node.props, 'enum', null) };
      done.set(node, out);
      return out;
    }
    case 'fixed': {
      const out: NamedNode = { ...base, kind: 'fixed', size: node.size, props: normalizeProps(node.props, 'fixed', node.size) };
      done.set(node, out);
      return out;
    }
    case 'record': {
      const out: NamedNode = { ...base, kind: 'record', isError: node.isError, fields: [], props: normalizeProps(node.props, 'record', null) };
      // Registered before its fields: a recursive record refers to itself.
      done.set(node, out);
      for (const f of node.fields) {
        out.fields.push({
          ...f,
          type: normalizeNode(f.type, done),
          defaultValue: sortKeysDeep(f.defaultValue) as Json,
          aliases: [...f.aliases].sort(),
          props: normalizeProps(f.props, 'field', null),
        });
      }
      return out;
    }
  }
}

/** The schema as plain JSON (for avsc) and with its numbers as written (for the model and canonical string). */
function parseJson(text: string): { plain: unknown; json: Json } {
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch (err) {
    throw new SchemaParseError(`Invalid schema JSON: ${(err as Error).message}`);
  }
  return { plain, json: parseLexJson(text) };
}

/** `references`: the referenced Avro schemas, each after its own references. */
export function parseAvro(schema: string, references: readonly ResolvedReference[] = []): AvroSchema {
  const avscRegistry: Record<string, avsc.Type> = {};
  const names = new Map<string, NamedNode>();
  const model = new ModelParser(names);
  const referenced: NamedNode[] = [];
  for (const ref of references) {
    if (ref.schemaType !== 'AVRO') throw new SchemaParseError(`reference ${ref.name} is a ${ref.schemaType} schema, not AVRO`);
    const { plain, json } = parseJson(ref.schema);
    try {
      avsc.Type.forSchema(plain as avsc.Schema, { registry: avscRegistry });
    } catch (err) {
      throw new SchemaParseError(`Invalid referenced schema ${ref.name}: ${(err as Error).message}`);
    }
    const before = new Set(names.values());
    model.parse(json, null);
    for (const n of names.values()) if (!before.has(n)) referenced.push(n);
  }
  const { plain, json } = parseJson(schema);
  try {
    avsc.Type.forSchema(plain as avsc.Schema, { registry: avscRegistry });
  } catch (err) {
    throw new SchemaParseError((err as Error).message);
  }
  const root = model.parse(json, null);
  return new AvroSchema(canonicalString(root, referenced), root, referenced);
}
