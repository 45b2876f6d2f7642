/**
 * The Schema Registry with many subjects (issue 14: "100k subjects"): N subjects registered over concurrent
 * keep-alive connections, with bad requests interleaved; then `/subjects` lists exactly the N, lookups still
 * answer, the heap grows by a bounded amount per subject, and `_schemas` holds exactly one well-formed
 * SCHEMA record per subject (nothing from the bad requests).
 *
 * `npm test` runs it with 2,000 subjects; `npm run registry:scale` with 100,000 (REGISTRY_SCALE_SUBJECTS),
 * which takes about two minutes here (843 registrations/s at concurrency 32, broker and client sharing
 * 2 busy cores; docs/schema-registry.md).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.js';
import { readPartition } from '../helpers/read-all.js';
import { avro, call, startRegistryBroker } from './helpers.js';

const N = Number(process.env.REGISTRY_SCALE_SUBJECTS ?? 2000);
const CONCURRENCY = Number(process.env.REGISTRY_SCALE_CONCURRENCY ?? 32);
const SEED = Number(process.env.REGISTRY_SCALE_SEED ?? Date.now() % 1_000_000);
// a bad request after every BAD_EVERY registrations, of the kinds issue 14 names
const BAD_EVERY = Math.max(1, Math.floor(N / 50));
// Heap growth allowed per registered subject, measured after a full GC: the subject, its version, its
// schema (text, canonical form, parsed avsc type) and the id index. Measured: 2.2 KiB per subject at
// 100,000 subjects, 5.3 KiB at 2,000 (where fixed overhead is spread over fewer subjects).
const MAX_HEAP_BYTES_PER_SUBJECT = 16 * 1024;
const TIMEOUT_MS = Math.max(120_000, N * 20);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** mulberry32: a small seeded generator, so a failing sample can be replayed with REGISTRY_SCALE_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const subject = (i: number) => `scale-${i}-value`;
const schemaOf = (i: number) => ({ type: 'record', name: `R${i}`, namespace: 'scale', fields: [{ name: 'id', type: 'int' }, { name: 'nome', type: 'string' }] });

let b: TestBroker & { url: string };
beforeAll(async () => {
  b = await startRegistryBroker();
});
afterAll(async () => {
  await b?.destroy();
});

function schemasEnd(): number {
  return b.broker.getPartition('_schemas', 0)?.logEndOffset ?? 0;
}

/** One of the bad requests, chosen by k; each must get its error code and write nothing. */
async function badRequest(k: number): Promise<void> {
  switch (k % 4) {
    case 0: {
      const r = await call(b.url, 'POST', `/subjects/bad-${k}-value/versions`, { schema: '{"type": "record", "name": "Broken", "fields": [{"name": "x"' });
      expect(r.status, r.text).toBe(422);
      expect((r.body as { error_code: number }).error_code).toBe(42201);
      return;
    }
    case 1: {
      const r = await call(b.url, 'POST', `/subjects/bad-${k}-value/versions`, undefined, '{"schema": ');
      expect(r.status, r.text).toBeGreaterThanOrEqual(400);
      expect(r.status, r.text).toBeLessThan(500);
      return;
    }
    case 2: {
      // scale-0 is registered first: a new required field without a default is not BACKWARD compatible
      const bad = { ...schemaOf(0), fields: [...schemaOf(0).fields, { name: 'age', type: 'int' }] };
      const r = await call(b.url, 'POST', `/subjects/${subject(0)}/versions`, avro(bad));
      expect(r.status, r.text).toBe(409);
      expect((r.body as { error_code: number }).error_code).toBe(40901);
      return;
    }
    default: {
      const r = await call(b.url, 'PUT', `/config/bad-${k}-value`, { compatibility: 'SOMETIMES' });
      expect(r.status, r.text).toBe(422);
      expect((r.body as { error_code: number }).error_code).toBe(42203);
    }
  }
}

describe(`the registry with ${N} subjects (seed ${SEED})`, () => {
  const ids = new Map<number, number>();
  let heapBefore = 0;
  let endBefore = 0;

  it('registers them over concurrent keep-alive connections, bad requests interleaved', { timeout: TIMEOUT_MS }, async () => {
    const first = await call(b.url, 'POST', `/subjects/${subject(0)}/versions`, avro(schemaOf(0)));
    expect(first.status, first.text).toBe(200);
    ids.set(0, (first.body as { id: number }).id);
    heapBefore = heapAfterGc();
    endBefore = schemasEnd();
    let next = 1;
    let bad = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        if (i % BAD_EVERY === 0) await badRequest(bad++);
        const r = await call(b.url, 'POST', `/subjects/${subject(i)}/versions`, avro(schemaOf(i)));
        if (r.status !== 200) throw new Error(`seed ${SEED}: ${subject(i)}: ${r.status} ${r.text}`);
        ids.set(i, (r.body as { id: number }).id);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const secs = (performance.now() - t0) / 1000;
    console.log(`registered ${N - 1} subjects (${bad} bad requests interleaved) in ${secs.toFixed(1)} s: ${((N - 1) / secs).toFixed(0)}/s, concurrency ${CONCURRENCY}`);
    expect(ids.size).toBe(N);
    // distinct schemas: distinct global ids
    expect(new Set(ids.values()).size).toBe(N);
  });

  it('lists exactly those subjects in /subjects, and nothing of the bad requests', { timeout: TIMEOUT_MS }, async () => {
    const r = await call(b.url, 'GET', '/subjects');
    expect(r.status).toBe(200);
    const listed = r.body as string[];
    expect(listed.length).toBe(N);
    const want = new Set(Array.from({ length: N }, (_, i) => subject(i)));
    expect(listed.filter((s) => !want.has(s))).toEqual([]);
    expect(new Set(listed).size).toBe(N);
    // scale-0 still has only its one version: the incompatible ones were refused
    expect((await call(b.url, 'GET', `/subjects/${subject(0)}/versions`)).body).toEqual([1]);
    // no config was stored for the refused levels
    expect((await call(b.url, 'GET', '/config/bad-3-value')).status).toBe(404);
  });

  it('still answers lookups by subject, by id and by schema', { timeout: TIMEOUT_MS }, async () => {
    const random = rng(SEED);
    for (let k = 0; k < 200; k++) {
      const i = Math.floor(random() * N);
      const id = ids.get(i)!;
      const latest = await call(b.url, 'GET', `/subjects/${subject(i)}/versions/latest`);
      expect(latest.status, `seed ${SEED}, subject ${i}`).toBe(200);
      expect(latest.body).toMatchObject({ subject: subject(i), version: 1, id });
      expect(JSON.parse((latest.body as { schema: string }).schema)).toMatchObject({ name: `R${i}` });
      const byId = await call(b.url, 'GET', `/schemas/ids/${id}`);
      expect(byId.status, `seed ${SEED}, id ${id}`).toBe(200);
      expect(JSON.parse((byId.body as { schema: string }).schema)).toMatchObject({ name: `R${i}` });
      const lookup = await call(b.url, 'POST', `/subjects/${subject(i)}`, avro(schemaOf(i)));
      expect(lookup.status, `seed ${SEED}, lookup ${i}`).toBe(200);
      expect(lookup.body).toMatchObject({ subject: subject(i), version: 1, id });
    }
  });

  it('grows the heap by a bounded amount per subject', () => {
    const perSubject = (heapAfterGc() - heapBefore) / (N - 1);
    console.log(`heap per subject: ${(perSubject / 1024).toFixed(2)} KiB`);
    expect(perSubject).toBeLessThan(MAX_HEAP_BYTES_PER_SUBJECT);
  });

  it('has exactly one well-formed SCHEMA record per subject in _schemas, none from the bad requests', { timeout: TIMEOUT_MS }, async () => {
    expect(schemasEnd() - endBefore).toBe(N - 1);
    const { records } = await readPartition(b.port, '_schemas', 0, endBefore);
    expect(records.length).toBe(N - 1);
    const seen = new Set<string>();
    for (const r of records) {
      const key = JSON.parse(r.key ?? 'null') as { keytype: string; subject: string; version: number };
      const value = JSON.parse(r.value ?? 'null') as { subject: string; version: number; id: number; schema: string; deleted: boolean };
      expect(key.keytype).toBe('SCHEMA');
      expect(key.subject).toMatch(/^scale-\d+-value$/);
      expect(value).toMatchObject({ subject: key.subject, version: 1, deleted: false });
      expect(JSON.parse(value.schema)).toMatchObject({ type: 'record' });
      seen.add(key.subject);
    }
    expect(seen.size).toBe(N - 1);
  });
});
