/**
 * `samsa dump-log <file...>`: prints what a log directory file holds, in the shape of Kafka's
 * kafka-dump-log.sh (DumpLogSegments), for people studying the on-disk format.
 *
 *   <base>.log              each batch: baseOffset lastOffset count baseSequence lastSequence producerId
 *                           producerEpoch partitionLeaderEpoch isTransactional isControl deleteHorizonMs
 *                           position CreateTime|LogAppendTime size magic compresscodec crc isvalid;
 *                           with --print-data-log (or --deep-iteration) each record under it:
 *                           "| offset: .. CreateTime: .. keySize valueSize sequence headerKeys", and with
 *                           --print-data-log its key, payload and headers. --offsets-decoder decodes
 *                           __consumer_offsets keys and values as JSON (Kafka's format: {"type","data"} /
 *                           {"version","data"}). --cluster-metadata-decoder (implied for a file in a
 *                           `__cluster_metadata-0` directory) decodes KRaft metadata records as
 *                           `payload: {"type":"TOPIC_RECORD","version":0,"data":{...}}` and the KRaft control
 *                           records (LeaderChange, KRaftVersion, KRaftVoters, SnapshotHeader/Footer) as
 *                           Kafka's DumpLogSegments does. Bytes after the last whole batch are reported.
 *   <base>.index            "offset: O position: P" per entry (relative offsets made absolute)
 *   <base>.timeindex        "timestamp: T offset: O" per entry
 *   <base>.snapshot         producer state: one line per producer and retained batch
 *   leader-epoch-checkpoint, cleaner-offset-checkpoint, replication-offset-checkpoint (any *-checkpoint)
 *                           the entries of the text checkpoints
 *   <offset>-<epoch>.checkpoint   a KRaft metadata snapshot: "Snapshot end offset: O, epoch: E", then its
 *                           batches, decoded as with --cluster-metadata-decoder
 * Names with a `.deleted`, `.cleaned` or `.swap` suffix are dumped as the file they were.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Reader } from '../../protocol/primitives.js';
import { inRange, parseVersions, type FieldDecl } from '../../protocol/schema.js';
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  compressionOf,
  isBatchCrcValid,
  isControl,
  isTransactional,
  readBatchHeader,
  timestampTypeIsLogAppend,
  type RecordBatchHeader,
} from '../../protocol/records/batch.js';
import { codecName, decompress } from '../../protocol/records/compression.js';
import { hasDeleteHorizon, iterateRecords, type Record } from '../../protocol/records/record.js';
import {
  ControlRecordType,
  controlRecordType,
  decodeControlRecordValue,
  decodeMetadataRecord,
  KRAFT_CONTROL_RECORDS,
  CONTROL_RECORD_VALUE_VERSION,
  metadataTypeName,
} from '../../protocol/metadata/serde.js';
import { GroupMetadataKey, GroupMetadataValue, OffsetCommitKey, OffsetCommitValue } from '../group/coordinator-records.js';
import { ProducerStateManager } from '../broker/producer-state.js';

export interface DumpOptions {
  /** Print record keys, payloads and headers (implies deepIteration). */
  printDataLog?: boolean;
  /** Print one line per record under each batch. */
  deepIteration?: boolean;
  /** Decode __consumer_offsets keys and values (implies printDataLog). */
  offsetsDecoder?: boolean;
  /** Decode KRaft metadata records (implies printDataLog); implied for files in a __cluster_metadata-0 directory. */
  clusterMetadataDecoder?: boolean;
}

/** The metadata log's directory: its segments hold KRaft metadata records, never anything else. */
const CLUSTER_METADATA_DIR = '__cluster_metadata-0';

type Out = (line: string) => void;

const SUFFIXES = ['.deleted', '.cleaned', '.swap'];

/** A KRaft snapshot: <end offset, 20 digits>-<epoch, 10 digits>.checkpoint (raft:snapshot/Snapshots.java). */
const KRAFT_SNAPSHOT_NAME = /^(\d{20})-(\d{10})\.checkpoint$/;

/** The file's kind from its name, ignoring a transient suffix. */
export function fileKind(path: string): 'log' | 'kraft-snapshot' | 'index' | 'timeindex' | 'snapshot' | 'leader-epoch-checkpoint' | 'offset-checkpoint' | null {
  let name = basename(path);
  for (const s of SUFFIXES) if (name.endsWith(s)) name = name.slice(0, -s.length);
  if (KRAFT_SNAPSHOT_NAME.test(name)) return 'kraft-snapshot';
  if (name.endsWith('.log')) return 'log';
  if (name.endsWith('.index')) return 'index';
  if (name.endsWith('.timeindex')) return 'timeindex';
  if (name.endsWith('.snapshot')) return 'snapshot';
  if (name === 'leader-epoch-checkpoint') return 'leader-epoch-checkpoint';
  if (name.endsWith('-checkpoint')) return 'offset-checkpoint';
  return null;
}

function baseOffsetOf(path: string): number {
  const m = /^(\d{20})\./.exec(basename(path));
  return m ? Number(m[1]) : 0;
}

function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

/** Dumps each file in turn; unknown kinds are reported and skipped. */
export async function dumpFiles(paths: readonly string[], options: DumpOptions, out: Out): Promise<void> {
  for (const path of paths) {
    out(`Dumping ${path}`);
    const kind = fileKind(path);
    const bytes = await readFile(path);
    switch (kind) {
      case 'log':
        await dumpLog(path, bytes, basename(dirname(path)) === CLUSTER_METADATA_DIR ? { ...options, clusterMetadataDecoder: true } : options, out);
        break;
      case 'kraft-snapshot':
        // Batches in the log format, headed by the snapshot's id as Kafka's DumpLogSegments prints it; the
        // records are metadata records, so the decoder is implied wherever the file is.
        await dumpLog(path, bytes, { ...options, clusterMetadataDecoder: true }, out);
        break;
      case 'index':
        dumpOffsetIndex(path, bytes, out);
        break;
      case 'timeindex':
        dumpTimeIndex(path, bytes, out);
        break;
      case 'snapshot':
        dumpSnapshot(bytes, out);
        break;
      case 'leader-epoch-checkpoint':
        dumpCheckpoint(bytes.toString('utf8'), (parts) => `epoch: ${parts[0]} startOffset: ${parts[1]}`, out);
        break;
      case 'offset-checkpoint':
        dumpCheckpoint(bytes.toString('utf8'), (parts) => `topic: ${parts[0]} partition: ${parts[1]} offset: ${parts[2]}`, out);
        break;
      default:
        out(`Ignoring unknown file ${path}`);
    }
  }
}

function dumpOffsetIndex(path: string, bytes: Buffer, out: Out): void {
  const base = baseOffsetOf(path);
  for (let pos = 0; pos + 8 <= bytes.length; pos += 8) out(`offset: ${base + bytes.readInt32BE(pos)} position: ${bytes.readInt32BE(pos + 4)}`);
  if (bytes.length % 8 !== 0) out(`Found ${bytes.length % 8} trailing bytes that are not a whole entry`);
}

function dumpTimeIndex(path: string, bytes: Buffer, out: Out): void {
  const base = baseOffsetOf(path);
  for (let pos = 0; pos + 12 <= bytes.length; pos += 12) out(`timestamp: ${readInt64(bytes, pos)} offset: ${base + bytes.readInt32BE(pos + 8)}`);
  if (bytes.length % 12 !== 0) out(`Found ${bytes.length % 12} trailing bytes that are not a whole entry`);
}

function dumpCheckpoint(text: string, entry: (parts: string[]) => string, out: Out): void {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  out(`version: ${lines[0] ?? '?'}`);
  out(`entries: ${lines[1] ?? '?'}`);
  for (const line of lines.slice(2)) out(entry(line.trim().split(/\s+/)));
}

function dumpSnapshot(bytes: Buffer, out: Out): void {
  const state = new ProducerStateManager();
  try {
    state.loadSnapshot(bytes);
  } catch (err) {
    out(`Unreadable producer state snapshot: ${(err as Error).message}`);
    return;
  }
  for (const e of state.entries()) {
    for (const b of e.batches) {
      out(
        `producerId: ${e.producerId} producerEpoch: ${e.producerEpoch} lastTimestamp: ${e.lastTimestamp} firstSequence: ${b.firstSeq} lastSequence: ${b.lastSeq} ` +
          `firstOffset: ${b.firstOffset} lastOffset: ${b.lastOffset} offsetDelta: ${b.lastOffset - b.firstOffset} timestamp: ${b.timestamp}`,
      );
    }
    if (e.batches.length === 0) out(`producerId: ${e.producerId} producerEpoch: ${e.producerEpoch} lastTimestamp: ${e.lastTimestamp}`);
  }
}

/** Kafka's DefaultRecord.sequence: baseSequence + offsetDelta (wrapping at int32), or -1. */
function sequenceOf(header: RecordBatchHeader, offset: number): number {
  if (header.baseSequence < 0) return -1;
  const s = header.baseSequence + (offset - header.baseOffset);
  return s > 0x7fffffff ? s - 0x80000000 : s;
}

async function dumpLog(path: string, bytes: Buffer, options: DumpOptions, out: Out): Promise<void> {
  const printData = options.printDataLog === true || options.offsetsDecoder === true || options.clusterMetadataDecoder === true;
  const deep = printData || options.deepIteration === true;
  const snapshotId = KRAFT_SNAPSHOT_NAME.exec(basename(path).replace(/\.(deleted|cleaned|swap)$/, ''));
  out(snapshotId ? `Snapshot end offset: ${Number(snapshotId[1])}, epoch: ${Number(snapshotId[2])}` : `Log starting offset: ${baseOffsetOf(path)}`);
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < BATCH_HEADER_SIZE) break;
    const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
    if (size < BATCH_HEADER_SIZE || pos + size > bytes.length) break;
    const batch = bytes.subarray(pos, pos + size);
    const h = readBatchHeader(batch);
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    const timestampType = timestampTypeIsLogAppend(h.attributes) ? 'LogAppendTime' : 'CreateTime';
    const horizon = hasDeleteHorizon(h.attributes) ? `OptionalLong[${h.baseTimestamp}]` : 'OptionalLong.empty';
    const valid = h.magic === 2 && isBatchCrcValid(batch);
    out(
      `baseOffset: ${h.baseOffset} lastOffset: ${lastOffset} count: ${h.recordCount} baseSequence: ${h.baseSequence} lastSequence: ${sequenceOf(h, lastOffset)} ` +
        `producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} partitionLeaderEpoch: ${h.partitionLeaderEpoch} isTransactional: ${isTransactional(h.attributes)} ` +
        `isControl: ${isControl(h.attributes)} deleteHorizonMs: ${horizon} position: ${pos} ${timestampType}: ${h.maxTimestamp} size: ${size} magic: ${h.magic} ` +
        `compresscodec: ${codecName(compressionOf(h.attributes))} crc: ${h.crc} isvalid: ${valid}`,
    );
    if (deep && valid) {
      let records: Record[];
      try {
        const codec = compressionOf(h.attributes);
        const section = codec === 0 ? undefined : await decompress(codec, batch.subarray(BATCH_HEADER_SIZE));
        records = [...iterateRecords(batch, section)];
      } catch (err) {
        out(`| cannot decode the records: ${(err as Error).message}`);
        records = [];
      }
      for (const r of records) out(recordLine(h, r, timestampType, printData, options));
    }
    pos += size;
  }
  if (pos < bytes.length) out(`Found ${bytes.length - pos} invalid bytes at the end of ${basename(path)}`);
}

function recordLine(h: RecordBatchHeader, r: Record, timestampType: string, printData: boolean, options: DumpOptions): string {
  let line =
    `| offset: ${r.offset} ${timestampType}: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} ` +
    `sequence: ${sequenceOf(h, r.offset)} headerKeys: [${r.headers.map((x) => x.key).join(',')}]`;
  if (printData && options.clusterMetadataDecoder === true) return line + clusterMetadataText(r, isControl(h.attributes));
  if (!printData || isControl(h.attributes)) {
    if (isControl(h.attributes) && r.key && r.key.length >= 4) line += ` endTxnMarker: ${r.key.readInt16BE(2) === 1 ? 'COMMIT' : 'ABORT'}`;
    return line;
  }
  const offsetsDecoder = options.offsetsDecoder === true;
  if (offsetsDecoder) {
    const decoded = decodeOffsetsRecord(r.key, r.value);
    if (decoded.key !== null) line += ` key: ${decoded.key}`;
    line += ` payload: ${decoded.payload}`;
    return line;
  }
  if (r.key !== null) line += ` key: ${r.key.toString('utf8')}`;
  line += ` payload: ${r.value === null ? 'null' : r.value.toString('utf8')}`;
  if (r.headers.length > 0) line += ` headers: [${r.headers.map((x) => `${x.key}=${x.value === null ? 'null' : x.value.toString('utf8')}`).join(',')}]`;
  return line;
}

/** The fields of a decoded value that exist at `version` (the decoder fills the others with defaults), as Kafka's JSON converters print them. */
function presentFields(value: unknown, fields: readonly FieldDecl[], version: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  const obj = value as { [name: string]: unknown };
  const out: { [name: string]: unknown } = {};
  for (const f of fields) {
    if (!inRange(version, parseVersions(f.versions))) continue;
    const v = obj[f.name];
    if (f.fields && Array.isArray(v)) out[f.name] = v.map((item) => presentFields(item, f.fields!, version));
    else if (f.fields) out[f.name] = presentFields(v, f.fields, version);
    else out[f.name] = v;
  }
  return out;
}

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    }
    return v;
  });
}

/**
 * A __consumer_offsets record as Kafka's dump tool prints it: key {"type":"<key version>","data":{...}},
 * payload {"version":"<value version>","data":{...}} or null for a tombstone. Unknown or malformed
 * records are shown as "unknown" with their sizes.
 */
export function decodeOffsetsRecord(key: Buffer | null, value: Buffer | null): { key: string | null; payload: string } {
  if (key === null) return { key: null, payload: value === null ? 'null' : `unknown (${value.length} bytes)` };
  try {
    const kr = new Reader(key);
    const keyVersion = kr.int16();
    const keyDecl = keyVersion === 0 || keyVersion === 1 ? OffsetCommitKey : keyVersion === 2 ? GroupMetadataKey : null;
    if (!keyDecl) return { key: `unknown key version ${keyVersion}`, payload: value === null ? 'null' : `unknown (${value.length} bytes)` };
    const keyJson = toJson({ type: String(keyVersion), data: presentFields(keyDecl.decode(kr, keyVersion), keyDecl.decl.fields, keyVersion) });
    if (value === null) return { key: keyJson, payload: 'null' };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    const valueDecl = keyVersion === 2 ? GroupMetadataValue : OffsetCommitValue;
    if (valueVersion < 0 || valueVersion > 4) return { key: keyJson, payload: `unknown value version ${valueVersion}` };
    return { key: keyJson, payload: toJson({ version: String(valueVersion), data: presentFields(valueDecl.decode(vr, valueVersion), valueDecl.decl.fields, valueVersion) }) };
  } catch (err) {
    return { key: `undecodable (${(err as Error).message})`, payload: value === null ? 'null' : `${value.length} bytes` };
  }
}

// ---------------------------------------------------------------------------------------------------
// __cluster_metadata (KIP-631): Kafka's DumpLogSegments with --cluster-metadata-decoder

/** DumpLogSegments' label for each KRaft control record type. */
const CONTROL_LABELS = new Map<number, string>([
  [ControlRecordType.LEADER_CHANGE, 'LeaderChange:'],
  [ControlRecordType.SNAPSHOT_HEADER, 'SnapshotHeader'],
  [ControlRecordType.SNAPSHOT_FOOTER, 'SnapshotFooter'],
  [ControlRecordType.KRAFT_VERSION, 'KRaftVersion'],
  [ControlRecordType.KRAFT_VOTERS, 'KRaftVoters'],
]);

/** What follows the record line: ` payload: {...}` for a metadata record, ` <Label> {...}` for a control record. */
function clusterMetadataText(r: Record, control: boolean): string {
  try {
    if (control) {
      const type = controlRecordType(r.key);
      const codec = KRAFT_CONTROL_RECORDS.get(type);
      if (!codec) return type === ControlRecordType.COMMIT || type === ControlRecordType.ABORT ? ` endTxnMarker: ${type === 1 ? 'COMMIT' : 'ABORT'}` : ` controlType: UNKNOWN(${type})`;
      const data = decodeControlRecordValue(type, r.value ?? Buffer.alloc(0));
      return ` ${CONTROL_LABELS.get(type)!} ${kafkaJson(data, codec.decl.fields, CONTROL_RECORD_VALUE_VERSION)}`;
    }
    if (r.value === null) return ' payload: null';
    const d = decodeMetadataRecord(r.value);
    return ` payload: {"type":"${metadataTypeName(d.codec.decl.name)}","version":${d.version},"data":${kafkaJson(d.data, d.codec.decl.fields, d.version)}}`;
  } catch (err) {
    return ` payload: undecodable (${(err as Error).message})`;
  }
}

/**
 * A decoded message as Kafka's generated JsonConverters write it: fields in declaration order, those absent
 * from the version left out, tagged fields only when not at their default; int64 as a JSON number (all
 * digits), uuids in Kafka's base64url form, bytes in base64.
 */
export function kafkaJson(value: unknown, fields: readonly FieldDecl[], version: number): string {
  if (value === null || typeof value !== 'object') return jsonScalar(value);
  const obj = value as { [name: string]: unknown };
  const parts: string[] = [];
  for (const f of fields) {
    if (!inRange(version, parseVersions(f.versions))) continue;
    const v = obj[f.name];
    if (f.tag !== undefined && inRange(version, parseVersions(f.taggedVersions ?? f.versions)) && isTaggedDefault(f, v)) continue;
    let text: string;
    if (v === null || v === undefined) text = 'null';
    else if (f.fields && Array.isArray(v)) text = `[${v.map((item) => kafkaJson(item, f.fields!, version)).join(',')}]`;
    else if (f.fields) text = kafkaJson(v, f.fields, version);
    else if (Array.isArray(v)) text = `[${v.map((item) => jsonScalar(item, f.type.slice(2))).join(',')}]`;
    else text = jsonScalar(v, f.type);
    parts.push(`${JSON.stringify(f.name)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

function isTaggedDefault(f: FieldDecl, v: unknown): boolean {
  if (f.type.startsWith('[]')) return f.default === null ? v === null : Array.isArray(v) && v.length === 0;
  if (f.default === null) return v === null;
  switch (f.type) {
    case 'bool':
      return v === (f.default === true || f.default === 'true');
    case 'int64':
      return v === BigInt((f.default as number | bigint | string | undefined) ?? 0);
    case 'string':
      return v === (typeof f.default === 'string' ? f.default : '');
    case 'uuid':
      return v === '00000000-0000-0000-0000-000000000000';
    default:
      return v === Number(f.default ?? 0);
  }
}

function jsonScalar(v: unknown, type?: string): string {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (type === 'uuid' && typeof v === 'string') return JSON.stringify(Buffer.from(v.replace(/-/g, ''), 'hex').toString('base64url'));
  return JSON.stringify(v) ?? 'null';
}
