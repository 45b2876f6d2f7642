/**
 * kafkajs scenarios against a running Samsa broker. Usage (from the repo root, which has kafkajs as a
 * devDependency): node --import tsx conformance/kafkajs/scenarios.ts BOOTSTRAP NAME
 * KAFKAJS_CODECS=<dir with node_modules/kafkajs-snappy and kafkajs-lz4> registers those codecs.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { Zstd } from '@hpcc-js/wasm-zstd';
import kafkajs from 'kafkajs';
import type { Consumer, IHeaders, KafkaMessage, Message } from 'kafkajs';

// kafkajs is CommonJS: named imports do not all resolve under Node's ESM loader
const { CompressionCodecs, CompressionTypes, ConfigResourceTypes, Kafka, logLevel } = kafkajs;
type CompressionTypes = kafkajs.CompressionTypes;
type Kafka = kafkajs.Kafka;

const [bootstrap, name] = process.argv.slice(2) as [string, string];
const kafka = new Kafka({ clientId: 'kafkajs-conformance', brokers: [bootstrap], logLevel: logLevel.ERROR, retry: { retries: 3 } });

function assert(cond: unknown, ...what: unknown[]): asserts cond {
  if (!cond) throw new Error('assertion failed: ' + what.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))).join(' '));
}
const uid = () => randomBytes(3).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function registerCodecs(): void {
  const dir = process.env.KAFKAJS_CODECS;
  if (dir) {
    const req = createRequire(dir + '/');
    CompressionCodecs[CompressionTypes.Snappy] = req('kafkajs-snappy');
    CompressionCodecs[CompressionTypes.LZ4] = new (req('kafkajs-lz4'))().codec;
  }
  // @kafkajs/zstd (the codec kafkajs documents) needs a native addon that does not build on Node 20, so
  // zstd goes through the WASM build of zstd that the repo already depends on.
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    async compress(encoder: { buffer: Buffer }) {
      return Buffer.from((await Zstd.load()).compress(encoder.buffer, 3));
    },
    async decompress(buffer: Buffer) {
      return Buffer.from((await Zstd.load()).decompress(buffer));
    },
  });
}

/** The batches on the broker's disk carry the codec asked for (tools/batch-codecs.ts reads the segments). */
function assertStoredCodec(topic: string, codec: string): void {
  if (!process.env.SAMSA_DATA) return;
  const out = execFileSync('node', ['--import', 'tsx', 'conformance/tools/batch-codecs.ts', `${process.env.SAMSA_DATA}/${topic}-0`], { encoding: 'utf8' });
  assert(out.trim() === codec, `stored codecs: ${out.trim().split('\n').join(',')}, expected ${codec}`);
}

/** Reads `count` messages of a topic from the beginning with a fresh group; returns them in partition, offset order. */
async function readBack(topic: string, count: number, timeoutMs = 30000): Promise<(KafkaMessage & { partition: number })[]> {
  const consumer = kafka.consumer({ groupId: 'kjs-read-' + uid(), maxWaitTimeInMs: 200 });
  const out: (KafkaMessage & { partition: number })[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => { out.push({ ...message, partition }); } });
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) await sleep(100);
  } finally {
    await consumer.disconnect();
  }
  assert(out.length === count, `read ${out.length} of ${count} messages`);
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

async function withAdmin<T>(f: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try { return await f(admin); } finally { await admin.disconnect(); }
}

async function produce(topic: string, messages: Message[], opts: { compression?: CompressionTypes; idempotent?: boolean; acks?: number } = {}) {
  const producer = kafka.producer(opts.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {});
  await producer.connect();
  try {
    return await producer.send({ topic, messages, compression: opts.compression, acks: opts.acks });
  } finally {
    await producer.disconnect();
  }
}

const scenarios: Record<string, () => Promise<void>> = {
  async metadata() {
    await withAdmin(async (admin) => {
      const cluster = await admin.describeCluster();
      assert(cluster.brokers.length === 1 && cluster.brokers[0]!.nodeId === 1, cluster);
      assert(`${cluster.brokers[0]!.host}:${cluster.brokers[0]!.port}` === bootstrap, cluster);
      assert(cluster.controller === 1, cluster);
      assert(cluster.clusterId, cluster);
    });
    // a producer's Metadata request auto-creates the topic
    const topic = 'kjs-meta-' + uid();
    await produce(topic, [{ value: 'x' }]);
    await withAdmin(async (admin) => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert(md.topics[0]!.partitions.length === 1, md);
      assert(md.topics[0]!.partitions[0]!.leader === 1, md);
    });
  },

  async 'create-describe-delete-topic'() {
    const topic = 'kjs-admin-' + uid();
    await withAdmin(async (admin) => {
      assert(await admin.createTopics({ topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }], waitForLeaders: true }), 'create');
      assert((await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })) === false, 'second create should report it exists');
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert(md.topics[0]!.partitions.map((p) => p.partitionId).sort().join() === '0,1,2', md);
      assert((await admin.listTopics()).includes(topic), 'listed');
      await admin.deleteTopics({ topics: [topic] });
      assert(!(await admin.listTopics()).includes(topic), 'still listed after delete');
    });
  },

  ...Object.fromEntries((['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map((codec) => [`compression-${codec}`, async () => {
    const type = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }[codec];
    const topic = `kjs-${codec}-` + uid();
    const messages = Array.from({ length: 5000 }, (_, i) => ({ key: `key-${i}`, value: `value ${i} ${'payload-'.repeat(10)}`, partition: 0 }));
    for (let i = 0; i < messages.length; i += 1000) await produce(topic, messages.slice(i, i + 1000), { compression: type });
    const got = await readBack(topic, 5000);
    got.forEach((m, i) => assert(m.key?.toString() === messages[i]!.key && m.value?.toString() === messages[i]!.value, 'message', i, m.value?.toString()));
    assertStoredCodec(topic, codec);
  }])),

  async 'keyed-partitioning'() {
    const topic = 'kjs-keyed-' + uid();
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true }));
    const meta = await produce(topic, Array.from({ length: 400 }, (_, i) => ({ key: `k${i % 20}`, value: String(i) })));
    assert(meta.length > 1, 'all keys on one partition', meta);
    const got = await readBack(topic, 400);
    const byKey = new Map<string, Set<number>>();
    for (const m of got) byKey.set(m.key!.toString(), (byKey.get(m.key!.toString()) ?? new Set()).add(m.partition));
    for (const [k, parts] of byKey) assert(parts.size === 1, 'key on several partitions', k, [...parts]);
    assert(new Set(got.map((m) => m.partition)).size > 1, 'one partition used');
  },

  async 'group-commit-resume'() {
    const topic = 'kjs-group-' + uid();
    const groupId = 'kjs-group-' + uid();
    await produce(topic, Array.from({ length: 100 }, (_, i) => ({ value: `a${i}` })));
    async function consume(n: number): Promise<string[]> {
      const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
      const out: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => { out.push(message.value!.toString()); } });
      const deadline = Date.now() + 30000;
      while (out.length < n && Date.now() < deadline) await sleep(100);
      await sleep(500); // nothing more should arrive
      await consumer.disconnect(); // commits what was consumed
      return out;
    }
    const first = await consume(100);
    assert(first.join() === Array.from({ length: 100 }, (_, i) => `a${i}`).join(), 'first run', first.length, first.slice(0, 3));
    const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    assert(committed[0]!.partitions[0]!.offset === '100', 'committed', committed);
    await produce(topic, Array.from({ length: 50 }, (_, i) => ({ value: `b${i}` })));
    const second = await consume(50);
    assert(second.join() === Array.from({ length: 50 }, (_, i) => `b${i}`).join(), 'second run', second.length, second.slice(0, 3));
    const groups = await withAdmin((admin) => admin.listGroups());
    assert(groups.groups.some((g) => g.groupId === groupId), 'listGroups', groups);
  },

  async 'describe-configs'() {
    const topic = 'kjs-configs-' + uid();
    await withAdmin(async (admin) => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '7200000' }, { name: 'cleanup.policy', value: 'compact' }] }] });
      const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
      const entries = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
      assert(entries.get('retention.ms')?.configValue === '7200000', entries.get('retention.ms'));
      assert(entries.get('cleanup.policy')?.configValue === 'compact', entries.get('cleanup.policy'));
      assert(entries.get('retention.ms')?.isDefault === false && entries.get('max.message.bytes')?.isDefault === true, entries.get('max.message.bytes'));
      const b = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }] });
      assert(b.resources[0]!.configEntries.length > 0, b);
    });
  },

  async 'idempotent-produce'() {
    const topic = 'kjs-idem-' + uid();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic, messages: Array.from({ length: 100 }, (_, j) => ({ value: `v${i * 100 + j}`, partition: 0 })) });
    }
    await producer.disconnect();
    const got = await readBack(topic, 1000);
    got.forEach((m, i) => assert(m.value!.toString() === `v${i}`, 'message', i, m.value?.toString()));
  },

  async 'headers-null-key-value'() {
    const topic = 'kjs-headers-' + uid();
    const headers: IHeaders = { h1: 'one', h2: '', multi: ['a', 'b'] };
    await produce(topic, [
      { key: 'k1', value: 'v1', headers, partition: 0 },
      { key: null, value: 'null key', partition: 0 },
      { key: 'tombstone', value: null, partition: 0 },
      { key: null, value: null, partition: 0 },
    ]);
    const got = await readBack(topic, 4);
    const kv = got.map((m) => [m.key?.toString() ?? null, m.value?.toString() ?? null]);
    assert(JSON.stringify(kv) === JSON.stringify([['k1', 'v1'], [null, 'null key'], ['tombstone', null], [null, null]]), kv);
    const h = got[0]!.headers!;
    assert(h.h1?.toString() === 'one' && h.h2?.toString() === '', h);
    assert(Array.isArray(h.multi) && h.multi.map(String).join() === 'a,b', 'repeated header', h);
    assert(Object.keys(got[1]!.headers ?? {}).length === 0, got[1]!.headers);
  },

  async 'large-message'() {
    const topic = 'kjs-large-' + uid();
    const big = randomBytes(1_047_800);
    await produce(topic, [{ key: 'big', value: big, partition: 0 }]);
    const got = await readBack(topic, 1);
    assert(Buffer.compare(got[0]!.value!, big) === 0, 'value differs');
    let refused = false;
    try {
      await produce(topic, [{ value: randomBytes(1_100_000), partition: 0 }]);
    } catch (e) {
      refused = /too large|MESSAGE_TOO_LARGE|larger than/i.test(String(e)) || (e as { type?: string }).type === 'MESSAGE_TOO_LARGE';
      if (!refused) throw e;
    }
    assert(refused, 'a 1,100,000-byte message was accepted');
  },

  async 'consume-from-timestamp'() {
    const topic = 'kjs-ts-' + uid();
    const base = Date.now() - 60000;
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: String(base + i * 1000), partition: 0 })));
    const offsets = await withAdmin((admin) => admin.fetchTopicOffsetsByTimestamp(topic, base + 4500));
    assert(offsets[0]!.offset === '5', offsets);
    const consumer = kafka.consumer({ groupId: 'kjs-ts-' + uid(), maxWaitTimeInMs: 200 });
    const out: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => { out.push(`${message.value}@${message.timestamp}`); } });
    consumer.seek({ topic, partition: 0, offset: offsets[0]!.offset });
    const deadline = Date.now() + 20000;
    while (out.length < 5 && Date.now() < deadline) await sleep(100);
    await consumer.disconnect();
    const want = Array.from({ length: 5 }, (_, i) => `m${i + 5}@${base + (i + 5) * 1000}`);
    assert(out.join() === want.join(), out);
  },

  async 'acks-0'() {
    // kafkajs waits for no response with acks 0; the records must still land
    const topic = 'kjs-acks0-' + uid();
    await produce(topic, Array.from({ length: 200 }, (_, i) => ({ value: `v${i}`, partition: 0 })), { acks: 0 });
    const got = await readBack(topic, 200);
    got.forEach((m, i) => assert(m.value!.toString() === `v${i}`, i));
  },
};

registerCodecs();
const f = scenarios[name];
if (!f) { console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(' ')}`); process.exit(2); }
f().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
