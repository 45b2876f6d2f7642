/**
 * The bundle (scripts/bundle.mjs, dist/) as `import { startSamsa } from 'samsa'` loads it. The library
 * entry's static imports leave out the parts a broker loads only when switched on (schema registry with
 * avsc, ajv and protobufjs; HTTP listener, console and prom-client; KRaft; pino-pretty; the zstd
 * compressor), so importing it compiles only the core (bench/results/embed-start.md); those parts still
 * work from their own chunks when asked for, and the log cleaner's worker thread starts from
 * dist/cleaner-worker.mjs. Each broker runs in a child process started from dist/embed.mjs (or the
 * CommonJS dist/embed.cjs), as a user's test file would.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');

/** The files `import(entry)` loads before any code runs: the entry and its static imports, transitively. */
function staticClosure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(join(DIST, file), 'utf8');
    // esbuild writes static imports of other chunks as `import ... from "./chunk-X.mjs"` (or a bare
    // `import "./chunk-X.mjs"`) at the top of a line; dynamic ones are `import("./chunk-X.mjs")`.
    for (const m of text.matchAll(/^import\s*(?:[^'"();]*?\sfrom\s*)?["']\.\/([^"']+)["']/gm)) stack.push(m[1]!);
  }
  return [...seen];
}

interface Started {
  bootstrap: string;
  schemaRegistryUrl: string | null;
  httpUrl: string | null;
}

interface LogLine {
  msg?: string;
  started?: Started;
  [field: string]: unknown;
}

interface Bundled {
  readonly started: Started;
  readonly lines: LogLine[];
  waitForLine(match: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Closes the child's stdin: it calls stop() and exits; resolves with its exit code. */
  stop(): Promise<number | null>;
}

type Entry = 'embed.mjs' | 'embed.cjs';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** startSamsa(options) from dist/embed.mjs (import) or dist/embed.cjs (require) in a child process, its pino lines (JSON) collected. */
async function startBundled(entry: Entry, options: Record<string, unknown>): Promise<Bundled> {
  const load = entry === 'embed.mjs'
    ? `await import(${JSON.stringify(pathToFileURL(join(DIST, entry)).href)})`
    : `(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(join(DIST, entry))})`;
  const child = `
const { startSamsa } = ${load};
const s = await startSamsa(JSON.parse(process.env.SAMSA_TEST_OPTIONS));
process.stdout.write(JSON.stringify({ started: { bootstrap: s.bootstrap, schemaRegistryUrl: s.schemaRegistryUrl, httpUrl: s.httpUrl } }) + '\\n');
process.stdin.on('end', async () => { await s.stop(); process.exit(0); });
process.stdin.resume();
`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, SAMSA_TEST_OPTIONS: JSON.stringify(options) },
  });
  children.push(proc);
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffered = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const waitForLine = (match: (l: LogLine) => boolean, what: string, timeoutMs = 30_000): Promise<LogLine> => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; lines: ${lines.map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
      waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((code) => reject(new Error(`the child exited (${code}) before ${what}`)));
    });
  };
  const { started } = await waitForLine((l) => l.started !== undefined, 'startSamsa() to resolve');
  return {
    started: started!,
    lines,
    waitForLine,
    stop: () => {
      proc.stdin!.end();
      return exited;
    },
  };
}

describe('the bundle as the library loads it (dist/embed.mjs, dist/embed.cjs)', () => {
  beforeAll(() => {
    // Writes dist/ by rename (scripts/bundle.mjs): a process started from the previous files is unaffected.
    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
  }, 120_000);

  it('importing it compiles the core only: no registry, console, metrics, KRaft, pino-pretty or zstd-compressor code', () => {
    const closure = staticClosure('embed.mjs');
    const text = closure.map((f) => readFileSync(join(DIST, f), 'utf8')).join('\n');
    // esbuild heads each module's code with a comment naming its source file.
    expect(text).toMatch(/^\/\/ src\/broker\/broker\.ts$/m);
    expect(text).toMatch(/^\/\/ storage\/log\.ts$/m);
    const optional = [
      'node_modules/avsc/',
      'node_modules/ajv/',
      'node_modules/protobufjs/',
      'node_modules/prom-client/',
      'node_modules/pino-pretty/',
      'node_modules/@hpcc-js/wasm-zstd/',
      'src/registry/start.ts',
      'src/registry/registry.ts',
      'src/http/server.ts',
      'src/http/metrics.ts',
      'src/http/console-api.ts',
      'src/kraft.ts',
      'src/controller/quorum-controller.ts',
      'src/controller/raft/raft-node.ts',
    ];
    const found = optional.filter((path) => new RegExp(`^// ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`, 'm').test(text));
    expect(found, `statically imported by dist/embed.mjs (${closure.join(', ')})`).toEqual([]);
  });

  // The ES module entry (split into chunks) and the CommonJS one (one file, for jest's default mode).
  it.each(['embed.mjs', 'embed.cjs'] as const)('%s: the schema registry, the console and /metrics load when switched on, and answer', async (entry) => {
    const b = await startBundled(entry, { schemaRegistry: true, http: true });
    const { schemaRegistryUrl, httpUrl } = b.started;
    const schema = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }] });
    const registered = await fetch(`${schemaRegistryUrl!}/subjects/orders-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    });
    expect(registered.status).toBe(200);
    expect(await registered.json()).toEqual({ id: 1 });
    const page = await fetch(`${httpUrl!}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const metrics = await fetch(`${httpUrl!}/metrics`);
    expect(await metrics.text()).toMatch(/^samsa_/m);
    expect(await b.stop()).toBe(0);
  });

  it.each(['embed.mjs', 'embed.cjs'] as const)('%s: the log cleaner compacts a topic in its worker thread (dist/cleaner-worker.mjs)', async (entry) => {
    const b = await startBundled(entry, { logLevel: 'info', properties: { 'log.cleaner.backoff.ms': '50', 'offsets.topic.num.partitions': '1' } });
    const kafka = new Kafka({ clientId: 'bundle-test', brokers: [b.started.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'bundled-compacted', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '4096' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' }] }],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    // One batch per send: about 70 bytes each, so the 4 KiB segments roll several times.
    for (let i = 0; i < 300; i++) await producer.send({ topic: 'bundled-compacted', messages: [{ key: `k${i % 10}`, value: `v${i}` }] });
    await producer.disconnect();
    const cleaned = await b.waitForLine((l) => l.msg === 'cleaned log' && String(l['log']).startsWith('bundled-compacted'), 'the cleaner to compact bundled-compacted');
    expect(cleaned['recordsRetained']).toBeLessThan(cleaned['recordsRead'] as number);
    expect(b.lines.filter((l) => typeof l.msg === 'string' && /cleaner worker failed|cleaning failed/.test(l.msg))).toEqual([]);
    expect(await b.stop()).toBe(0);
  });
});
