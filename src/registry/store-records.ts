/**
 * The records of the `_schemas` topic, in Confluent's JSON formats so the topic is interchangeable with
 * Confluent's and Karapace's registries (io.confluent.kafka.schemaregistry.storage.*Key / *Value):
 *
 * - keys, in Confluent's fixed property order:
 *   `{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}`, `{"keytype":"CONFIG","subject":null,"magic":0}`,
 *   `{"keytype":"MODE","subject":"s","magic":0}`, `{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}`,
 *   `{"keytype":"CLEAR_SUBJECT",...}`, `{"keytype":"NOOP","magic":0}`,
 *   `{"keytype":"CONTEXT","tenant":"default","context":".ctx","magic":0}` (value `{"tenant","context"}`);
 * - values: SchemaValue `{"subject","version","id","schemaType"?,"references"?,"schema","deleted"}`,
 *   ConfigValue `{"compatibilityLevel","normalize"?}`, ModeValue `{"mode"}`, DeleteSubjectValue `{"subject","version"}`;
 * - a soft delete rewrites the SCHEMA record with `"deleted":true`; a hard delete, a removed config or mode
 *   is a tombstone (null value), which compaction removes after `delete.retention.ms`.
 *
 * Keys Samsa does not use (ASSOC, ...) decode to null and are skipped on replay.
 */
import type { SchemaReference, SchemaType } from './parsed-schema.js';

export interface SchemaValue {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schemaType: SchemaType;
  readonly references: readonly SchemaReference[];
  readonly schema: string;
  readonly deleted: boolean;
}

/** Confluent's ConfigValue, the fields Samsa keeps (`@JsonInclude(NON_EMPTY)`: absent ones are not written). */
export interface ConfigValue {
  readonly compatibilityLevel?: string;
  readonly normalize?: boolean;
}

export type StoreRecord =
  | { readonly keytype: 'SCHEMA'; readonly subject: string; readonly version: number; readonly value: SchemaValue | null }
  | { readonly keytype: 'CONFIG'; readonly subject: string | null; readonly value: ConfigValue | null }
  | { readonly keytype: 'MODE'; readonly subject: string | null; readonly value: { readonly mode: string } | null }
  | { readonly keytype: 'DELETE_SUBJECT'; readonly subject: string; readonly value: { readonly version: number } | null }
  | { readonly keytype: 'CLEAR_SUBJECT'; readonly subject: string; readonly value: null }
  /** A context (Confluent's ContextKey/ContextValue), written before the first schema registered in it. */
  | { readonly keytype: 'CONTEXT'; readonly tenant: string; readonly context: string; readonly value: { readonly tenant: string; readonly context: string } | null }
  | { readonly keytype: 'NOOP' };

export function encodeKey(r: StoreRecord): Buffer {
  const subject = (s: string | null): string => JSON.stringify(s);
  switch (r.keytype) {
    case 'SCHEMA':
      return Buffer.from(`{"keytype":"SCHEMA","subject":${subject(r.subject)},"version":${r.version},"magic":1}`);
    case 'NOOP':
      return Buffer.from('{"keytype":"NOOP","magic":0}');
    case 'CONTEXT':
      // @JsonPropertyOrder({"keytype", "tenant", "context"}), then the key's magic.
      return Buffer.from(`{"keytype":"CONTEXT","tenant":${JSON.stringify(r.tenant)},"context":${JSON.stringify(r.context)},"magic":0}`);
    default:
      return Buffer.from(`{"keytype":"${r.keytype}","subject":${subject(r.subject)},"magic":0}`);
  }
}

export function encodeValue(r: StoreRecord): Buffer | null {
  switch (r.keytype) {
    case 'SCHEMA': {
      const v = r.value;
      if (v === null) return null;
      const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
      if (v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
      if (v.references.length > 0) out.references = v.references;
      out.schema = v.schema;
      out.deleted = v.deleted;
      return Buffer.from(JSON.stringify(out));
    }
    case 'CONFIG':
    case 'MODE':
      return r.value === null ? null : Buffer.from(JSON.stringify(r.value));
    case 'DELETE_SUBJECT':
      return r.value === null ? null : Buffer.from(JSON.stringify({ subject: r.subject, version: r.value.version }));
    case 'CLEAR_SUBJECT':
      return null;
    case 'NOOP':
      return null;
    case 'CONTEXT':
      return r.value === null ? null : Buffer.from(JSON.stringify({ tenant: r.value.tenant, context: r.value.context }));
  }
}

export class StoreRecordError extends Error {
  override readonly name = 'StoreRecordError';
}

function parseObject(buf: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new StoreRecordError(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new StoreRecordError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new StoreRecordError(`"${k}" is not a string`);
  return v;
}

function int(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new StoreRecordError(`"${k}" is not an integer`);
  return v;
}

function schemaType(v: unknown): SchemaType {
  if (v === undefined || v === null || v === 'AVRO') return 'AVRO';
  if (v === 'JSON' || v === 'PROTOBUF') return v;
  throw new StoreRecordError(`unknown schemaType ${JSON.stringify(v)}`);
}

function references(v: unknown): SchemaReference[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new StoreRecordError('"references" is not an array');
  return v.map((r: unknown) => {
    if (typeof r !== 'object' || r === null) throw new StoreRecordError('a reference is not an object');
    const o = r as Record<string, unknown>;
    return { name: str(o, 'name'), subject: str(o, 'subject'), version: int(o, 'version') };
  });
}

/** null for keys of types Samsa does not keep. Throws StoreRecordError for a malformed record. */
export function decodeRecord(key: Buffer, value: Buffer | null): StoreRecord | null {
  const k = parseObject(key, 'key');
  const subjectOrNull = (): string | null => (k.subject === null || k.subject === undefined ? null : str(k, 'subject'));
  switch (k.keytype) {
    case 'SCHEMA': {
      const subject = str(k, 'subject');
      const version = int(k, 'version');
      if (value === null) return { keytype: 'SCHEMA', subject, version, value: null };
      const v = parseObject(value, 'SCHEMA value');
      return {
        keytype: 'SCHEMA',
        subject,
        version,
        value: {
          subject: str(v, 'subject'),
          version: int(v, 'version'),
          id: int(v, 'id'),
          schemaType: schemaType(v.schemaType),
          references: references(v.references),
          schema: str(v, 'schema'),
          deleted: v.deleted === true,
        },
      };
    }
    case 'CONFIG': {
      const subject = subjectOrNull();
      if (value === null) return { keytype: 'CONFIG', subject, value: null };
      const v = parseObject(value, 'CONFIG value');
      const config: { compatibilityLevel?: string; normalize?: boolean } = {};
      if (v.compatibilityLevel !== undefined && v.compatibilityLevel !== null) config.compatibilityLevel = str(v, 'compatibilityLevel');
      if (typeof v.normalize === 'boolean') config.normalize = v.normalize;
      return { keytype: 'CONFIG', subject, value: config };
    }
    case 'MODE': {
      const subject = subjectOrNull();
      if (value === null) return { keytype: 'MODE', subject, value: null };
      return { keytype: 'MODE', subject, value: { mode: str(parseObject(value, 'MODE value'), 'mode') } };
    }
    case 'DELETE_SUBJECT': {
      const subject = str(k, 'subject');
      if (value === null) return { keytype: 'DELETE_SUBJECT', subject, value: null };
      return { keytype: 'DELETE_SUBJECT', subject, value: { version: int(parseObject(value, 'DELETE_SUBJECT value'), 'version') } };
    }
    case 'CLEAR_SUBJECT':
      return { keytype: 'CLEAR_SUBJECT', subject: str(k, 'subject'), value: null };
    case 'NOOP':
      return { keytype: 'NOOP' };
    case 'CONTEXT': {
      const tenant = str(k, 'tenant');
      const context = str(k, 'context');
      if (value === null) return { keytype: 'CONTEXT', tenant, context, value: null };
      const v = parseObject(value, 'CONTEXT value');
      return { keytype: 'CONTEXT', tenant, context, value: { tenant: str(v, 'tenant'), context: str(v, 'context') } };
    }
    default:
      return null;
  }
}
