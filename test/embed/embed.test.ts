/**
 * startSamsa() (src/embed.ts), the library entry `import { startSamsa } from 'samsa'`: a broker in this
 * process on a free port with a temporary data directory; reset() deletes topics and consumer groups and
 * refuses while a group has members; stop() removes the directory it made and keeps a given one. The
 * type assertions at the end make `npm run typecheck` fail when types/samsa.d.ts or types/samsa.d.cts and
 * src/embed.ts drift.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startSamsa, SamsaResetError, type Samsa, type StartSamsaOptions } from '../../src/embed.js';
import type * as Declared from '../../types/samsa.js';
import type * as DeclaredCjs from '../../types/samsa.cjs';

const started: Samsa[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

async function start(options?: StartSamsaOptions): Promise<Samsa> {
  const s = await startSamsa(options);
  started.push(s);
  return s;
}

describe('startSamsa', () => {
  it('listens on a free port of 127.0.0.1 with registry and HTTP off; stop() removes its temporary data dir', async () => {
    const s = await start();
    expect(s.bootstrap).toBe(`127.0.0.1:${s.port}`);
    expect(s.port).toBeGreaterThan(0);
    expect(s.schemaRegistryUrl).toBeNull();
    expect(s.httpUrl).toBeNull();
    expect(existsSync(s.dataDir)).toBe(true);
    await s.stop();
    await s.stop(); // twice is harmless
    expect(existsSync(s.dataDir)).toBe(false);
  });

  it('keeps a given data dir, and serves the registry and /metrics when asked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-embed-test-'));
    try {
      const s = await start({ dataDir: dir, schemaRegistry: true, http: true });
      expect(s.dataDir).toBe(dir);
      const subjects = await fetch(`${s.schemaRegistryUrl!}/subjects`);
      expect(await subjects.json()).toEqual([]);
      const metrics = await fetch(`${s.httpUrl!}/metrics`);
      expect(metrics.status).toBe(200);
      await s.stop();
      expect(existsSync(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reset() deletes every topic and group (internal topics stay), and the names can be used again', async () => {
    const s = await start();
    const kafka = new Kafka({ clientId: 'embed-test', brokers: [s.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 2 }, { topic: 'b' }] });
      await admin.setOffsets({ groupId: 'g1', topic: 'a', partitions: [{ partition: 0, offset: '0' }] });
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toEqual(['g1']);
      expect(await admin.listTopics()).toEqual(expect.arrayContaining(['a', 'b', '__consumer_offsets']));
    } finally {
      await admin.disconnect();
    }

    await s.reset();
    // A new client: kafkajs keeps asking for the topics it has seen, which are gone (as against Kafka).
    const after = kafka.admin();
    await after.connect();
    try {
      expect((await after.listTopics()).sort()).toEqual(['__consumer_offsets']);
      expect((await after.listGroups()).groups).toEqual([]);
      // The group's committed offsets went with it.
      await after.createTopics({ topics: [{ topic: 'a', numPartitions: 2 }] });
      const offsets = await after.fetchOffsets({ groupId: 'g1', topics: ['a'] });
      expect(offsets[0]!.partitions.map((p) => p.offset)).toEqual(['-1', '-1']);
    } finally {
      await after.disconnect();
    }
  });

  it('reset() rejects naming a group whose consumer is still connected', async () => {
    const s = await start();
    const kafka = new Kafka({ clientId: 'embed-test', brokers: [s.bootstrap], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'busy', sessionTimeout: 30_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 't', fromBeginning: true });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.run({ eachMessage: async () => {} });
      await joined;
      const err = await s.reset().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SamsaResetError);
      expect((err as Error).message).toContain('busy');
    } finally {
      await consumer.disconnect();
    }
    // Once the consumer has left, the group is empty and reset() succeeds.
    await s.reset();
  });
});

// Compile-time: the hand-written declarations accept what src/embed.ts exports, and the other way round.
const declared: typeof Declared.startSamsa = startSamsa;
const implemented: (o?: Declared.StartSamsaOptions) => Promise<Declared.Samsa> = startSamsa;
const asImplemented: (o?: StartSamsaOptions) => Promise<Samsa> = null as unknown as typeof Declared.startSamsa;
void declared;
void implemented;
void asImplemented;
// The same for the CommonJS entry's declarations (types/samsa.d.cts, require('samsa')).
const declaredCjs: typeof DeclaredCjs.startSamsa = startSamsa;
const implementedCjs: (o?: DeclaredCjs.StartSamsaOptions) => Promise<DeclaredCjs.Samsa> = startSamsa;
const asImplementedCjs: (o?: StartSamsaOptions) => Promise<Samsa> = null as unknown as typeof DeclaredCjs.startSamsa;
void declaredCjs;
void implementedCjs;
void asImplementedCjs;
