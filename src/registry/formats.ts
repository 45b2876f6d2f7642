/**
 * The schema formats this registry serves (`GET /schemas/types`) and the parser of each. A missing
 * `schemaType` means AVRO, as in Confluent's Schema constructor.
 */
import { parseAvro } from './avro.js';
import { parseJsonSchema } from './json-schema.js';
import { parseProtobuf } from './protobuf.js';
import { SchemaParseError, type ParsedSchema, type ResolvedReference, type SchemaType } from './parsed-schema.js';

export const SCHEMA_TYPES: readonly SchemaType[] = ['JSON', 'PROTOBUF', 'AVRO'];

export function isSchemaType(s: string): s is SchemaType {
  return (SCHEMA_TYPES as readonly string[]).includes(s);
}

export function parseSchema(schemaType: SchemaType, schema: string, references: readonly ResolvedReference[]): ParsedSchema {
  switch (schemaType) {
    case 'AVRO':
      return parseAvro(schema, references);
    case 'JSON':
      return parseJsonSchema(schema, references);
    case 'PROTOBUF':
      return parseProtobuf(schema, references);
    default:
      throw new SchemaParseError(`Schema type ${schemaType} is not supported by this registry`);
  }
}
