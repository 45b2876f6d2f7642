/**
 * The five record-batch codecs (attributes bits 0-2): compress and decompress a batch's records section.
 *
 *   0 none   1 gzip (node zlib)   2 snappy (xerial framing written, raw or xerial read; see snappy.ts)
 *   3 lz4 (frame format; see lz4-frame.ts)   4 zstd (fzstd to read, WASM zstd to write; see zstd.ts)
 *
 * Decompression is bounded: output above `maxBytes` (default 64 MiB) is refused with a ProtocolError
 * before or while it is produced, never after allocating it all. Corrupt input is a ProtocolError too.
 *
 * `decompressTo` streams instead of returning the output: gzip, zstd and lz4 hand each decoded piece to a
 * sink and keep none of it (lz4 keeps 64 KiB of history; a frame with a content checksum is decoded whole),
 * so scanning a batch (record validation) costs one piece of memory however large the output; snappy
 * output is bounded by `maxBytes` and by its format (at most about 21x the input) and is scanned whole.
 *
 * gzip's async path runs on libuv's thread pool; the other codecs are synchronous JS/WASM, so their async
 * forms only defer the work. Code that decompresses a lot (compaction) belongs in a worker thread.
 */
import { createGunzip, gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { ProtocolError } from '../primitives.js';
import { Compression } from './batch.js';
import { lz4CompressFrame, lz4DecompressFrames, lz4DecompressTo } from './lz4-frame.js';
import { snappyCompressRaw, snappyCompressXerial, snappyDecompress } from './snappy.js';
import { loadZstd, zstdCompress, zstdCompressSync, zstdDecompress, zstdDecompressTo } from './zstd.js';

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface CompressOptions {
  /** Snappy output shape: 'xerial' (default, as the Java client writes) or 'raw' (as librdkafka writes). */
  snappyFraming?: 'xerial' | 'raw';
  /** gzip level (0-9) or zstd level (1-22); each codec's default otherwise. */
  level?: number;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export function codecName(codec: number): string {
  return ['none', 'gzip', 'snappy', 'lz4', 'zstd'][codec] ?? `unknown(${codec})`;
}

function unknownCodec(codec: number): never {
  throw new ProtocolError(`unknown compression codec ${codec}`);
}

function gzipError(e: unknown, maxBytes: number): never {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_BUFFER_TOO_LARGE') {
    throw new ProtocolError(`gzip: output exceeds the ${maxBytes}-byte limit`);
  }
  throw new ProtocolError(`gzip: ${err.message}`);
}

/** Preloads what the synchronous zstd compressor needs (the other codecs need nothing). */
export function loadCodecs(): Promise<void> {
  return loadZstd();
}

export async function compress(codec: number, data: Buffer, opts: CompressOptions = {}): Promise<Buffer> {
  switch (codec) {
    case Compression.GZIP:
      return gzipAsync(data, opts.level === undefined ? {} : { level: opts.level });
    case Compression.ZSTD:
      return zstdCompress(data, opts.level);
    default:
      return compressSync(codec, data, opts);
  }
}

/** Synchronous compression; zstd needs `loadCodecs()` to have completed. */
export function compressSync(codec: number, data: Buffer, opts: CompressOptions = {}): Buffer {
  switch (codec) {
    case Compression.NONE:
      return data;
    case Compression.GZIP:
      return gzipSync(data, opts.level === undefined ? {} : { level: opts.level });
    case Compression.SNAPPY:
      return opts.snappyFraming === 'raw' ? snappyCompressRaw(data) : snappyCompressXerial(data);
    case Compression.LZ4:
      return lz4CompressFrame(data);
    case Compression.ZSTD:
      return zstdCompressSync(data, opts.level);
    default:
      return unknownCodec(codec);
  }
}

export async function decompress(codec: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  if (codec === Compression.GZIP) {
    try {
      return await gunzipAsync(data, { maxOutputLength: Math.max(1, maxBytes) });
    } catch (e) {
      return gzipError(e, maxBytes);
    }
  }
  return decompressSync(codec, data, maxBytes);
}

export function decompressSync(codec: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  switch (codec) {
    case Compression.NONE:
      if (data.length > maxBytes) throw new ProtocolError(`records exceed the ${maxBytes}-byte limit`);
      return data;
    case Compression.GZIP:
      try {
        return gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
      } catch (e) {
        return gzipError(e, maxBytes);
      }
    case Compression.SNAPPY:
      return snappyDecompress(data, maxBytes);
    case Compression.LZ4:
      return lz4DecompressFrames(data, maxBytes);
    case Compression.ZSTD:
      return zstdDecompress(data, maxBytes);
    default:
      return unknownCodec(codec);
  }
}

/** Size of the pieces gzip output is handed over in by decompressTo. */
const GUNZIP_CHUNK = 64 * 1024;
/** decompressTo inflates gzip output up to this size in one synchronous call, larger output as a stream. */
const GUNZIP_ONE_SHOT_BYTES = 1024 * 1024;

/**
 * Decompresses `data` piece by piece into `sink` (each piece a view valid only during the call), stopping
 * with a ProtocolError as soon as the output passes `maxBytes`. An error thrown by `sink` stops
 * decompression and is rethrown unchanged; a corrupt stream is a ProtocolError. Only gzip (zlib's thread
 * pool) returns a promise, and only for output over 1 MiB: the rest runs to completion in the call.
 */
export function decompressTo(codec: number, data: Buffer, maxBytes: number, sink: (piece: Uint8Array) => void): void | Promise<void> {
  switch (codec) {
    case Compression.NONE:
      if (data.length > maxBytes) throw new ProtocolError(`records exceed the ${maxBytes}-byte limit`);
      sink(data);
      return;
    case Compression.GZIP: {
      // Most batches inflate to little: one synchronous call with a small output bound is far cheaper
      // than a stream. Only output past that bound (a large batch or a bomb) takes the stream.
      const oneShot = Math.min(maxBytes, GUNZIP_ONE_SHOT_BYTES);
      let out: Buffer | null = null;
      try {
        out = gunzipSync(data, { maxOutputLength: Math.max(1, oneShot) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE' || oneShot >= maxBytes) return gzipError(e, maxBytes);
      }
      if (out !== null) {
        sink(out);
        return;
      }
      return gunzipTo(data, maxBytes, sink);
    }
    case Compression.ZSTD:
      zstdDecompressTo(data, maxBytes, sink);
      return;
    case Compression.LZ4:
      lz4DecompressTo(data, maxBytes, sink);
      return;
    case Compression.SNAPPY:
      sink(decompressSync(codec, data, maxBytes));
      return;
    default:
      return unknownCodec(codec);
  }
}

function gunzipTo(data: Buffer, maxBytes: number, sink: (piece: Uint8Array) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const z = createGunzip({ chunkSize: GUNZIP_CHUNK });
    let total = 0;
    let done = false;
    const stop = (err: unknown): void => {
      if (done) return;
      done = true;
      z.destroy();
      reject(err);
    };
    z.on('data', (piece: Buffer) => {
      if (done) return;
      total += piece.length;
      if (total > maxBytes) return stop(new ProtocolError(`gzip: output exceeds the ${maxBytes}-byte limit`));
      try {
        sink(piece);
      } catch (e) {
        stop(e);
      }
    });
    z.on('error', (e: Error) => stop(new ProtocolError(`gzip: ${e.message}`)));
    z.on('end', () => {
      if (done) return;
      done = true;
      resolve();
    });
    z.end(data);
  });
}
