/**
 * LZ4 frame format (lz4_Frame_format.md v1.6), as Kafka uses it for codec 3 since magic 1 (KIP-57 fixed the
 * descriptor checksum).
 *
 *   magic 0x184D2204 (LE) | FLG | BD | [content size u64 LE] | [dictId u32 LE] | HC
 *   blocks: size u32 LE (high bit = stored uncompressed, 0 = end mark) | data | [block checksum u32 LE]
 *   after the end mark: [content checksum u32 LE = xxh32(all content)]
 *   FLG: bits 7-6 version (01), 5 block independence, 4 block checksum, 3 content size,
 *        2 content checksum, 1 reserved (0), 0 dictId
 *   BD:  bits 6-4 block max size (4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB), others reserved (0)
 *   HC:  (xxh32(FLG .. end of descriptor, seed 0) >> 8) & 0xFF
 *
 * Writing: exactly what the Java client writes (Lz4BlockOutputStream): FLG 0x60 (independent blocks, no
 * checksums, no content size), BD 0x40 (64 KiB blocks), a block stored raw when compression does not pay.
 * The Java reader refuses dependent blocks, so independence is not optional.
 *
 * Reading: the whole spec except dictionaries: content size, block and content checksums (verified),
 * dependent blocks (matches may reach into the previous blocks' output), skippable frames, and several
 * frames back to back. The block decoder is our own and bounds-checked: output never exceeds `maxBytes`
 * and a malformed block is a ProtocolError, never an out-of-range read or write.
 *
 * The block compressor is our own too (compressBlock): a greedy single-pass matcher over a hash of 4-byte
 * sequences, the scheme of liblz4's fast mode. Its output is plain LZ4 block format, which every decoder
 * reads (the lz4 CLI decodes our frames in test/protocol/records/compression.test.ts). Owning it removes
 * the `lz4` package, whose install script builds a native addon with node-gyp (python, make, a C++
 * compiler) that Samsa never loaded.
 */
import { ProtocolError } from '../primitives.js';
import { xxhash32 } from './xxhash32.js';

const MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC = 0x184d2a50; // .. 0x184d2a5f
const BLOCK_UNCOMPRESSED = 0x80000000;
const BLOCK_MAX_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
/** 64 KiB blocks, as the Java client and librdkafka write them. */
const WRITE_BLOCK_SIZE = 64 << 10;

function fail(message: string): never {
  throw new ProtocolError(`lz4: ${message}`);
}

/**
 * Decodes one LZ4 block `src[i, end)` into `dst` at `j`, never writing at or past `limit`. Matches may
 * reach back to `historyStart` (the block's own start for independent blocks). Returns the output end.
 */
function decodeBlock(
  src: Buffer,
  i: number,
  end: number,
  dst: Buffer,
  j: number,
  limit: number,
  historyStart: number,
  overflow: string,
): number {
  if (i >= end) fail('empty compressed block');
  for (;;) {
    const token = src[i++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (i >= end) fail('truncated literal length');
        b = src[i++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > end - i) fail('literals run past the block');
    if (literals > limit - j) fail(overflow);
    src.copy(dst, j, i, i + literals);
    i += literals;
    j += literals;
    if (i === end) return j; // the last sequence has literals only
    if (end - i < 2) fail('truncated match offset');
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > j - historyStart) fail(`match offset ${offset} reaches before the block history`);
    let matchLength = token & 15;
    if (matchLength === 15) {
      let b: number;
      do {
        if (i >= end) fail('truncated match length');
        b = src[i++]!;
        matchLength += b;
      } while (b === 255);
    }
    matchLength += 4;
    if (matchLength > limit - j) fail(overflow);
    let from = j - offset;
    if (offset >= matchLength) {
      dst.copyWithin(j, from, from + matchLength);
      j += matchLength;
    } else {
      // Overlapping copy: the pattern repeats every `offset` bytes.
      const stop = j + matchLength;
      while (j < stop) dst[j++] = dst[from++]!;
    }
  }
}

class Output {
  buf: Buffer;
  length = 0;
  constructor(
    initial: number,
    readonly maxBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(Math.max(initial, 1024), maxBytes));
  }
  /** Makes room for `n` more bytes, capped at maxBytes (the writers check the cap themselves). */
  reserve(n: number): void {
    const want = Math.min(this.length + n, this.maxBytes);
    if (want <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.min(Math.max(want, this.buf.length * 2), this.maxBytes));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** Decompresses one or more LZ4 frames (skippable frames ignored). Output is bounded by `maxBytes`. */
export function lz4DecompressFrames(data: Buffer, maxBytes: number): Buffer {
  const out = new Output(data.length * 4, maxBytes);
  let pos = 0;
  let frames = 0;
  while (pos < data.length) {
    if (data.length - pos < 4) fail('truncated frame magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      if (data.length - pos < 8) fail('truncated skippable frame');
      const skip = data.readUInt32LE(pos + 4);
      if (skip > data.length - pos - 8) fail('truncated skippable frame');
      pos += 8 + skip;
      continue;
    }
    if (magic !== MAGIC) fail(`invalid frame magic 0x${magic.toString(16)}`);
    pos = decodeFrame(data, pos + 4, out);
    frames++;
  }
  if (frames === 0) fail('no frame');
  return out.buf.subarray(0, out.length);
}

function decodeFrame(data: Buffer, pos: number, out: Output): number {
  if (data.length - pos < 3) fail('truncated frame descriptor');
  const descriptorStart = pos;
  const flg = data[pos]!;
  const bd = data[pos + 1]!;
  pos += 2;
  if (flg >>> 6 !== 1) fail(`unsupported frame version ${flg >>> 6}`);
  if (flg & 0x02 || bd & 0x8f) fail('reserved descriptor bits set');
  const blockIndependence = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  if (flg & 0x01) fail('preset dictionaries are not supported');
  const blockMaxSize = BLOCK_MAX_SIZES[(bd >>> 4) & 7];
  if (blockMaxSize === undefined) fail(`invalid block max size ${(bd >>> 4) & 7}`);
  let contentSize = -1;
  if (hasContentSize) {
    if (data.length - pos < 9) fail('truncated content size');
    const hi = data.readUInt32LE(pos + 4);
    const lo = data.readUInt32LE(pos);
    if (hi > 0 || lo > out.maxBytes - out.length) fail(`content size exceeds the ${out.maxBytes}-byte limit`);
    contentSize = lo;
    pos += 8;
  }
  if (data.length - pos < 1) fail('truncated frame descriptor');
  const hc = (xxhash32(data, descriptorStart, pos) >>> 8) & 0xff;
  if (hc !== data[pos]) fail('frame descriptor checksum mismatch');
  pos++;
  if (contentSize >= 0) out.reserve(contentSize);

  const contentStart = out.length;
  for (;;) {
    if (data.length - pos < 4) fail('truncated block size');
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break; // end mark
    const stored = (word & BLOCK_UNCOMPRESSED) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMaxSize) fail(`block of ${size} bytes exceeds the frame's ${blockMaxSize}-byte maximum`);
    if (size > data.length - pos) fail('truncated block');
    if (blockChecksum) {
      if (data.length - pos - size < 4) fail('truncated block checksum');
      if (xxhash32(data, pos, pos + size) !== data.readUInt32LE(pos + size)) fail('block checksum mismatch');
    }
    if (stored) {
      if (size > out.maxBytes - out.length) fail(`output exceeds the ${out.maxBytes}-byte limit`);
      out.reserve(size);
      data.copy(out.buf, out.length, pos, pos + size);
      out.length += size;
    } else {
      out.reserve(blockMaxSize);
      const blockLimit = out.length + blockMaxSize;
      const limit = Math.min(blockLimit, out.maxBytes);
      const overflow =
        limit < blockLimit ? `output exceeds the ${out.maxBytes}-byte limit` : `block decodes to more than ${blockMaxSize} bytes`;
      const history = blockIndependence ? out.length : contentStart;
      out.length = decodeBlock(data, pos, pos + size, out.buf, out.length, limit, history, overflow);
    }
    pos += size + (blockChecksum ? 4 : 0);
  }
  if (contentSize >= 0 && out.length - contentStart !== contentSize) {
    fail(`frame declares ${contentSize} content bytes, holds ${out.length - contentStart}`);
  }
  if (contentChecksum) {
    if (data.length - pos < 4) fail('truncated content checksum');
    if (xxhash32(out.buf, contentStart, out.length) !== data.readUInt32LE(pos)) fail('content checksum mismatch');
    pos += 4;
  }
  return pos;
}

// LZ4 block format rules for the last sequences (lz4_Block_format.md, "End of block conditions").
const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** The last match must start at least 12 bytes before the end of the block. */
const MFLIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 14;
const hashTable = new Int32Array(1 << HASH_LOG);

/** Writes a length's continuation bytes (after the 15 in the token's nibble); returns the new position. */
function writeLengthTail(dst: Buffer, d: number, rest: number): number {
  while (rest >= 255) {
    dst[d++] = 255;
    rest -= 255;
  }
  dst[d++] = rest;
  return d;
}

/**
 * Compresses `src[s0, s1)` as one independent LZ4 block into `dst`. Returns the compressed length, or -1
 * if it would not fit in `dst` (the caller then stores the block uncompressed).
 */
export function compressBlock(src: Buffer, s0: number, s1: number, dst: Buffer): number {
  let d = 0;
  let anchor = s0;
  if (s1 - s0 > MFLIMIT) {
    hashTable.fill(-1);
    const matchEndLimit = s1 - LAST_LITERALS;
    const lastMatchStart = s1 - MFLIMIT;
    let i = s0;
    while (i < lastMatchStart) {
      const seq = src.readUInt32LE(i);
      const h = Math.imul(seq, 2654435761) >>> (32 - HASH_LOG);
      const ref = hashTable[h]!;
      hashTable[h] = i;
      if (ref < s0 || i - ref > MAX_OFFSET || src.readUInt32LE(ref) !== seq) {
        i++;
        continue;
      }
      let len = MIN_MATCH;
      while (i + len < matchEndLimit && src[ref + len] === src[i + len]) len++;
      const literals = i - anchor;
      // Token, literal length bytes, literals, offset, match length bytes: checked before any is written.
      if (d + 1 + literals + ((literals / 255) | 0) + 1 + 2 + (((len - MIN_MATCH) / 255) | 0) + 1 > dst.length) return -1;
      const tokenAt = d++;
      if (literals >= 15) d = writeLengthTail(dst, d, literals - 15);
      src.copy(dst, d, anchor, i);
      d += literals;
      const offset = i - ref;
      dst[d++] = offset & 0xff;
      dst[d++] = offset >>> 8;
      const matchRest = len - MIN_MATCH;
      if (matchRest >= 15) d = writeLengthTail(dst, d, matchRest - 15);
      dst[tokenAt] = (Math.min(literals, 15) << 4) | Math.min(matchRest, 15);
      i += len;
      anchor = i;
    }
  }
  const literals = s1 - anchor;
  if (d + 1 + literals + ((literals / 255) | 0) + 1 > dst.length) return -1;
  dst[d++] = Math.min(literals, 15) << 4;
  if (literals >= 15) d = writeLengthTail(dst, d, literals - 15);
  src.copy(dst, d, anchor, s1);
  return d + literals;
}

/** LZ4 match offsets are 16-bit: a dependent block never reaches further back than this. */
const LZ4_HISTORY = 64 << 10;

/**
 * lz4DecompressFrames as a stream: each block's output goes to `sink` (a view valid only during the call)
 * as soon as it is decoded, and only the last 64 KiB are kept as history for dependent blocks, so memory
 * is one block plus 64 KiB however large the content. Output past `maxBytes` stops with a ProtocolError;
 * an error thrown by `sink` stops decoding and is rethrown unchanged. A frame with a content checksum needs
 * all its content to check it: such input is decoded whole (bounded by `maxBytes`) and handed over at once.
 */
export function lz4DecompressTo(data: Buffer, maxBytes: number, sink: (piece: Uint8Array) => void): void {
  if (needsWholeContent(data)) {
    sink(lz4DecompressFrames(data, maxBytes));
    return;
  }
  let window: Buffer | null = null;
  let total = 0;
  let pos = 0;
  let frames = 0;
  while (pos < data.length) {
    if (data.length - pos < 4) fail('truncated frame magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      if (data.length - pos < 8) fail('truncated skippable frame');
      const skip = data.readUInt32LE(pos + 4);
      if (skip > data.length - pos - 8) fail('truncated skippable frame');
      pos += 8 + skip;
      continue;
    }
    if (magic !== MAGIC) fail(`invalid frame magic 0x${magic.toString(16)}`);
    pos += 4;
    if (data.length - pos < 3) fail('truncated frame descriptor');
    const descriptorStart = pos;
    const flg = data[pos]!;
    const bd = data[pos + 1]!;
    pos += 2;
    if (flg >>> 6 !== 1) fail(`unsupported frame version ${flg >>> 6}`);
    if (flg & 0x02 || bd & 0x8f) fail('reserved descriptor bits set');
    if (flg & 0x01) fail('preset dictionaries are not supported');
    const blockIndependence = (flg & 0x20) !== 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const blockMaxSize = BLOCK_MAX_SIZES[(bd >>> 4) & 7];
    if (blockMaxSize === undefined) fail(`invalid block max size ${(bd >>> 4) & 7}`);
    let contentSize = -1;
    if (flg & 0x08) {
      if (data.length - pos < 9) fail('truncated content size');
      const hi = data.readUInt32LE(pos + 4);
      const lo = data.readUInt32LE(pos);
      if (hi > 0 || lo > maxBytes - total) fail(`content size exceeds the ${maxBytes}-byte limit`);
      contentSize = lo;
      pos += 8;
    }
    if (data.length - pos < 1) fail('truncated frame descriptor');
    if (((xxhash32(data, descriptorStart, pos) >>> 8) & 0xff) !== data[pos]) fail('frame descriptor checksum mismatch');
    pos++;
    const history = blockIndependence ? 0 : LZ4_HISTORY;
    if (window === null || window.length < history + blockMaxSize) window = Buffer.allocUnsafe(history + blockMaxSize);
    let kept = 0; // history bytes at the start of `window` (dependent blocks only)
    let frameTotal = 0;
    for (;;) {
      if (data.length - pos < 4) fail('truncated block size');
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break; // end mark
      const stored = (word & BLOCK_UNCOMPRESSED) !== 0;
      const size = word & 0x7fffffff;
      if (size > blockMaxSize) fail(`block of ${size} bytes exceeds the frame's ${blockMaxSize}-byte maximum`);
      if (size > data.length - pos) fail('truncated block');
      if (blockChecksum) {
        if (data.length - pos - size < 4) fail('truncated block checksum');
        if (xxhash32(data, pos, pos + size) !== data.readUInt32LE(pos + size)) fail('block checksum mismatch');
      }
      let produced: number;
      if (stored) {
        if (size > maxBytes - total) fail(`output exceeds the ${maxBytes}-byte limit`);
        data.copy(window, kept, pos, pos + size);
        produced = size;
      } else {
        const room = Math.min(blockMaxSize, maxBytes - total);
        const overflow = room < blockMaxSize ? `output exceeds the ${maxBytes}-byte limit` : `block decodes to more than ${blockMaxSize} bytes`;
        produced = decodeBlock(data, pos, pos + size, window, kept, kept + room, 0, overflow) - kept;
      }
      total += produced;
      frameTotal += produced;
      sink(window.subarray(kept, kept + produced));
      if (history > 0) {
        const end = kept + produced;
        kept = Math.min(end, LZ4_HISTORY);
        window.copyWithin(0, end - kept, end);
      }
      pos += size + (blockChecksum ? 4 : 0);
    }
    if (contentSize >= 0 && frameTotal !== contentSize) fail(`frame declares ${contentSize} content bytes, holds ${frameTotal}`);
    frames++;
  }
  if (frames === 0) fail('no frame');
}

/** Whether some frame of `data` carries a content checksum (or the frames cannot be walked: let the whole-content path say why). */
function needsWholeContent(data: Buffer): boolean {
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < 8) return true;
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== MAGIC) return true;
    const flg = data[pos + 4]!;
    if (flg & 0x04) return true;
    pos += 4 + 2 + (flg & 0x08 ? 8 : 0) + 1;
    const blockChecksum = (flg & 0x10) !== 0;
    for (;;) {
      if (data.length - pos < 4) return true;
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      pos += (word & 0x7fffffff) + (blockChecksum ? 4 : 0);
    }
  }
  return false;
}

/** One LZ4 frame, as the Java client writes it: independent 64 KiB blocks, no checksums but the descriptor's. */
export function lz4CompressFrame(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / WRITE_BLOCK_SIZE));
  // A block that does not shrink is stored uncompressed, so no block takes more than its own size.
  const bound = 7 + blocks * 4 + data.length + 4;
  const out = Buffer.allocUnsafe(bound);
  out.writeUInt32LE(MAGIC, 0);
  out[4] = 0x60; // version 01, block independence
  out[5] = 0x40; // 64 KiB blocks
  out[6] = (xxhash32(out, 4, 6) >>> 8) & 0xff;
  let pos = 7;
  for (let start = 0; start < data.length; start += WRITE_BLOCK_SIZE) {
    const end = Math.min(start + WRITE_BLOCK_SIZE, data.length);
    // Compressed straight into the frame, limited to one byte less than the block itself.
    const n = compressBlock(data, start, end, out.subarray(pos + 4, pos + 4 + (end - start) - 1));
    if (n > 0) {
      out.writeUInt32LE(n, pos);
      pos += 4 + n;
    } else {
      out.writeUInt32LE(((end - start) | BLOCK_UNCOMPRESSED) >>> 0, pos);
      data.copy(out, pos + 4, start, end);
      pos += 4 + (end - start);
    }
  }
  out.writeUInt32LE(0, pos);
  pos += 4;
  return out.subarray(0, pos);
}
