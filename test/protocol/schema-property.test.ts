/**
 * Every declared API x every version, request and response, with values generated from the declaration
 * itself (fast-check): encode -> decode gives back every generated field, and re-encoding the decoded
 * value gives the same bytes. Fields absent from a version are left out of the generated value (the
 * decoder fills their defaults), nullable fields are sometimes null, tagged fields sometimes set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../protocol/apis.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import type { MessageCodec, MessageDecl } from '../../protocol/schema.js';
import { structArb } from './arbitraries.js';

function check(codec: MessageCodec<MessageDecl>, version: number): void {
  const flexible = codec.isFlexible(version);
  fc.assert(
    fc.property(structArb(codec.decl.fields, version, flexible), (value) => {
      const w = new Writer(32);
      codec.encode(w, value as never, version);
      const bytes = w.toBuffer();
      const r = new Reader(bytes);
      const decoded = codec.decode(r, version);
      expect(r.remaining()).toBe(0);
      expect(decoded).toMatchObject(value);
      const again = new Writer(32);
      codec.encode(again, decoded as never, version);
      expect(again.toBuffer().equals(bytes)).toBe(true);
    }),
    { numRuns: 25 },
  );
}

describe('every api x version round-trips property-generated values', () => {
  for (const api of ALL_APIS) {
    it(`${api.name} (key ${api.apiKey})`, () => {
      for (const codec of [api.request, api.response]) {
        for (let v = codec.validVersions.min; v <= codec.validVersions.max; v++) check(codec, v);
      }
    });
  }
});
