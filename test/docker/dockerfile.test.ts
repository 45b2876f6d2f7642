/**
 * The Dockerfile (README "Container image"), checked without a Docker engine (none in this environment, so
 * the image itself is never built here): parsed into instructions (line continuations, comments, JSON and
 * shell forms), it has two named stages from node:20-slim, bundles in the first and copies the bundle into
 * the second, exposes 9092 8080 8081 with a /data volume, runs `samsa start`, and each file it copies from
 * the build context exists and is not excluded by .dockerignore. Its SAMSA_* variables must name the broker
 * properties meant (envToProperties), so a renamed property breaks this test, not the image. Then its
 * runtime stage is replayed on the host (a temporary directory for /opt/samsa, `npm ci --omit=dev`) and
 * the broker run from it as the image would run it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { Produce } from '../../protocol/messages/produce.js';
import { Compression } from '../../protocol/records/batch.js';
import { buildBatch } from '../../protocol/records/record.js';
import { envToProperties } from '../../src/config.js';
import { freePort } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

const KEYWORDS = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

/** Dockerfile syntax: `#` comment lines, `\` continuing a line, one instruction keyword per logical line. */
function parse(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending !== '' && line.trimStart().startsWith('#')) return; // comments inside a continuation
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(full);
    if (m === null) throw new Error(`Dockerfile line ${start}: no instruction in "${full}"`);
    const keyword = m[1]!.toUpperCase();
    if (!KEYWORDS.has(keyword)) throw new Error(`Dockerfile line ${start}: unknown instruction ${m[1]}`);
    out.push({ keyword, args: m[2]!.trim(), line: start });
  });
  if (pending !== '') throw new Error('Dockerfile ends inside a line continuation');
  return out;
}

/** A JSON-array (exec form) argument, e.g. CMD ["start"]. */
function execForm(args: string): string[] {
  const v = JSON.parse(args) as unknown;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Error(`not an exec form: ${args}`);
  return v as string[];
}

/** .dockerignore patterns as path prefixes (all this file uses: names and directories, no wildcards but *.ext). */
function ignored(path: string, patterns: string[]): boolean {
  const p = path.replace(/\/$/, '');
  return patterns.some((pat) => (pat.startsWith('*.') ? p.endsWith(pat.slice(1)) : p === pat || p.startsWith(`${pat}/`)));
}

const instructions = parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stages: { name: string; image: string; body: Instruction[] }[] = [];
for (const ins of instructions) {
  if (ins.keyword === 'FROM') {
    const m = /^(\S+)\s+AS\s+(\S+)$/i.exec(ins.args);
    if (m === null) throw new Error(`Dockerfile line ${ins.line}: unnamed stage "${ins.args}"`);
    stages.push({ image: m[1]!, name: m[2]!, body: [] });
  } else {
    if (stages.length === 0) throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before FROM`);
    stages.at(-1)!.body.push(ins);
  }
}
const [build, runtime] = stages;
const find = (body: Instruction[], keyword: string): Instruction[] => body.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage, both node:20-slim', () => {
    expect(stages.map((s) => [s.name, s.image])).toEqual([['build', 'node:20-slim'], ['runtime', 'node:20-slim']]);
  });

  it('bundles in the build stage and copies only the bundle from it; the runtime installs no dev dependencies', () => {
    expect(find(build!.body, 'RUN').map((r) => r.args)).toContain('node scripts/bundle.mjs');
    const fromBuild = find(runtime!.body, 'COPY').filter((c) => c.args.startsWith('--from='));
    // dist/ holds only the bundle's files (scripts/bundle.mjs: entries and the chunks they share or load lazily).
    expect(fromBuild.map((c) => c.args)).toEqual(['--from=build /src/dist/ ./dist/']);
    expect(find(runtime!.body, 'RUN').some((r) => r.args.includes('npm ci --omit=dev'))).toBe(true);
  });

  it('copies only files that exist in the build context and that .dockerignore keeps', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const sources: string[] = [];
    for (const stage of stages) {
      for (const c of find(stage.body, 'COPY')) {
        if (c.args.startsWith('--from=')) continue;
        const parts = c.args.split(/\s+/);
        sources.push(...parts.slice(0, -1));
      }
    }
    expect(sources.length).toBeGreaterThan(5);
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), `${s} exists`).toBe(true);
      expect(ignored(s, patterns), `${s} not in .dockerignore`).toBe(false);
    }
    // What the bundle is built from is in the context.
    for (const dir of ['src', 'protocol', 'storage', 'scripts']) expect(sources).toContain(`${dir}/`);
  });

  it('exposes Kafka, HTTP and the registry, keeps data in /data, and listens on 0.0.0.0 with an advertised address from the environment', () => {
    expect(find(runtime!.body, 'EXPOSE').flatMap((e) => e.args.split(/\s+/)).sort()).toEqual(['8080', '8081', '9092']);
    expect(find(runtime!.body, 'VOLUME').map((v) => v.args)).toEqual(['/data']);
    const env = new Map<string, string>();
    for (const e of find(runtime!.body, 'ENV')) for (const m of e.args.matchAll(/(\w+)=(\S+)/g)) env.set(m[1]!, m[2]!);
    const props = envToProperties(Object.fromEntries(env));
    expect(Object.fromEntries(props)).toEqual({
      listeners: 'PLAINTEXT://0.0.0.0:9092',
      'advertised.listeners': 'PLAINTEXT://localhost:9092',
      'log.dirs': '/data',
      'samsa.http.listeners': 'http://0.0.0.0:8080',
      'schema.registry.listeners': 'http://0.0.0.0:8081',
    });
  });

  it('runs `samsa start` as the unprivileged node user', () => {
    const entrypoint = find(runtime!.body, 'ENTRYPOINT').map((e) => execForm(e.args));
    const cmd = find(runtime!.body, 'CMD').map((c) => execForm(c.args));
    expect(entrypoint).toEqual([['node', '/opt/samsa/bin/samsa.js']]);
    expect(cmd).toEqual([['start']]);
    // The entry point is the package's bin (package.json "bin": samsa -> bin/samsa.js), copied to WORKDIR.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.samsa).toBe('bin/samsa.js');
    expect(find(runtime!.body, 'WORKDIR').map((w) => w.args)).toEqual(['/opt/samsa']);
    expect(find(runtime!.body, 'USER').map((u) => u.args)).toEqual(['node']);
  });
});

interface LogLine {
  level?: number;
  msg?: string;
  [field: string]: unknown;
}

/**
 * The runtime stage replayed on the host, instruction by instruction, as far as a host can: WORKDIR is a
 * temporary directory; COPY copies from this checkout, and COPY --from=build the dist/ that
 * scripts/bundle.mjs builds (the build stage's last RUN); RUN runs its `npm ci` (not `npm cache clean`,
 * nor the mkdir/chown of /data, a temporary directory here); ENV is the environment, with the ports and
 * /data replaced by free ports and that directory; ENTRYPOINT and CMD start the broker and HEALTHCHECK's
 * command probes it. So the image's node_modules (no dev dependencies) and files must run the broker and
 * every part loaded only when used (schema registry, console, /metrics, the cleaner's worker and the
 * WebAssembly zstd it recompresses with): one needing a dev dependency or a file the image lacks fails
 * here. Needs npm and the npm registry (or an npm cache holding the packages): without them it fails.
 */
describe('the runtime stage, replayed on the host (no Docker engine)', () => {
  let workdir = '';
  let dataDir = '';
  let broker: ChildProcess | null = null;

  afterAll(async () => {
    if (broker !== null && broker.exitCode === null && broker.signalCode === null) broker.kill('SIGKILL');
    for (const d of [workdir, dataDir]) if (d !== '') await rm(d, { recursive: true, force: true });
  });

  it('runs the broker with the image\'s files and environment: HEALTHCHECK passes, records go in and out, registry, console and /metrics answer, a zstd topic is compacted', async () => {
    workdir = await mkdtemp(join(tmpdir(), 'samsa-image-'));
    dataDir = await mkdtemp(join(tmpdir(), 'samsa-image-data-'));
    const ports: Record<string, number> = { '9092': await freePort(), '8080': await freePort(), '8081': await freePort() };
    const onHost = (s: string): string => s.replace(/:(9092|8080|8081)\b/g, (_, p: string) => `:${ports[p]!}`).replace(/^\/data$/, dataDir).replaceAll('/opt/samsa', workdir);
    const kafkaPort = ports['9092']!;
    const httpPort = ports['8080']!;
    const registryPort = ports['8081']!;

    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
    const env: Record<string, string> = {};
    let entrypoint: string[] = [];
    let cmd: string[] = [];
    let healthcheck: string[] = [];
    for (const ins of runtime!.body) {
      switch (ins.keyword) {
        case 'WORKDIR':
          expect(ins.args).toBe('/opt/samsa');
          break;
        case 'COPY': {
          const parts = ins.args.split(/\s+/);
          if (parts[0]!.startsWith('--from=')) {
            expect(parts).toEqual(['--from=build', '/src/dist/', './dist/']);
            // Not the files another test's bundle build is writing (scripts/bundle.mjs: NAME.PID.tmp, then renamed).
            cpSync(join(ROOT, 'dist'), join(workdir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.tmp') });
          } else {
            // `COPY a/ ./a/` or `COPY a b ./` (into WORKDIR under their own names).
            const dest = parts.at(-1)!;
            for (const src of parts.slice(0, -1)) cpSync(join(ROOT, src), dest === './' ? join(workdir, src) : join(workdir, dest), { recursive: true });
          }
          break;
        }
        case 'RUN':
          for (const command of ins.args.split('&&').map((c) => c.trim())) {
            if (command.startsWith('npm ci ')) {
              execFileSync('npm', [...command.split(/\s+/).slice(1), '--no-audit', '--no-fund'], { cwd: workdir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
            } else if (!/^(npm cache clean --force|mkdir -p \/data|chown node:node \/data)$/.test(command)) {
              throw new Error(`Dockerfile line ${ins.line}: no host equivalent known for RUN ${command}; add one to this test`);
            }
          }
          break;
        case 'ENV':
          for (const m of ins.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = onHost(m[2]!);
          break;
        case 'ENTRYPOINT':
          entrypoint = execForm(ins.args).map(onHost);
          break;
        case 'CMD':
          cmd = execForm(ins.args);
          break;
        case 'HEALTHCHECK':
          healthcheck = execForm(/\bCMD\s+(\[.*\])$/.exec(ins.args)![1]!).map(onHost);
          break;
      }
    }
    // The image holds no dev dependency, so no code path can load one.
    for (const dev of ['typescript', 'tsx', 'esbuild', 'vitest', 'kafkajs']) expect(existsSync(join(workdir, 'node_modules', dev)), `${dev} installed`).toBe(false);
    expect(existsSync(join(workdir, 'node_modules', 'prom-client'))).toBe(true);
    expect(env.SAMSA_LOG_DIRS).toBe(dataDir);
    expect(entrypoint[0]).toBe('node');
    expect(healthcheck[0]).toBe('node');

    // The image's own settings, plus a short cleaner backoff so the compaction below starts at once.
    const child = spawn(process.execPath, [...entrypoint.slice(1), ...cmd], { cwd: workdir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, SAMSA_LOG_CLEANER_BACKOFF_MS: '50' } });
    broker = child;
    const lines: LogLine[] = [];
    let stderr = '';
    const waiters: { match: (l: LogLine) => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        const text = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        lines.push(line);
        // An error logged (a part failing to load, the cleaner failing) ends the wait at once.
        if ((line.level ?? 0) >= 50) for (const w of waiters.splice(0)) w.reject(new Error(`the broker logged an error: ${text}`));
        for (const w of waiters.filter((x) => x.match(line))) waiters.splice(waiters.indexOf(w), 1), w.resolve();
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = (match: (l: LogLine) => boolean, what: string): Promise<void> =>
      lines.some(match)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            waiters.push({ match, resolve, reject });
            void exited.then((code) => reject(new Error(`the broker exited (${code}) before ${what}:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stderr}`)));
          });
    await waitFor((l) => typeof l.msg === 'string' && l.msg.includes(`metrics at http://0.0.0.0:${httpPort}/metrics`), 'the HTTP listener');

    // HEALTHCHECK, as Docker runs it.
    const health = spawnSync(process.execPath, healthcheck.slice(1), { encoding: 'utf8', timeout: 10_000 });
    expect(health.status, `${health.stdout}${health.stderr}`).toBe(0);

    // A client reaches the broker at its advertised address.
    const kafka = new Kafka({ clientId: 'image-test', brokers: [env.SAMSA_ADVERTISED_LISTENERS!.replace('PLAINTEXT://', '')], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'image-orders', numPartitions: 1 },
        { topic: 'image-compacted', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '4096' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' }] },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'image-orders', acks: -1, messages: [{ key: 'alice', value: 'order-1' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'image-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'image-orders', fromBeginning: true });
    const consumed = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(`${message.key!.toString()}=${message.value!.toString()}`) }));
    await consumer.disconnect();
    expect(consumed).toBe('alice=order-1');

    // One zstd batch per request, so the 4 KiB segments roll; the cleaner recompresses what it keeps in
    // the batch's codec, in its worker thread (dist/cleaner-worker.mjs) with the WebAssembly zstd.
    const cleaned = waitFor((l) => l.msg === 'cleaned log' && l['log'] === 'image-compacted-0', 'the cleaner to compact image-compacted-0');
    const raw = await RawClient.connect(kafkaPort);
    try {
      for (let i = 0; i < 200; i++) {
        const records = await buildBatch([{ key: Buffer.from(`k${i % 5}`), value: Buffer.from(`v${i}`) }], { compression: Compression.ZSTD });
        const res = await raw.request(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'image-compacted', partitionData: [{ index: 0, records }] }] });
        expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
      }
    } finally {
      raw.socket.destroy();
    }
    await cleaned;

    // The command in the image, as `docker run samsa topic list -b ...` runs it.
    const list = spawnSync(process.execPath, [join(workdir, 'bin', 'samsa.js'), 'topic', 'list', '-b', `127.0.0.1:${kafkaPort}`, '--json'], { cwd: workdir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((t) => t.name)).toEqual(expect.arrayContaining(['image-orders', 'image-compacted']));

    const schema = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }] });
    const registered = await fetch(`http://127.0.0.1:${registryPort}/subjects/image-orders-value/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema }) });
    expect(registered.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${httpPort}/`)).text()).toContain('/ui/app.js');
    expect((await fetch(`http://127.0.0.1:${httpPort}/ui/pages.js`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).toMatch(/^samsa_topic_messages_in_total\{topic="image-orders"\} 1$/m);

    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    // Nothing at warn or above (pino levels 40, 50, 60).
    expect(lines.filter((l) => (l.level ?? 0) >= 40)).toEqual([]);
  }, 240_000);
});
