import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError, Reader, Writer } from '../../protocol/primitives.js';

describe('Writer', () => {
  it('grows its buffer in the middle of a write (regression: the old buffer was written after growth)', () => {
    const w = new Writer(8);
    for (let i = 0; i < 1000; i++) w.int32(i).int16(i % 30000).int8(i % 100).int64(BigInt(i)).uvarint(i * 1000).string(`s${i}`, i % 2 === 0);
    const r = new Reader(w.toBuffer());
    for (let i = 0; i < 1000; i++) {
      expect(r.int32()).toBe(i);
      expect(r.int16()).toBe(i % 30000);
      expect(r.int8()).toBe(i % 100);
      expect(r.int64()).toBe(BigInt(i));
      expect(r.uvarint()).toBe(i * 1000);
      expect(r.string(i % 2 === 0, false)).toBe(`s${i}`);
    }
    expect(r.remaining()).toBe(0);
  });

  it('keeps large byte sections as their own chunks and small writes around them intact', () => {
    const big = Buffer.alloc(10_000, 7);
    const w = new Writer(16);
    w.int32(1).bytes(big, false).int32(2).bytes(Buffer.from('tail'), true);
    const chunks = w.toChunks();
    expect(chunks.some((c) => c === big)).toBe(true);
    const r = new Reader(Buffer.concat(chunks));
    expect(r.int32()).toBe(1);
    expect(r.bytes(false, false)!.equals(big)).toBe(true);
    expect(r.int32()).toBe(2);
    expect(r.bytes(true, false)!.toString()).toBe('tail');
  });

  it('round-trips varints and varlongs (zig-zag) over their whole range', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (i, l) => {
        const w = new Writer(4);
        w.varint(i).varlong(l);
        const r = new Reader(w.toBuffer());
        return r.varint() === i && r.varlong() === l && r.remaining() === 0;
      }),
    );
  });

  it('encodes the documented byte vectors for varints', () => {
    const hex = (f: (w: Writer) => void): string => {
      const w = new Writer();
      f(w);
      return w.toBuffer().toString('hex');
    };
    expect(hex((w) => w.varint(0))).toBe('00');
    expect(hex((w) => w.varint(-1))).toBe('01');
    expect(hex((w) => w.varint(1))).toBe('02');
    expect(hex((w) => w.varint(-64))).toBe('7f');
    expect(hex((w) => w.varint(64))).toBe('8001');
    expect(hex((w) => w.uvarint(300))).toBe('ac02');
    expect(hex((w) => w.string(null, true))).toBe('00');
    expect(hex((w) => w.string(null, false))).toBe('ffff');
    expect(hex((w) => w.string('ab', true))).toBe('036162');
  });
});

describe('Reader', () => {
  it('throws ProtocolError, never RangeError, on truncation and bad lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const r = new Reader(Buffer.from(bytes));
        try {
          r.int32();
          r.string(false, true);
          r.bytes(true, true);
          r.arrayLength(false);
          r.varlong();
        } catch (err) {
          return err instanceof ProtocolError;
        }
        return true;
      }),
    );
  });
});
