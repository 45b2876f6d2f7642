/**
 * What the registry needs from a schema of any format (Confluent's ParsedSchema): its canonical string,
 * which decides identity (same canonical string and references = same global id), and the check whether it
 * can read data written with another schema, which the compatibility levels are built from.
 */

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

/** A reference from a schema to another registered schema (Confluent's SchemaReference). */
export interface SchemaReference {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

/** A referenced schema with its text, in dependency order (a schema's own references come before it). */
export interface ResolvedReference {
  readonly name: string;
  readonly schemaType: SchemaType;
  readonly schema: string;
}

/**
 * One incompatibility. The roles ("new"/"old") are filled in by the caller, because the same check
 * answers BACKWARD (new reads old) and FORWARD (old reads new): Confluent's SchemaValidatorBuilder formats
 * its messages with (reader, writer) the same way.
 */
export type Difference = (reader: string, writer: string) => string;

export interface ParsedSchema {
  readonly schemaType: SchemaType;
  /** The schema as stored and served (Confluent's canonicalString). */
  readonly canonical: string;
  /** The differences that keep this schema (the reader) from reading data written with `writer`. */
  isBackwardCompatible(writer: ParsedSchema): Difference[];
  /**
   * Confluent's ParsedSchema.normalize(): the same schema with the canonical string of its normalized form
   * (what `normalize=true` registers and looks up). The meaning, hence compatibility, is unchanged.
   */
  normalize(): ParsedSchema;
}

/**
 * The references of a normalized schema: sorted by subject then version (Confluent's
 * SchemaReference.compareTo, a stable sort) and without duplicates (same name, subject and version).
 */
export function normalizeReferences(references: readonly SchemaReference[]): SchemaReference[] {
  const sorted = [...references].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version));
  const seen = new Set<string>();
  return sorted.filter((r) => {
    const key = `${r.name}\u0000${r.subject}\u0000${r.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A JSON value with the keys of every object in it sorted, at any depth (Jackson reading into a node
 * factory whose ObjectNodes are TreeMaps, as Confluent's normalizers do; String order is UTF-16 code units,
 * as JavaScript's default sort).
 */
export function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  // Plain objects only: a number kept with its source text (java-json.ts) is a value.
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
  return out;
}

/** A schema that does not parse or validate; the message becomes the 42201 answer's. */
export class SchemaParseError extends Error {
  override readonly name = 'SchemaParseError';
}
