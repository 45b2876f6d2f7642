/**
 * Snappy for codec 2, in both shapes Kafka clients produce:
 *
 * - raw: one snappy block (uvarint uncompressed length, then literal/copy elements). librdkafka, Sarama
 *   and kafkajs' snappy codecs write this.
 * - xerial (snappy-java's SnappyOutputStream, used by the Java client):
 *     magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 | version int32 BE (1) | min compatible version int32 BE (1)
 *     then chunks: compressed length int32 BE | one raw snappy block (of at most 32 KiB input)
 *   The Java reader also accepts raw snappy (no magic = one raw block), so either shape is readable by all.
 *
 * Compression uses the `snappyjs` package. Decompression uses our own strict block decoder: the declared
 * length is checked against the limit before allocating, and a block must decode to exactly its declared
 * length with every copy inside the output (snappyjs leaves a short block's tail zero-filled).
 */
import snappyjs from 'snappyjs';
import { ProtocolError } from '../primitives.js';

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_MAGIC_HEAD = XERIAL_MAGIC.readInt32BE(0);
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

function fail(message: string): never {
  throw new ProtocolError(`snappy: ${message}`);
}

/** Whether `data` starts with the xerial (snappy-java stream) header. */
export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** The uncompressed length declared by the raw block at `data[start, end)`, and where its elements begin. */
function readPreamble(data: Buffer, start: number, end: number): { length: number; pos: number } {
  let length = 0;
  let pos = start;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) fail('truncated length preamble');
    const b = data[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) {
      if (length > 0xffffffff) fail('length preamble overflows 32 bits');
      return { length, pos };
    }
  }
  return fail('length preamble longer than 5 bytes');
}

/** Decodes the raw block `src[start, end)` into `dst` at `at`; it must produce exactly `length` bytes. */
function decodeRawInto(src: Buffer, i: number, end: number, dst: Buffer, at: number, length: number): void {
  const stop = at + length;
  let j = at;
  while (i < end) {
    const tag = src[i++]!;
    const type = tag & 3;
    if (type === 0) {
      let n = (tag >>> 2) + 1;
      if (n > 60) {
        const extra = n - 60; // 1..4 little-endian length bytes
        if (end - i < extra) fail('truncated literal length');
        n = 0;
        for (let k = extra - 1; k >= 0; k--) n = n * 256 + src[i + k]!;
        n += 1;
        i += extra;
      }
      if (n > end - i) fail('literal runs past the input');
      if (n > stop - j) fail('literal runs past the declared length');
      src.copy(dst, j, i, i + n);
      i += n;
      j += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (type === 1) {
      if (end - i < 1) fail('truncated copy');
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[i]!;
      i += 1;
    } else if (type === 2) {
      if (end - i < 2) fail('truncated copy');
      n = (tag >>> 2) + 1;
      offset = src.readUInt16LE(i);
      i += 2;
    } else {
      if (end - i < 4) fail('truncated copy');
      n = (tag >>> 2) + 1;
      offset = src.readUInt32LE(i);
      i += 4;
    }
    if (offset === 0 || offset > j - at) fail(`copy offset ${offset} reaches before the output`);
    if (n > stop - j) fail('copy runs past the declared length');
    let from = j - offset;
    if (offset >= n) {
      dst.copyWithin(j, from, from + n);
      j += n;
    } else {
      const copyStop = j + n;
      while (j < copyStop) dst[j++] = dst[from++]!;
    }
  }
  if (j !== stop) fail(`block decodes to ${j - at} bytes, declares ${length}`);
}

/** Decompresses one raw snappy block, refusing a declared length above `maxBytes`. */
export function snappyDecompressRaw(data: Buffer, maxBytes: number): Buffer {
  const { length, pos } = readPreamble(data, 0, data.length);
  if (length > maxBytes) fail(`declared length ${length} exceeds the ${maxBytes}-byte limit`);
  const out = Buffer.allocUnsafe(length);
  decodeRawInto(data, pos, data.length, out, 0, length);
  return out;
}

/** Decompresses a snappy-java (xerial) stream: header, then length-prefixed raw blocks. */
export function snappyDecompressXerial(data: Buffer, maxBytes: number): Buffer {
  if (!isXerialFramed(data)) fail('missing xerial header');
  // Pass 1: validate the chunk framing and sum the declared lengths, so the output is allocated once.
  const chunks: { start: number; end: number; length: number; pos: number }[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) fail('truncated xerial chunk length');
    const size = data.readInt32BE(pos);
    if (size === XERIAL_MAGIC_HEAD && isXerialFramed(data.subarray(pos))) {
      pos += XERIAL_HEADER_SIZE; // concatenated streams (snappy-java reads them too)
      continue;
    }
    pos += 4;
    if (size < 0 || size > data.length - pos) fail(`xerial chunk of ${size} bytes overruns the input`);
    if (size > 0) {
      const preamble = readPreamble(data, pos, pos + size);
      total += preamble.length;
      if (total > maxBytes) fail(`decompressed size exceeds the ${maxBytes}-byte limit`);
      chunks.push({ start: pos, end: pos + size, length: preamble.length, pos: preamble.pos });
    }
    pos += size;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const c of chunks) {
    decodeRawInto(data, c.pos, c.end, out, at, c.length);
    at += c.length;
  }
  return out;
}

/** Decompresses either shape, telling them apart by the xerial magic (as snappy-java and librdkafka do). */
export function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  return isXerialFramed(data) ? snappyDecompressXerial(data, maxBytes) : snappyDecompressRaw(data, maxBytes);
}

/** One raw snappy block. */
export function snappyCompressRaw(data: Buffer): Buffer {
  return snappyjs.compress(data);
}

/** The xerial stream the Java client writes: header, then one length-prefixed raw block per 32 KiB. */
export function snappyCompressXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, 12);
  parts.push(header);
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_SIZE) {
    const block = snappyjs.compress(data.subarray(start, Math.min(start + XERIAL_BLOCK_SIZE, data.length)));
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(block.length, 0);
    parts.push(prefix, block);
  }
  return Buffer.concat(parts);
}
