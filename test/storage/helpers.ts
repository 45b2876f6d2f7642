/**
 * Test batches for the storage layer: a valid RecordBatch v2 header (61 bytes) followed by fake record
 * bytes, with a correct CRC-32C. Storage never decodes records, so the payload only has to have the right
 * length; it is filled with a marker byte so tests can tell batches apart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CRC32C from 'crc-32/crc32c';
import type { AppendPosition } from '../../storage/log.js';

export interface TestBatchSpec {
  /** Number of records (offsets) in the batch. */
  records?: number;
  baseOffset?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
  /** Bytes of fake record data after the header. */
  payloadBytes?: number;
  partitionLeaderEpoch?: number;
  fill?: number;
}

function writeInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * 4294967296, pos + 4);
}

export function makeBatch(spec: TestBatchSpec = {}): Buffer {
  const records = spec.records ?? 1;
  const payload = spec.payloadBytes ?? 10;
  const baseTimestamp = spec.baseTimestamp ?? spec.maxTimestamp ?? 1_700_000_000_000;
  const maxTimestamp = spec.maxTimestamp ?? baseTimestamp;
  const buf = Buffer.alloc(61 + payload, spec.fill ?? 0xab);
  writeInt64(buf, 0, spec.baseOffset ?? 0);
  buf.writeInt32BE(49 + payload, 8);
  buf.writeInt32BE(spec.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(0, 21);
  buf.writeInt32BE(records - 1, 23);
  writeInt64(buf, 27, baseTimestamp);
  writeInt64(buf, 35, maxTimestamp);
  writeInt64(buf, 43, -1);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(records, 57);
  buf.writeUInt32BE(CRC32C.buf(buf.subarray(21), 0) >>> 0, 17);
  return buf;
}

/** Concatenates batches into one buffer with the positions Log.append wants. */
export function batchSet(batches: Buffer[]): { buf: Buffer; positions: AppendPosition[] } {
  const positions: AppendPosition[] = [];
  let pos = 0;
  for (const b of batches) {
    positions.push({ pos, size: b.length, lastOffsetDelta: b.readInt32BE(23), maxTimestamp: readInt64(b, 35) });
    pos += b.length;
  }
  return { buf: Buffer.concat(batches), positions };
}

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

export interface ParsedBatch {
  baseOffset: number;
  lastOffset: number;
  size: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  fill: number;
}

/** Splits read results back into batches (header fields only). */
export function parseBatches(buffers: Buffer[] | Buffer): ParsedBatch[] {
  const buf = Array.isArray(buffers) ? Buffer.concat(buffers) : buffers;
  const out: ParsedBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = 12 + buf.readInt32BE(pos + 8);
    if (size < 61 || pos + size > buf.length) throw new Error(`partial batch at ${pos}`);
    const baseOffset = readInt64(buf, pos);
    out.push({
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(pos + 23),
      size,
      maxTimestamp: readInt64(buf, pos + 35),
      partitionLeaderEpoch: buf.readInt32BE(pos + 12),
      fill: size > 61 ? buf[pos + 61]! : -1,
    });
    pos += size;
  }
  return out;
}

export async function tempDir(prefix = 'samsa-storage-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
