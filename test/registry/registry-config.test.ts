/**
 * The registry's properties: the off switch, the listener, the default level; a taken port stops the start
 * with a message naming the properties, and leaves no broker behind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { RegistryConfigError, registryConfig } from '../../src/registry/start.js';
import { startTestBroker } from '../helpers/broker.js';
import { call, startRegistryBroker } from './helpers.js';

describe('registry properties', () => {
  it("defaults: on, http://127.0.0.1:8081, backward, _schemas; Confluent's timeouts (SchemaRegistryConfig)", () => {
    expect(registryConfig(new Map())).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 8081,
      compatibility: 'BACKWARD',
      topic: '_schemas',
      replicationFactor: 3,
      initTimeoutMs: 60_000,
      // kafkastore.timeout.ms: Confluent's default 500; leader.{connect,read}.timeout.ms: 60000.
      timeoutMs: 500,
      leaderConnectTimeoutMs: 60_000,
      leaderReadTimeoutMs: 60_000,
      groupId: 'schema-registry',
      leaderEligible: true,
    });
  });

  it('the cluster properties: group, eligibility, replication factor and timeouts, bad values refused', () => {
    expect(
      registryConfig(new Map([['schema.registry.group.id', 'sr-a'], ['leader.eligibility', 'FALSE'], ['kafkastore.topic.replication.factor', '1'], ['kafkastore.timeout.ms', '10000'], ['kafkastore.init.timeout.ms', '1000'], ['leader.connect.timeout.ms', '7'], ['leader.read.timeout.ms', '8']])),
    ).toMatchObject({ groupId: 'sr-a', leaderEligible: false, replicationFactor: 1, timeoutMs: 10_000, initTimeoutMs: 1000, leaderConnectTimeoutMs: 7, leaderReadTimeoutMs: 8 });
    expect(() => registryConfig(new Map([['leader.eligibility', 'maybe']]))).toThrow(RegistryConfigError);
    // The deprecated master.eligibility, when set, wins over leader.eligibility (Confluent's KafkaSchemaRegistry).
    expect(registryConfig(new Map([['master.eligibility', 'false'], ['leader.eligibility', 'true']])).leaderEligible).toBe(false);
    expect(registryConfig(new Map([['master.eligibility', 'true'], ['leader.eligibility', 'false']])).leaderEligible).toBe(true);
    expect(() => registryConfig(new Map([['master.eligibility', 'maybe']]))).toThrow(/master\.eligibility/);
    expect(() => registryConfig(new Map([['kafkastore.topic.replication.factor', '0']]))).toThrow(RegistryConfigError);
    expect(() => registryConfig(new Map([['kafkastore.timeout.ms', '-5']]))).toThrow(RegistryConfigError);
  });

  it('parses the listener and level, and refuses bad values', () => {
    expect(registryConfig(new Map([['schema.registry.listeners', 'http://0.0.0.0:18081'], ['schema.compatibility.level', 'full_transitive']]))).toMatchObject({
      host: '0.0.0.0',
      port: 18081,
      compatibility: 'FULL_TRANSITIVE',
    });
    expect(() => registryConfig(new Map([['schema.registry.listeners', 'https://x:1']]))).toThrow(RegistryConfigError);
    expect(() => registryConfig(new Map([['schema.compatibility.level', 'sideways']]))).toThrow(RegistryConfigError);
    expect(() => registryConfig(new Map([['samsa.schema.registry.enable', 'maybe']]))).toThrow(RegistryConfigError);
    expect(registryConfig(new Map([['samsa.schema.registry.enable', 'false']])).enabled).toBe(false);
  });

  it('the broker configuration knows the registry properties (no "isn\'t a known config" warning)', () => {
    const props = new Map([
      ['samsa.schema.registry.enable', 'true'],
      ['schema.registry.listeners', 'http://127.0.0.1:18081'],
      ['schema.compatibility.level', 'full'],
      ['kafkastore.topic', '_schemas'],
      ['kafkastore.topic.replication.factor', '1'],
      ['kafkastore.timeout.ms', '1000'],
      ['kafkastore.init.timeout.ms', '1000'],
      ['leader.connect.timeout.ms', '1000'],
      ['leader.read.timeout.ms', '1000'],
      ['schema.registry.group.id', 'schema-registry'],
      ['leader.eligibility', 'true'],
      ['master.eligibility', 'true'],
    ]);
    expect(buildConfig(props).warnings.filter((w) => w.includes('known config'))).toEqual([]);
  });

  it('samsa.schema.registry.enable=false starts no registry', async () => {
    const b = await startTestBroker({ 'samsa.schema.registry.enable': 'false' });
    try {
      expect(b.registry).toBeNull();
      expect(b.broker.image.topic('_schemas') !== undefined).toBe(false);
    } finally {
      await b.destroy();
    }
  });

  it('schema.compatibility.level sets the global default', async () => {
    const b = await startRegistryBroker({ 'schema.compatibility.level': 'forward' });
    try {
      expect((await call(b.url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'FORWARD' });
      // Nothing is written until the first registration.
      expect(b.broker.image.topic('_schemas') !== undefined).toBe(false);
    } finally {
      await b.destroy();
    }
  });

  it('a taken port fails the start with a message naming the properties', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'samsa-registry-port-'));
    try {
      await expect(startTestBroker({ 'samsa.schema.registry.enable': 'true', 'schema.registry.listeners': `http://127.0.0.1:${port}` }, dir)).rejects.toThrow(
        /schema registry cannot listen on 127\.0\.0\.1:\d+ .*schema\.registry\.listeners, or samsa\.schema\.registry\.enable=false/,
      );
    } finally {
      await new Promise((r) => blocker.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
