/**
 * `npm run faults -- [options]`: the fault-injection suite (issue 13). Starts N Samsa nodes behind
 * per-link proxies, runs the workload (faults/workload.ts) while the seeded nemesis schedule
 * (faults/schedule.ts, faults/nemesis.ts) injects faults, heals, reads everything back, checks the history
 * (faults/checker.ts), writes faults/results/<name>.json and .md, regenerates docs/faults.md, and ends
 * with one line `faults: E events, acked A, lost L, duplicated D, divergent V`; exits 1 when L, D or V is
 * not 0 (2 when the run itself could not be carried out). See faults/README.md.
 *
 * Options:
 *   --seed N                the schedule's seed (default: random; printed; the same options replay it)
 *   --time SECONDS          seconds of faults (default 60)
 *   --nodes N               1, 3 or 5 (default 1; several nodes need the Raft cluster of issues 11/12)
 *   --nemesis a,b           from kill, pause, partition, rolling, stop-all, disk-ro, disk-full (root: each
 *                           node on its own tmpfs), corrupt, truncate, slow, lag-kill (several nodes)
 *                           (default kill,pause,partition)
 *   --disk-mib N            the size of each node's tmpfs when disk-full is among the nemeses (default 1024)
 *   --partitions N          partitions of the test topic (default 3)
 *   --broker-prop K=V       an extra broker property on every node (repeatable), e.g. a weakened config
 *   --profile NAME          ci (three nodes, all non-destructive nemeses, 90 s), soak (three nodes, 30 min),
 *                           loss (the negative control: one node, truncate; must report losses),
 *                           loss-replicated (three nodes, acks=1, lag-kill; must report losses)
 *   --results DIR           where results go (default faults/results); docs/faults.md is regenerated only
 *                           from faults/results
 *   --no-docs               do not regenerate docs/faults.md
 *   --acks all|1            the producers' acks (default all); 1 is the weakened workload of the replicated
 *                           negative control (no idempotent producer then)
 *   --docs-only             only regenerate docs/faults.md from faults/results/*.json, run nothing
 *   --keep                  keep the nodes' data directories and logs
 *   --pacing MS             pause between a producer's sends (default 20)
 *   --segment-bytes N       the test topic's segment.bytes (default 32768: segments roll during faults)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Cluster, REPO_ROOT } from './cluster.js';
import { check, summaryLine } from './checker.js';
import type { History } from './history.js';
import { runStep } from './nemesis.js';
import { loadResults, NEMESIS_RULES, renderDocs, renderRun, type RunResult } from './report.js';
import { NEMESES, describeStep, makeSchedule, prng, type Nemesis } from './schedule.js';
import { TOPIC, Workload, createTopic, runPython, waitForBrokers } from './workload.js';

interface Options {
  seed: number;
  time: number;
  nodes: number;
  nemeses: Nemesis[];
  partitions: number;
  brokerProps: Record<string, string>;
  profile: string | null;
  results: string;
  docs: boolean;
  keep: boolean;
  pacing: number;
  segmentBytes: number;
  name: string | null;
  docsOnly: boolean;
  acks: -1 | 1;
  diskMiB: number;
}

const DEFAULT_RESULTS = join(REPO_ROOT, 'faults', 'results');

const PROFILES: Record<string, Partial<Options>> = {
  // three replicated nodes since issue 12 (3 of 3 runs clean: seeds 3101-3103); about 5 minutes in all
  ci: { nodes: 3, time: 90, nemeses: ['kill', 'pause', 'partition', 'rolling', 'stop-all', 'disk-ro', 'slow'] },
  soak: { nodes: 3, time: 1800, nemeses: ['kill', 'pause', 'partition', 'rolling', 'stop-all', 'disk-ro', 'disk-full', 'corrupt', 'truncate', 'slow', 'lag-kill'] },
  loss: { nodes: 1, time: 20, nemeses: ['truncate'] },
  // the replicated negative control (issue 13): acks=1, followers paused, then the leader killed
  'loss-replicated': { nodes: 3, time: 30, nemeses: ['lag-kill'], acks: 1 },
};

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: Math.floor(Math.random() * 2 ** 31), time: 60, nodes: 1, nemeses: ['kill', 'pause', 'partition'], partitions: 3, brokerProps: {}, profile: null, results: DEFAULT_RESULTS, docs: true, keep: false, pacing: 20, segmentBytes: 32768, name: null, docsOnly: false, acks: -1, diskMiB: 1024 };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (v: string): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: not a whole number: ${v}`);
      return n;
    };
    given.add(a);
    switch (a) {
      case '--seed': o.seed = int(next()); break;
      case '--time': o.time = int(next()); break;
      case '--nodes': o.nodes = int(next()); break;
      case '--partitions': o.partitions = int(next()); break;
      case '--pacing': o.pacing = int(next()); break;
      case '--segment-bytes': o.segmentBytes = int(next()); break;
      case '--disk-mib': o.diskMiB = int(next()); break;
      case '--nemesis': {
        const ns = next().split(',').map((s) => s.trim()).filter(Boolean);
        for (const n of ns) if (!(NEMESES as readonly string[]).includes(n)) throw new Error(`unknown nemesis ${n} (known: ${NEMESES.join(', ')})`);
        o.nemeses = ns as Nemesis[];
        break;
      }
      case '--broker-prop': {
        const kv = next();
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new Error(`--broker-prop wants KEY=VALUE, got ${kv}`);
        o.brokerProps[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--profile': o.profile = next(); break;
      case '--results': o.results = resolve(next()); break;
      case '--no-docs': o.docs = false; break;
      case '--docs-only': o.docsOnly = true; break;
      case '--acks': {
        const v = next();
        if (v !== '1' && v !== '-1' && v !== 'all') throw new Error(`--acks must be all (-1) or 1, not ${v}`);
        o.acks = v === '1' ? 1 : -1;
        break;
      }
      case '--keep': o.keep = true; break;
      case '--name': o.name = next(); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (o.profile !== null) {
    const p = PROFILES[o.profile];
    if (!p) throw new Error(`unknown profile ${o.profile} (known: ${Object.keys(PROFILES).join(', ')})`);
    // the profile's settings, unless given explicitly
    if (p.nodes !== undefined && !given.has('--nodes')) o.nodes = p.nodes;
    if (p.time !== undefined && !given.has('--time')) o.time = p.time;
    if (p.nemeses !== undefined && !given.has('--nemesis')) o.nemeses = p.nemeses;
    if (p.acks !== undefined && !given.has('--acks')) o.acks = p.acks;
  }
  if (o.nodes === 1 && o.nemeses.includes('lag-kill')) throw new Error('the lag-kill nemesis needs followers: --nodes 3 or 5');
  if (![1, 3, 5].includes(o.nodes)) throw new Error(`--nodes must be 1, 3 or 5, not ${o.nodes}`);
  if (o.partitions < 1) throw new Error('--partitions must be at least 1');
  return o;
}

function ensurePython(log: (m: string) => void): { python: string; version: string } {
  const python = process.env.PYTHON ?? 'python3';
  const probe = (): string => execFileSync(python, ['-c', 'import confluent_kafka as c; v = c.version(); v = v[0] if isinstance(v, tuple) else v; print(v, "librdkafka", c.libversion()[0])'], { encoding: 'utf8' }).trim();
  try {
    return { python, version: probe() };
  } catch {
    log('confluent-kafka (Python) is missing: installing it from PyPI');
    execFileSync(python, ['-m', 'pip', 'install', '-q', 'confluent-kafka'], { stdio: 'inherit' });
    return { python, version: probe() };
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '.', ':!faults/results', ':!docs/faults.md'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.docsOnly) {
    writeFileSync(join(REPO_ROOT, 'docs', 'faults.md'), renderDocs(loadResults(DEFAULT_RESULTS)));
    process.stdout.write('docs/faults.md regenerated from faults/results\n');
    return 0;
  }
  const t0 = Date.now();
  // the code under test is the one checked out now, whatever happens to the work tree during the run
  const commit = gitCommit();
  const log = (m: string): void => {
    process.stdout.write(`[faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);
  };
  const schedule = makeSchedule({ seed: o.seed, nodes: o.nodes, nemeses: o.nemeses, seconds: o.time });
  const replay = `npm run faults -- --seed ${o.seed} --time ${o.time} --nodes ${o.nodes} --nemesis ${o.nemeses.join(',')} --partitions ${o.partitions} --segment-bytes ${o.segmentBytes}${o.acks === 1 ? ' --acks 1' : ''}${Object.entries(o.brokerProps).map(([k, v]) => ` --broker-prop ${k}=${v}`).join('')}`;
  log(`seed ${o.seed}; replay: ${replay}`);
  log(`schedule (${schedule.length} steps):`);
  schedule.forEach((s, i) => log(`  ${i + 1}. after ${s.gap} s: ${describeStep(s.step)}`));

  const { python, version: pyVersion } = ensurePython(log);
  const kafkajsVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'kafkajs', 'package.json'), 'utf8')) as { version: string }).version;
  const dir = mkdtempSync(join(tmpdir(), 'samsa-faults-'));
  const random = prng(o.seed ^ 0x5a5a5a5a);
  const cluster = new Cluster({ nodes: o.nodes, dir, random, brokerProps: o.brokerProps, diskMiB: o.nemeses.includes('disk-full') ? o.diskMiB : null });
  const history: History = [];
  let workload: Workload | null = null;
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the nodes');
    void cluster.stop().finally(() => {
      if (!o.keep) cluster.release();
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`starting ${o.nodes} node(s) in ${dir}`);
    await cluster.start();
    log(`nodes up; clients bootstrap through ${cluster.bootstrap.join(',')}`);
    await waitForBrokers(cluster.bootstrap, o.nodes);
    await createTopic(cluster.bootstrap, o.partitions, cluster.replicationFactor, cluster.minInsyncReplicas, o.segmentBytes);
    log(`topic ${TOPIC}: ${o.partitions} partitions, RF ${cluster.replicationFactor}, min.insync.replicas ${cluster.minInsyncReplicas}, segment.bytes ${o.segmentBytes}`);
    workload = new Workload({ bootstrap: cluster.bootstrap, partitions: o.partitions, history, pacingMs: o.pacing, python, acks: o.acks, logDir: dir, log });
    await workload.start();
    const acksFrom = (clients: string[]): boolean => clients.every((c) => history.some((op) => op.type === 'ack' && op.client === c));
    const producers = o.acks === -1 ? ['kafkajs-idem', 'kafkajs-plain', 'py-idem'] : ['kafkajs-acks1', 'kafkajs-plain', 'py-acks1'];
    if (!(await waitFor(() => acksFrom(producers), 60_000))) throw new Error('the producers got no acknowledgement within 60 s of starting');
    log('workload running (every producer acknowledged)');

    const seen = new Map<number, number>();
    for (const [i, s] of schedule.entries()) {
      await sleep(s.gap * 1000);
      log(`step ${i + 1}/${schedule.length}: ${describeStep(s.step)}`);
      await runStep({ cluster, history, admin: workload.admin, random, log }, s.step);
      // a node that died by itself (not by the nemesis) is noted and restarted
      for (const n of cluster.nodes) {
        const crashes = n.unexpectedExits.length;
        if (crashes > (seen.get(n.id) ?? 0)) {
          seen.set(n.id, crashes);
          const x = n.unexpectedExits.at(-1)!;
          history.push({ type: 'error', t: Date.now(), client: `node-${n.id}`, error: `node exited by itself (code ${x.code}, signal ${x.signal}); see ${n.logFile}` });
          log(`node ${n.id} exited by itself (code ${x.code}, signal ${x.signal}): restarting it`);
        }
      }
      await cluster.healAll().catch((e: unknown) => log(`heal: ${e instanceof Error ? e.message : String(e)}`));
    }

    log('healing everything');
    await cluster.healAll();
    const healedAt = Date.now();
    const recovered = await waitFor(() => history.some((op) => op.type === 'ack' && op.t > healedAt + 1000), 90_000);
    log(recovered ? 'cluster serving acks=all produces again' : 'no acknowledgement within 90 s of healing');
    log('stopping the producers; the readers drain for 5 s');
    await workload.stop(5000);
    workload = null;
    log('final read of every partition');
    const { done } = runPython({ bootstrap: cluster.bootstrap, partitions: o.partitions, python, logDir: dir, log }, 'final', 'final', (op) => history.push(op), ['120']);
    await done;
  } catch (e) {
    log(`the run could not be carried out: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (cluster.hasNetwork) log(`traffic per link (bytes up/down, connections): ${JSON.stringify(cluster.network.traffic())}`);
    if (workload) await workload.stop(0).catch(() => {});
    await cluster.stop().catch(() => {});
    if (cluster.mounts.length > 0) log(`the nodes' tmpfs mounts are kept with their data: ${cluster.mounts.join(' ')} (umount them when done)`);
    log(`node logs: ${dir}`);
    return 2;
  }
  const traffic = cluster.network.traffic();
  await cluster.stop();

  const result = check(history);
  const startedAt = new Date(t0).toISOString();
  const name = o.name ?? `${startedAt.slice(0, 19).replace(/[:T]/g, '-')}-n${o.nodes}-seed${o.seed}${o.profile ? `-${o.profile}` : ''}`;
  const run: RunResult = {
    name,
    startedAt,
    seconds: o.time,
    seed: o.seed,
    nodes: o.nodes,
    nemeses: o.nemeses,
    profile: o.profile,
    commit,
    brokerProps: o.brokerProps,
    acks: o.acks,
    replicationFactor: cluster.replicationFactor,
    minInsyncReplicas: cluster.minInsyncReplicas,
    partitions: o.partitions,
    segmentBytes: o.segmentBytes,
    clients: { kafkajs: kafkajsVersion, 'confluent-kafka-python': pyVersion },
    schedule: schedule.map((s) => `after ${s.gap} s: ${describeStep(s.step)}`),
    events: history.filter((op) => op.type === 'fault').map((op) => ({ t: op.t, nemesis: op.nemesis, phase: op.phase, detail: op.detail })),
    traffic,
    nodeCrashes: cluster.nodes.flatMap((n) => n.unexpectedExits.map((x) => ({ node: n.id, ...x }))),
    check: result,
    summary: summaryLine(result),
    nemesisRules: NEMESIS_RULES,
  };
  mkdirSync(o.results, { recursive: true });
  writeFileSync(join(o.results, `${name}.json`), JSON.stringify(run, null, 1) + '\n');
  writeFileSync(join(o.results, `${name}.md`), renderRun(run));
  writeFileSync(join(o.results, `${name}.history.jsonl`), history.map((op) => JSON.stringify(op)).join('\n') + '\n');
  log(`results: ${join(o.results, name)}.{json,md,history.jsonl}`);
  if (o.docs && resolve(o.results) === DEFAULT_RESULTS) {
    writeFileSync(join(REPO_ROOT, 'docs', 'faults.md'), renderDocs(loadResults(DEFAULT_RESULTS)));
    log('docs/faults.md regenerated');
  }
  log(`also: gone ${result.gone}, unseen ${result.unseen}, nonmonotonic ${result.nonmonotonic}, skipped ${result.skipped}, committed backwards ${result.committedBackwards}, plain-producer duplicates ${result.duplicatedAllowed}, client errors ${result.errors}, node crashes ${run.nodeCrashes.length}`);
  for (const [n, u] of Object.entries(result.unavailabilityByNemesis)) log(`unavailability after ${n}: median ${u.medianSeconds.toFixed(1)} s, max ${u.maxSeconds.toFixed(1)} s over ${u.faults} fault(s)${u.unrecovered ? `, ${u.unrecovered} not recovered in the run` : ''}`);
  for (const a of result.anomalies.slice(0, 10)) log(`anomaly ${a.kind} (partition ${a.partition}): ${a.detail}`);
  if (o.keep) log(`data kept in ${dir}${cluster.mounts.length > 0 ? ` (the nodes' data on tmpfs mounts: umount ${cluster.mounts.join(' ')} when done)` : ''}`);
  else {
    cluster.release();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${run.summary}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`faults: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
