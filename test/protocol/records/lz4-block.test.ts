/**
 * Our LZ4 block compressor (protocol/records/lz4-frame.ts compressBlock), which replaced the `lz4` package:
 * every output decodes to its input, both with our decoder and with liblz4 (the lz4 CLI), across the
 * block format's edge cases (the last 5 bytes literal, no match starting in the last 12 bytes, offsets up
 * to 65535, length bytes past 15 and 270, incompressible blocks stored raw) and random inputs built of
 * literals and back-references.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBlock, lz4CompressFrame, lz4DecompressFrames } from '../../../protocol/records/lz4-frame.js';

function hasLz4Cli(): boolean {
  try {
    execFileSync('lz4', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAS_LZ4_CLI = hasLz4Cli();
if (!HAS_LZ4_CLI) {
  const message = 'the lz4 CLI is not installed: the liblz4 check of our compressor is skipped (apt-get install lz4)';
  if (process.env['SAMSA_REQUIRE_TOOLS'] === '1') throw new Error(`${message}, and SAMSA_REQUIRE_TOOLS=1 requires it`);
  console.warn(message);
}

/** Deterministic bytes: a xorshift generator from `seed`. */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Input made of pieces: fresh literals, or a copy of earlier bytes at some distance (a would-be match). */
const piece = fc.oneof(
  fc.record({ kind: fc.constant('literal' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
  fc.record({ kind: fc.constant('copy' as const), distance: fc.integer({ min: 1, max: 70_000 }), length: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ kind: fc.constant('run' as const), byte: fc.integer({ min: 0, max: 255 }), length: fc.integer({ min: 1, max: 2_000 }) }),
);
type Piece = typeof piece extends fc.Arbitrary<infer T> ? T : never;

function build(pieces: readonly Piece[]): Buffer {
  const parts: number[] = [];
  for (const p of pieces) {
    if (p.kind === 'literal') for (const b of p.bytes) parts.push(b);
    else if (p.kind === 'run') for (let i = 0; i < p.length; i++) parts.push(p.byte);
    else if (parts.length > 0) {
      const from = Math.max(0, parts.length - p.distance);
      for (let i = 0; i < p.length; i++) parts.push(parts[from + (i % (parts.length - from))]!);
    }
  }
  return Buffer.from(parts);
}

const EDGE_CASES: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ...Array.from({ length: 20 }, (_, n): [string, Buffer] => [`${n + 1} equal bytes`, Buffer.alloc(n + 1, 0x61)]),
  ['13 bytes, a match possible only at the first byte', Buffer.from('abcdabcdabcdx')],
  ['a match that would run into the last 5 bytes', Buffer.concat([Buffer.from('0123456789'.repeat(3)), Buffer.from('0123456789')])],
  ['64 KiB - 1 of zeros', Buffer.alloc((64 << 10) - 1)],
  ['64 KiB of zeros (one block)', Buffer.alloc(64 << 10)],
  ['64 KiB + 1 of zeros', Buffer.alloc((64 << 10) + 1)],
  ['1 MiB of text', Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(23_302))],
  ['a repeat 65535 bytes back (the largest offset)', Buffer.concat([noise(65_535, 7), noise(100, 7)])],
  ['a repeat 65536 bytes back (out of reach)', Buffer.concat([noise(65_536, 9), noise(100, 9)])],
  ['300 KiB of noise (stored raw)', noise(300 << 10, 3)],
  ['literal runs of 14, 15, 16, 269, 270, 271 between matches', Buffer.concat([14, 15, 16, 269, 270, 271].flatMap((n, i) => [noise(n, 100 + i), Buffer.from('MATCHMATCHMATCH')]))],
];

describe('lz4 block compressor', () => {
  for (const [name, data] of EDGE_CASES) {
    it(`round-trips: ${name}`, () => {
      const frame = lz4CompressFrame(data);
      expect(lz4DecompressFrames(frame, data.length + 1).equals(data)).toBe(true);
    });
  }

  it('compresses what repeats and stores what does not', () => {
    expect(lz4CompressFrame(Buffer.alloc(1 << 20)).length).toBeLessThan(8_000);
    const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(23_302));
    expect(lz4CompressFrame(text).length).toBeLessThan(text.length / 20);
    const random = noise(300 << 10, 3);
    // Stored: 7-byte header, 4 bytes per 64 KiB block, the data, the end mark.
    expect(lz4CompressFrame(random).length).toBe(7 + 5 * 4 + random.length + 4);
  });

  it('returns -1 when the block does not fit in the destination', () => {
    expect(compressBlock(noise(1000, 5), 0, 1000, Buffer.alloc(999))).toBe(-1);
    expect(compressBlock(Buffer.alloc(1000), 0, 1000, Buffer.alloc(3))).toBe(-1);
    expect(compressBlock(Buffer.alloc(1000), 0, 1000, Buffer.alloc(100))).toBeGreaterThan(0);
  });

  it('round-trips random inputs of literals, runs and back-references', () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 400 }), (pieces) => {
        const data = build(pieces);
        expect(lz4DecompressFrames(lz4CompressFrame(data), data.length + 1).equals(data)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it.skipIf(!HAS_LZ4_CLI)(`liblz4 (the lz4 CLI) decodes our frames${HAS_LZ4_CLI ? '' : ' [SKIPPED: no lz4 CLI, apt-get install lz4]'}`, () => {
    // Every edge case and 100 random inputs (seeded; fast-check prints the seed on failure), frames back to
    // back: the CLI decodes concatenated frames into the concatenated inputs.
    const inputs = EDGE_CASES.map(([, d]) => d);
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 400 }), (pieces) => {
        inputs.push(build(pieces));
      }),
      { numRuns: 100 },
    );
    const frames = Buffer.concat(inputs.map((d) => lz4CompressFrame(d)));
    const decoded = execFileSync('lz4', ['-q', '-d', '-c'], { input: frames, maxBuffer: 1 << 28 });
    expect(decoded.equals(Buffer.concat(inputs))).toBe(true);
  });
});
