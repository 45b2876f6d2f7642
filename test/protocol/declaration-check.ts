/**
 * Compares one of our message declarations with Apache Kafka's JSON spec, version by version over the
 * versions we declare: flexibility, then every field present in that version (wire order of the untagged
 * ones, names, types, nullability, tagged-ness and tag), recursively through structs (Kafka's
 * `commonStructs` resolved), plus `default` (what a decoder fills in for an absent field, and what a tagged
 * field is left out for) and, in versions lacking the field, `ignorable` (whether an encoder may drop it).
 *
 * The result is a list of human-readable mismatches, each naming the versions it applies to; an empty list
 * means the declaration is a faithful transcription for those versions.
 */
import { inRange, parseVersions, type FieldDecl, type MessageDecl } from '../../protocol/schema.js';
import type { KafkaField, KafkaSpec } from '../helpers/kafka-specs.js';

/** Kafka's spec for one version: the newest jar that still has that version (Kafka 4 dropped old ones, KIP-896). */
export type SpecForVersion = (version: number) => { spec: KafkaSpec; source: string } | undefined;

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'uuid', 'records']);
const NUMERIC = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64']);

/** Kafka's PascalCase field name in our camelCase. */
export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

const has = (spec: string | undefined, v: number): boolean => inRange(v, parseVersions(spec));

function taggedAt(f: { tag?: number; taggedVersions?: string; versions: string }, v: number, flexible: boolean): boolean {
  return f.tag !== undefined && flexible && has(f.taggedVersions ?? f.versions, v);
}

/** A default in one canonical spelling, so Kafka's `"-1"` and our `-1` compare equal. */
function canonicalDefault(type: string, d: unknown): string {
  if (type.startsWith('[]') || !PRIMITIVES.has(type)) return d === null || d === 'null' ? 'null' : 'empty';
  if (d === undefined) {
    if (NUMERIC.has(type)) return '0';
    if (type === 'bool') return 'false';
    if (type === 'string') return '""';
    return 'none';
  }
  if (d === null || d === 'null') return 'null';
  if (NUMERIC.has(type)) {
    const s = String(d).trim();
    try {
      return s.startsWith('-') ? String(-BigInt(s.slice(1))) : String(BigInt(s));
    } catch {
      return `number ${s}`;
    }
  }
  if (type === 'bool') return String(d === true || d === 'true');
  if (type === 'string') return JSON.stringify(String(d));
  return String(d);
}

export function checkDeclaration(ours: MessageDecl, specFor: SpecForVersion): string[] {
  // problem -> versions it shows up in, so one wrong range reads as one line, not one per version.
  const problems = new Map<string, number[]>();
  const report = (v: number, problem: string): void => {
    const list = problems.get(problem) ?? [];
    if (!list.includes(v)) list.push(v);
    problems.set(problem, list);
  };

  const valid = parseVersions(ours.validVersions);
  for (let v = valid.min; v <= valid.max; v++) {
    const found = specFor(v);
    if (!found) {
      report(v, `Kafka's ${ours.name} spec has no such version`);
      continue;
    }
    const { spec } = found;
    if (spec.name !== ours.name) report(v, `name ${ours.name}, Kafka says ${spec.name}`);
    if (spec.type !== ours.type) report(v, `type ${ours.type}, Kafka says ${spec.type}`);
    // A `data` spec (e.g. a KRaft control record) has no apiKey: ours declares -1 for it.
    if ((spec.apiKey ?? -1) !== ours.apiKey) report(v, `apiKey ${ours.apiKey}, Kafka says ${spec.apiKey ?? 'none'}`);
    const flexible = has(ours.flexibleVersions, v);
    const kafkaFlexible = has(spec.flexibleVersions, v);
    if (flexible !== kafkaFlexible) report(v, `flexible: ours ${flexible}, Kafka ${kafkaFlexible}`);
    const common = new Map((spec.commonStructs ?? []).map((s) => [s.name, s.fields]));
    compareFields('', ours.fields, spec.fields, v, kafkaFlexible, common, report);
  }

  const out: string[] = [];
  for (const [problem, versions] of problems) out.push(`${ours.name} ${formatVersions(versions)}: ${problem}`);
  return out;
}

function compareFields(
  path: string,
  ours: readonly FieldDecl[],
  kafka: readonly KafkaField[],
  v: number,
  flexible: boolean,
  common: Map<string, KafkaField[]>,
  report: (v: number, problem: string) => void,
): void {
  const oursAt = ours.filter((f) => has(f.versions, v));
  const kafkaAt = kafka.filter((f) => has(f.versions, v));
  const at = (name: string): string => (path ? `${path}.${name}` : name);

  // Untagged fields: the same names in the same (wire) order.
  const oursWire = oursAt.filter((f) => !taggedAt(f, v, flexible)).map((f) => f.name);
  const kafkaWire = kafkaAt.filter((f) => !taggedAt(f, v, flexible)).map((f) => camel(f.name));
  if (oursWire.join(',') !== kafkaWire.join(',')) {
    report(v, `${path || '(top level)'}: fields on the wire are [${oursWire.join(', ')}], Kafka has [${kafkaWire.join(', ')}]`);
  }
  const oursTagged = oursAt.filter((f) => taggedAt(f, v, flexible));
  const kafkaTagged = kafkaAt.filter((f) => taggedAt(f, v, flexible));
  for (const k of kafkaTagged) {
    if (!oursTagged.some((o) => o.name === camel(k.name))) report(v, `${at(camel(k.name))}: Kafka has it as tagged field ${k.tag}, ours has no such tagged field`);
  }
  for (const o of oursTagged) {
    if (!kafkaTagged.some((k) => camel(k.name) === o.name)) report(v, `${at(o.name)}: ours is tagged field ${o.tag}, Kafka has no such tagged field`);
  }

  // `ignorable` only matters in a version that lacks the field: it decides whether encoding a non-default
  // value there is an error (Kafka's UnsupportedVersionException) or the value is silently dropped.
  for (const o of ours) {
    if (has(o.versions, v)) continue;
    const k = kafka.find((f) => camel(f.name) === o.name);
    if (k && !has(k.versions, v) && (o.ignorable === true) !== (k.ignorable === true)) {
      report(v, `${at(o.name)} (absent here): ignorable ${o.ignorable === true}, Kafka ${k.ignorable === true}`);
    }
  }

  for (const o of oursAt) {
    const k = kafkaAt.find((f) => camel(f.name) === o.name);
    if (!k) continue;
    const p = at(o.name);
    const isArray = k.type.startsWith('[]');
    const element = isArray ? k.type.slice(2) : k.type;
    if (o.type !== k.type) report(v, `${p}: type ${o.type}, Kafka says ${k.type}`);
    const nullable = has(o.nullableVersions, v);
    const kNullable = has(k.nullableVersions, v);
    if (nullable !== kNullable) report(v, `${p}: nullable ${nullable}, Kafka ${kNullable}`);
    if (taggedAt(o, v, flexible) && taggedAt(k, v, flexible) && o.tag !== k.tag) report(v, `${p}: tag ${o.tag}, Kafka says ${k.tag}`);
    const od = canonicalDefault(o.type.startsWith('[]') ? o.type : element, o.default);
    const kd = canonicalDefault(k.type.startsWith('[]') ? k.type : element, k.default);
    if (od !== kd) report(v, `${p}: default ${od}, Kafka ${kd}`);

    if (!PRIMITIVES.has(element)) {
      const kFields = k.fields ?? common.get(element);
      if (!kFields) {
        report(v, `${p}: Kafka's struct ${element} not found in the spec`);
        continue;
      }
      if (!o.fields) {
        report(v, `${p}: Kafka's ${element} is a struct, ours declares no fields`);
        continue;
      }
      compareFields(p, o.fields, kFields, v, flexible, common, report);
    } else if (o.fields) {
      report(v, `${p}: ours declares struct fields, Kafka's type is ${k.type}`);
    }
  }
}

/** [0,1,2,5,7,8] -> "v0-2,5,7-8". */
export function formatVersions(versions: number[]): string {
  const sorted = [...versions].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return `v${parts.join(',')}`;
}
