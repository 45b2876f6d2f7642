/**
 * End to end with unmodified client libraries: @kafkajs/confluent-schema-registry registers an Avro schema
 * in Samsa's registry and encodes a record (magic byte 0, 4-byte schema id, Avro binary), kafkajs produces
 * it to Samsa, a kafkajs consumer reads it and the registry client decodes it by the id in its header. Then
 * a compatible evolution is accepted and an incompatible one refused, under the subject's level.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { TestBroker } from '../helpers/broker.js';
import { call, startRegistryBroker } from './helpers.js';

let b: TestBroker & { url: string };
beforeAll(async () => {
  b = await startRegistryBroker({ 'group.initial.rebalance.delay.ms': '0' });
});
afterAll(async () => {
  await b.destroy();
});

const userV1 = {
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'nome', type: 'string' },
  ],
};

describe('@kafkajs/confluent-schema-registry with kafkajs through Samsa', () => {
  it('registers, encodes, produces, consumes and decodes an Avro record', async () => {
    const registry = new SchemaRegistry({ host: b.url });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(userV1) }, { subject: 'users-value' });
    expect(id).toBeGreaterThan(0);
    // register() set the subject's level after its GET /config/{subject} got 404/40408.
    expect((await call(b.url, 'GET', '/config/users-value')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await registry.getLatestSchemaId('users-value')).toBe(id);

    const encoded = await registry.encode(id, { id: 7, nome: 'Ana' });
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);

    const kafka = new Kafka({ clientId: 'sr-e2e', brokers: [b.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'users', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'users', messages: [{ key: '7', value: encoded }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'sr-e2e-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'users', fromBeginning: true });
    // A registry client with an empty cache, as a separate consumer process would have.
    const reader = new SchemaRegistry({ host: b.url });
    const decoded = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record consumed within 20 s')), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(await reader.decode(message.value!));
        },
      });
    });
    await consumer.disconnect();
    expect(decoded).toEqual({ id: 7, nome: 'Ana' });
  }, 40_000);

  it('accepts a compatible evolution and refuses an incompatible one', async () => {
    const registry = new SchemaRegistry({ host: b.url });
    const subject = 'evolve-value';
    const { id: v1 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(userV1) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    const withDefault = { ...userV1, fields: [...userV1.fields, { name: 'email', type: ['null', 'string'], default: null }] };
    const { id: v2 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(withDefault) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    expect(v2).not.toBe(v1);
    // An old record decodes with the registry client whatever the latest version is.
    expect(await registry.decode(await registry.encode(v1, { id: 1, nome: 'x' }))).toEqual({ id: 1, nome: 'x' });
    const noDefault = { ...userV1, fields: [...userV1.fields, { name: 'age', type: 'int' }] };
    await expect(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(noDefault) }, { subject, compatibility: COMPATIBILITY.BACKWARD })).rejects.toThrow(
      /incompatible with an earlier schema/,
    );
    expect((await call(b.url, 'GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
  });

  it('registers, encodes and decodes a JSON Schema record', async () => {
    const registry = new SchemaRegistry({ host: b.url });
    const schema = { type: 'object', properties: { id: { type: 'integer' }, nome: { type: 'string' } }, required: ['id'], additionalProperties: false };
    const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(schema) }, { subject: 'users-json-value' });
    const encoded = await registry.encode(id, { id: 3, nome: 'Bea' });
    expect(encoded.readUInt32BE(1)).toBe(id);
    expect(JSON.parse(encoded.subarray(5).toString())).toEqual({ id: 3, nome: 'Bea' });
    expect(await new SchemaRegistry({ host: b.url }).decode(encoded)).toEqual({ id: 3, nome: 'Bea' });
  });

  it('registers, encodes and decodes a Protobuf record', async () => {
    const registry = new SchemaRegistry({ host: b.url });
    const schema = 'syntax = "proto3";\npackage com.example;\n\nmessage User {\n  int32 id = 1;\n  string nome = 2;\n}\n';
    const { id } = await registry.register({ type: SchemaType.PROTOBUF, schema }, { subject: 'users-proto-value' });
    const encoded = await registry.encode(id, { id: 5, nome: 'Caio' });
    expect(encoded.readUInt32BE(1)).toBe(id);
    expect(await new SchemaRegistry({ host: b.url }).decode(encoded)).toMatchObject({ id: 5, nome: 'Caio' });
  });
});
