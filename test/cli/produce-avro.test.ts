/**
 * `samsa produce --schema-registry`: lines of Avro JSON become values in Confluent's wire format, checked by
 * decoding them with @kafkajs/confluent-schema-registry (an independent Confluent-format deserializer)
 * against the built-in registry; a line that does not fit the schema and a missing subject fail with 1.
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
