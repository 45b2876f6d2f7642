/**
 * Profiles Samsa under load: starts it with `node --cpu-prof`, warms it up, runs one workload, stops it
 * (SIGTERM: the profile is written on exit) and prints where the main thread's time went.
 *
 *   node --import tsx bench/profile.ts [--workload produce|fetch|producer-java|consumer-java|e2e-cluster]
 *        [--records N] [--partitions P] [--record-size B] [--extra-partitions N] [--top 25] [--out FILE.md]
 *
 * produce/fetch use the replayer (the broker alone); producer-java/consumer-java use Kafka's
 * ProducerPerformance/ConsumerPerformance. e2e-cluster starts three nodes as `bench/run.ts --cluster` does,
 * each under --cpu-prof, and runs the cluster bench's end-to-end workload (OpenLoopLatency, acks=all,
 * 1000 records/s for 30 s on a 1-partition topic with replication factor 3 and min.insync.replicas=2),
 * optionally after creating a topic of --extra-partitions partitions (as __consumer_offsets adds 50), and
 * prints every node's main thread. Profiles go to bench/results/tmp/profile-<workload>/.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, REPO_ROOT, ensureKafka } from './lib/kafka-dist.js';
import { removeBrokerDir, startSamsa, startSamsaCluster, timeToFirstProduce } from './lib/brokers.js';
import { consumerPerformance, openLoopLatency, producerPerformance, replayer } from './lib/tools.js';
import { Metadata } from '../protocol/messages/metadata.js';
import { WireConnection, advertisedApiKeys, ensureTopic } from './lib/wire.js';
import { renderProfile, summarizeProfile } from './lib/cpuprofile.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const workloads = opt('--workload', 'produce,fetch').split(',');
const records = Number(opt('--records', '500000'));
const partitions = Number(opt('--partitions', '6'));
const recordSize = Number(opt('--record-size', '1024'));
const top = Number(opt('--top', '25'));
const outFile = opt('--out', '');
const extraPartitions = Number(opt('--extra-partitions', '0'));

const log = (s: string): void => {
  process.stderr.write(`[profile] ${s}\n`);
};

async function profileOne(workload: string): Promise<string> {
  const dir = join(BENCH_DIR, 'results', 'tmp', `profile-${workload}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const b = await startSamsa({ root: '/tmp', nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'] });
  let detail = '';
  const window = { fromUs: 0, toUs: 0 };
  const mark = (): number => Number(process.hrtime.bigint() / 1000n);
  try {
    await timeToFirstProduce(b);
    const conn = await WireConnection.open(b.port);
    const idempotent = (await advertisedApiKeys(conn)).has(22);
    const topic = `profile-${workload}`;
    await ensureTopic(conn, topic, partitions, true);
    conn.close();
    const base = ['--bootstrap', b.bootstrap, '--topic', topic, '--partitions', String(partitions), '--record-size', String(recordSize)];
    // Warm up (the profile covers it too, but it is short next to the measured part).
    await replayer([...base, '--mode', 'produce', '--records', String(Math.min(50_000, records))], 120_000);
    if (workload === 'fetch' || workload === 'consumer-java') await replayer([...base, '--mode', 'produce', '--records', String(records)], 600_000);
    window.fromUs = mark();
    if (workload === 'produce') {
      const r = await replayer([...base, '--mode', 'produce', '--records', String(records)], 600_000);
      detail = `replayer produce: ${r.mbPerSec.toFixed(1)} MB/s, ${r.recordsPerSec.toFixed(0)} records/s`;
    } else if (workload === 'fetch') {
      let mb = 0;
      for (let i = 0; i < 3; i++) {
        const r = await replayer([...base, '--mode', 'fetch'], 600_000);
        mb += r.mbPerSec / 3;
      }
      detail = `replayer fetch (3 passes over the backlog): ${mb.toFixed(1)} MB/s`;
    } else if (workload === 'producer-java' || workload === 'consumer-java') {
      const dist = ensureKafka(undefined, log);
      const props = idempotent ? [] : ['enable.idempotence=false'];
      if (workload === 'producer-java') {
        const r = await producerPerformance(dist, { bootstrap: b.bootstrap, topic, records, recordSize, acks: '1', props, timeoutMs: 600_000 });
        detail = `ProducerPerformance: ${r.mbPerSec} MB/s`;
      } else {
        const r = await consumerPerformance(dist, { bootstrap: b.bootstrap, topic, records, group: `profile-${Date.now()}`, props: [], timeoutMs: 600_000 });
        detail = `ConsumerPerformance: ${r.mbPerSec} MB/s`;
      }
    } else {
      throw new Error(`unknown workload ${workload}`);
    }
    window.toUs = mark();
    log(detail);
  } finally {
    await b.stop();
    removeBrokerDir(b);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir} (did the broker exit cleanly?)`);
  log(`profile: ${join(dir, file)} (open it in Chrome DevTools or speedscope)`);
  // Only the measured part: start-up (module loading) and warm-up are left out.
  return renderProfile(`Samsa, ${workload}: ${records} records of ${recordSize} B, ${partitions} partitions. ${detail}`, summarizeProfile(join(dir, file), REPO_ROOT, window), top);
}

/** The cluster bench's end-to-end workload on three profiled nodes; every node's main thread. */
async function profileCluster(workload: string): Promise<string> {
  const dir = join(BENCH_DIR, 'results', 'tmp', `profile-${workload}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dist = ensureKafka(undefined, log);
  const b = await startSamsaCluster({ root: '/tmp', nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'] }, 3);
  const shape = { replicationFactor: 3, configs: [{ name: 'min.insync.replicas', value: '2' }] };
  const window = { fromUs: 0, toUs: 0 };
  const mark = (): number => Number(process.hrtime.bigint() / 1000n);
  let leader = -1;
  let detail = '';
  try {
    await timeToFirstProduce(b);
    const conn = await WireConnection.open(b.port);
    if (extraPartitions > 0) await ensureTopic(conn, 'profile-extra', extraPartitions, false, shape);
    await ensureTopic(conn, 'profile-e2e', 1, false, shape);
    const md = await conn.request(Metadata, 12, { topics: [{ name: 'profile-e2e' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    leader = md.topics[0]?.partitions[0]?.leaderId ?? -1;
    conn.close();
    window.fromUs = mark();
    const r = await openLoopLatency(dist, { bootstrap: b.bootstrap, topic: 'profile-e2e', partitions: 1, rate: 1000, seconds: 30, warmupSeconds: 5, recordSize: 1024, acks: 'all', props: [], timeoutMs: 180_000 });
    window.toUs = mark();
    detail = `OpenLoopLatency acks=all 1000/s: p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, p99.9 ${r.p999Ms.toFixed(1)} ms`;
    log(detail);
  } finally {
    await b.stop();
    removeBrokerDir(b);
  }
  const parts: string[] = [];
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (others: tsx's workers).
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\./.exec(file);
    if (!m || m[2] !== '0') continue;
    const node = b.pids.indexOf(Number(m[1])) + 1;
    const role = node === leader ? 'leader of profile-e2e' : 'follower of profile-e2e';
    parts.push(renderProfile(`Samsa node ${node} of 3 (${role}), e2e-cluster, ${extraPartitions} extra partitions. ${detail}`, summarizeProfile(join(dir, file), REPO_ROOT, window), top));
  }
  return parts.join('\n');
}

const parts: string[] = [];
for (const w of workloads) parts.push(w === 'e2e-cluster' ? await profileCluster(w) : await profileOne(w));
const md = parts.join('\n');
process.stdout.write(md + '\n');
if (outFile) writeFileSync(outFile, md);
