/**
 * Golden vectors captured from real clients (conformance/tools/capture-vectors.sh): kcat and
 * confluent-kafka-python (librdkafka), and kafkajs. Each request frame, written by the client, must decode
 * with our declaration and re-encode to exactly the client's bytes: an independent check.
 *
 * The response frames beside them were written by Samsa (the broker the clients talked to), so they only
 * guard against regressions: a declaration mistake would be in them too. Their names say so
 * (<Api>-v<version>-<client id>-response-from-samsa.bin). Responses written by Apache Kafka itself are in
 * test/vectors/kafka/ (kafka-vectors.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRequestHeader, readResponseHeader, responseHeaderVersion, writeRequestHeader, writeResponseHeader } from '../../protocol/headers.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { ALL_APIS } from '../../protocol/apis.js';

const ROOT = join(__dirname, '../vectors');
const byName = new Map(ALL_APIS.map((a) => [a.name, a]));

const files: { client: string; file: string }[] = [];
for (const client of readdirSync(ROOT).filter((d) => d !== 'kafka')) for (const file of readdirSync(join(ROOT, client))) files.push({ client, file });

describe('vectors captured from real clients', () => {
  it('exist for every client', () => {
    expect(new Set(files.map((f) => f.client))).toEqual(new Set(['kcat', 'confluent-kafka-python', 'kafkajs']));
  });

  for (const { client, file } of files) {
    const m = /^([A-Za-z]+)-v(\d+)-.*-(request|response-from-samsa)\.bin$/.exec(file);
    it(`${client}: ${file}`, () => {
      expect(m).not.toBeNull();
      const api = byName.get(m![1]!)!;
      expect(api).toBeDefined();
      const version = Number(m![2]);
      const bytes = readFileSync(join(ROOT, client, file));
      const r = new Reader(bytes);
      const w = new Writer();
      if (m![3] === 'request') {
        const header = readRequestHeader(r, (_k, v) => api.request.isFlexible(v));
        expect(header.apiKey).toBe(api.apiKey);
        expect(header.apiVersion).toBe(version);
        const body = api.request.decode(r, version);
        expect(r.remaining()).toBe(0);
        writeRequestHeader(w, header, api.request.isFlexible(version));
        api.request.encode(w, body, version);
      } else {
        const headerVersion = responseHeaderVersion(api.apiKey, api.response.isFlexible(version));
        const header = readResponseHeader(r, headerVersion);
        const body = api.response.decode(r, version);
        expect(r.remaining()).toBe(0);
        writeResponseHeader(w, header.correlationId, headerVersion);
        api.response.encode(w, body, version);
      }
      expect(w.toBuffer().toString('hex')).toBe(bytes.toString('hex'));
    });
  }
});
