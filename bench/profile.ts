/**
 * Profiles Samsa under load: starts it with `node --cpu-prof`, warms it up, runs one workload, stops it
 * (SIGTERM: the profile is written on exit) and prints where the main thread's time went.
 *
 *   node --import tsx bench/profile.ts [--workload produce|fetch|producer-java|consumer-java] [--records N]
 *        [--partitions P] [--record-size B] [--top 25] [--out FILE.md]
 *
 * produce/fetch use the replayer (the broker alone); producer-java/consumer-java use Kafka's
 * ProducerPerformance/ConsumerPerformance. Profiles go to bench/results/tmp/profile-<workload>/.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, REPO_ROOT, ensureKafka } from './lib/kafka-dist.js';
import { removeBrokerDir, startSamsa, timeToFirstProduce } from './lib/brokers.js';
import { consumerPerformance, producerPerformance, replayer } from './lib/tools.js';
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

const parts: string[] = [];
for (const w of workloads) parts.push(await profileOne(w));
const md = parts.join('\n');
process.stdout.write(md + '\n');
if (outFile) writeFileSync(outFile, md);
