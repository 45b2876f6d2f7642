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
}

/** A schema that does not parse or validate; the message becomes the 42201 answer's. */
export class SchemaParseError extends Error {
  override readonly name = 'SchemaParseError';
}
