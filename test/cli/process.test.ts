/**
 * The broker as an operator runs it: `npm start` and the bundle `dist/samsa.mjs` in child processes (issue
 * 9). A port already in use ends with one line and status 1; SIGTERM to `npm start` stops the broker
 * (no orphan keeps the port); the process exits once it has logged "stopped", also with clients connected
 * and when a terminal's Ctrl-C arrives twice (npm forwards it); the start-up log is one summary line, JSON
 * when stdout is not a terminal.
 *
 * Everything that builds or runs dist/samsa.mjs is in this one file, so no other test rewrites the bundle
 * while one of these runs it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/broker-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'dist', 'samsa.mjs');

interface Run {
  readonly proc: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or the signal's name). */
  readonly exit: Promise<number | string>;
  waitFor(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
}

function run(command: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): Run {
  // stdout is a pipe: not a terminal, so the broker logs JSON.
  const proc = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', ...env } });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const collect = (stream: NodeJS.ReadableStream, into: string[]): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        into.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.match(line)) waiters.splice(i, 1)[0]!.resolve(line);
        }
      }
    });
  };
  collect(proc.stdout!, stdout);
  collect(proc.stderr!, stderr);
  const exit = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  return {
    proc,
    stdout,
    stderr,
    exit,
    waitFor(match, what, timeoutMs = 60_000) {
      const seen = [...stdout, ...stderr].find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no ${what} within ${timeoutMs} ms; stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`)), timeoutMs);
        void exit.then((code) => {
          clearTimeout(timer);
          rej(new Error(`exited (${code}) before ${what}; stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`));
        });
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            res(l);
          },
        });
      });
    },
  };
}

function startArgs(port: number, dataDir: string, extra: string[] = []): string[] {
  return ['start', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${dataDir}`, '--override', 'group.initial.rebalance.delay.ms=0', '--override', 'samsa.schema.registry.enable=false', '--override', 'samsa.http.listeners=', ...extra];
}

const isStarted = (l: string): boolean => l.includes('Samsa broker started');
const isStopped = (l: string): boolean => l.includes('Samsa broker stopped');

/** Resolves with `p`, or rejects after timeoutMs naming what was awaited. */
function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
    p.then(
      (v) => {
        clearTimeout(timer);
        res(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        rej(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** Every process below `pid` (from /proc/<pid>/task/<tid>/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const taskDir = `/proc/${pid}/task`;
  if (!existsSync(taskDir)) return out;
  for (const tid of readdirSync(taskDir)) {
    let children = '';
    try {
      children = readFileSync(join(taskDir, tid, 'children'), 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter((x) => x.trim() !== '')) {
      out.push(Number(c), ...descendants(Number(c)));
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dirs: string[] = [];
const started: ChildProcess[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'samsa-process-'));
  dirs.push(d);
  return d;
}
function track(r: Run): Run {
  started.push(r.proc);
  return r;
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
});
afterAll(async () => {
  // Orphans first (a failing test may leave a broker below npm), then the processes started here.
  for (const p of started) for (const pid of p.pid === undefined ? [] : descendants(p.pid)) process.kill(pid, 'SIGKILL');
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('start-up failures', () => {
  it('a port already in use ends with one clear line and status 1, no stack trace', async () => {
    const blocker: NetServer = createServer();
    const port = await new Promise<number>((res) => blocker.listen(0, '127.0.0.1', () => res((blocker.address() as { port: number }).port)));
    try {
      const r = track(run(process.execPath, [BUNDLE, ...startArgs(port, await tempDir())]));
      const code = await within(r.exit, 30_000, 'exit after the failed bind');
      expect(code).toBe(1);
      expect(r.stderr.filter((l) => l.trim() !== '')).toEqual([`samsa: listener PLAINTEXT://127.0.0.1:${port}: address already in use`]);
      expect([...r.stdout, ...r.stderr].some((l) => /^\s+at /.test(l)), 'a stack trace was printed').toBe(false);
    } finally {
      await new Promise<void>((res) => blocker.close(() => res()));
    }
  });
});

describe('stopping', () => {
  it('SIGTERM to npm start stops the broker: no process is left holding the port', async () => {
    const port = await freePort();
    const npm = track(run('npm', ['start', '--', ...startArgs(port, await tempDir()).slice(1)]));
    await npm.waitFor(isStarted, 'the started line');
    const below = descendants(npm.proc.pid!);
    expect(below.length, 'npm start runs the broker in a child process').toBeGreaterThan(0);
    npm.proc.kill('SIGTERM');
    await within(npm.exit, 30_000, 'npm exit');
    await until(() => below.every((pid) => !alive(pid)), `processes ${below.join(', ')} started by npm start to exit`);
    expect(await canConnect(port)).toBe(false);
    expect(npm.stdout.some(isStopped), npm.stdout.join('\n')).toBe(true);
  });

  it('a broker run by npm (npx samsa start) stops itself when npm and its shell are gone', async () => {
    // As under `npx samsa start`, a shell stands between npm and the broker, and killing npm and the shell
    // leaves the broker re-parented.
    const port = await freePort();
    const shell = track(run('sh', ['-c', `"${process.execPath}" bin/samsa.js ${startArgs(port, await tempDir()).join(' ')}; true`], { npm_command: 'exec', npm_lifecycle_event: 'npx' }));
    await shell.waitFor(isStarted, 'the started line');
    const broker = descendants(shell.proc.pid!);
    expect(broker.length).toBe(1);
    shell.proc.kill('SIGKILL');
    await until(() => !alive(broker[0]!), `the orphaned broker (pid ${broker[0]}) to exit`);
    expect(await canConnect(port)).toBe(false);
  });

  it('a broker not run by npm exec or npm start keeps running when its shell exits', async () => {
    const port = await freePort();
    const shell = track(run('sh', ['-c', `"${process.execPath}" bin/samsa.js ${startArgs(port, await tempDir()).join(' ')}; true`], { npm_command: 'run' }));
    await shell.waitFor(isStarted, 'the started line');
    const broker = descendants(shell.proc.pid!);
    expect(broker.length).toBe(1);
    shell.proc.kill('SIGKILL');
    // Re-parented and still serving after several of the 500 ms checks an npm-run broker would make.
    await until(() => readFileSync(`/proc/${broker[0]}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] !== String(shell.proc.pid), 're-parenting');
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline) {
      expect(alive(broker[0]!)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await canConnect(port)).toBe(true);
    process.kill(broker[0]!, 'SIGTERM');
    await until(() => !alive(broker[0]!), 'the broker to stop on SIGTERM');
  });

  it('exits promptly after "stopped" with a consumer group member connected and fetching', async () => {
    const port = await freePort();
    const r = track(run(process.execPath, [BUNDLE, ...startArgs(port, await tempDir())]));
    await r.waitFor(isStarted, 'the started line');
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'stop-me', numPartitions: 2 }] });
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: 'stop-me', maxWaitTimeInMs: 5_000 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['stop-me'], fromBeginning: true });
    const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()));
    await consumer.run({ eachMessage: async () => undefined });
    await within(joined, 30_000, 'the consumer joining its group');
    try {
      r.proc.kill('SIGTERM');
      await within(r.waitFor(isStopped, 'the stopped line'), 15_000, 'the shutdown');
      const code = await within(r.exit, 5_000, 'exit after "stopped"');
      expect(code).toBe(0);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  });

  it('a second SIGINT while stopping (Ctrl-C reaches npm and the broker) does not cut the clean shutdown short', async () => {
    const port = await freePort();
    const r = track(run(process.execPath, [BUNDLE, ...startArgs(port, await tempDir())]));
    await r.waitFor(isStarted, 'the started line');
    // Enough partitions that the shutdown (a producer snapshot and a clean-shutdown marker each) is still
    // going when the second signal comes.
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'many', numPartitions: 200 }] });
    await admin.disconnect();
    r.proc.kill('SIGINT');
    await r.waitFor((l) => l.includes('shutting down'), 'the shutting down line');
    r.proc.kill('SIGINT');
    const code = await within(r.exit, 30_000, 'exit');
    expect(code, [...r.stdout, ...r.stderr].join('\n')).toBe(0);
    expect(r.stdout.some(isStopped), r.stdout.join('\n')).toBe(true);
  });
});

describe('start-up log', () => {
  it('is JSON when stdout is not a terminal, with one summary line instead of a line per partition', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const first = track(run(process.execPath, [BUNDLE, ...startArgs(port, dir)]));
    await first.waitFor(isStarted, 'the started line');
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'three', numPartitions: 3 }, { topic: 'two', numPartitions: 2 }] });
    await admin.disconnect();
    first.proc.kill('SIGTERM');
    expect(await within(first.exit, 30_000, 'first stop')).toBe(0);

    const port2 = await freePort();
    const second = track(run(process.execPath, [BUNDLE, ...startArgs(port2, dir)]));
    await second.waitFor(isStarted, 'the started line');
    second.proc.kill('SIGTERM');
    expect(await within(second.exit, 30_000, 'second stop')).toBe(0);

    const lines = second.stdout.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { level: number; msg: string; [k: string]: unknown });
    const startUp = lines.slice(0, lines.findIndex((l) => isStarted(l.msg)) + 1);
    expect(startUp.at(-1)!.msg).toBe(`Samsa broker started: 2 topics, 5 partitions, listening on PLAINTEXT://127.0.0.1:${port2}, log.dirs ${dir}`);
    // Nothing else at info or above names a partition (the per-partition lines are at debug).
    const perPartition = startUp.filter((l) => l.level >= 30 && ('log' in l || 'partition' in l));
    expect(perPartition, JSON.stringify(perPartition)).toEqual([]);
    expect(startUp.filter((l) => l.level >= 30).length, JSON.stringify(startUp)).toBeLessThanOrEqual(2);
  });

  it('--log-format pretty writes text lines for a terminal', async () => {
    const port = await freePort();
    const r = track(run(process.execPath, [BUNDLE, ...startArgs(port, await tempDir(), ['--log-format', 'pretty'])]));
    const line = await r.waitFor(isStarted, 'the started line');
    r.proc.kill('SIGTERM');
    expect(await within(r.exit, 30_000, 'stop')).toBe(0);
    expect(() => JSON.parse(line) as unknown).toThrow();
    expect(line).toMatch(/INFO.*Samsa broker started: 0 topics, 0 partitions/);
  });
});

describe('npm run cluster', () => {
  it('starts three combined nodes that form one cluster, prints the bootstrap string, and Ctrl-C stops them all', async () => {
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const controllerPorts = [await freePort(), await freePort(), await freePort()];
    const data = await tempDir();
    // The script itself (what `npm run cluster` runs after bundling), on free ports for the test.
    const cluster = track(run(process.execPath, ['scripts/cluster.mjs', '--nodes', '3', '--data', data, '--client-ports', clientPorts.join(','), '--controller-ports', controllerPorts.join(','), '--no-http']));
    const bootstrap = clientPorts.map((p) => `127.0.0.1:${p}`).join(',');
    await cluster.waitFor((l) => l.includes(`bootstrap.servers=${bootstrap}`), 'the bootstrap line');
    // Each node's command line uses Kafka's property names only, so it can be started alone.
    const node2 = await cluster.waitFor((l) => l.startsWith('node 2: npm start --'), "node 2's command line");
    expect(node2).toContain("--override node.id=2 --override 'process.roles=broker,controller'");
    expect(node2).toContain(`--override 'controller.quorum.voters=1@127.0.0.1:${controllerPorts[0]},2@127.0.0.1:${controllerPorts[1]},3@127.0.0.1:${controllerPorts[2]}'`);
    const admin = new Kafka({ clientId: 'cluster-script-test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200 } }).admin();
    try {
      await admin.connect();
      let brokers: number[] = [];
      const deadline = Date.now() + 60_000;
      while (brokers.length < 3) {
        if (Date.now() > deadline) throw new Error(`the cluster did not list 3 brokers: ${JSON.stringify(brokers)}`);
        brokers = (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort();
        if (brokers.length < 3) await new Promise((r) => setTimeout(r, 200));
      }
      expect(brokers).toEqual([1, 2, 3]);
    } finally {
      await admin.disconnect();
    }
    for (const id of [1, 2, 3]) expect(existsSync(join(data, `node-${id}`, '__cluster_metadata-0', 'quorum-state'))).toBe(true);
    cluster.proc.kill('SIGINT');
    expect(await within(cluster.exit, 60_000, 'the cluster script to exit')).toBe(0);
    for (const id of [1, 2, 3]) await cluster.waitFor((l) => l === `[node-${id}] exited (code 0)`, `node ${id} to exit cleanly`);
  }, 120_000);
});

describe('package', () => {
  it('bin/samsa.js runs the bundle: --help lists the commands', () => {
    const out = execFileSync(process.execPath, ['bin/samsa.js', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/^Usage: samsa /);
    expect(out).toMatch(/\n\s+start \[options\]/);
    expect(out).toMatch(/\n\s+dump-log \[options\] <files\.\.\.>/);
  });

  it('npm pack ships the bin, the bundles (CLI and library with its types) and the license, and no sources or tests', () => {
    // --ignore-scripts: the bundle is already built (beforeAll); `prepare` would only build it again.
    const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const [pack] = JSON.parse(json) as { files: { path: string; mode: number }[] }[];
    const files = new Map(pack!.files.map((f) => [f.path, f.mode]));
    for (const f of ['bin/samsa.js', 'dist/samsa.mjs', 'dist/embed.mjs', 'dist/embed.cjs', 'dist/cleaner-worker.mjs', 'types/samsa.d.ts', 'types/samsa.d.cts', 'LICENSE', 'README.md', 'package.json', 'console/index.html', 'console/app.js', 'console/pages.js', 'console/dom.js', 'console/style.css']) expect(files.has(f), `${f} in ${[...files.keys()].join(', ')}`).toBe(true);
    // The entries import the chunks beside them (scripts/bundle.mjs splits the bundle): every one is shipped.
    const chunks = readdirSync(join(ROOT, 'dist')).filter((f) => /^chunk-.*\.mjs$/.test(f));
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.filter((f) => !files.has(`dist/${f}`))).toEqual([]);
    expect(files.get('bin/samsa.js')! & 0o111, 'bin/samsa.js is executable').not.toBe(0);
    expect([...files.keys()].filter((f) => /^(src|storage|protocol|test|bench|conformance)\//.test(f))).toEqual([]);
  });

  // As a user installs it: `npm pack` (its `prepare` builds dist/), `npm install` of the tarball into a new
  // project (dependencies only, from the registry), then the installed package with no TypeScript
  // toolchain beside it. Needs npm and the npm registry (or an npm cache holding the dependencies): a
  // machine without them fails this test.
  it('the packed tarball, installed into a new project, runs `npx samsa start`, the CLI, `import` and `require`', async () => {
    const project = await tempDir();
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { filename: string }[];
    const tarball = join(project, packed[0]!.filename);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'samsa-user', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
    const installed = join(project, 'node_modules');
    expect(existsSync(join(installed, 'samsa', 'dist', 'samsa.mjs'))).toBe(true);
    // Only runtime dependencies came along: nothing can compile TypeScript or bundle at run time.
    for (const dev of ['typescript', 'tsx', 'esbuild', 'vitest', 'kafkajs']) expect(existsSync(join(installed, dev)), `${dev} installed`).toBe(false);

    const port = await freePort();
    const httpPort = await freePort();
    const dataDir = await tempDir();
    const npx = track(run('npx', ['--no-install', 'samsa', 'start', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${dataDir}`, '--override', 'samsa.schema.registry.enable=false', '--override', `samsa.http.listeners=http://127.0.0.1:${httpPort}`], {}, project));
    await npx.waitFor((l) => l.includes(`metrics at http://127.0.0.1:${httpPort}/metrics`), 'the HTTP listener');
    try {
      const cli = (...args: string[]): string => execFileSync('npx', ['--no-install', 'samsa', ...args, '-b', `127.0.0.1:${port}`], { cwd: project, encoding: 'utf8', input: args[0] === 'produce' ? 'k1:hello\n' : undefined });
      cli('topic', 'create', 'installed', '--partitions', '2');
      expect(cli('topic', 'list')).toMatch(/^installed\s+2\s+1\s/m);
      cli('produce', 'installed', '--key-separator', ':');
      expect(cli('consume', 'installed', '-e', '-f', '%k=%s\n')).toBe('k1=hello\n');
      expect(await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()).toMatchObject({ status: 'UP', topics: 1 });
      expect(await (await fetch(`http://127.0.0.1:${httpPort}/`)).text()).toContain('/ui/app.js');
    } finally {
      // npm exec ends on SIGTERM without waiting for its child; the broker, re-parented, stops itself.
      const below = descendants(npx.proc.pid!);
      npx.proc.kill('SIGTERM');
      await within(npx.exit, 30_000, 'npx exit');
      await until(() => below.every((pid) => !alive(pid)), `processes ${below.join(', ')} started by npx to exit`, 30_000);
    }
    expect(await canConnect(port)).toBe(false);
    expect(npx.stdout.some(isStopped), npx.stdout.join('\n')).toBe(true);

    // The library, both ways a user's code loads it, with the optional parts switched on.
    const script = (load: string): string => `${load}
const s = await startSamsa({ http: true, schemaRegistry: true });
const health = await (await fetch(s.httpUrl + '/health')).json();
const subjects = await (await fetch(s.schemaRegistryUrl + '/subjects')).json();
await s.reset();
await s.stop();
console.log(JSON.stringify({ bootstrap: s.bootstrap, health: health.status, subjects }));`;
    writeFileSync(join(project, 'esm.mjs'), script("import { startSamsa } from 'samsa';"));
    writeFileSync(join(project, 'cjs.cjs'), `(async () => {\n${script("const { startSamsa } = require('samsa');")}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const out = execFileSync(process.execPath, [file], { cwd: project, encoding: 'utf8' });
      expect(JSON.parse(out.trim().split('\n').at(-1)!), file).toEqual({ bootstrap: expect.stringMatching(/^127\.0\.0\.1:\d+$/), health: 'UP', subjects: [] });
    }
  }, 240_000);

  it('the bundle serves the web console from the package\'s console/ directory', async () => {
    const port = await freePort();
    const httpPort = await freePort();
    const r = track(run(process.execPath, [BUNDLE, ...startArgs(port, await tempDir()), '--override', `samsa.http.listeners=http://127.0.0.1:${httpPort}`]));
    await r.waitFor((l) => l.includes(`console at http://127.0.0.1:${httpPort}/`), 'the console line');
    try {
      const page = await fetch(`http://127.0.0.1:${httpPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/ui/app.js');
      for (const f of ['app.js', 'pages.js', 'dom.js', 'style.css']) expect((await fetch(`http://127.0.0.1:${httpPort}/ui/${f}`)).status, f).toBe(200);
      const topics = await fetch(`http://127.0.0.1:${httpPort}/api/topics`);
      expect(topics.status).toBe(200);
      expect(Array.isArray(await topics.json())).toBe(true);
    } finally {
      r.proc.kill('SIGTERM');
      expect(await within(r.exit, 30_000, 'stop')).toBe(0);
    }
  });

  it('package.json: bin, license and Node range agree with the files; tsx is not needed at run time', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      license: string;
      engines: { node: string };
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(readFileSync(join(ROOT, pkg.bin.samsa!), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(pkg.license).toBe('Apache-2.0');
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s+Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(pkg.dependencies.tsx).toBeUndefined();
    // @types/node describes the oldest Node the engines range allows, so no newer API type-checks.
    const oldestNode = /^>=(\d+)/.exec(pkg.engines.node)![1];
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${oldestNode}\\.`));
    expect(pkg.scripts.prepare).toContain('scripts/bundle.mjs');
  });
});
