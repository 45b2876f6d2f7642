/**
 * Protobuf schemas in the registry (`schemaType: "PROTOBUF"`): `.proto` text, as Confluent stores it.
 *
 * - Parsing is protobufjs's. The schema and its references (each under its import path, e.g.
 *   `"references": [{"name": "other.proto", ...}]` for `import "other.proto";`) are parsed into one root and
 *   every type must resolve. The well-known types `google/protobuf/{any,duration,empty,field_mask,struct,
 *   timestamp,wrappers}.proto` are built in, so schemas may import them without a reference, as with
 *   Confluent.
 * - The canonical string is the file printed again from its parse tree as Confluent's
 *   ProtobufSchemaUtils.toString prints it (its ProtobufSchema.canonicalString): `syntax` and `package`
 *   lines, then imports, options, types (every message, then every enum) and services, each group after a
 *   newline; in a message, reserved, options, fields, oneofs and nested types, each group after a newline;
 *   two-space indents. Formatting and comments do not change a schema's identity.
 * - Compatibility is Confluent's protobuf SchemaDiff (original = old, update = new): messages and enums by
 *   name, fields by tag, scalar kinds grouped as in the proto3 guide's "updating a message" (int32, int64,
 *   uint32, uint64, bool and enums interchangeable; sint32/sint64; fixed32/sfixed32; fixed64/sfixed64;
 *   string/bytes), oneofs; a pair is compatible when every difference is in Confluent's COMPATIBLE_CHANGES.
 *   Messages read as Confluent's `Difference{fullPath='#/User/2', type=FIELD_KIND_CHANGED}`.
 */
import protobuf from 'protobufjs';
import * as descriptorModule from 'protobufjs/ext/descriptor.js';
import type { IFileDescriptorProto } from 'protobufjs/ext/descriptor.js';
import { SchemaParseError, type Difference, type ParsedSchema, type ResolvedReference } from './parsed-schema.js';

// A CommonJS module whose exports object is a protobufjs Namespace: under ESM its members sit on `default`.
const descriptorExt = (descriptorModule as unknown as { default?: typeof descriptorModule }).default ?? descriptorModule;

const COMPATIBLE = new Set([
  'MESSAGE_ADDED', 'MESSAGE_MOVED', 'ENUM_ADDED', 'ENUM_REMOVED', 'ENUM_CONST_ADDED', 'ENUM_CONST_CHANGED', 'ENUM_CONST_REMOVED',
  'FIELD_ADDED', 'FIELD_REMOVED', 'FIELD_NAME_CHANGED', 'FIELD_STRING_OR_BYTES_LABEL_CHANGED', 'ONEOF_ADDED', 'ONEOF_REMOVED', 'ONEOF_FIELD_ADDED',
]);

const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes']);

function scalarKind(type: string): string {
  switch (type) {
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'bool':
      return 'GENERAL_NUMBER';
    case 'sint32':
    case 'sint64':
      return 'SIGNED_NUMBER';
    case 'string':
    case 'bytes':
      return 'STRING_OR_BYTES';
    case 'fixed32':
    case 'sfixed32':
      return 'FIXED32';
    case 'fixed64':
    case 'sfixed64':
      return 'FIXED64';
    default:
      return type.toUpperCase();
  }
}

type Nested = protobuf.ReflectionObject;
const isType = (o: Nested): o is protobuf.Type => o instanceof protobuf.Type;
const isEnum = (o: Nested): o is protobuf.Enum => o instanceof protobuf.Enum;

/** A proto3 `optional` field sits in a synthetic oneof named `_field`; Wire and Confluent see a plain field. */
function realOneof(f: protobuf.Field): protobuf.OneOf | null {
  return f.partOf && f.options?.proto3_optional !== true ? f.partOf : null;
}

// ---------------------------------------------------------------- printing (Confluent's ProtobufSchemaUtils.toString)

/**
 * `normalize`: Confluent's ProtobufSchemaUtils.toNormalizedString (FormatContext normalize=true): options
 * sorted by name; fields sorted by tag; oneofs without fields dropped, their fields sorted by tag and the
 * oneofs by their first tag; enum constants by tag then name; each reserved value on a line of its own,
 * numbers and ranges by start, then names ("N to N" printed as N); message and enum field types fully
 * qualified with a leading dot (`.com.example.Address`, also a map's value type); imports sorted without
 * duplicates; `syntax = "proto2";` omitted.
 */
type PrintMode = {
  readonly normalize: boolean;
  /** The `reserved` statements of each message and enum (by full name) as written: their items' text. */
  readonly reserved?: ReadonlyMap<string, readonly (readonly string[])[]>;
  /** `name\u0000value` of the options written with an identifier value (an enum constant, Wire's ENUM kind). */
  readonly enumOptions?: ReadonlySet<string>;
};
const PLAIN: PrintMode = { normalize: false };

/** Standard options whose values are enum constants, written without quotes (protobufjs keeps them as strings). */
const ENUM_OPTIONS = new Set(['optimize_for', 'ctype', 'jstype', 'idempotency_level', 'retention', 'targets']);

/** ProtobufSchemaUtils.escapeChars. */
function escapeChars(input: string): string {
  let out = '';
  for (const c of input) {
    switch (c) {
      case '\u0007': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\v': out += '\\v'; break;
      case '\\': out += '\\\\'; break;
      case "'": out += "\\'"; break;
      case '"': out += '\\"'; break;
      default: out += c;
    }
  }
  return out;
}

/** An option as `name = value` (OptionElement's toString): strings quoted and escaped, the rest as is. */
function optionString(name: string, value: unknown, kind: 'string' | 'raw' | 'auto' = 'auto', mode: PrintMode = PLAIN): string {
  const enumValued = ENUM_OPTIONS.has(name) || mode.enumOptions?.has(`${name}\u0000${String(value)}`) === true;
  if (kind === 'string' || (kind === 'auto' && typeof value === 'string' && !enumValued)) return `${name} = "${escapeChars(String(value))}"`;
  if (typeof value === 'object' && value !== null) return `${name} = ${JSON.stringify(value)}`;
  return `${name} = ${String(value)}`;
}

function sortedOptions(options: Readonly<Record<string, unknown>> | undefined, mode: PrintMode, skip: ReadonlySet<string> = new Set()): [string, unknown][] {
  const entries = Object.entries(options ?? {}).filter(([k]) => !skip.has(k));
  return mode.normalize ? entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : entries;
}

/** ProtobufSchemaUtils.appendOptions: `[one]`, or one per line when several. */
function bracketOptions(items: readonly string[]): string {
  if (items.length === 1) return `[${items[0]}]`;
  return `[\n${items.map((o, i) => `  ${o}${i < items.length - 1 ? ',' : ''}\n`).join('')}]`;
}

/** ProtobufSchemaUtils.appendIndented: every line (an empty one too) gets two spaces. */
function appendIndented(text: string): string {
  const lines = text.split('\n');
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `  ${l}\n`).join('');
}

/** A field's type as printed: as written, or (normalized) a message or enum type by its full name. */
function fieldType(f: protobuf.Field, mode: PrintMode): string {
  if (!mode.normalize || SCALARS.has(f.type)) return f.type;
  const resolved = f.resolvedType ?? (f.parent instanceof protobuf.Type ? f.parent.lookupTypeOrEnum(f.type) : null);
  // protobufjs' fullName carries the leading dot Confluent adds.
  return resolved ? resolved.fullName : f.type;
}

const FIELD_SPECIAL = new Set(['proto3_optional', 'default', 'json_name']);

/** ProtobufSchemaUtils' field: `label type name = tag [options];`, `default` and `json_name` after the others. */
function printField(f: protobuf.Field, proto3: boolean, mode: PrintMode): string {
  const opts = sortedOptions(f.options, mode, FIELD_SPECIAL).map(([k, v]) => optionString(k, v, 'auto', mode));
  const special: [string, string][] = [];
  if (f.options?.default !== undefined) {
    const isString = f.type === 'string' || f.type === 'bytes';
    special.push(['default', optionString('default', f.options.default, isString ? 'string' : 'raw')]);
  }
  if (f.options?.json_name !== undefined) special.push(['json_name', optionString('json_name', f.options.json_name, 'string')]);
  const all = mode.normalize ? [...sortedOptions(f.options, mode, new Set(['proto3_optional'])).map(([k, v]) => special.find(([n]) => n === k)?.[1] ?? optionString(k, v, 'auto', mode))] : [...opts, ...special.map(([, o]) => o)];
  const options = all.length === 0 ? '' : ` ${bracketOptions(all)}`;
  if (f instanceof protobuf.MapField) return `map<${f.keyType}, ${fieldType(f, mode)}> ${f.name} = ${f.id}${options};\n`;
  let label = '';
  if (f.rule === 'repeated') label = 'repeated ';
  else if (f.rule === 'required') label = 'required ';
  else if (f.options?.proto3_optional === true || (!proto3 && !f.partOf)) label = 'optional ';
  return `${label}${fieldType(f, mode)} ${f.name} = ${f.id}${options};\n`;
}

const MAX_TAG = 536870911;

/**
 * `reserved` lines. Not normalized: one line per statement as written, as Wire keeps ReservedElements
 * (`reserved 20, 100 to max;`), when the source text's statements are known (`written`), else one line.
 * Normalized: one line per value, numbers and ranges by start, then names, `N to N` as `N`.
 */
function printReserved(reserved: readonly (number[] | string)[], mode: PrintMode, written?: readonly (readonly string[])[]): string[] {
  const item = (r: number[] | string): string => (typeof r === 'string' ? `"${r}"` : r[0] === r[1] ? String(r[0]) : `${r[0]} to ${r[1]! >= MAX_TAG ? 'max' : r[1]}`);
  if (!mode.normalize) {
    if (written !== undefined && written.reduce((n, w) => n + w.length, 0) === reserved.length) return written.map((w) => `reserved ${w.join(', ')};\n`);
    return reserved.length === 0 ? [] : [`reserved ${reserved.map(item).join(', ')};\n`];
  }
  const start = (r: number[] | string): number => (typeof r === 'string' ? Number.MAX_SAFE_INTEGER : r[0]!);
  const sorted = [...reserved].sort((a, b) => start(a) - start(b) || (item(a) < item(b) ? -1 : item(a) > item(b) ? 1 : 0));
  return sorted.map((r) => `reserved ${item(r)};\n`);
}

/** The tokens of a `.proto` text: comments dropped, strings as one token in double quotes. */
function protoTokens(text: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      tokens.push(`"${text.slice(i + 1, j)}"`);
      i = j + 1;
    } else if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z0-9_.+-]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_.+-]/.test(text[j]!)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    } else {
      tokens.push(c);
      i++;
    }
  }
  return tokens;
}

/**
 * The options written `name = IDENTIFIER` (after `option`, or in a field's `[...]`): Wire reads such a value
 * as an enum constant and prints it unquoted; protobufjs keeps it as a string like any other.
 */
function enumOptions(tokens: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== '=') continue;
    const value = tokens[i + 1];
    if (value === undefined || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(value) || value === 'true' || value === 'false' || value === 'inf' || value === 'nan') continue;
    // The name: the tokens back to `option`, `[` or `,`.
    let j = i - 1;
    while (j >= 0 && tokens[j] !== 'option' && tokens[j] !== '[' && tokens[j] !== ',' && tokens[j] !== ';' && tokens[j] !== '{') j--;
    if (j < 0 || tokens[j] === ';' || tokens[j] === '{') continue;
    out.add(`${tokens.slice(j + 1, i).join('')}\u0000${value}`);
  }
  return out;
}

/**
 * The `reserved` statements of a `.proto` text, per message or enum full name (`.pkg.Outer.Inner`), each as
 * its items printed the way Wire prints them (`1 to 3`, `5 to 5`, `100 to max`, `"NAME"`): protobufjs merges
 * a type's statements into one list, Wire (and so Confluent's canonical string) keeps them apart.
 */
function reservedStatements(tokens: readonly string[]): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let pkg = '';
  const scope: (string | null)[] = [];
  let pending: string | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'package' && scope.length === 0) pkg = tokens[i + 1] ?? '';
    else if ((t === 'message' || t === 'enum') && tokens[i + 2] === '{') pending = tokens[i + 1]!;
    else if (t === '{') {
      scope.push(pending);
      pending = null;
    } else if (t === '}') scope.pop();
    else if (t === 'reserved' && scope.length > 0 && scope[scope.length - 1] !== null && (tokens[i - 1] === ';' || tokens[i - 1] === '{' || tokens[i - 1] === '}')) {
      const items: string[] = [];
      let current: string[] = [];
      for (i++; i < tokens.length && tokens[i] !== ';'; i++) {
        if (tokens[i] === ',') {
          items.push(current.join(' '));
          current = [];
        } else current.push(tokens[i]!);
      }
      if (current.length > 0) items.push(current.join(' '));
      const name = `${pkg === '' ? '' : `.${pkg}`}.${scope.filter((x): x is string => x !== null).join('.')}`;
      const list = out.get(name) ?? [];
      list.push(items.map((it) => it.replace(/^(\d+) to (\d+)$/, (all, a: string, b: string) => (Number(b) >= MAX_TAG ? `${a} to max` : all))));
      out.set(name, list);
    }
  }
  return out;
}

const optionLine = (k: string, v: unknown, mode: PrintMode): string => `option ${optionString(k, v, 'auto', mode)};\n`;

/** ProtobufSchemaUtils' enum: reserved, then options and constants (no blank line between them). */
function printEnum(e: protobuf.Enum, mode: PrintMode): string {
  let sb = `enum ${e.name} {`;
  const reserved = printReserved((e.reserved ?? []) as (number[] | string)[], mode, mode.reserved?.get(e.fullName));
  if (reserved.length > 0) sb += `\n${reserved.map(appendIndented).join('')}`;
  let constants = Object.entries(e.values);
  const options = sortedOptions(e.options, mode);
  if (reserved.length === 0 && (options.length > 0 || constants.length > 0)) sb += '\n';
  for (const [k, v] of options) sb += appendIndented(optionLine(k, v, mode));
  if (mode.normalize) constants = constants.sort(([an, av], [bn, bv]) => av - bv || (an < bn ? -1 : an > bn ? 1 : 0));
  for (const [name, value] of constants) {
    const vo = sortedOptions((e.valuesOptions as Record<string, Record<string, unknown>> | undefined)?.[name], mode).map(([k, v]) => optionString(k, v, 'auto', mode));
    sb += appendIndented(`${name} = ${value}${vo.length === 0 ? '' : ` ${bracketOptions(vo)}`};\n`);
  }
  return `${sb}}\n`;
}

/** Nested (or top-level) types: every message, then every enum (ProtobufSchemaUtils prints them so). */
function printTypes(types: readonly Nested[], proto3: boolean, mode: PrintMode): string {
  let sb = '';
  for (const t of types) if (isType(t)) sb += printType(t, proto3, mode);
  for (const t of types) if (isEnum(t)) sb += printEnum(t, mode);
  return sb;
}

/**
 * ProtobufSchemaUtils' message: `message X {`, then each present section after a newline (so sections are
 * separated by a blank line): reserved, options, fields, oneofs, nested types; `}`.
 */
function printType(t: protobuf.Type, proto3: boolean, mode: PrintMode): string {
  let sb = `message ${t.name} {`;
  const reserved = printReserved(t.reserved ?? [], mode, mode.reserved?.get(t.fullName));
  if (reserved.length > 0) sb += `\n${reserved.map(appendIndented).join('')}`;
  const options = sortedOptions(t.options, mode);
  if (options.length > 0) sb += `\n${options.map(([k, v]) => appendIndented(optionLine(k, v, mode))).join('')}`;
  const byTag = (fields: protobuf.Field[]): protobuf.Field[] => (mode.normalize ? [...fields].sort((a, b) => a.id - b.id) : fields);
  const plain = byTag(t.fieldsArray.filter((f) => realOneof(f) === null));
  if (plain.length > 0) sb += `\n${plain.map((f) => appendIndented(printField(f, proto3, mode))).join('')}`;
  let oneofs = t.oneofsArray.filter((o) => !o.fieldsArray.every((f) => f.options?.proto3_optional === true));
  if (mode.normalize) oneofs = oneofs.filter((o) => o.fieldsArray.length > 0).sort((a, b) => Math.min(...a.fieldsArray.map((f) => f.id)) - Math.min(...b.fieldsArray.map((f) => f.id)));
  if (oneofs.length > 0) {
    sb += '\n';
    for (const o of oneofs) {
      let one = `oneof ${o.name} {`;
      const oo = sortedOptions(o.options, mode);
      if (oo.length > 0) one += `\n${oo.map(([k, v]) => appendIndented(optionLine(k, v, mode))).join('')}`;
      if (o.fieldsArray.length > 0) one += `\n${byTag(o.fieldsArray).map((f) => appendIndented(printField(f, true, mode))).join('')}`;
      sb += appendIndented(`${one}}\n`);
    }
  }
  const nested = t.nestedArray.filter((n) => isType(n) || isEnum(n));
  if (nested.length > 0) sb += `\n${appendIndentedBlock(printTypes(nested, proto3, mode))}`;
  return `${sb}}\n`;
}

/** appendIndented over a run of whole types. */
function appendIndentedBlock(text: string): string {
  return text === '' ? '' : appendIndented(text);
}

/** ProtobufSchemaUtils' service: `service S {`, options, rpcs, `}`. */
function printService(svc: protobuf.Service, mode: PrintMode): string {
  let sb = `service ${svc.name} {`;
  const options = sortedOptions(svc.options, mode);
  if (options.length > 0) sb += `\n${options.map(([k, v]) => appendIndented(optionLine(k, v, mode))).join('')}`;
  const methods = svc.methodsArray;
  if (methods.length > 0) {
    sb += '\n';
    for (const m of methods) {
      const resolve = (name: string): string => {
        if (!mode.normalize) return name;
        const found = svc.lookupType(name);
        return found ? found.fullName : name;
      };
      let rpc = `rpc ${m.name} (${m.requestStream ? 'stream ' : ''}${resolve(m.requestType)}) returns (${m.responseStream ? 'stream ' : ''}${resolve(m.responseType)})`;
      const mo = sortedOptions(m.options, mode);
      if (mo.length > 0) rpc += ` {\n${mo.map(([k, v]) => appendIndented(optionLine(k, v, mode))).join('')}}`;
      sb += appendIndented(`${rpc};\n`);
    }
  }
  return `${sb}}\n`;
}

interface FileInfo {
  readonly syntax: string | null;
  readonly packageName: string | null;
  readonly imports: readonly string[];
  readonly types: readonly Nested[];
  readonly services: readonly protobuf.Service[];
  readonly options: Readonly<Record<string, unknown>>;
  /** From the source text: which string option values were written as identifiers (enum constants). */
  readonly enumOptions?: ReadonlySet<string>;
}

/**
 * ProtobufSchemaUtils.toString(ProtoFileElement), which Confluent's canonicalString is: `syntax` and
 * `package` lines, then (each after a blank line) imports, options, the types (messages then enums, no
 * blank line between them) and services.
 */
function printFile(f: FileInfo, printMode: PrintMode = PLAIN): string {
  const mode: PrintMode = { ...printMode, enumOptions: printMode.enumOptions ?? f.enumOptions };
  let sb = '';
  if (f.syntax !== null && !(mode.normalize && f.syntax === 'proto2')) sb += `syntax = "${f.syntax}";\n`;
  if (f.packageName !== null) sb += `package ${f.packageName};\n`;
  const imports = mode.normalize ? [...new Set(f.imports)].sort() : f.imports;
  if (imports.length > 0) sb += `\n${imports.map((i) => `import "${i}";\n`).join('')}`;
  const options = sortedOptions(f.options, mode);
  if (options.length > 0) sb += `\n${options.map(([k, v]) => optionLine(k, v, mode)).join('')}`;
  const proto3 = f.syntax === 'proto3';
  const types = printTypes(f.types, proto3, mode);
  if (types !== '') sb += `\n${types}`;
  if (f.services.length > 0) sb += `\n${f.services.map((svc) => printService(svc, mode)).join('')}`;
  return sb;
}

// ---------------------------------------------------------------- compatibility (Confluent's SchemaDiff)

class Diff {
  readonly differences: { type: string; path: string }[] = [];
  private path: string[] = ['#'];
  private readonly inProgress = new Set<protobuf.Type>();

  constructor(
    private readonly originalPackage: string,
    private readonly updatePackage: string,
  ) {}

  get compatible(): boolean {
    return this.differences.every((d) => COMPATIBLE.has(d.type));
  }

  private add(type: string): void {
    this.differences.push({ type, path: this.path.join('/') });
  }

  private at(part: string, f: () => void): void {
    this.path.push(part);
    try {
      f();
    } finally {
      this.path.pop();
    }
  }

  file(o: FileInfo, u: FileInfo): void {
    if (o.packageName !== u.packageName) this.add('PACKAGE_CHANGED');
    this.typeElements(o.types, u.types);
  }

  private typeElements(original: readonly Nested[], update: readonly Nested[]): void {
    const index = (list: readonly Nested[]): { messages: Map<string, [protobuf.Type, number]>; enums: Map<string, protobuf.Enum> } => {
      const messages = new Map<string, [protobuf.Type, number]>();
      const enums = new Map<string, protobuf.Enum>();
      let i = 0;
      for (const n of list) {
        // Map entry types are not declared types in protobufjs; nothing to skip here.
        if (isType(n)) messages.set(n.name, [n, i++]);
        else if (isEnum(n)) enums.set(n.name, n);
      }
      return { messages, enums };
    };
    const o = index(original);
    const u = index(update);
    for (const name of new Set([...o.messages.keys(), ...u.messages.keys()])) {
      this.at(name, () => {
        const om = o.messages.get(name);
        const um = u.messages.get(name);
        if (!um) return this.add('MESSAGE_REMOVED');
        if (!om) return this.add('MESSAGE_ADDED');
        this.message(om[0], um[0]);
        // Reordering is compatible: message indexes in records refer to the schema of their own id.
        if (om[1] !== um[1]) this.add('MESSAGE_MOVED');
      });
    }
    for (const name of new Set([...o.enums.keys(), ...u.enums.keys()])) {
      this.at(name, () => {
        const oe = o.enums.get(name);
        const ue = u.enums.get(name);
        if (!ue) return this.add('ENUM_REMOVED');
        if (!oe) return this.add('ENUM_ADDED');
        const byNumber = (e: protobuf.Enum): Map<number, string> => new Map(Object.entries(e.values).map(([k, v]) => [v, k]));
        const on = byNumber(oe);
        const un = byNumber(ue);
        for (const n of new Set([...on.keys(), ...un.keys()])) {
          this.at(String(n), () => {
            if (!un.has(n)) this.add('ENUM_CONST_REMOVED');
            else if (!on.has(n)) this.add('ENUM_CONST_ADDED');
            else if (on.get(n) !== un.get(n)) this.add('ENUM_CONST_CHANGED');
          });
        }
      });
    }
  }

  private message(original: protobuf.Type, update: protobuf.Type): void {
    if (this.inProgress.has(original)) return;
    this.inProgress.add(original);
    try {
      const topLevel = (t: protobuf.Type): Map<number, protobuf.Field> => new Map(t.fieldsArray.filter((f) => realOneof(f) === null).map((f) => [f.id, f]));
      const originalByTag = topLevel(original);
      const updateByTag = topLevel(update);
      const oneofs = (t: protobuf.Type): Map<string, protobuf.OneOf> => new Map(t.oneofsArray.filter((o) => o.fieldsArray.some((f) => realOneof(f) === o)).map((o) => [o.name, o]));
      const originalOneofs = oneofs(original);
      const updateOneofs = oneofs(update);
      const originalOneofTags = new Set([...originalOneofs.values()].flatMap((o) => o.fieldsArray.map((f) => f.id)));
      for (const oneof of updateOneofs.values()) {
        this.at(oneof.name, () => {
          let moved = 0;
          let existing = 0;
          for (const f of oneof.fieldsArray) {
            if (originalByTag.delete(f.id)) moved++;
            else if (originalOneofTags.has(f.id)) existing++;
          }
          if (moved > 1) this.add('MULTIPLE_FIELDS_MOVED_TO_ONEOF');
          else if (moved === 1 && existing > 0) this.add('FIELD_MOVED_TO_EXISTING_ONEOF');
        });
      }
      for (const name of new Set([...originalOneofs.keys(), ...updateOneofs.keys()])) {
        this.at(name, () => {
          const oo = originalOneofs.get(name);
          const uo = updateOneofs.get(name);
          if (!uo) return this.add('ONEOF_REMOVED');
          if (!oo) return this.add('ONEOF_ADDED');
          const of = new Map(oo.fieldsArray.map((f) => [f.id, f]));
          const uf = new Map(uo.fieldsArray.map((f) => [f.id, f]));
          for (const tag of new Set([...of.keys(), ...uf.keys()])) {
            this.at(String(tag), () => {
              const a = of.get(tag);
              const b = uf.get(tag);
              if (!b) return this.add('ONEOF_FIELD_REMOVED');
              if (!a) return this.add('ONEOF_FIELD_ADDED');
              this.field(a, b);
            });
          }
        });
      }
      for (const tag of new Set([...originalByTag.keys(), ...updateByTag.keys()])) {
        this.at(String(tag), () => {
          const a = originalByTag.get(tag);
          const b = updateByTag.get(tag);
          if (!b) return this.add(a!.rule === 'required' ? 'REQUIRED_FIELD_REMOVED' : 'FIELD_REMOVED');
          if (!a) return this.add(b.rule === 'required' ? 'REQUIRED_FIELD_ADDED' : 'FIELD_ADDED');
          this.field(a, b);
        });
      }
      this.typeElements(original.nestedArray, update.nestedArray);
    } finally {
      this.inProgress.delete(original);
    }
  }

  private kind(f: protobuf.Field): 'SCALAR' | 'MAP' | 'MESSAGE' {
    if (f.map) return 'MAP';
    if (SCALARS.has(f.type)) return 'SCALAR';
    f.resolve();
    return f.resolvedType instanceof protobuf.Enum ? 'SCALAR' : 'MESSAGE';
  }

  private field(original: protobuf.Field, update: protobuf.Field): void {
    if (original.name !== update.name) this.add('FIELD_NAME_CHANGED');
    const ok = this.kind(original);
    const uk = this.kind(update);
    if (ok !== uk) return this.add('FIELD_KIND_CHANGED');
    if (ok === 'SCALAR') {
      const sk = (f: protobuf.Field): string => (SCALARS.has(f.type) ? scalarKind(f.type) : 'GENERAL_NUMBER');
      if (sk(original) !== sk(update)) return this.add('FIELD_SCALAR_KIND_CHANGED');
      if ((original.rule === 'repeated') !== (update.rule === 'repeated')) {
        this.add(sk(original) === 'STRING_OR_BYTES' ? 'FIELD_STRING_OR_BYTES_LABEL_CHANGED' : 'FIELD_NUMERIC_LABEL_CHANGED');
      }
      return;
    }
    if (ok === 'MAP' && original instanceof protobuf.MapField && update instanceof protobuf.MapField) {
      const om = original;
      const um = update;
      if (scalarKind(om.keyType) !== scalarKind(um.keyType)) return this.add('FIELD_SCALAR_KIND_CHANGED');
      const valueOnly = (f: protobuf.MapField): protobuf.Field => {
        const v = new protobuf.Field(f.name, f.id, f.type);
        v.parent = f.parent;
        return v;
      };
      return this.field(valueOnly(om), valueOnly(um));
    }
    original.resolve();
    update.resolve();
    const ot = original.resolvedType as protobuf.Type;
    const ut = update.resolvedType as protobuf.Type;
    const local = (t: protobuf.Type, pkg: string): string => {
      const full = t.fullName.replace(/^\./, '');
      return pkg !== '' && full.startsWith(`${pkg}.`) ? full.slice(pkg.length + 1) : full;
    };
    if (local(ot, this.originalPackage) !== local(ut, this.updatePackage)) return this.add('FIELD_NAMED_TYPE_CHANGED');
    const sub = new Diff(this.originalPackage, this.updatePackage);
    sub.path = [...this.path];
    for (const t of this.inProgress) sub.inProgress.add(t);
    sub.message(ot, ut);
    this.differences.push(...sub.differences);
    if (!sub.compatible) this.add('FIELD_NAMED_TYPE_CHANGED');
  }
}

export class ProtobufSchema implements ParsedSchema {
  readonly schemaType = 'PROTOBUF' as const;
  constructor(
    readonly canonical: string,
    private readonly file: FileInfo,
  ) {}

  /** Confluent's ProtobufSchema.normalize(), printed from the resolved tree (field types known). */
  normalize(): ProtobufSchema {
    return new ProtobufSchema(printFile(this.file, { normalize: true }), this.file);
  }

  isBackwardCompatible(writer: ParsedSchema): Difference[] {
    if (!(writer instanceof ProtobufSchema)) return [() => 'Incompatible because of different schema type'];
    const diff = new Diff(writer.file.packageName ?? '', this.file.packageName ?? '');
    diff.file(writer.file, this.file);
    return diff.differences.filter((d) => !COMPATIBLE.has(d.type)).map((d) => () => `Difference{fullPath='${d.path}', type=${d.type}}`);
  }
}

const PARSE_OPTIONS = { keepCase: true, alternateCommentMode: true };

function syntaxOf(text: string): string | null {
  // The parser keeps no `syntax`; read it from the text without its comments.
  const m = /^\s*syntax\s*=\s*["'](proto[23])["']\s*;/m.exec(text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, ''));
  return m ? m[1]! : null;
}

function parseInto(text: string, root: protobuf.Root, what: string): protobuf.IParserResult {
  try {
    return protobuf.parse(text, root, PARSE_OPTIONS);
  } catch (err) {
    throw new SchemaParseError(`${what}: ${(err as Error).message}`);
  }
}

/**
 * confluent-kafka-python registers a Protobuf schema as its base64-encoded FileDescriptorProto (what the
 * generated code holds), and Confluent accepts that as well as `.proto` text.
 */
function isBase64Descriptor(text: string): boolean {
  const t = text.trim();
  return t.length > 0 && t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t);
}

/** The `.proto` text of a base64 FileDescriptorProto (printed as `canonical` is). */
function descriptorToText(base64: string): string {
  let file: IFileDescriptorProto;
  try {
    // A decoded message of the descriptor's reflected type; its fields are those of IFileDescriptorProto.
    file = descriptorExt.FileDescriptorProto.decode(Buffer.from(base64.trim(), 'base64')) as unknown as IFileDescriptorProto;
  } catch (err) {
    throw new SchemaParseError(`Invalid schema: neither .proto text nor a base64 FileDescriptorProto (${(err as Error).message})`);
  }
  let root: protobuf.Root;
  try {
    root = protobuf.Root.fromDescriptor({ file: [file] }, { keepCase: true });
  } catch (err) {
    throw new SchemaParseError(`Invalid FileDescriptorProto: ${(err as Error).message}`);
  }
  const pkg = file.package ? file.package : null;
  const ns = pkg === null ? root : root.lookup(pkg);
  if (!(ns instanceof protobuf.Namespace)) throw new SchemaParseError(`package ${pkg} not found in the descriptor`);
  // Types given by name in the descriptor are fully qualified (".com.example.User"); as .proto text they are
  // written without the leading dot, which resolves the same.
  const strip = (t: protobuf.Type): void => {
    for (const f of t.fieldsArray) {
      if (f.type.startsWith('.')) f.type = f.type.slice(1);
      // fromDescriptor records proto3's implicit packing as an option; the text had none.
      if (f.options?.packed === false || (file.syntax === 'proto3' && f.options?.packed === true)) delete f.options!.packed;
    }
    for (const n of t.nestedArray) if (isType(n)) strip(n);
  };
  for (const n of ns.nestedArray) if (isType(n)) strip(n);
  return printFile({
    syntax: file.syntax ? file.syntax : 'proto2',
    packageName: pkg,
    imports: Array.isArray(file.dependency) ? file.dependency.filter((d: unknown): d is string => typeof d === 'string') : [],
    types: ns.nestedArray.filter((n) => isType(n) || isEnum(n)),
    services: ns.nestedArray.filter((n): n is protobuf.Service => n instanceof protobuf.Service),
    options: {},
  });
}

/** The base64 FileDescriptorProto of a stored schema: `GET /schemas/ids/{id}?format=serialized`. */
export function serializedDescriptor(text: string): string {
  const own = parseInto(text, new protobuf.Root(), 'Invalid schema');
  const set = own.root.toDescriptor(syntaxOf(text) ?? 'proto2');
  const file = set.file?.[0];
  if (!file) throw new SchemaParseError('the schema has no types');
  file.dependency = [...(own.imports ?? [])];
  return Buffer.from(descriptorExt.FileDescriptorProto.encode(file).finish()).toString('base64');
}

export function parseProtobuf(schemaText: string, references: readonly ResolvedReference[] = []): ProtobufSchema {
  const schema = isBase64Descriptor(schemaText) ? descriptorToText(schemaText) : schemaText;
  const tokens = protoTokens(schema);
  // One root holding the references, the built-in well-known types and the schema, so every type resolves.
  const root = new protobuf.Root();
  const provided = new Set<string>();
  for (const ref of references) {
    if (ref.schemaType !== 'PROTOBUF') throw new SchemaParseError(`reference ${ref.name} is a ${ref.schemaType} schema, not PROTOBUF`);
    parseInto(ref.schema, root, `Invalid referenced schema ${ref.name}`);
    provided.add(ref.name);
  }
  // The schema alone, for its own package, imports, options and types in declaration order.
  const own = parseInto(schema, new protobuf.Root(), 'Invalid schema');
  for (const imp of [...(own.imports ?? []), ...(own.weakImports ?? [])]) {
    if (provided.has(imp)) continue;
    const builtIn = protobuf.common.get(imp) as protobuf.INamespace | null;
    if (builtIn?.nested) root.addJSON(builtIn.nested);
    else throw new SchemaParseError(`import "${imp}" is neither a reference nor a built-in file`);
  }
  const parsed = parseInto(schema, root, 'Invalid schema');
  try {
    root.resolveAll();
  } catch (err) {
    throw new SchemaParseError((err as Error).message);
  }
  const pkg = parsed.package ?? null;
  const ownNs = pkg === null ? own.root : own.root.lookup(pkg);
  const fullNs = pkg === null ? root : root.lookup(pkg);
  if (!(ownNs instanceof protobuf.Namespace) || !(fullNs instanceof protobuf.Namespace)) throw new SchemaParseError(`package ${pkg} not found`);
  // The printed file comes from the schema's own tree; the diff uses the resolved one (field types known).
  const ownTypes = ownNs.nestedArray.filter((n) => isType(n) || isEnum(n));
  const info = (types: readonly Nested[], options: Record<string, unknown>): FileInfo => ({
    syntax: syntaxOf(schema),
    packageName: pkg,
    imports: [...(own.imports ?? [])],
    types,
    services: ownNs.nestedArray.filter((n): n is protobuf.Service => n instanceof protobuf.Service),
    options,
    enumOptions: enumOptions(tokens),
  });
  const canonical = printFile(info(ownTypes, { ...(ownNs.options ?? {}) }), { normalize: false, reserved: reservedStatements(tokens) });
  const resolvedTypes = ownTypes.map((t) => fullNs.get(t.name)).filter((t): t is Nested => t !== null);
  return new ProtobufSchema(canonical, info(resolvedTypes, { ...(ownNs.options ?? {}) }));
}
