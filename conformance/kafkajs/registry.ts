/**
 * @kafkajs/confluent-schema-registry (the repo's devDependency) against Samsa's built-in Schema Registry,
 * with kafkajs producing and consuming through the broker. Usage: registry.ts BOOTSTRAP REGISTRY_URL NAME.
 */
import { randomUUID } from 'node:crypto';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, registryUrl, name] = process.argv.slice(2) as [string, string, string];
const kafka = new Kafka({ clientId: 'kafkajs-registry', brokers: [bootstrap], logLevel: logLevel.NOTHING });

const user = {
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'nome', type: 'string' },
  ],
};

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Produces the encoded values, reads them back with a new consumer group and decodes with a fresh client. */
async function roundtrip(type: SchemaType, schema: string, values: object[]): Promise<void> {
  const registry = new SchemaRegistry({ host: registryUrl });
  const topic = `kjs-sr-${randomUUID().slice(0, 8)}`;
  const { id } = await registry.register({ type, schema }, { subject: `${topic}-value` });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: await Promise.all(values.map(async (v) => ({ value: await registry.encode(id, v) }))) });
  await producer.disconnect();
  const reader = new SchemaRegistry({ host: registryUrl });
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${values.length} records within 30 s`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(await reader.decode(message.value!));
        if (got.length === values.length) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  check(JSON.stringify(got) === JSON.stringify(values), `decoded ${JSON.stringify(got)}`);
  console.log(`${values.length} ${type} records through ${topic}, schema id ${id}`);
}

async function evolution(): Promise<void> {
  const registry = new SchemaRegistry({ host: registryUrl });
  const subject = `kjs-evolve-${randomUUID().slice(0, 8)}`;
  const opts = { subject, compatibility: COMPATIBILITY.BACKWARD };
  const v1 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(user) }, opts);
  const v2 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify({ ...user, fields: [...user.fields, { name: 'email', type: ['null', 'string'], default: null }] }) }, opts);
  check(v1.id !== v2.id, 'a new version gets a new id');
  check((await registry.getLatestSchemaId(subject)) === v2.id, 'latest is v2');
  let refused = false;
  try {
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify({ ...user, fields: [...user.fields, { name: 'age', type: 'int' }] }) }, opts);
  } catch (err) {
    refused = /incompatible/.test((err as Error).message);
  }
  check(refused, 'a field without a default is refused under BACKWARD');
  console.log(`${subject}: v1 id ${v1.id}, v2 id ${v2.id}, incompatible v3 refused`);
}

const scenarios: Record<string, () => Promise<void>> = {
  'sr-avro-roundtrip': () => roundtrip(SchemaType.AVRO, JSON.stringify(user), [{ id: 1, nome: 'Ana' }, { id: 2, nome: 'Bea' }]),
  'sr-avro-evolution': evolution,
  'sr-json-roundtrip': () =>
    roundtrip(SchemaType.JSON, JSON.stringify({ type: 'object', properties: { id: { type: 'integer' }, nome: { type: 'string' } }, required: ['id'] }), [{ id: 1, nome: 'Ana' }]),
  'sr-protobuf-roundtrip': () => roundtrip(SchemaType.PROTOBUF, 'syntax = "proto3";\npackage com.example;\n\nmessage User {\n  int32 id = 1;\n  string nome = 2;\n}\n', [{ id: 1, nome: 'Ana' }]),
};

const run = scenarios[name];
if (!run) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
