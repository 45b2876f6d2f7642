/**
 * How the console's message browser shows a record key, value or header: through the schema registry when
 * the bytes are in Confluent's wire format (magic byte 0, the schema id as a big-endian int32, then the
 * payload; for Protobuf the message indexes come first, as zig-zag varints), else as JSON, UTF-8 text or
 * hex. Avro is decoded with avsc, Protobuf with protobufjs, JSON Schema payloads are JSON text.
 *
 * A value that does not decode with the schema its header names (corrupt bytes, a reader bug, a schema
 * deleted since) is shown as hex with the reason, never dropped: the browser is for looking at what is
 * really in the log.
 */
import avsc from 'avsc';
import protobuf from 'protobufjs';
import type { SchemaRegistry } from '../registry/registry.js';
import type { SchemaReference } from '../registry/parsed-schema.js';

export type DecodeFormat = 'auto' | 'text' | 'hex' | 'json' | 'schema';

export interface Decoded {
  /** avro, protobuf, json-schema (registry), json, text, hex; null for a null key/value. */
  readonly format: string | null;
  readonly schemaId?: number;
  /** The Protobuf message type, or the Avro record name. */
  readonly type?: string;
  readonly value: unknown;
  /** Why a requested or recognised decoding failed (the value is then hex). */
  readonly error?: string;
  readonly size: number;
}

/** Bytes shown as hex at most (the size is always given). */
const MAX_HEX_BYTES = 4096;
/** Text shown at most, in characters. */
const MAX_TEXT_CHARS = 65_536;
/** Decoders kept per registry, by schema id. */
const DECODER_CACHE = 256;

type Decoder = (payload: Buffer) => { value: unknown; type?: string; consumed?: boolean };

interface DecoderEntry {
  readonly schemaType: string;
  readonly decode: Decoder;
}

function hex(buf: Buffer): string {
  const shown = buf.subarray(0, MAX_HEX_BYTES).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return buf.length > MAX_HEX_BYTES ? `${shown} …` : shown;
}

/** UTF-8 that round-trips and has no control characters other than tab, newline and carriage return. */
function asText(buf: Buffer): string | null {
  const s = buf.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(buf)) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) return null;
  return s;
}

/** avsc and protobufjs values as plain JSON: longs and bigints as strings, bytes as hex. */
export function plain(v: unknown): unknown {
  if (v === null || v === undefined) return v ?? null;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = plain(x);
    return o;
  }
  return v;
}

/** Confluent's message indexes: a zig-zag varint count, then that many zig-zag varint indexes ([0] as a single 0). */
function readMessageIndexes(buf: Buffer): { indexes: number[]; length: number } {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('message indexes run past the value');
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new Error('message index varint too long');
    }
    return (result >>> 1) ^ -(result & 1);
  };
  const count = varint();
  if (count === 0) return { indexes: [0], length: pos };
  if (count < 0 || count > 100) throw new Error(`bad message index count ${count}`);
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) indexes.push(varint());
  return { indexes, length: pos };
}

export class ConsoleDecoder {
  private readonly cache = new Map<number, DecoderEntry | { error: string }>();

  constructor(private readonly registry: SchemaRegistry | null) {}

  decode(buf: Buffer | null, format: DecodeFormat = 'auto'): Decoded {
    if (buf === null) return { format: null, value: null, size: 0 };
    const size = buf.length;
    if (format === 'hex') return { format: 'hex', value: hex(buf), size };
    if (format === 'auto' || format === 'schema') {
      if (this.registry !== null && buf.length >= 5 && buf[0] === 0) {
        const id = buf.readInt32BE(1);
        const entry = this.decoderFor(id);
        if ('error' in entry) {
          if (format === 'schema') return { format: 'hex', schemaId: id, value: hex(buf), error: entry.error, size };
        } else {
          try {
            const d = entry.decode(buf.subarray(5));
            return { format: entry.schemaType.toLowerCase() === 'json' ? 'json-schema' : entry.schemaType.toLowerCase(), schemaId: id, ...(d.type !== undefined ? { type: d.type } : {}), value: plain(d.value), size };
          } catch (err) {
            return { format: 'hex', schemaId: id, value: hex(buf), error: `schema ${id} (${entry.schemaType}) does not decode it: ${(err as Error).message}`, size };
          }
        }
      } else if (format === 'schema') {
        return { format: 'hex', value: hex(buf), error: this.registry === null ? 'the schema registry is off' : 'not in the schema registry wire format (magic byte 0 + schema id)', size };
      }
    }
    const text = asText(buf);
    if (format === 'json' || format === 'auto') {
      if (text !== null && /^\s*[[{"]/.test(text)) {
        try {
          return { format: 'json', value: JSON.parse(text) as unknown, size };
        } catch (err) {
          if (format === 'json') return { format: 'hex', value: hex(buf), error: `not JSON: ${(err as Error).message}`, size };
        }
      } else if (format === 'json') {
        return { format: 'hex', value: hex(buf), error: 'not JSON text', size };
      }
    }
    if (text !== null) return { format: 'text', value: text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…` : text, size };
    return { format: 'hex', value: hex(buf), ...(format === 'text' ? { error: 'not UTF-8 text' } : {}), size };
  }

  private decoderFor(id: number): DecoderEntry | { error: string } {
    let entry = this.cache.get(id);
    if (entry === undefined) {
      try {
        entry = this.build(id);
      } catch (err) {
        entry = { error: `schema ${id}: ${(err as Error).message}` };
      }
      this.cache.set(id, entry);
      if (this.cache.size > DECODER_CACHE) this.cache.delete(this.cache.keys().next().value!);
    }
    return entry;
  }

  /** The schemas a schema references, transitively, each after its own references. */
  private references(refs: readonly SchemaReference[], seen = new Set<string>()): { name: string; schema: string }[] {
    const out: { name: string; schema: string }[] = [];
    for (const ref of refs) {
      const key = `${ref.subject}\u0000${ref.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const v = this.registry!.getVersion(ref.subject, ref.version === -1 ? 'latest' : ref.version, true);
      out.push(...this.references(v.references, seen), { name: ref.name, schema: v.schema });
    }
    return out;
  }

  private build(id: number): DecoderEntry {
    const s = this.registry!.getSchemaById(id);
    const refs = this.references(s.references);
    switch (s.schemaType) {
      case 'AVRO': {
        const registry: Record<string, avsc.Type> = {};
        for (const r of refs) avsc.Type.forSchema(JSON.parse(r.schema) as avsc.Schema, { registry });
        const type = avsc.Type.forSchema(JSON.parse(s.schema) as avsc.Schema, { registry });
        return { schemaType: 'AVRO', decode: (payload) => ({ value: type.fromBuffer(payload), ...(type.name !== undefined ? { type: type.name } : {}) }) };
      }
      case 'PROTOBUF': {
        const root = new protobuf.Root();
        for (const r of refs) protobuf.parse(r.schema, root, { keepCase: true });
        const parsed = protobuf.parse(s.schema, root, { keepCase: true });
        root.resolveAll();
        const pkg = parsed.package === undefined ? root : root.lookup(parsed.package);
        if (!(pkg instanceof protobuf.Namespace)) throw new Error(`package ${parsed.package} not found`);
        // Top-level messages in declaration order: the first message index counts among them.
        const top = pkg.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
        return {
          schemaType: 'PROTOBUF',
          decode: (payload) => {
            const { indexes, length } = readMessageIndexes(payload);
            let type: protobuf.Type | undefined = top[indexes[0]!];
            for (const i of indexes.slice(1)) type = type?.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)[i];
            if (type === undefined) throw new Error(`no message at index path [${indexes.join(', ')}]`);
            const message = type.decode(payload.subarray(length));
            return { value: type.toObject(message, { longs: String, enums: String, bytes: String, defaults: true }), type: type.fullName.replace(/^\./, '') };
          },
        };
      }
      case 'JSON':
        return { schemaType: 'JSON', decode: (payload) => ({ value: JSON.parse(payload.toString('utf8')) as unknown }) };
      default:
        throw new Error(`unknown schema type ${String(s.schemaType)}`);
    }
  }
}
