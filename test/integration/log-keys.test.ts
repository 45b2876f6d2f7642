/**
 * Every log line is one JSON object whose keys are unique: a log reader that meets a second `level` (or
 * `msg`, `time`, `name`) keeps one of the two, and a line written at info could be read as some other level
 * (issue 9: "dynamic broker configs changed" carried the config level under `level`). JSON.parse keeps the
 * last duplicate silently, so the keys are read from the raw text.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../src/app.js';
import { buildConfig } from '../../src/config.js';

/** The keys of every object in one JSON text that appear twice in that object. */
function duplicateKeys(text: string): string[] {
  const dups: string[] = [];
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  let i = 0;
  const readString = (): string => {
    let out = '';
    i++; // opening quote
    while (text[i] !== '"') {
      if (text[i] === '\\') {
        out += text.slice(i, i + 2);
        i += 2;
      } else out += text[i++];
      if (i >= text.length) throw new Error(`unterminated string in ${text}`);
    }
    i++;
    return out;
  };
  while (i < text.length) {
    const c = text[i]!;
    const top = stack[stack.length - 1];
    if (c === '"') {
      const s = readString();
      if (top?.keys && top.expectKey) {
        if (top.keys.has(s)) dups.push(s);
        top.keys.add(s);
        top.expectKey = false;
      }
      continue;
    }
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ keys: null, expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.keys) top.expectKey = true;
    i++;
  }
  return dups;
}

describe('log lines', () => {
  it('the duplicate-key reader finds a repeated key', () => {
    expect(duplicateKeys('{"level":30,"a":{"level":1},"level":"perBroker","msg":"x"}')).toEqual(['level']);
    expect(duplicateKeys('{"level":30,"a":{"level":1,"s":"\\",\\"level\\":"},"msg":"x"}')).toEqual([]);
  });

  it('never repeat a key, across start, topic and config changes, produce, consume and stop', async () => {
    const raw: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const text of chunk.toString('utf8').split('\n')) if (text.trim() !== '') raw.push(text);
        cb();
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'samsa-logkeys-'));
    const config = buildConfig(new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'group.initial.rebalance.delay.ms': '0', 'samsa.schema.registry.enable': 'false', 'samsa.http.listeners': '' })));
    const running = await startBroker(config, pino({ level: 'debug', base: { name: 'samsa' } }, sink));
    try {
      const kafka = new Kafka({ brokers: [`127.0.0.1:${running.port}`], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'keys', numPartitions: 2 }] });
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: String(config.nodeId), configEntries: [{ name: 'log.retention.ms', value: '3600000' }] }] });
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'keys', configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'keys', messages: [{ key: 'k', value: 'v' }] });
      await producer.disconnect();
      await admin.deleteTopics({ topics: ['keys'] });
      await admin.disconnect();
    } finally {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(raw.some((l) => l.includes('dynamic broker configs changed'))).toBe(true);
    for (const line of raw) expect(duplicateKeys(line), line).toEqual([]);
  });
});
