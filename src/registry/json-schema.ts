/**
 * JSON Schema schemas in the registry (`schemaType: "JSON"`).
 *
 * - Validation is ajv's: the schema must be valid against its meta-schema (draft-07 unless `$schema` names
 *   2019-09 or 2020-12) and every `$ref` must resolve, with referenced schemas registered under their
 *   reference names (Confluent resolves `"$ref": "<name>"` the same way).
 * - The canonical string is the compact JSON of the document with its key order kept (Confluent's
 *   JsonSchema.canonicalString is Jackson's `toString()` of the parsed tree), numbers as Jackson writes
 *   them (fractions as exact BigDecimals: `1.0` stays `1.0`; java-json.ts).
 * - Compatibility follows Confluent's SchemaDiff: a structural diff of the old schema (original) against the
 *   new one (update) whose differences are each compatible or not (COMPATIBLE_CHANGES; everything else is
 *   incompatible), with Confluent's difference names, JSON paths and descriptions. The decisive rule is the
 *   content model: a property may be added to a closed object (additionalProperties: false) but not to an
 *   open one, where old data may already hold that property with another type; a property may be removed
 *   from an open object but not from a closed one.
 *   Simplifications against Confluent: subschemas of anyOf/oneOf/allOf are paired greedily (Confluent finds
 *   a maximum matching), `dependencies`, `contains`, `unevaluated*` and `if/then/else` are not compared.
 */
import { Ajv, type AnySchema } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseLexJson, writeJackson, type LexJson } from './java-json.js';
import { SchemaParseError, type Difference, type ParsedSchema, type ResolvedReference, sortKeysDeep } from './parsed-schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

// SchemaDiff.COMPATIBLE_CHANGES (Confluent's STRICT policy).
const COMPATIBLE = new Set([
  'ID_CHANGED', 'DESCRIPTION_CHANGED', 'TITLE_CHANGED', 'DEFAULT_CHANGED', 'SCHEMA_REMOVED', 'TYPE_EXTENDED',
  'MAX_LENGTH_INCREASED', 'MAX_LENGTH_REMOVED', 'MIN_LENGTH_DECREASED', 'MIN_LENGTH_REMOVED', 'PATTERN_REMOVED',
  'MAXIMUM_INCREASED', 'MAXIMUM_REMOVED', 'MINIMUM_DECREASED', 'MINIMUM_REMOVED', 'EXCLUSIVE_MAXIMUM_INCREASED',
  'EXCLUSIVE_MAXIMUM_REMOVED', 'EXCLUSIVE_MINIMUM_DECREASED', 'EXCLUSIVE_MINIMUM_REMOVED', 'MULTIPLE_OF_REDUCED', 'MULTIPLE_OF_REMOVED',
  'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED', 'REQUIRED_ATTRIBUTE_REMOVED', 'MAX_PROPERTIES_INCREASED', 'MAX_PROPERTIES_REMOVED',
  'MIN_PROPERTIES_DECREASED', 'MIN_PROPERTIES_REMOVED', 'ADDITIONAL_PROPERTIES_ADDED', 'ADDITIONAL_PROPERTIES_EXTENDED',
  'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL', 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', 'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL', 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'MAX_ITEMS_INCREASED', 'MAX_ITEMS_REMOVED', 'MIN_ITEMS_DECREASED', 'MIN_ITEMS_REMOVED', 'UNIQUE_ITEMS_REMOVED',
  'ADDITIONAL_ITEMS_ADDED', 'ADDITIONAL_ITEMS_EXTENDED', 'ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL',
  'ITEM_ADDED_TO_CLOSED_CONTENT_MODEL', 'ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL', 'ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'ENUM_ARRAY_EXTENDED', 'COMBINED_TYPE_EXTENDED', 'PRODUCT_TYPE_NARROWED', 'SUM_TYPE_EXTENDED', 'NOT_TYPE_NARROWED',
]);

// Difference.error(): the description of each kind of incompatible difference.
const KEYWORD_ADDED = new Set([
  'MAXIMUM_ADDED', 'MINIMUM_ADDED', 'EXCLUSIVE_MAXIMUM_ADDED', 'EXCLUSIVE_MINIMUM_ADDED', 'MULTIPLE_OF_ADDED', 'MAX_LENGTH_ADDED',
  'MIN_LENGTH_ADDED', 'PATTERN_ADDED', 'REQUIRED_ATTRIBUTE_ADDED', 'MAX_PROPERTIES_ADDED', 'MIN_PROPERTIES_ADDED', 'MAX_ITEMS_ADDED',
  'MIN_ITEMS_ADDED', 'UNIQUE_ITEMS_ADDED', 'ADDITIONAL_ITEMS_REMOVED', 'ADDITIONAL_PROPERTIES_REMOVED',
]);
const VALUE_INCREASED = new Set(['MIN_LENGTH_INCREASED', 'MINIMUM_INCREASED', 'EXCLUSIVE_MINIMUM_INCREASED', 'MIN_PROPERTIES_INCREASED', 'MULTIPLE_OF_EXPANDED', 'MIN_ITEMS_INCREASED']);
const VALUE_DECREASED = new Set(['MAX_LENGTH_DECREASED', 'MAXIMUM_DECREASED', 'MAX_ITEMS_DECREASED', 'EXCLUSIVE_MAXIMUM_DECREASED', 'MAX_PROPERTIES_DECREASED']);
const TYPE_NARROWED = new Set(['ADDITIONAL_ITEMS_NARROWED', 'ENUM_ARRAY_NARROWED', 'SUM_TYPE_NARROWED', 'ADDITIONAL_PROPERTIES_NARROWED']);
const VALUE_CHANGED = new Set(['PATTERN_CHANGED', 'MULTIPLE_OF_CHANGED']);
const TYPE_CHANGED = new Set(['TYPE_CHANGED', 'TYPE_NARROWED', 'COMBINED_TYPE_CHANGED', 'COMBINED_TYPE_SUBSCHEMAS_CHANGED', 'ENUM_ARRAY_CHANGED']);
const TYPE_EXTENDED = new Set(['PRODUCT_TYPE_EXTENDED', 'SUM_TYPE_EXTENDED', 'NOT_TYPE_EXTENDED']);
const ADDED_TO_OPEN = new Set(['REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL', 'OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', 'ITEM_ADDED_TO_OPEN_CONTENT_MODEL']);

function describe(type: string, path: string): Difference {
  return (reader, writer) => {
    let d = '';
    if (KEYWORD_ADDED.has(type)) d = `The keyword at path '${path}' in the ${reader} schema is not present in the ${writer} schema`;
    else if (VALUE_INCREASED.has(type)) d = `The value at path '${path}' in the ${reader} schema is more than its value in the ${writer} schema`;
    else if (VALUE_DECREASED.has(type)) d = `The value at path '${path}' in the ${reader} schema is less than its value in the ${writer} schema`;
    else if (VALUE_CHANGED.has(type)) d = `The value at path '${path}' is different between the ${reader} and ${writer} schema`;
    else if (TYPE_NARROWED.has(type)) d = `An array or combined type at path '${path}' has fewer elements in the ${reader} schema than the ${writer} schema`;
    else if (TYPE_EXTENDED.has(type)) d = `An array or combined type at path '${path}' has more elements in the ${reader} schema than the ${writer} schema`;
    else if (TYPE_CHANGED.has(type)) d = `A type at path '${path}' is different between the ${reader} schema and the ${writer} schema`;
    else if (ADDED_TO_OPEN.has(type)) d = `The ${reader} schema has an open content model and has a property or item at path '${path}' which is missing in the ${writer} schema`;
    else if (type === 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL') d = `The ${reader} schema has an unopen content model and has a required property at path '${path}' which is missing in the ${writer} schema`;
    else if (type === 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL' || type === 'ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL') {
      d = `The ${reader} schema has a closed content model and is missing a property or item present at path '${path}' in the ${writer} schema`;
    } else if (type === 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL') {
      d = `The ${reader} schema has a property or item at path '${path}' which is missing in the ${writer} schema and is not covered by its partially open content model`;
    } else if (type === 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL') {
      d = `A property or item is missing in the ${reader} schema but present at path '${path}' in the ${writer} schema and is not covered by its partially open content model`;
    }
    return `{errorType:"${type}", description:"${d}"}`;
  };
}

// ---- the schema model: everit's classes (ObjectSchema, StringSchema, ...) as Confluent's diff sees them ----

type Node =
  | { kind: 'empty' }
  | { kind: 'false' }
  | { kind: 'boolean' | 'null'; raw: JsonObject }
  | { kind: 'string'; raw: JsonObject }
  | { kind: 'number'; raw: JsonObject; integer: boolean }
  | { kind: 'object'; raw: JsonObject }
  | { kind: 'array'; raw: JsonObject }
  | { kind: 'enum'; raw: JsonObject; values: string[] }
  | { kind: 'combined'; raw: JsonObject; criterion: 'allOf' | 'anyOf' | 'oneOf'; subschemas: Json[] }
  | { kind: 'not'; raw: JsonObject };

const STRING_KEYS = ['minLength', 'maxLength', 'pattern', 'format'];
const NUMBER_KEYS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const OBJECT_KEYS = ['properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties', 'dependencies'];
const ARRAY_KEYS = ['items', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'prefixItems'];

function singleType(raw: JsonObject, type: string): Node {
  switch (type) {
    case 'string':
      return { kind: 'string', raw };
    case 'number':
    case 'integer':
      return { kind: 'number', raw, integer: type === 'integer' };
    case 'object':
      return { kind: 'object', raw };
    case 'array':
      return { kind: 'array', raw };
    case 'boolean':
    case 'null':
      return { kind: type, raw };
    default:
      return { kind: 'empty' };
  }
}

/** A schema without its `$ref` (resolved by `resolve`), classified. */
function classify(schema: Json): Node {
  if (schema === false) return { kind: 'false' };
  if (!isObject(schema)) return { kind: 'empty' };
  for (const criterion of ['allOf', 'anyOf', 'oneOf'] as const) {
    const subs = schema[criterion];
    if (Array.isArray(subs)) return { kind: 'combined', raw: schema, criterion, subschemas: subs };
  }
  if (Array.isArray(schema.enum)) return { kind: 'enum', raw: schema, values: schema.enum.map((v) => JSON.stringify(v)) };
  if ('const' in schema) return { kind: 'enum', raw: schema, values: [JSON.stringify(schema.const)] };
  if ('not' in schema) return { kind: 'not', raw: schema };
  const type = schema.type;
  if (Array.isArray(type)) {
    // Several types are a union of one schema per type (everit's CombinedSchema anyOf).
    if (type.length === 1 && typeof type[0] === 'string') return singleType(schema, type[0]);
    return { kind: 'combined', raw: schema, criterion: 'anyOf', subschemas: type.map((t) => ({ ...schema, type: t })) };
  }
  if (typeof type === 'string') return singleType(schema, type);
  const has = (keys: string[]): boolean => keys.some((k) => k in schema);
  if (has(OBJECT_KEYS)) return { kind: 'object', raw: schema };
  if (has(ARRAY_KEYS)) return { kind: 'array', raw: schema };
  if (has(STRING_KEYS)) return { kind: 'string', raw: schema };
  if (has(NUMBER_KEYS)) return { kind: 'number', raw: schema, integer: false };
  return { kind: 'empty' };
}

/** Resolves `$ref`s: `#/json/pointer` in the same document, or `<reference name>[#/pointer]`. */
class Documents {
  constructor(
    readonly root: Json,
    readonly byName: ReadonlyMap<string, Json>,
  ) {}

  resolve(schema: Json, doc: Json, depth = 0): { schema: Json; doc: Json } {
    if (!isObject(schema) || typeof schema.$ref !== 'string' || depth > 32) return { schema, doc };
    const ref = schema.$ref;
    const hash = ref.indexOf('#');
    const name = hash < 0 ? ref : ref.slice(0, hash);
    const pointer = hash < 0 ? '' : ref.slice(hash + 1);
    const target = name === '' ? doc : this.byName.get(name);
    if (target === undefined) return { schema: true, doc };
    let node: Json | undefined = target;
    for (const part of pointer.split('/').filter((p) => p !== '')) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      node = isObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    }
    return this.resolve(node ?? true, target, depth + 1);
  }
}

interface Side {
  readonly docs: Documents;
  readonly doc: Json;
}

class Diff {
  readonly differences: { type: string; path: string }[] = [];
  private readonly inProgress = new Set<Json>();
  constructor(
    private readonly original: Documents,
    private readonly update: Documents,
    private path = '#',
  ) {}

  get compatible(): boolean {
    return this.differences.every((d) => COMPATIBLE.has(d.type));
  }

  private add(type: string, sub?: string): void {
    this.differences.push({ type, path: sub === undefined ? this.path : `${this.path}/${sub}` });
  }

  private at(sub: string, f: () => void): void {
    const saved = this.path;
    this.path = `${saved}/${sub}`;
    try {
      f();
    } finally {
      this.path = saved;
    }
  }

  /** A separate diff at the current path (Confluent's Context.getSubcontext). */
  private sub(): Diff {
    return new Diff(this.original, this.update, this.path);
  }

  compare(o: Json | undefined, oDoc: Json, u: Json | undefined, uDoc: Json): void {
    if (o === undefined && u === undefined) return;
    if (o === undefined) return this.add('SCHEMA_ADDED');
    if (u === undefined) return this.add('SCHEMA_REMOVED');
    const ro = this.original.resolve(o, oDoc);
    const ru = this.update.resolve(u, uDoc);
    const os = ro.schema;
    const us = ru.schema;
    const on = classify(os);
    const un = classify(us);
    if (on.kind !== 'combined' && un.kind === 'combined') {
      if (un.subschemas.length === 1) {
        const s = this.sub();
        s.compare(os, ro.doc, un.subschemas[0], ru.doc);
        if (s.compatible) return void this.differences.push(...s.differences);
      } else if (un.criterion !== 'allOf') {
        for (const branch of un.subschemas) {
          const s = this.sub();
          s.compare(os, ro.doc, branch, ru.doc);
          if (s.compatible) {
            this.differences.push(...s.differences);
            return this.add('SUM_TYPE_EXTENDED');
          }
        }
      }
    } else if (on.kind === 'combined' && un.kind !== 'combined' && on.subschemas.length === 1) {
      const s = this.sub();
      s.compare(on.subschemas[0], ro.doc, us, ru.doc);
      if (s.compatible) return void this.differences.push(...s.differences);
    }
    if (on.kind !== un.kind) {
      // Anything reads what a false schema allowed (nothing); an empty schema reads anything.
      if (on.kind === 'false' || un.kind === 'empty') return;
      return this.add('TYPE_CHANGED');
    }
    // Recursive schemas: a pair already being compared further up adds nothing new.
    if (this.inProgress.has(os)) return;
    this.inProgress.add(os);
    try {
      if (isObject(os) && isObject(us)) {
        for (const [key, type] of [['$id', 'ID_CHANGED'], ['title', 'TITLE_CHANGED'], ['description', 'DESCRIPTION_CHANGED'], ['default', 'DEFAULT_CHANGED']] as const) {
          if (JSON.stringify(os[key]) !== JSON.stringify(us[key])) this.add(type);
        }
      }
      const oSide: Side = { docs: this.original, doc: ro.doc };
      const uSide: Side = { docs: this.update, doc: ru.doc };
      switch (on.kind) {
        case 'string':
          this.bound(on.raw, (un as typeof on).raw, 'maxLength', 'MAX_LENGTH', 'max');
          this.bound(on.raw, (un as typeof on).raw, 'minLength', 'MIN_LENGTH', 'min');
          this.pattern(on.raw, (un as typeof on).raw);
          return;
        case 'number': {
          const u2 = un as typeof on;
          if (on.integer !== u2.integer) this.add(on.integer ? 'TYPE_EXTENDED' : 'TYPE_NARROWED');
          this.bound(on.raw, u2.raw, 'maximum', 'MAXIMUM', 'max');
          this.bound(on.raw, u2.raw, 'minimum', 'MINIMUM', 'min');
          this.bound(on.raw, u2.raw, 'exclusiveMaximum', 'EXCLUSIVE_MAXIMUM', 'max');
          this.bound(on.raw, u2.raw, 'exclusiveMinimum', 'EXCLUSIVE_MINIMUM', 'min');
          this.multipleOf(on.raw, u2.raw);
          return;
        }
        case 'enum': {
          const uv = new Set((un as typeof on).values);
          const ov = new Set(on.values);
          const uHasAll = [...ov].every((v) => uv.has(v));
          const oHasAll = [...uv].every((v) => ov.has(v));
          if (!(uHasAll && oHasAll)) this.add(uHasAll ? 'ENUM_ARRAY_EXTENDED' : oHasAll ? 'ENUM_ARRAY_NARROWED' : 'ENUM_ARRAY_CHANGED', 'enum');
          return;
        }
        case 'combined':
          return this.combined(on, un as typeof on, oSide, uSide);
        case 'not':
          // The update's `not` must exclude no more than the original's: compared the other way round.
          this.at('not', () => {
            const s = new Diff(this.update, this.original, this.path);
            s.compare(us && isObject(us) ? us.not : undefined, ru.doc, isObject(os) ? os.not : undefined, ro.doc);
            this.add(s.compatible ? 'NOT_TYPE_NARROWED' : 'NOT_TYPE_EXTENDED');
          });
          return;
        case 'object':
          return this.object(on.raw, (un as typeof on).raw, oSide, uSide);
        case 'array':
          return this.array(on.raw, (un as typeof on).raw, oSide, uSide);
        default:
          return;
      }
    } finally {
      this.inProgress.delete(os);
    }
  }

  private bound(o: JsonObject, u: JsonObject, key: string, name: string, kind: 'max' | 'min'): void {
    const a = o[key];
    const b = u[key];
    // Draft-04's boolean exclusiveMaximum/Minimum are flags, not bounds: compared as present or not.
    const num = (v: Json | undefined): number | undefined => (typeof v === 'number' ? v : v === true ? 0 : undefined);
    const x = num(a);
    const y = num(b);
    if (x === y) return;
    if (x === undefined) this.add(`${name}_ADDED`, key);
    else if (y === undefined) this.add(`${name}_REMOVED`, key);
    else if (x < y) this.add(`${name}_INCREASED`, key);
    else this.add(`${name}_DECREASED`, key);
    void kind;
  }

  private pattern(o: JsonObject, u: JsonObject): void {
    if (o.pattern === u.pattern) return;
    if (o.pattern === undefined) this.add('PATTERN_ADDED', 'pattern');
    else if (u.pattern === undefined) this.add('PATTERN_REMOVED', 'pattern');
    else this.add('PATTERN_CHANGED', 'pattern');
  }

  private multipleOf(o: JsonObject, u: JsonObject): void {
    const a = typeof o.multipleOf === 'number' ? o.multipleOf : undefined;
    const b = typeof u.multipleOf === 'number' ? u.multipleOf : undefined;
    if (a === b) return;
    if (a === undefined) this.add('MULTIPLE_OF_ADDED', 'multipleOf');
    else if (b === undefined) this.add('MULTIPLE_OF_REMOVED', 'multipleOf');
    else if (b % a === 0) this.add('MULTIPLE_OF_EXPANDED', 'multipleOf');
    else if (a % b === 0) this.add('MULTIPLE_OF_REDUCED', 'multipleOf');
    else this.add('MULTIPLE_OF_CHANGED', 'multipleOf');
  }

  private combined(o: Extract<Node, { kind: 'combined' }>, u: Extract<Node, { kind: 'combined' }>, oSide: Side, uSide: Side): void {
    if (o.criterion !== u.criterion) return this.add('COMBINED_TYPE_CHANGED');
    if (u.subschemas.length > o.subschemas.length) this.add(o.criterion === 'allOf' ? 'PRODUCT_TYPE_EXTENDED' : 'SUM_TYPE_EXTENDED');
    else if (u.subschemas.length < o.subschemas.length) this.add(o.criterion === 'allOf' ? 'PRODUCT_TYPE_NARROWED' : 'SUM_TYPE_NARROWED');
    // Pair each subschema of the smaller side with a compatible one of the other.
    const used = new Set<number>();
    const fewer = Math.min(o.subschemas.length, u.subschemas.length);
    let paired = 0;
    o.subschemas.forEach((os, i) => {
      for (let j = 0; j < u.subschemas.length; j++) {
        if (used.has(j)) continue;
        const s = this.sub();
        s.at(String(i), () => s.compare(os, oSide.doc, u.subschemas[j], uSide.doc));
        if (s.compatible) {
          used.add(j);
          paired++;
          this.differences.push(...s.differences);
          return;
        }
      }
    });
    if (paired < fewer) this.add('COMBINED_TYPE_SUBSCHEMAS_CHANGED');
  }

  private object(o: JsonObject, u: JsonObject, oSide: Side, uSide: Side): void {
    const props = (s: JsonObject): JsonObject => (isObject(s.properties) ? s.properties : {});
    const required = (s: JsonObject): string[] => (Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
    const permitsAdditional = (s: JsonObject): boolean => s.additionalProperties !== false;
    const additionalSchema = (s: JsonObject): Json | undefined => (isObject(s.additionalProperties) && Object.keys(s.additionalProperties).length > 0 ? s.additionalProperties : undefined);
    const patterns = (s: JsonObject): JsonObject => (isObject(s.patternProperties) ? s.patternProperties : {});
    const isOpen = (s: JsonObject): boolean => Object.keys(patterns(s)).length === 0 && additionalSchema(s) === undefined && permitsAdditional(s);
    const partial = (s: JsonObject, key: string): Json | undefined => {
      for (const [p, schema] of Object.entries(patterns(s))) {
        try {
          if (new RegExp(p, 'u').test(key)) return schema;
        } catch {
          // an invalid pattern covers nothing
        }
      }
      return additionalSchema(s);
    };
    const hasDefault = (s: Json | undefined): boolean => isObject(s) && 'default' in s;
    const op = props(o);
    const up = props(u);
    const oReq = required(o);
    const uReq = required(u);
    this.at('required', () => {
      for (const key of Object.keys(op)) {
        if (!(key in up)) continue;
        const was = oReq.includes(key);
        const is = uReq.includes(key);
        if (was && !is) this.add('REQUIRED_ATTRIBUTE_REMOVED', key);
        else if (!was && is) this.add(hasDefault(up[key]) ? 'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED' : 'REQUIRED_ATTRIBUTE_ADDED', key);
      }
    });
    this.at('properties', () => {
      for (const key of new Set([...Object.keys(op), ...Object.keys(up)])) {
        this.at(key, () => {
          const os = op[key];
          const us = up[key];
          if (us === undefined) {
            if (isOpen(u)) return this.add('PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL');
            const covering = partial(u, key);
            if (covering !== undefined) {
              const s = this.sub();
              s.compare(os, oSide.doc, covering, uSide.doc);
              this.differences.push(...s.differences);
              return this.add(s.compatible ? 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL' : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL');
            }
            return this.add(os === false ? 'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL' : 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL');
          }
          if (os === undefined) {
            if (isOpen(o)) {
              if (classify(this.update.resolve(us, uSide.doc).schema).kind === 'empty') return this.add('PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL');
              if (!uReq.includes(key)) return this.add('OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL');
              return this.add(hasDefault(us) ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL' : 'REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL');
            }
            const covering = partial(o, key);
            if (covering !== undefined) {
              const s = this.sub();
              s.compare(covering, oSide.doc, us, uSide.doc);
              this.differences.push(...s.differences);
              this.add(s.compatible ? 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL' : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL');
            }
            if (uReq.includes(key)) return this.add(hasDefault(us) ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL' : 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL');
            return this.add('OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL');
          }
          this.compare(os, oSide.doc, us, uSide.doc);
        });
      }
    });
    this.at('additionalProperties', () => {
      if (permitsAdditional(o) !== permitsAdditional(u)) return this.add(permitsAdditional(u) ? 'ADDITIONAL_PROPERTIES_ADDED' : 'ADDITIONAL_PROPERTIES_REMOVED');
      const oa = additionalSchema(o);
      const ua = additionalSchema(u);
      if (oa === undefined && ua !== undefined) return this.add('ADDITIONAL_PROPERTIES_NARROWED');
      if (oa !== undefined && ua === undefined) return this.add('ADDITIONAL_PROPERTIES_EXTENDED');
      if (oa !== undefined && ua !== undefined) this.compare(oa, oSide.doc, ua, uSide.doc);
    });
    this.bound(o, u, 'maxProperties', 'MAX_PROPERTIES', 'max');
    this.bound(o, u, 'minProperties', 'MIN_PROPERTIES', 'min');
  }

  private array(o: JsonObject, u: JsonObject, oSide: Side, uSide: Side): void {
    this.bound(o, u, 'maxItems', 'MAX_ITEMS', 'max');
    this.bound(o, u, 'minItems', 'MIN_ITEMS', 'min');
    if ((o.uniqueItems === true) !== (u.uniqueItems === true)) this.add(u.uniqueItems === true ? 'UNIQUE_ITEMS_ADDED' : 'UNIQUE_ITEMS_REMOVED', 'uniqueItems');
    const tuple = (s: JsonObject): Json[] | undefined => (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined);
    const ot = tuple(o);
    const ut = tuple(u);
    if (ot === undefined && ut === undefined) {
      this.at('items', () => this.compare(o.items ?? true, oSide.doc, u.items ?? true, uSide.doc));
      return;
    }
    if (ot === undefined || ut === undefined) return this.add('TYPE_CHANGED', 'items');
    const extra = (s: JsonObject): Json | undefined => (Array.isArray(s.prefixItems) ? s.items : s.additionalItems);
    const open = (s: JsonObject): boolean => extra(s) === undefined || extra(s) === true;
    this.at('items', () => {
      for (let i = 0; i < Math.max(ot.length, ut.length); i++) {
        this.at(String(i), () => {
          if (i >= ut.length) return this.add(open(u) ? 'ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL' : ot[i] === false ? 'ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL' : 'ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL');
          if (i >= ot.length) {
            if (!open(o)) return this.add('ITEM_ADDED_TO_CLOSED_CONTENT_MODEL');
            return this.add(classify(ut[i]!).kind === 'empty' ? 'ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL' : 'ITEM_ADDED_TO_OPEN_CONTENT_MODEL');
          }
          this.compare(ot[i], oSide.doc, ut[i], uSide.doc);
        });
      }
    });
    const oe = extra(o);
    const ue = extra(u);
    const allows = (e: Json | undefined): boolean => e !== false;
    if (allows(oe) !== allows(ue)) this.add(allows(ue) ? 'ADDITIONAL_ITEMS_ADDED' : 'ADDITIONAL_ITEMS_REMOVED', 'additionalItems');
  }
}

export class JsonSchema implements ParsedSchema {
  readonly schemaType = 'JSON' as const;
  constructor(
    readonly canonical: string,
    private readonly root: Json,
    private readonly references: ReadonlyMap<string, Json>,
    /** The document with its numbers as written, for the canonical strings (java-json.ts). */
    private readonly lex: LexJson,
  ) {}

  isBackwardCompatible(writer: ParsedSchema): Difference[] {
    if (!(writer instanceof JsonSchema)) return [() => 'Incompatible because of different schema type'];
    const diff = new Diff(new Documents(writer.root, writer.references), new Documents(this.root, this.references));
    diff.compare(writer.root, writer.root, this.root, this.root);
    return diff.differences.filter((d) => !COMPATIBLE.has(d.type)).map((d) => describe(d.type, d.path));
  }

  /** Confluent's JsonSchema.normalize(): the document re-read with every object's keys sorted. */
  normalize(): JsonSchema {
    const sorted = sortKeysDeep(this.lex) as LexJson;
    return new JsonSchema(writeJackson(sorted, 'bigdecimal'), sortKeysDeep(this.root) as Json, this.references, sorted);
  }
}

function parseJson(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new SchemaParseError(`Invalid ${what} JSON: ${(err as Error).message}`);
  }
}

function validator(schema: Json): Ajv {
  const dialect = isObject(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  const opts = { strict: false, validateFormats: false, allErrors: false };
  if (dialect.includes('2020-12')) return new Ajv2020(opts);
  if (dialect.includes('2019-09')) return new Ajv2019(opts);
  return new Ajv(opts);
}

/** Drafts 4 and 6 are checked against draft-07's meta-schema, which accepts nearly all of them. */
function forAjv(schema: Json): Json {
  if (isObject(schema) && typeof schema.$schema === 'string' && /draft-0[346]/.test(schema.$schema)) {
    const { $schema: _dropped, ...rest } = schema;
    return rest;
  }
  return schema;
}

export function parseJsonSchema(schema: string, references: readonly ResolvedReference[] = []): JsonSchema {
  const root = parseJson(schema, 'schema');
  if (!isObject(root) && typeof root !== 'boolean') throw new SchemaParseError('A JSON schema must be an object or a boolean');
  const refs = new Map<string, Json>();
  const ajv = validator(root);
  for (const ref of references) {
    if (ref.schemaType !== 'JSON') throw new SchemaParseError(`reference ${ref.name} is a ${ref.schemaType} schema, not JSON`);
    const doc = parseJson(ref.schema, `referenced schema ${ref.name}`);
    refs.set(ref.name, doc);
    try {
      const forValidation = forAjv(doc);
      // Registered under its reference name; an $id of its own would register it twice.
      ajv.addSchema((isObject(forValidation) ? { ...forValidation, $id: ref.name } : forValidation) as AnySchema, isObject(forValidation) ? undefined : ref.name);
    } catch (err) {
      throw new SchemaParseError(`Invalid referenced schema ${ref.name}: ${(err as Error).message}`);
    }
  }
  try {
    ajv.compile(forAjv(root) as AnySchema);
  } catch (err) {
    throw new SchemaParseError((err as Error).message);
  }
  // Jackson's toString of the tree Confluent's mapper reads (fractions as exact BigDecimals).
  const lex = parseLexJson(schema);
  return new JsonSchema(writeJackson(lex, 'bigdecimal'), root, refs, lex);
}
