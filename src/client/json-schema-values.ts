/**
 * `samsa produce --schema-registry` with a JSON schema (avro-values.ts fetches it): a line of JSON,
 * validated against the schema (as KafkaJsonSchemaSerializer does with json.fail.invalid.schema=true, so
 * the command never writes a value its schema refuses), written as magic byte 0, the schema id, the JSON
 * text as UTF-8 (KafkaJsonSchemaSerializer's format: no message indexes, unlike Protobuf's).
 */
import { Ajv } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { SchemaLookupError, type ValueEncoder } from './value-encoder.js';

/** Values of JSON schema `id` (its text `schemaText`); `header` is the wire format's magic byte and id. */
export function jsonSchemaEncoder(schemaText: string, id: number, header: Buffer): ValueEncoder {
  const schema = JSON.parse(schemaText) as unknown;
  const dialect = typeof schema === 'object' && schema !== null && typeof (schema as { $schema?: unknown }).$schema === 'string' ? (schema as { $schema: string }).$schema : '';
  const opts = { strict: false, validateFormats: false, allErrors: false };
  // The dialect as the registry reads it (src/registry/json-schema.ts): 2020-12, 2019-09, else draft-07
  // rules, which accept drafts 4 and 6 once their $schema is dropped.
  const ajv = dialect.includes('2020-12') ? new Ajv2020(opts) : dialect.includes('2019-09') ? new Ajv2019(opts) : new Ajv(opts);
  const forAjv = /draft-0[346]/.test(dialect) ? (({ $schema: _dropped, ...rest }) => rest)(schema as { $schema: string }) : schema;
  const validate = ajv.compile(forAjv as object | boolean);
  return {
    schemaId: id,
    encode(line, lineNumber) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new SchemaLookupError(`line ${lineNumber}: not JSON: ${(err as Error).message}`);
      }
      if (!validate(value)) {
        const e = validate.errors?.[0];
        throw new SchemaLookupError(`line ${lineNumber}: not a value of JSON schema ${id}: ${e === undefined ? 'invalid' : `${e.instancePath === '' ? '(root)' : e.instancePath} ${e.message ?? ''}`.trim()}`);
      }
      // The line as given (it parsed): JSON text, as KafkaJsonSchemaSerializer writes, and not re-serialized
      // through JavaScript numbers, which would round integers beyond 2^53.
      return Buffer.concat([header, Buffer.from(line.trim(), 'utf8')]);
    },
  };
}
