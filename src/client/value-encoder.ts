/**
 * What `samsa produce --schema-registry` turns each stdin line into (avro-values.ts for AVRO schemas,
 * json-schema-values.ts for JSON schemas), and its error: apart so the two encoders import neither each
 * other nor in a cycle.
 */

/** The registry refused the lookup, the schema is not one the encoders handle, or a line does not fit it. */
export class SchemaLookupError extends Error {
  override readonly name = 'SchemaLookupError';
}

export interface ValueEncoder {
  readonly schemaId: number;
  /** The value in Confluent's wire format (magic byte 0, schema id, the encoded value). */
  encode(line: string, lineNumber: number): Buffer;
}
