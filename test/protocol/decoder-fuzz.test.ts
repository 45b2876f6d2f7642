/**
 * Decoder fuzzing, every API x version x direction: arbitrary bytes, and valid encodings (of values
 * generated from the declaration) with bytes flipped, cut off, appended, inserted, or overwritten by a huge
 * length or count. Decoding must either succeed or throw ProtocolError (which the server turns into a
 * closed connection, see protocol/primitives.ts), never any other exception; and what it builds is bounded
 * by the frame: the decoded arrays hold no more slots than the frame has bytes (a count of 2^31 must fail
 * on the bytes left, not pre-allocate), and huge string/bytes lengths fail before anything is read.
 *
 * The seed is random per run and printed on failure; SAMSA_FUZZ_SEED=<seed> replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../protocol/apis.js';
import { readRequestHeader, readResponseHeader } from '../../protocol/headers.js';
import { ProtocolError, Reader, Writer } from '../../protocol/primitives.js';
import type { MessageCodec, MessageDecl } from '../../protocol/schema.js';
import { structArb } from './arbitraries.js';

const seed = process.env.SAMSA_FUZZ_SEED ? Number(process.env.SAMSA_FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x100000000)) | 0;
const RUNS = Number(process.env.SAMSA_FUZZ_RUNS ?? 12);

/**
 * Array slots in a decoded value: the only allocation sized by a count read from the frame (strings and
 * bytes are read only after their bytes are known to be there; absent fields get shared constant defaults).
 */
function arraySlots(v: unknown): number {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return 0;
  if (Array.isArray(v)) return v.reduce((n: number, e) => n + 1 + arraySlots(e), 0);
  return Object.values(v as Record<string, unknown>).reduce((n: number, e) => n + arraySlots(e), 0);
}

/** Decodes; returns null on success, a description of anything other than a ProtocolError. */
function decodeOutcome(codec: MessageCodec<MessageDecl>, version: number, frame: Buffer): string | null {
  let value: unknown;
  try {
    value = codec.decode(new Reader(frame), version);
  } catch (err) {
    if (err instanceof ProtocolError) return null;
    return `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`;
  }
  const slots = arraySlots(value);
  if (slots > frame.length) return `decoded ${slots} array slots from a ${frame.length}-byte frame`;
  return null;
}

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'huge'; at: number; bytes: number[] };

const HUGE = [
  [0x7f, 0xff, 0xff, 0xff], // int32 count or bytes length 2^31-1
  [0x80, 0x00, 0x00, 0x00], // int32 -2^31
  [0x7f, 0xff], // int16 string length 32767
  [0xff, 0xff, 0xff, 0xff, 0x0f], // uvarint 2^32-1 (compact length 2^32-2)
  [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // uvarint longer than 5 bytes
];

const mutationArb: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
    fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), bytes: fc.constantFrom(...HUGE) }),
  ),
  { minLength: 1, maxLength: 3 },
);

function mutate(frame: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(frame);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : ('at' in m ? m.at % (b.length + 1) : 0);
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at % b.length] ^= m.xor;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'append':
        b = Buffer.concat([b, m.bytes]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'huge': {
        const copy = Buffer.from(b);
        for (let i = 0; i < m.bytes.length && at + i < copy.length; i++) copy[at + i] = m.bytes[i]!;
        b = copy;
        break;
      }
    }
  }
  return b;
}

function fuzz(codec: MessageCodec<MessageDecl>, version: number): void {
  const valueArb = structArb(codec.decl.fields, version, codec.isFlexible(version));
  const property = fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)),
      fc.tuple(valueArb, mutationArb).map(([value, mutations]) => {
        const w = new Writer(64);
        codec.encode(w, value as never, version);
        return mutate(w.toBuffer(), mutations);
      }),
    ),
    (frame) => {
      const problem = decodeOutcome(codec, version, frame);
      if (problem) throw new Error(`${problem}; frame ${frame.toString('hex')}`);
    },
  );
  const details = fc.check(property, { seed, numRuns: RUNS });
  if (details.failed) {
    throw new Error(
      `${codec.decl.name} v${version}: ${String(details.errorInstance)}\n` +
        `replay: SAMSA_FUZZ_SEED=${details.seed} npx vitest run test/protocol/decoder-fuzz.test.ts (counterexample path ${details.counterexamplePath})`,
    );
  }
}

describe(`decoders only ever throw ProtocolError (seed ${seed}, SAMSA_FUZZ_SEED to replay)`, () => {
  for (const api of ALL_APIS) {
    it(`${api.name} (key ${api.apiKey}) requests and responses, every version`, () => {
      for (const codec of [api.request, api.response]) {
        for (let v = codec.validVersions.min; v <= codec.validVersions.max; v++) fuzz(codec, v);
      }
    });
  }

  it('request and response headers', () => {
    const details = fc.check(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (bytes, flexible) => {
        for (const read of [() => readRequestHeader(new Reader(Buffer.from(bytes)), () => flexible), () => readResponseHeader(new Reader(Buffer.from(bytes)), flexible ? 1 : 0)]) {
          try {
            read();
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err;
          }
        }
      }),
      { seed, numRuns: 500 },
    );
    expect(details.failed, `seed ${details.seed}: ${String(details.errorInstance)}`).toBe(false);
  });
});

describe('huge lengths fail on the bytes left, before allocating', () => {
  const cases: [string, Buffer, (r: Reader) => unknown][] = [
    ['int32 array count 2^31-1', Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0]), (r) => r.arrayLength(false)],
    ['compact array count 2^32-2', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), (r) => r.arrayLength(true)],
    ['int16 string length 32767', Buffer.from([0x7f, 0xff, 0x61]), (r) => r.string(false, false)],
    ['compact string length 2^32-2', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x61]), (r) => r.string(true, true)],
    ['int32 bytes length 2^31-1', Buffer.from([0x7f, 0xff, 0xff, 0xff, 1]), (r) => r.bytes(false, true)],
    ['compact bytes length 2^32-2', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1]), (r) => r.bytes(true, true)],
    ['raw 2^31', Buffer.from([1, 2]), (r) => r.raw(2 ** 31)],
  ];
  for (const [name, frame, read] of cases) {
    it(name, () => {
      expect(() => read(new Reader(frame))).toThrow(ProtocolError);
    });
  }

  // Each element takes at least one byte, so a count above the bytes left is refused before `new Array(n)`.
  it('an array count one above the bytes left is refused; equal to it is accepted', () => {
    expect(() => new Reader(Buffer.from([0, 0, 0, 3, 1, 1])).arrayLength(false)).toThrow(/array length 3 exceeds the 2 bytes left/);
    expect(new Reader(Buffer.from([0, 0, 0, 2, 1, 1])).arrayLength(false)).toBe(2);
    expect(() => new Reader(Buffer.from([4, 1, 1])).arrayLength(true)).toThrow(/array length 3 exceeds the 2 bytes left/);
    expect(new Reader(Buffer.from([3, 1, 1])).arrayLength(true)).toBe(2);
  });

  it('a 2^31-1 topic count in a Metadata request is a ProtocolError, not a 16 GiB array', () => {
    const api = ALL_APIS.find((a) => a.name === 'Metadata')!;
    const frame = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    expect(() => api.request.decode(new Reader(frame), 1)).toThrow(/array length 2147483647 exceeds the 4 bytes left/);
  });
});
