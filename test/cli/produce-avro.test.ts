/**
 * `samsa produce --schema-registry`: lines of Avro JSON (AVRO schema) or JSON (JSON schema) become values in
 * Confluent's wire format, checked by decoding them with @kafkajs/confluent-schema-registry (an independent
 * Confluent-format deserializer) against the built-in registry; a line that does not fit the schema, a
 * schema type it does not encode and a missing subject fail with 1.
 */
import { Readable } from 'node:stream';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, runClientCli } from '../../src/cli/client-commands.js';
import { KafkaClient } from '../../src/client/client.js';
import { fetchOnce } from '../../src/client/operations.js';
import type { TestBroker } from '../helpers/broker.js';
import { call, startRegistryBroker } from '../registry/helpers.js';

let broker: TestBroker & { url: string };

beforeAll(async () => {
  broker = await startRegistryBroker();
});
afterAll(async () => {
  await broker.destroy();
});

async function cli(args: string[], stdin: string): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await runClientCli(['-b', broker.bootstrap, ...args], { stdin: Readable.from([stdin]), stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } });
  return { code, err };
}

const SCHEMA = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'note', type: ['null', 'string'], default: null }] };

describe('samsa produce --schema-registry', () => {
  it('writes Avro values a Confluent deserializer reads, by subject and by id', async () => {
    await broker.broker.createTopic('orders', 1, 1, new Map());
    const reg = await call(broker.url, 'POST', '/subjects/orders-value/versions', { schema: JSON.stringify(SCHEMA) });
    expect(reg.status).toBe(200);
    const id = (reg.body as { id: number }).id;

    const bySubject = await cli(['produce', 'orders', '--schema-registry', broker.url, '-k', '|'], 'o1|{"id": 1, "note": {"string": "first"}}\n{"id": 2, "note": null}\n');
    expect(bySubject.code, bySubject.err).toBe(0);
    const byId = await cli(['produce', 'orders', '--schema-registry', broker.url, '--value-schema-id', String(id)], '{"id": 3, "note": null}\n');
    expect(byId.code, byId.err).toBe(0);

    const client = new KafkaClient({ bootstrap: broker.bootstrap });
    try {
      const [p] = await fetchOnce(client, await client.topic('orders'), new Map([[0, 0n]]), { maxWaitMs: 0 });
      const registry = new SchemaRegistry({ host: broker.url });
      const decoded = await Promise.all(p!.records.map(async (r) => ({ key: r.key?.toString() ?? null, value: (await registry.decode(r.value!)) as unknown })));
      expect(decoded).toEqual([
        { key: 'o1', value: { id: 1, note: 'first' } },
        { key: null, value: { id: 2, note: null } },
        { key: null, value: { id: 3, note: null } },
      ]);
      expect(p!.records.every((r) => r.value![0] === 0 && r.value!.readInt32BE(1) === id)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('writes JSON Schema values a Confluent deserializer reads, and refuses a line its schema does not allow', async () => {
    await broker.broker.createTopic('people', 1, 1, new Map());
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name'], additionalProperties: false };
    const reg = await call(broker.url, 'POST', '/subjects/people-value/versions', { schemaType: 'JSON', schema: JSON.stringify(schema) });
    expect(reg.status).toBe(200);
    const id = (reg.body as { id: number }).id;
    const ok = await cli(['produce', 'people', '--schema-registry', broker.url, '-k', '|'], 'p1|{"name": "ana", "age": 30}\n{"name":"bia"}\n');
    expect(ok.code, ok.err).toBe(0);

    const client = new KafkaClient({ bootstrap: broker.bootstrap });
    try {
      const [p] = await fetchOnce(client, await client.topic('people'), new Map([[0, 0n]]), { maxWaitMs: 0 });
      expect(p!.records.every((r) => r.value![0] === 0 && r.value!.readInt32BE(1) === id)).toBe(true);
      const registry = new SchemaRegistry({ host: broker.url });
      const decoded = await Promise.all(p!.records.map(async (r) => ({ key: r.key?.toString() ?? null, value: (await registry.decode(r.value!)) as unknown })));
      expect(decoded).toEqual([
        { key: 'p1', value: { name: 'ana', age: 30 } },
        { key: null, value: { name: 'bia' } },
      ]);
    } finally {
      await client.close();
    }

    const invalid = await cli(['produce', 'people', '--schema-registry', broker.url], '{"name": "caio", "age": -1}\n');
    expect(invalid.code).toBe(ExitCode.ERROR);
    expect(invalid.err).toMatch(/line 1: not a value of JSON schema \d+: \/age must be >= 0/);
    const extra = await cli(['produce', 'people', '--schema-registry', broker.url], '{"name": "caio"}\n{"name": "dora", "pet": "cat"}\n');
    expect(extra.code).toBe(ExitCode.ERROR);
    expect(extra.err).toMatch(/line 2: not a value of JSON schema \d+: \(root\) must NOT have additional properties/);
    const notJson = await cli(['produce', 'people', '--schema-registry', broker.url], 'name=eva\n');
    expect(notJson.code).toBe(ExitCode.ERROR);
    expect(notJson.err).toMatch(/line 1: not JSON/);
  });

  it('refuses a subject whose schema is neither AVRO nor JSON', async () => {
    const reg = await call(broker.url, 'POST', '/subjects/proto-value/versions', { schemaType: 'PROTOBUF', schema: 'syntax = "proto3";\nmessage M { string a = 1; }\n' });
    expect(reg.status).toBe(200);
    const r = await cli(['produce', 'orders', '--schema-registry', broker.url, '--value-subject', 'proto-value'], 'a\n');
    expect(r.code).toBe(ExitCode.ERROR);
    expect(r.err).toContain('is PROTOBUF; samsa produce encodes AVRO and JSON only');
  });

  it('fails with 1 on a line the schema does not fit or a subject that does not exist, with 2 on bad options', async () => {
    const bad = await cli(['produce', 'orders', '--schema-registry', broker.url], '{"id": "not a long"}\n');
    expect(bad.code).toBe(ExitCode.ERROR);
    expect(bad.err).toMatch(/line 1: not a value of schema \d+/);
    const missing = await cli(['produce', 'orders', '--schema-registry', broker.url, '--value-subject', 'nope'], '{}\n');
    expect(missing.code).toBe(ExitCode.ERROR);
    expect(missing.err).toContain('error_code 40401');
    expect((await cli(['produce', 'orders', '--value-subject', 'x'], '')).code).toBe(ExitCode.USAGE);
  });
});
