import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../protocol/primitives.js';
import { Compression } from '../../../protocol/records/batch.js';
import { compress, compressSync, decompress, decompressSync, loadCodecs } from '../../../protocol/records/compression.js';
import { lz4CompressFrame, lz4DecompressFrames } from '../../../protocol/records/lz4-frame.js';
import {
  XERIAL_MAGIC,
  isXerialFramed,
  snappyCompressRaw,
  snappyCompressXerial,
  snappyDecompress,
  snappyDecompressRaw,
} from '../../../protocol/records/snappy.js';
import { xxhash32 } from '../../../protocol/records/xxhash32.js';
import { zstdDecompress, zstdFrames } from '../../../protocol/records/zstd.js';

const CODECS = [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];

/** Deterministic pseudo-random bytes (xorshift32). */
function noise(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function json(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => `{"user":${i % 977},"event":"click","n":${i}}`).join('\n'));
}

const PAYLOADS: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([7])],
  ['short text', Buffer.from('hello, hello, hello kafka')],
  ['300 KiB of noise', noise(300 * 1024)],
  ['1.3 MB of JSON', json(30_000)],
  ['200 KiB of zeros', Buffer.alloc(200 * 1024)],
];

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAS_LZ4_CLI = hasTool('lz4');
const HAS_ZSTD_CLI = hasTool('zstd');
// A missing CLI is reported, never skipped silently: the warning and the test titles say what to install,
// and SAMSA_REQUIRE_TOOLS=1 (for CI images that install them) turns the skip into a failure.
for (const [tool, has] of [['lz4', HAS_LZ4_CLI], ['zstd', HAS_ZSTD_CLI]] as const) {
  if (has) continue;
  const message = `the ${tool} CLI is not installed: its interoperability tests are skipped (apt-get install ${tool})`;
  if (process.env['SAMSA_REQUIRE_TOOLS'] === '1') throw new Error(`${message}, and SAMSA_REQUIRE_TOOLS=1 requires it`);
  console.warn(message);
}
const needs = (tool: string, has: boolean): string => (has ? '' : ` [SKIPPED: no ${tool} CLI, apt-get install ${tool}]`);

function run(cmd: string, input: Buffer): Buffer {
  return execFileSync('sh', ['-c', cmd], { input, maxBuffer: 1 << 28 });
}

describe('round trips', () => {
  for (const codec of CODECS) {
    for (const [name, data] of PAYLOADS) {
      it(`codec ${codec}: ${name}`, async () => {
        const c = await compress(codec, data);
        expect((await decompress(codec, c)).equals(data)).toBe(true);
        expect(decompressSync(codec, c).equals(data)).toBe(true);
        await loadCodecs();
        expect(decompressSync(codec, compressSync(codec, data)).equals(data)).toBe(true);
      });
    }
  }

  it('compresses repetitive data with every codec', async () => {
    const data = json(10_000);
    for (const codec of CODECS.slice(1)) {
      expect((await compress(codec, data)).length, `codec ${codec}`).toBeLessThan(data.length / 3);
    }
  });

  it('refuses an unknown codec', async () => {
    await expect(decompress(5, Buffer.from('x'))).rejects.toThrow(ProtocolError);
    expect(() => compressSync(7, Buffer.from('x'))).toThrow(ProtocolError);
  });
});

describe('decompression is bounded', () => {
  const big = Buffer.alloc(2_000_000, 0x61);
  for (const codec of CODECS) {
    it(`codec ${codec} refuses output above the limit`, async () => {
      const c = await compress(codec, big);
      await expect(decompress(codec, c, 1_000_000)).rejects.toThrow(ProtocolError);
      expect(() => decompressSync(codec, c, 1_000_000)).toThrow(ProtocolError);
      expect((await decompress(codec, c, 2_000_000)).length).toBe(2_000_000);
    });
  }

  it('snappy refuses a declared length above the limit before decoding', () => {
    // Preamble declaring 4 GiB - 1, then nothing.
    expect(() => snappyDecompressRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 1 << 20)).toThrow(/exceeds/);
  });

  it('zstd refuses a declared content size above the limit before decoding', () => {
    // Frame header with an 8-byte content size of 2^40 and a raw last block of 0 bytes.
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x58, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x00]);
    expect(() => zstdDecompress(frame, 64 << 20)).toThrow(/declared content size/);
  });

  it('zstd stops an RLE bomb while streaming', () => {
    // No content size, 2 MiB window, 2000 RLE blocks of 128 KiB (250 MiB) in 8 KB of input.
    const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])];
    for (let i = 0; i < 2000; i++) {
      const header = ((128 * 1024) << 3) | (1 << 1) | (i === 1999 ? 1 : 0);
      parts.push(Buffer.from([header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, 0x41]));
    }
    const bomb = Buffer.concat(parts);
    expect(() => zstdDecompress(bomb, 4 << 20)).toThrow(/output exceeds/);
  });
});

describe('snappy', () => {
  const data = json(5000);

  it('writes the xerial framing of snappy-java', () => {
    const c = snappyCompressXerial(data);
    expect(c.subarray(0, 16)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]));
    expect(isXerialFramed(c)).toBe(true);
    // Blocks of at most 32 KiB of input each.
    let pos = 16;
    let blocks = 0;
    while (pos < c.length) {
      const size = c.readInt32BE(pos);
      expect(snappyDecompressRaw(c.subarray(pos + 4, pos + 4 + size), 1 << 20).length).toBeLessThanOrEqual(32 * 1024);
      pos += 4 + size;
      blocks++;
    }
    expect(pos).toBe(c.length);
    expect(blocks).toBe(Math.ceil(data.length / (32 * 1024)));
  });

  it('the default codec output is xerial; raw is available', async () => {
    expect(isXerialFramed(await compress(Compression.SNAPPY, data))).toBe(true);
    expect(isXerialFramed(await compress(Compression.SNAPPY, data, { snappyFraming: 'raw' }))).toBe(false);
  });

  it('decodes both raw and xerial shapes to the same bytes', () => {
    const raw = snappyCompressRaw(data);
    const xerial = snappyCompressXerial(data);
    expect(isXerialFramed(raw)).toBe(false);
    expect(snappyDecompress(raw, 64 << 20).equals(data)).toBe(true);
    expect(snappyDecompress(xerial, 64 << 20).equals(data)).toBe(true);
    expect(decompressSync(Compression.SNAPPY, raw).equals(data)).toBe(true);
    expect(decompressSync(Compression.SNAPPY, xerial).equals(data)).toBe(true);
  });

  it('decodes a hand-written raw block (literal, 1-byte-offset overlapping copy, 2-byte-offset copy)', () => {
    const block = Buffer.from([
      0x12, // uncompressed length 18
      0x08, 0x61, 0x62, 0x63, // literal of 3: "abc"
      0x15, 0x03, // copy type 1: length 4 + 5 = 9, offset 3 -> "abcabcabc"
      0x16, 0x0c, 0x00, // copy type 2: length (0x16 >> 2) + 1 = 6, offset 12 -> "abcabc"
    ]);
    expect(snappyDecompressRaw(block, 100).toString()).toBe('abcabcabcabcabcabc');
  });

  it('decodes a hand-written xerial stream of two chunks, and concatenated streams', () => {
    const chunk1 = Buffer.from([0x05, 0x10, 0x68, 0x65, 0x6c, 0x6c, 0x6f]); // "hello"
    const chunk2 = Buffer.from([0x01, 0x00, 0x21]); // "!"
    const header = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
    const len = (n: number): Buffer => Buffer.from([0, 0, 0, n]);
    const stream = Buffer.concat([header, len(chunk1.length), chunk1, len(chunk2.length), chunk2]);
    expect(snappyDecompress(stream, 100).toString()).toBe('hello!');
    expect(snappyDecompress(Buffer.concat([stream, stream]), 100).toString()).toBe('hello!hello!');
  });

  it('refuses malformed blocks', () => {
    const bad: [string, number[]][] = [
      ['copy before the output', [0x04, 0x05, 0x09]],
      ['short of the declared length', [0x05, 0x08, 0x61, 0x62, 0x63]],
      ['longer than the declared length', [0x02, 0x08, 0x61, 0x62, 0x63]],
      ['literal past the input', [0x05, 0x10, 0x61]],
      ['truncated preamble', [0x80]],
      ['empty input', []],
    ];
    for (const [name, bytes] of bad) {
      expect(() => snappyDecompress(Buffer.from(bytes), 100), name).toThrow(ProtocolError);
    }
    const header = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
    expect(() => snappyDecompress(Buffer.concat([header, Buffer.from([0, 0, 0, 9, 1])]), 100)).toThrow(ProtocolError);
  });
});

describe('xxhash32', () => {
  it('matches the reference vectors', () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
  });

  it('agrees with xxhashjs on every length up to 100 and a large input', () => {
    const require = createRequire(import.meta.url);
    const XXH = require('xxhashjs') as { h32: (data: Buffer, seed: number) => { toNumber(): number } };
    const data = noise(5000, 99);
    for (let n = 0; n <= 100; n++) {
      expect(xxhash32(data, 0, n), `length ${n}`).toBe(XXH.h32(data.subarray(0, n), 0).toNumber());
    }
    expect(xxhash32(data, 3, 4999, 7)).toBe(XXH.h32(data.subarray(3, 4999), 7).toNumber());
  });
});

describe('lz4 frames', () => {
  const data = json(20_000);

  it('writes the header the Java client writes (FLG 0x60, BD 0x40, HC 0x82)', () => {
    expect(lz4CompressFrame(data).subarray(0, 7)).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]));
    expect(lz4CompressFrame(Buffer.alloc(0))).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0]));
  });

  it('stores incompressible blocks raw', () => {
    const n = noise(1000);
    const c = lz4CompressFrame(n);
    expect(c.readUInt32LE(7)).toBe((0x80000000 | 1000) >>> 0);
    expect(lz4DecompressFrames(c, 1 << 20).equals(n)).toBe(true);
  });

  it('decodes a hand-written frame with block and content checksums and a dependent block', () => {
    // Block 1: literals "abcd" + match offset 4 length 4 -> "abcdabcd", then literals "!" (last sequence).
    const block1 = Buffer.from([0x40, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00, 0x10, 0x21]);
    // Block 2 (dependent): token with no literals, match offset 9 length 4 -> "abcd" taken from block 1,
    // then the last sequence of 5 literals "12345".
    const block2 = Buffer.from([0x00, 0x09, 0x00, 0x50, 0x31, 0x32, 0x33, 0x34, 0x35]);
    const content = Buffer.from('abcdabcd!abcd12345');
    const flg = 0x40 | 0x10 | 0x08 | 0x04; // version 1, dependent blocks, block checksum, content size, content checksum
    const descriptor = Buffer.concat([Buffer.from([flg, 0x40]), u64le(content.length)]);
    const parts = [u32le(0x184d2204), descriptor, Buffer.from([(xxhash32(descriptor) >>> 8) & 0xff])];
    for (const block of [block1, block2]) parts.push(u32le(block.length), block, u32le(xxhash32(block)));
    parts.push(u32le(0), u32le(xxhash32(content)));
    const frame = Buffer.concat(parts);
    expect(lz4DecompressFrames(frame, 100).toString()).toBe(content.toString());

    // Each checksum is verified.
    for (const at of [10 /* descriptor */, frame.length - 1 /* content checksum */, 20 /* block 1 data */]) {
      const copy = Buffer.from(frame);
      copy[at]! ^= 1;
      expect(() => lz4DecompressFrames(copy, 100), `flipped byte ${at}`).toThrow(ProtocolError);
    }
    // With the independence flag set, block 2's match reaches outside its own block.
    const independent = Buffer.from(frame);
    independent[4] = flg | 0x20;
    independent[4 + descriptor.length] = (xxhash32(independent, 4, 4 + descriptor.length) >>> 8) & 0xff;
    expect(() => lz4DecompressFrames(independent, 100)).toThrow(/offset/);
  });

  it('skips skippable frames and reads concatenated frames', () => {
    const skippable = Buffer.concat([u32le(0x184d2a53), u32le(3), Buffer.from('xyz')]);
    const a = lz4CompressFrame(Buffer.from('first '));
    const b = lz4CompressFrame(Buffer.from('second'));
    expect(lz4DecompressFrames(Buffer.concat([skippable, a, b]), 100).toString()).toBe('first second');
  });

  it('refuses malformed frames', () => {
    const good = lz4CompressFrame(data);
    const cases: [string, Buffer][] = [
      ['bad magic', Buffer.concat([u32le(0x184d2205), good.subarray(4)])],
      ['truncated', good.subarray(0, good.length - 5)],
      ['no end mark', good.subarray(0, good.length - 4)],
      ['empty', Buffer.alloc(0)],
      ['reserved FLG bit', withDescriptor(good, 0x62, 0x40)],
      ['dictionary', withDescriptor(good, 0x61, 0x40)],
      ['block size code 3', withDescriptor(good, 0x60, 0x30)],
      ['version 2', withDescriptor(good, 0xa0, 0x40)],
    ];
    for (const [name, frame] of cases) expect(() => lz4DecompressFrames(frame, 64 << 20), name).toThrow(ProtocolError);
    // A block whose first match reaches before the output.
    const block = Buffer.from([0x10, 0x61, 0x05, 0x00, 0x00]);
    const frame = Buffer.concat([good.subarray(0, 7), u32le(block.length), block, u32le(0)]);
    expect(() => lz4DecompressFrames(frame, 100)).toThrow(/offset/);
  });

  it.skipIf(!HAS_LZ4_CLI)('the lz4 CLI (liblz4) decodes our frames' + needs('lz4', HAS_LZ4_CLI), () => {
    expect(run('lz4 -q -d -c', lz4CompressFrame(data)).equals(data)).toBe(true);
    expect(run('lz4 -q -d -c', lz4CompressFrame(Buffer.alloc(0))).length).toBe(0);
  });

  it.skipIf(!HAS_LZ4_CLI)('decodes liblz4 frames with every descriptor option' + needs('lz4', HAS_LZ4_CLI), () => {
    const options = ['', '-BD', '-BX', '--no-frame-crc', '--content-size', '-B4 -BD -BX', '-B5 -9', '-B7 --content-size -BX'];
    for (const opts of options) {
      const frame = run(`lz4 -q -c ${opts}`, data);
      expect(lz4DecompressFrames(frame, 64 << 20).equals(data), opts).toBe(true);
    }
  });
});

describe('zstd', () => {
  const data = json(20_000);

  it('decodes hand-written frames: raw and RLE blocks, with and without content size', () => {
    // Single segment, 1-byte content size 5, one raw last block "hello".
    const raw = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, (5 << 3) | 1, 0, 0, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
    expect(zstdDecompress(raw, 100).toString()).toBe('hello');
    expect(zstdFrames(raw)).toEqual([{ contentSize: 5, windowSize: 5, windowDescriptorAt: -1, maxOutput: 5 }]);
    // No content size, 1 KiB window, an RLE block of 7 "z" then a raw last block "!".
    const rle = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, (7 << 3) | 2, 0, 0, 0x7a, (1 << 3) | 1, 0, 0, 0x21]);
    expect(zstdDecompress(rle, 100).toString()).toBe('zzzzzzz!');
    expect(zstdDecompress(Buffer.concat([raw, rle]), 100).toString()).toBe('hellozzzzzzz!');
  });

  it('refuses malformed frames', () => {
    const good = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, (5 << 3) | 1, 0, 0, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
    const cases: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 1)],
      ['bad magic', Buffer.concat([Buffer.from([0x29]), good.subarray(1)])],
      ['reserved block type', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, (5 << 3) | 7, 0, 0])],
      ['reserved header bit', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x28, 0x05, (5 << 3) | 1, 0, 0])],
      ['empty', Buffer.alloc(0)],
      ['garbage compressed block', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, (3 << 3) | 5, 0, 0, 0xff, 0xff, 0xff])],
    ];
    for (const [name, frame] of cases) expect(() => zstdDecompress(frame, 100), name).toThrow(ProtocolError);
  });

  it('writes frames with the content size (as one-shot ZSTD_compress does)', async () => {
    const frames = zstdFrames(await compress(Compression.ZSTD, data));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.contentSize).toBe(data.length);
  });

  it.skipIf(!HAS_ZSTD_CLI)('decodes streaming frames without a content size (as zstd-jni writes them)' + needs('zstd', HAS_ZSTD_CLI), () => {
    const frame = run('cat | zstd -c -q', data);
    expect(zstdFrames(frame)[0]!.contentSize).toBeNull();
    expect(zstdDecompress(frame, 64 << 20).equals(data)).toBe(true);
  });

  it.skipIf(!HAS_ZSTD_CLI)('decodes a level-22 streaming frame whose window (128 MiB) exceeds the limit' + needs('zstd', HAS_ZSTD_CLI), () => {
    const small = json(3000);
    const frame = run('cat | zstd -c -q --ultra -22', small);
    expect(zstdFrames(frame)[0]!.windowSize).toBe(128 << 20);
    expect(zstdDecompress(frame, 8 << 20).equals(small)).toBe(true);
  });

  it.skipIf(!HAS_ZSTD_CLI)('the zstd CLI decodes our frames' + needs('zstd', HAS_ZSTD_CLI), async () => {
    expect(run('zstd -d -c -q', await compress(Compression.ZSTD, data)).equals(data)).toBe(true);
  });
});

describe('gzip', () => {
  it('reads concatenated gzip members', async () => {
    const two = Buffer.concat([gzipSync(Buffer.from('one ')), gzipSync(Buffer.from('two'))]);
    expect((await decompress(Compression.GZIP, two)).toString()).toBe('one two');
  });

  it('refuses corrupt input with ProtocolError', async () => {
    const c = gzipSync(json(100));
    c[c.length - 6]! ^= 0xff; // inside the CRC-32 trailer
    await expect(decompress(Compression.GZIP, c)).rejects.toThrow(ProtocolError);
    expect(() => decompressSync(Compression.GZIP, Buffer.from('not gzip'))).toThrow(ProtocolError);
  });
});

function u32le(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

function u64le(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v), 0);
  return b;
}

/** `frame` with its FLG/BD replaced (and the descriptor checksum recomputed). */
function withDescriptor(frame: Buffer, flg: number, bd: number): Buffer {
  const copy = Buffer.from(frame);
  copy[4] = flg;
  copy[5] = bd;
  copy[6] = (xxhash32(copy, 4, 6) >>> 8) & 0xff;
  return copy;
}
