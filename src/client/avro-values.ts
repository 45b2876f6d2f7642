/**
 * `samsa produce --schema-registry URL`: record values written as Confluent's serializers write them, from
 * one line each, with the schema fetched from any Confluent-compatible registry (Samsa's built-in one,
 * Confluent's, Karapace) by subject or id:
 * - AVRO: a line of Avro's JSON encoding (as kafka-avro-console-producer reads it) -> magic byte 0, the
 *   schema id as a big-endian int32, the Avro binary encoding (KafkaAvroSerializer).
 * - JSON (JSON Schema): a line of JSON, validated, as KafkaJsonSchemaSerializer writes it
 *   (json-schema-values.ts, loaded only for such a schema).
 */
import avsc from 'avsc';
import { ConnectionError } from './connection.js';
import { SchemaLookupError, type ValueEncoder } from './value-encoder.js';

export { SchemaLookupError, type ValueEncoder } from './value-encoder.js';

async function getJson(url: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: 'application/vnd.schemaregistry.v1+json' } });
  } catch (err) {
    throw new ConnectionError(`schema registry ${url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SchemaLookupError(`schema registry ${url}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) throw new SchemaLookupError(`schema registry ${url}: HTTP ${res.status} error_code ${String(body.error_code)}: ${String(body.message)}`);
  return body;
}

/** The encoder for the latest version of `subject`, or for schema `id`. */
export async function registryValueEncoder(registry: string, target: { subject: string } | { id: number }): Promise<ValueEncoder> {
  const base = registry.replace(/\/+$/, '');
  const body = 'subject' in target ? await getJson(`${base}/subjects/${encodeURIComponent(target.subject)}/versions/latest`) : await getJson(`${base}/schemas/ids/${target.id}`);
  const schemaType = typeof body.schemaType === 'string' ? body.schemaType : 'AVRO';
  if (schemaType !== 'AVRO' && schemaType !== 'JSON') throw new SchemaLookupError(`schema ${'subject' in target ? target.subject : target.id} is ${schemaType}; samsa produce encodes AVRO and JSON only`);
  if (Array.isArray(body.references) && body.references.length > 0) throw new SchemaLookupError('schemas with references are not supported by samsa produce yet');
  const id = 'id' in target ? target.id : Number(body.id);
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  // Apart, and imported only here: the samsa command (and so the broker's start) does not load ajv otherwise.
  if (schemaType === 'JSON') return (await import('./json-schema-values.js')).jsonSchemaEncoder(String(body.schema), id, header);
  const type = avsc.Type.forSchema(JSON.parse(String(body.schema)) as avsc.Schema);
  return {
    schemaId: id,
    encode(line, lineNumber) {
      let value: unknown;
      try {
        value = type.fromString(line);
      } catch (err) {
        throw new SchemaLookupError(`line ${lineNumber}: not a value of schema ${id} in Avro's JSON encoding: ${(err as Error).message}`);
      }
      return Buffer.concat([header, type.toBuffer(value)]);
    },
  };
}
