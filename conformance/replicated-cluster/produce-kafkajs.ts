// kafkajs's idempotent producer (acks=all) writing numbered records for harness.py's two-leader-kills
// scenario. Usage: produce-kafkajs.ts BOOTSTRAP TOPIC COUNT PARTITIONS RATE ACKFILE GATE (as produce_python.py:
// record GATE is only sent once the file ACKFILE.go exists).
//
// Record n has the value String(n) and goes to partition n % PARTITIONS. One send() carries the records of
// one partition only, one send() at a time (kafkajs's idempotent producer needs maxInFlightRequests 1), so
// that a failed send() concerns one partition's batch. A failed send() is sent again with the SAME records,
// never the next ones: kafkajs takes the partition's sequence number back when a Produce fails, even when
// the broker had appended the batch and only its answer was lost, and a different batch under the same
// sequence would be answered as a retry of the first one (faults/workload.ts, IDEMPOTENT_RESENDS;
// test/faults/kafkajs-sequence-rollback.test.ts). Sending the same batch again is what the sequence number
// is for: the broker appends it if the first attempt never arrived, or answers with its offset if it did.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { IDEMPOTENT_RESENDS } from '../../faults/workload.js';

const [bootstrap, topic, countArg, partsArg, rateArg, ackFile, gateArg] = process.argv.slice(2);
if (!gateArg) {
  process.stderr.write('usage: produce-kafkajs.ts BOOTSTRAP TOPIC COUNT PARTITIONS RATE ACKFILE GATE\n');
  process.exit(2);
}
const count = Number(countArg);
const parts = Number(partsArg);
const rate = Number(rateArg);
const gate = Number(gateArg);
/** Records per send(): one partition's share of a chunk of consecutive numbers. */
const PER_SEND = 200;

const kafka = new Kafka({
  clientId: 'replicated-cluster-kafkajs',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 3000,
  requestTimeout: 30_000,
});
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 } });
writeFileSync(ackFile, '');
const t0 = Date.now();
let pace0 = t0;
let acked = 0;
let failedSends = 0;

async function main(): Promise<number> {
  await producer.connect();
  const chunk = PER_SEND * parts;
  for (let start = 0; start < count; start += chunk) {
    if (start <= gate && gate < start + chunk) {
      while (!existsSync(`${ackFile}.go`)) await new Promise((r) => setTimeout(r, 50));
      pace0 = Date.now() - (start / rate) * 1000; // the same pace after the gate, not a burst
    }
    const ahead = pace0 + (start / rate) * 1000 - Date.now();
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    for (let p = 0; p < parts; p++) {
      const ns: number[] = [];
      for (let n = start + p; n < Math.min(start + chunk, count); n += parts) ns.push(n);
      if (ns.length === 0) continue;
      const messages = ns.map((n) => ({ value: String(n), partition: p }));
      for (let attempt = 1; ; attempt++) {
        try {
          const [md] = await producer.send({ topic, acks: -1, timeout: 30_000, messages });
          if (!md || md.partition !== p || md.baseOffset === undefined) throw new Error(`unexpected record metadata ${JSON.stringify(md)}`);
          const base = Number(md.baseOffset);
          appendFileSync(ackFile, ns.map((n, i) => `${n} ${p} ${base + i}\n`).join(''));
          acked += ns.length;
          break;
        } catch (e) {
          failedSends++;
          const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          process.stdout.write(`send of ${ns[0]}..${ns[ns.length - 1]} to partition ${p} failed (attempt ${attempt}): ${text}\n`);
          if (attempt >= IDEMPOTENT_RESENDS) {
            appendFileSync(ackFile, ns.map((n) => `ERR ${n} ${text}\n`).join(''));
            return 1;
          }
        }
      }
    }
  }
  return 0;
}

main()
  .catch((e: unknown) => {
    process.stdout.write(`producer failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    return 1;
  })
  .then(async (code) => {
    await producer.disconnect().catch(() => {});
    process.stdout.write(`produced ${count} in ${((Date.now() - t0) / 1000).toFixed(1)} s: acknowledged ${acked}, failed sends ${failedSends}\n`);
    process.exit(code === 0 && acked === count ? 0 : 1);
  });
