/**
 * Schema Registry throughput, in one process (broker, registry and the HTTP client share the CPU, so these
 * are lower bounds for a registry alone):
 * - registrations of new versions under BACKWARD (each version adds an optional field; every registration
 *   is checked against the latest version, appended to `_schemas` and applied),
 * - registrations of new subjects (a distinct schema each: a new id),
 * - re-registrations of an existing schema (answered with its id, nothing written),
 * - `GET /schemas/ids/{id}` for random ids (no client cache: every request is a miss as a new consumer's
 *   deserializer would make), 8 requests in flight,
 * - the replay of `_schemas` at a restart.
 *   node --import tsx bench/registry-micro.ts [versions] [subjects] [lookups]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker } from '../test/helpers/broker.js';

const versions = Number(process.argv[2] ?? 500);
const subjects = Number(process.argv[3] ?? 2000);
const lookups = Number(process.argv[4] ?? 20000);
const props = { 'samsa.schema.registry.enable': 'true', 'schema.registry.listeners': 'http://127.0.0.1:0' };

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id?: number; message?: string };
  if (res.status !== 200 || json.id === undefined) throw new Error(`${res.status} ${json.message}`);
  return json.id;
}

function record(name: string, extra: number): string {
  const fields: object[] = [{ name: 'id', type: 'long' }];
  for (let i = 0; i < extra; i++) fields.push({ name: `f${i}`, type: ['null', 'string'], default: null });
  return JSON.stringify({ type: 'record', name, namespace: 'bench', fields });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(what: string, n: number, ms: number, latencies: number[]): void {
  latencies.sort((a, b) => a - b);
  console.log(`${what}: ${n} in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)}/s, latency p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`);
}

const dir = await mkdtemp(join(tmpdir(), 'samsa-registry-bench-'));
let b = await startTestBroker(props, dir);
try {
  let url = b.registry!.url;
  const ids: number[] = [];

  let lat: number[] = [];
  let t0 = performance.now();
  for (let v = 0; v < versions; v++) {
    const t = performance.now();
    ids.push(await post(`${url}/subjects/evolving-value/versions`, { schema: record('Evolving', v) }));
    lat.push(performance.now() - t);
  }
  report('register new versions (BACKWARD, one subject)', versions, performance.now() - t0, lat);

  lat = [];
  t0 = performance.now();
  for (let s = 0; s < subjects; s++) {
    const t = performance.now();
    ids.push(await post(`${url}/subjects/s-${s}-value/versions`, { schema: record(`S${s}`, 1) }));
    lat.push(performance.now() - t);
  }
  report('register new subjects', subjects, performance.now() - t0, lat);

  lat = [];
  t0 = performance.now();
  const again = record('Evolving', versions - 1);
  for (let i = 0; i < versions; i++) {
    const t = performance.now();
    await post(`${url}/subjects/evolving-value/versions`, { schema: again });
    lat.push(performance.now() - t);
  }
  report('re-register the latest version (idempotent, as auto.register producers do)', versions, performance.now() - t0, lat);

  lat = [];
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return ids[seed % ids.length]!;
  };
  t0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (done < lookups) {
        done++;
        const t = performance.now();
        const res = await fetch(`${url}/schemas/ids/${next()}`);
        if (res.status !== 200) throw new Error(`lookup ${res.status}`);
        await res.arrayBuffer();
        lat.push(performance.now() - t);
      }
    }),
  );
  report('GET /schemas/ids/{id}, random ids, 8 in flight', lookups, performance.now() - t0, lat);

  t0 = performance.now();
  b = await b.restart();
  url = b.registry!.url;
  console.log(`restart with ${versions + subjects} schemas in _schemas: broker and registry up in ${(performance.now() - t0).toFixed(0)} ms`);
  const check = await fetch(`${url}/schemas/ids/${ids.at(-1)}`);
  if (check.status !== 200) throw new Error('the last schema is missing after the restart');
} finally {
  await b.destroy();
  await rm(dir, { recursive: true, force: true });
}
