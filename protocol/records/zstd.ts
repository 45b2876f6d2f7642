/**
 * Zstandard for codec 4 (KIP-110). Node 20's zlib has no zstd, so:
 *
 * - decompression: `fzstd`, pure JS. It reads frames without a content size, which is what the Java client
 *   writes (zstd-jni's streaming ZstdOutputStream), as well as one-shot frames (librdkafka). The WASM
 *   libraries' one-shot decompress cannot size its output for those, and was slower here (about 12 MB/s
 *   against 250 MB/s for fzstd on a 1.4 MB JSON payload).
 * - compression: `@hpcc-js/wasm-zstd`, zstd 1.5.7 compiled to WASM and embedded in the package's JS (no
 *   native build, no download at install). It is imported and loaded once, asynchronously, at the first
 *   use (about 100 ms): `compress()` does it; the sync variant needs `loadZstd()` to have completed first.
 *
 * Bounding: before fzstd runs, the frames are walked (frame header, block headers, checksum) to refuse a
 * declared content size above the limit and to size each frame's window (fzstd allocates the window up
 * front; see zstdDecompress). Decoding then streams block by block, counting bytes, stopping at `maxBytes`.
 *
 * Frame: magic 0xFD2FB528 (LE) | descriptor | [window descriptor] | [dictionary id] | [content size]
 *        | blocks (3-byte LE header: last bit, type 2 bits (raw, RLE, compressed, reserved), size 21 bits)
 *        | [content checksum u32]. Skippable frames: magic 0x184D2A5? | size u32 LE | data.
 */
import { Decompress } from 'fzstd';
import type { Zstd } from '@hpcc-js/wasm-zstd';
import { ProtocolError } from '../primitives.js';

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50; // .. 0x184d2a5f
const BLOCK_MAX = 128 * 1024;
/** Windows up to this size are accepted even when the output limit is smaller (zstd level 3 uses 2 MiB). */
const MIN_WINDOW_ALLOWANCE = 8 * 1024 * 1024;
export const ZSTD_DEFAULT_LEVEL = 3;

function fail(message: string): never {
  throw new ProtocolError(`zstd: ${message}`);
}

export interface ZstdFrameInfo {
  contentSize: number | null;
  windowSize: number;
  /** Position of the window descriptor byte in the input, or -1 for a single-segment frame. */
  windowDescriptorAt: number;
  /** The most the frame can decode to, from its block headers (compressed blocks counted as 128 KiB). */
  maxOutput: number;
}

/** Walks the frames of `data` without decoding them. Skippable frames are passed over. */
export function zstdFrames(data: Buffer): ZstdFrameInfo[] {
  const frames: ZstdFrameInfo[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < 4) fail('truncated frame magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      if (data.length - pos < 8) fail('truncated skippable frame');
      const size = data.readUInt32LE(pos + 4);
      if (size > data.length - pos - 8) fail('truncated skippable frame');
      pos += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) fail(`invalid frame magic 0x${magic.toString(16)}`);
    pos += 4;
    if (pos >= data.length) fail('truncated frame header');
    const fhd = data[pos++]!;
    const fcsFlag = fhd >>> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if (fhd & 0x08) fail('reserved frame header bit set');
    const hasChecksum = (fhd & 0x04) !== 0;
    const didSize = [0, 1, 2, 4][fhd & 3]!;
    const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    let windowSize = 0;
    const windowDescriptorAt = singleSegment ? -1 : pos;
    if (!singleSegment) {
      if (pos >= data.length) fail('truncated window descriptor');
      const wd = data[pos++]!;
      const windowLog = 10 + (wd >>> 3);
      const base = 2 ** windowLog;
      windowSize = base + (base / 8) * (wd & 7);
    }
    if (data.length - pos < didSize + fcsSize) fail('truncated frame header');
    pos += didSize;
    let contentSize: number | null = null;
    if (fcsSize === 1) contentSize = data[pos]!;
    else if (fcsSize === 2) contentSize = data.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) contentSize = data.readUInt32LE(pos);
    else if (fcsSize === 8) contentSize = data.readUInt32LE(pos + 4) * 4294967296 + data.readUInt32LE(pos);
    pos += fcsSize;
    if (singleSegment) windowSize = contentSize ?? 0;
    const blockMax = Math.min(windowSize, BLOCK_MAX);
    let maxOutput = 0;
    for (;;) {
      if (data.length - pos < 3) fail('truncated block header');
      const bh = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
      pos += 3;
      const last = (bh & 1) !== 0;
      const type = (bh >>> 1) & 3;
      const size = bh >>> 3;
      if (type === 3) fail('reserved block type');
      if (size > blockMax) fail(`block size ${size} exceeds the frame's ${blockMax}-byte maximum`);
      const stored = type === 1 ? 1 : size; // an RLE block holds one byte, repeated `size` times
      if (stored > data.length - pos) fail('truncated block');
      pos += stored;
      maxOutput += type === 2 ? BLOCK_MAX : size;
      if (last) break;
    }
    if (hasChecksum) {
      if (data.length - pos < 4) fail('truncated content checksum');
      pos += 4;
    }
    frames.push({ contentSize, windowSize, windowDescriptorAt, maxOutput });
  }
  return frames;
}

/** The window descriptor byte of the smallest window of at least `bytes` (>= 1 KiB). */
function windowDescriptorFor(bytes: number): number {
  for (let log = 10; log <= 41; log++) {
    for (let mantissa = 0; mantissa < 8; mantissa++) {
      if (2 ** log + (2 ** log / 8) * mantissa >= bytes) return ((log - 10) << 3) | mantissa;
    }
  }
  return fail('window too large');
}

/**
 * Decompresses one or more zstd frames, never producing more than `maxBytes`.
 *
 * A frame's declared window can be far larger than its content (a streaming writer does not know the
 * content size: 2 MiB at level 3, 128 MiB at level 22), and fzstd allocates and shifts the whole window.
 * Since no match can reach before the start of the content, a window as large as the frame's output bound
 * decodes the same frame, so the descriptor is rewritten (in a copy) to that smaller window first.
 */
export function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  const chunks: Uint8Array[] = [];
  let total = 0;
  zstdDecompressTo(data, maxBytes, (chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * zstdDecompress as a stream: each decoded block goes to `sink` as soon as it is decoded (a view valid
 * only during the call), so a caller that only scans the output (record validation) holds one block and
 * the window, never the whole content. Output past `maxBytes` stops decoding with a ProtocolError; an
 * error thrown by `sink` stops it too and is rethrown unchanged.
 */
export function zstdDecompressTo(data: Buffer, maxBytes: number, sink: (chunk: Uint8Array) => void): void {
  const frames = zstdFrames(data);
  if (frames.length === 0) fail('no frame');
  const windowAllowance = Math.max(maxBytes + BLOCK_MAX, MIN_WINDOW_ALLOWANCE);
  let declared = 0;
  let input = data;
  for (const f of frames) {
    if (f.contentSize !== null) {
      declared += f.contentSize;
      if (declared > maxBytes) fail(`declared content size exceeds the ${maxBytes}-byte limit`);
    }
    const window = Math.min(f.windowSize, Math.max(f.maxOutput, 1024));
    if (window > windowAllowance) fail(`window of ${window} bytes exceeds the limit`);
    if (f.windowDescriptorAt >= 0 && window < f.windowSize) {
      if (input === data) input = Buffer.from(data);
      input[f.windowDescriptorAt] = windowDescriptorFor(window);
    }
  }
  let total = 0;
  let sinkError: { error: unknown } | null = null;
  const decoder = new Decompress((chunk: Uint8Array) => {
    total += chunk.length;
    if (total > maxBytes) fail(`output exceeds the ${maxBytes}-byte limit`);
    try {
      sink(chunk);
    } catch (e) {
      sinkError = { error: e };
      throw e;
    }
  });
  try {
    decoder.push(input, true);
  } catch (e) {
    if (sinkError !== null) throw (sinkError as { error: unknown }).error;
    if (e instanceof ProtocolError) throw e;
    fail(`corrupt data (${(e as Error).message})`);
  }
}

let zstd: Zstd | null = null;
let loading: Promise<Zstd> | null = null;

/** Loads the WASM compressor once; later calls return the same promise. */
export function loadZstd(): Promise<void> {
  // Imported here, not at the top: the library carries the WASM binary in its JavaScript (about 250 KiB),
  // which every process would compile at start although only a producer asking for zstd needs it.
  loading ??= import('@hpcc-js/wasm-zstd').then(({ Zstd }) => Zstd.load()).then((z) => {
    zstd = z;
    return z;
  });
  return loading.then(() => undefined);
}

/** Compresses `data` as one zstd frame (with its content size). Requires `loadZstd()` to have completed. */
export function zstdCompressSync(data: Buffer, level = ZSTD_DEFAULT_LEVEL): Buffer {
  if (zstd === null) throw new Error('zstd compressor not loaded: await loadZstd() first');
  const out = zstd.compress(data, level);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

export async function zstdCompress(data: Buffer, level = ZSTD_DEFAULT_LEVEL): Promise<Buffer> {
  await loadZstd();
  return zstdCompressSync(data, level);
}
