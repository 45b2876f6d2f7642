/**
 * `npm run bench [-- options]`: Samsa and Apache Kafka side by side on this machine, with the same load
 * generators, alternating brokers and repeating; prints medians and Samsa/Kafka ratios, and writes
 * bench/results/<name>.json, .md and .svg. See bench/README.md.
 *
 * Options:
 *   --quick                 about two minutes: one repetition, small counts
 *   --reps N                repetitions (default 3, quick 1)
 *   --brokers samsa,kafka   which brokers (default both)
 *   --workloads a,b         only these workload ids (see bench/lib/workloads.ts)
 *   --dir DIR               where the brokers' temp directories go (default: the OS temp dir)
 *   --kafka-version V       Apache Kafka version from Maven Central (default 4.4.0)
 *   --idempotence auto|on|off  the Java producers' enable.idempotence (auto: off when Samsa does not
 *                           advertise InitProducerId, for both brokers alike)
 *   --samsa-entry tsx|bundle   how Samsa runs: through tsx as conformance/lib.sh does (default), or as
 *                           one JavaScript file bundled with esbuild, as a release would ship it
 *   --cluster               three nodes each side (combined broker+controller), topics with replication
 *                           factor 3 and min.insync.replicas=2, producers with acks=all (issue 12); its
 *                           own plan (bench/lib/workloads.ts makeClusterPlan), one repetition by default
 *   --name NAME             result file name (default: quick or full; cluster-quick or cluster)
 */
import { execSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_DIR, DEFAULT_KAFKA_VERSION, REPO_ROOT, ensureKafka, javaVersion, type KafkaDist } from './lib/kafka-dist.js';
import { KAFKA_CLUSTER_HEAP, readMemory, removeBrokerDir, startKafka, startKafkaCluster, startSamsa, startSamsaCluster, timeToFirstProduce, type BrokerHandle, type BrokerKind, type MemoryKb } from './lib/brokers.js';
import { consumerPerformance, openLoopLatency, producerPerformance, replayer } from './lib/tools.js';
import { makeClusterPlan, makePlan, type Plan, type Workload } from './lib/workloads.js';
import { SINGLE_NODE_TOPIC, WireConnection, advertisedApiKeys, ensureTopic, sleep, type TopicShape } from './lib/wire.js';
import { summarize, renderMarkdown, type BenchResult, type BrokerRun, type WorkloadRun } from './lib/report.js';
import { renderSvg } from './lib/plot.js';

const INIT_PRODUCER_ID = 22;

interface Options {
  plan: Plan;
  brokers: BrokerKind[];
  root: string;
  kafkaVersion: string;
  idempotence: 'auto' | 'on' | 'off';
  samsaEntry: 'tsx' | 'bundle';
  name: string;
}

function parseArgs(argv: string[]): Options {
  let quick = false;
  let reps: number | null = null;
  let brokers: BrokerKind[] = ['samsa', 'kafka'];
  let only: string[] | null = null;
  let root = tmpdir();
  let kafkaVersion = DEFAULT_KAFKA_VERSION;
  let idempotence: Options['idempotence'] = 'auto';
  let name: string | null = null;
  let samsaEntry: Options['samsaEntry'] = 'tsx';
  let cluster = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': quick = true; break;
      case '--reps': reps = Number(next()); break;
      case '--brokers': brokers = next().split(',').map((b) => {
        if (b !== 'samsa' && b !== 'kafka') throw new Error(`unknown broker ${b}`);
        return b;
      }); break;
      case '--workloads': only = next().split(','); break;
      case '--dir': root = next(); break;
      case '--kafka-version': kafkaVersion = next(); break;
      case '--idempotence': {
        const v = next();
        if (v !== 'auto' && v !== 'on' && v !== 'off') throw new Error('--idempotence is auto, on or off');
        idempotence = v;
        break;
      }
      case '--name': name = next(); break;
      case '--cluster': cluster = true; break;
      case '--samsa-entry': {
        const v = next();
        if (v !== 'tsx' && v !== 'bundle') throw new Error('--samsa-entry is tsx or bundle');
        samsaEntry = v;
        break;
      }
      case '--help': case '-h':
        process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  const plan = cluster ? makeClusterPlan(quick ? 'quick' : 'full') : makePlan(quick ? 'quick' : 'full');
  if (reps !== null) plan.repetitions = reps;
  if (only) {
    const unknown = only.filter((id) => !plan.workloads.some((w) => w.id === id));
    if (unknown.length > 0) throw new Error(`unknown workloads ${unknown.join(', ')}; known: ${plan.workloads.map((w) => w.id).join(', ')}`);
    plan.workloads = plan.workloads.filter((w) => only!.includes(w.id));
  }
  const defaultName = (cluster ? (quick ? 'cluster-quick' : 'cluster') : plan.mode) + (samsaEntry === 'bundle' ? '-bundle' : '');
  return { plan, brokers, root, kafkaVersion, idempotence, samsaEntry, name: name ?? defaultName };
}

const log = (s: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

/** CPU seconds (user + system) the processes have used so far (a cluster's nodes summed). */
const CLK_TCK = (() => {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function cpuSeconds(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    } catch {
      return null;
    }
  }
  return total;
}

/** VmRSS and VmHWM summed over the processes (a cluster's nodes), or null if one is gone. */
function readMemoryOf(pids: readonly number[]): MemoryKb | null {
  const sum: MemoryKb = { rssKb: 0, hwmKb: 0 };
  for (const pid of pids) {
    const m = readMemory(pid);
    if (!m) return null;
    sum.rssKb += m.rssKb;
    sum.hwmKb += m.hwmKb;
  }
  return sum;
}

/** Samples the broker's VmRSS (a cluster's: the sum over its nodes) while load runs. */
class RssSampler {
  peakKb = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly pids: readonly number[]) {}
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }
  sample(): void {
    const m = readMemoryOf(this.pids);
    if (m && m.rssKb > this.peakKb) this.peakKb = m.rssKb;
  }
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.peakKb;
  }
}

async function withConnection<T>(b: BrokerHandle, f: (c: WireConnection) => Promise<T>): Promise<T> {
  const c = await WireConnection.open(b.port);
  try {
    return await f(c);
  } finally {
    c.close();
  }
}

function topicShape(plan: Plan): TopicShape {
  if (plan.cluster === null) return SINGLE_NODE_TOPIC;
  return { replicationFactor: plan.cluster.replicationFactor, configs: [{ name: 'min.insync.replicas', value: String(plan.cluster.minInsyncReplicas) }] };
}

async function runWorkload(w: Workload, b: BrokerHandle, dist: KafkaDist, plan: Plan, producerProps: string[], prefilled: Set<string>): Promise<Record<string, number>> {
  const timeoutMs = plan.toolTimeoutMs;
  const shape = topicShape(plan);
  const replayArgs = (mode: string, topic: string, partitions: number, recordSize: number, acks: string, records: number): string[] => [
    '--bootstrap', b.bootstrap, '--mode', mode, '--topic', topic, '--partitions', String(partitions), '--record-size', String(recordSize),
    '--acks', acks, '--records', String(records), '--time-limit-ms', String(timeoutMs - 5000),
  ];
  switch (w.kind) {
    case 'producer': {
      await withConnection(b, (c) => ensureTopic(c, w.topic, w.partitions, false, shape));
      const r = await producerPerformance(dist, { bootstrap: b.bootstrap, topic: w.topic, records: w.records, recordSize: w.recordSize, acks: w.acks, props: producerProps, timeoutMs });
      prefilled.add(w.topic);
      return { ...r };
    }
    case 'consumer': {
      if (!prefilled.has(w.topic) && plan.cluster !== null) {
        // The replayer cannot find leaders on several nodes; the Java producer can.
        log(`  (prefilling ${w.topic} with ProducerPerformance, acks=all)`);
        await withConnection(b, (c) => ensureTopic(c, w.topic, w.partitions, false, shape));
        await producerPerformance(dist, { bootstrap: b.bootstrap, topic: w.topic, records: w.records, recordSize: w.recordSize, acks: 'all', props: producerProps, timeoutMs });
        prefilled.add(w.topic);
      }
      if (!prefilled.has(w.topic)) {
        log(`  (prefilling ${w.topic} with the replayer)`);
        await withConnection(b, (c) => ensureTopic(c, w.topic, w.partitions, true));
        await replayer(replayArgs('produce', w.topic, w.partitions, w.recordSize, '1', w.records), timeoutMs);
        prefilled.add(w.topic);
      }
      const r = await consumerPerformance(dist, { bootstrap: b.bootstrap, topic: w.topic, records: w.records, group: `bench-${w.id}-${Date.now()}`, props: [], timeoutMs });
      return { ...r };
    }
    case 'replay-produce': {
      if (plan.cluster !== null) throw new Error('the replayer talks to one broker; it has no cluster mode');
      await withConnection(b, (c) => ensureTopic(c, w.topic, w.partitions, true));
      const r = await replayer(replayArgs('produce', w.topic, w.partitions, w.recordSize, w.acks, w.records), timeoutMs);
      prefilled.add(w.topic);
      return { records: r.records, recordsPerSec: r.recordsPerSec, mbPerSec: r.mbPerSec, requests: r.requests, requestP50Ms: r.requestLatencyMs.p50, requestP99Ms: r.requestLatencyMs.p99 };
    }
    case 'replay-fetch': {
      if (!prefilled.has(w.topic)) {
        log(`  (prefilling ${w.topic} with the replayer)`);
        await withConnection(b, (c) => ensureTopic(c, w.topic, w.partitions, true));
        await replayer(replayArgs('produce', w.topic, w.partitions, w.recordSize, '1', w.records), timeoutMs);
        prefilled.add(w.topic);
      }
      const r = await replayer(replayArgs('fetch', w.topic, w.partitions, w.recordSize, '1', w.records), timeoutMs);
      return { records: r.records, recordsPerSec: r.recordsPerSec, mbPerSec: r.mbPerSec, requests: r.requests, requestP50Ms: r.requestLatencyMs.p50, requestP99Ms: r.requestLatencyMs.p99 };
    }
    case 'e2e': {
      await withConnection(b, (c) => ensureTopic(c, w.topic, w.partitions, false, shape));
      const r = await openLoopLatency(dist, {
        bootstrap: b.bootstrap, topic: w.topic, partitions: w.partitions, rate: w.rate, seconds: w.seconds, warmupSeconds: w.warmupSeconds,
        recordSize: w.recordSize, acks: w.acks, props: producerProps, timeoutMs,
      });
      return { ...r };
    }
  }
}

function headline(w: Workload, m: Record<string, number>): string {
  if (w.kind === 'e2e') return `p50 ${m.p50Ms?.toFixed(2)} ms, p99 ${m.p99Ms?.toFixed(2)} ms, p99.9 ${m.p999Ms?.toFixed(2)} ms`;
  return `${m.mbPerSec?.toFixed(1)} MB/s, ${Math.round(m.recordsPerSec ?? 0)} records/s`;
}

async function runBroker(kind: BrokerKind, rep: number, opts: Options, dist: KafkaDist, state: { idempotence: boolean | null; notes: string[] }): Promise<BrokerRun> {
  const run: BrokerRun = { rep, broker: kind, startup: null, memory: null, workloads: {}, error: null };
  log(`rep ${rep}/${opts.plan.repetitions}: starting ${kind}`);
  let b: BrokerHandle | null = null;
  let sampler: RssSampler | null = null;
  try {
    const nodes = opts.plan.cluster?.nodes ?? 1;
    const start = { root: opts.root, samsaEntry: opts.samsaEntry };
    if (kind === 'samsa') b = nodes > 1 ? await startSamsaCluster(start, nodes) : await startSamsa(start);
    else b = nodes > 1 ? await startKafkaCluster(start, dist, nodes) : await startKafka(start, dist);
    const first = await timeToFirstProduce(b);
    run.startup = { ...first, formatMs: b.formatMs };
    log(`  ${kind} (pid${b.pids.length > 1 ? 's' : ''} ${b.pids.join(', ')}) took its first produce ${first.firstProduceMs.toFixed(0)} ms after spawn (listening at ${first.connectMs.toFixed(0)} ms, topic created at ${first.topicCreatedMs.toFixed(0)} ms)${b.formatMs !== null ? ` (storage format before it: ${b.formatMs.toFixed(0)} ms)` : ''}`);
    if (kind === 'samsa' && state.idempotence === null) {
      const keys = await withConnection(b, advertisedApiKeys);
      state.idempotence = keys.has(INIT_PRODUCER_ID);
      if (!state.idempotence) state.notes.push('Samsa does not advertise InitProducerId yet, so the Java producers ran with enable.idempotence=false against both brokers.');
    }
    state.idempotence ??= true;
    const producerProps = state.idempotence ? [] : ['enable.idempotence=false'];
    await sleep(2000);
    const idle = readMemoryOf(b.pids);
    if (opts.plan.warmupRecords > 0 && opts.plan.cluster !== null) {
      // The Java producer, acks=all, on a replicated topic: the replicas' fetch paths warm up too.
      const t0 = Date.now();
      const shape = topicShape(opts.plan);
      await withConnection(b, (c) => ensureTopic(c, 'bench-warmup', 6, false, shape));
      await producerPerformance(dist, { bootstrap: b.bootstrap, topic: 'bench-warmup', records: opts.plan.warmupRecords, recordSize: 1024, acks: 'all', props: producerProps, timeoutMs: opts.plan.toolTimeoutMs });
      log(`  ${kind} warmed up (${opts.plan.warmupRecords} records produced with acks=all, untimed, ${Date.now() - t0} ms)`);
    } else if (opts.plan.warmupRecords > 0) {
      const t0 = Date.now();
      await withConnection(b, (c) => ensureTopic(c, 'bench-warmup', 6, true));
      const args = ['--bootstrap', b.bootstrap, '--topic', 'bench-warmup', '--partitions', '6', '--records', String(opts.plan.warmupRecords), '--time-limit-ms', String(opts.plan.toolTimeoutMs)];
      await replayer([...args, '--mode', 'produce'], opts.plan.toolTimeoutMs);
      await replayer([...args, '--mode', 'fetch'], opts.plan.toolTimeoutMs);
      log(`  ${kind} warmed up (${opts.plan.warmupRecords} records produced and fetched, untimed, ${Date.now() - t0} ms)`);
    }
    sampler = new RssSampler(b.pids);
    sampler.start();
    const prefilled = new Set<string>();
    for (const w of opts.plan.workloads) {
      const cpu0 = cpuSeconds(b.pids);
      const load1 = loadavg()[0]!;
      const workloadPeak = new RssSampler(b.pids);
      workloadPeak.start();
      const t0 = Date.now();
      let wr: WorkloadRun;
      try {
        const metrics = await runWorkload(w, b, dist, opts.plan, producerProps, prefilled);
        wr = { ok: true, error: null, metrics, wallMs: Date.now() - t0, brokerCpuSec: null, rssPeakMb: 0, loadavg1: load1 };
        log(`  ${kind} ${w.id}: ${headline(w, metrics)}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        wr = { ok: false, error: message, metrics: {}, wallMs: Date.now() - t0, brokerCpuSec: null, rssPeakMb: 0, loadavg1: load1 };
        log(`  ${kind} ${w.id} FAILED: ${message.split('\n').slice(0, 6).join('\n    ')}`);
      }
      const cpu1 = cpuSeconds(b.pids);
      wr.brokerCpuSec = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
      wr.rssPeakMb = workloadPeak.stop() / 1024;
      run.workloads[w.id] = wr;
      if (b.exited()) throw new Error(`${kind} exited during ${w.id}; see ${b.logFiles.join(', ')}`);
    }
    const loadPeakKb = sampler.stop();
    const end = readMemoryOf(b.pids);
    run.memory = { idleRssMb: (idle?.rssKb ?? 0) / 1024, loadRssMb: loadPeakKb / 1024, hwmMb: (end?.hwmKb ?? 0) / 1024 };
    log(`  ${kind} RSS idle ${run.memory.idleRssMb.toFixed(0)} MiB, under load ${run.memory.loadRssMb.toFixed(0)} MiB, HWM ${run.memory.hwmMb.toFixed(0)} MiB`);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    log(`  ${kind} FAILED: ${run.error}`);
    for (const file of b?.logFiles ?? []) {
      if (existsSync(file)) log(`  last lines of ${file}:\n${readFileSync(file, 'utf8').trim().split('\n').slice(-20).join('\n')}`);
    }
  } finally {
    sampler?.stop();
    if (b) {
      await b.stop();
      if (run.error !== null || Object.values(run.workloads).some((w) => !w.ok)) {
        b.logFiles.forEach((file, i) => {
          if (!existsSync(file)) return;
          const kept = join(BENCH_DIR, 'results', 'tmp', `${kind}-rep${rep}-${b!.logFiles.length > 1 ? `node${i + 1}` : 'broker'}.log`);
          mkdirSync(dirname(kept), { recursive: true });
          copyFileSync(file, kept);
          log(`  something failed: ${kind}'s log is kept in ${kept}`);
        });
      }
      removeBrokerDir(b);
    }
  }
  return run;
}

function gitCommit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const dist = ensureKafka(opts.kafkaVersion, log);
  const started = new Date();
  const state = { idempotence: opts.idempotence === 'auto' ? null : opts.idempotence === 'on', notes: [] as string[] };
  if (opts.idempotence === 'off') state.notes.push('The Java producers ran with enable.idempotence=false against both brokers (--idempotence off).');
  const loadStart = loadavg();
  if (opts.plan.cluster !== null) {
    const c = opts.plan.cluster;
    state.notes.push(
      `Cluster run: ${c.nodes} combined nodes (process.roles=broker,controller) of each broker on this machine, every topic with replication factor ${c.replicationFactor} and min.insync.replicas=${c.minInsyncReplicas}, producers with acks=all. ` +
        `Kafka's nodes ran with ${KAFKA_CLUSTER_HEAP.join(' ')} each; Samsa's with their schema registry and HTTP listeners off. CPU seconds and RSS are the ${c.nodes} nodes' summed.`,
    );
  }
  if (opts.samsaEntry === 'bundle') state.notes.push('Samsa ran as one JavaScript file bundled with esbuild (--samsa-entry bundle), not through tsx.');
  log(`${opts.plan.mode} run: ${opts.plan.repetitions} repetition(s) of ${opts.plan.workloads.length} workloads on ${opts.brokers.join(' and ')}; brokers' data under ${opts.root}`);
  const runs: BrokerRun[] = [];
  for (let rep = 1; rep <= opts.plan.repetitions; rep++) {
    // Alternate which broker goes first, so neither always gets the cooler (or warmer) machine.
    const order = rep % 2 === 1 ? opts.brokers : [...opts.brokers].reverse();
    for (const kind of order) runs.push(await runBroker(kind, rep, opts, dist, state));
  }
  const result: BenchResult = {
    meta: {
      name: opts.name,
      mode: opts.plan.mode,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      repetitions: opts.plan.repetitions,
      gitCommit: gitCommit(),
      node: process.version,
      java: javaVersion(),
      kafkaVersion: dist.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadavgStart: loadStart,
      loadavgEnd: loadavg(),
      dataRoot: opts.root,
      producerIdempotence: state.idempotence ?? true,
      samsaEntry: opts.samsaEntry,
      cluster: opts.plan.cluster,
      notes: state.notes,
    },
    workloads: opts.plan.workloads,
    runs,
    summary: [],
  };
  result.summary = summarize(result);
  const outDir = join(BENCH_DIR, 'results');
  mkdirSync(join(outDir, 'tmp'), { recursive: true });
  const base = join(outDir, opts.name);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
  const md = renderMarkdown(result);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, renderSvg(result));
  copyFileSync(`${base}.json`, join(outDir, 'tmp', `${started.toISOString().replace(/[:.]/g, '-')}-${opts.name}.json`));
  process.stdout.write('\n' + md + '\n');
  log(`wrote ${base}.json, ${base}.md and ${base}.svg`);
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
