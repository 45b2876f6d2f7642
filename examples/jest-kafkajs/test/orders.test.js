// A kafkajs producer and consumer against Samsa running inside this test process; reset() between tests
// so each starts with no topics and no consumer groups. jest provides describe/it/expect and the hooks.
const { Kafka, logLevel } = require('kafkajs');
const { startSamsa } = require('samsa');

let samsa;
let kafka;

beforeAll(async () => {
  samsa = await startSamsa();
  kafka = new Kafka({ clientId: 'orders-test', brokers: [samsa.bootstrap], logLevel: logLevel.NOTHING });
});

afterEach(async () => {
  await samsa.reset();
});

afterAll(async () => {
  await samsa?.stop();
});

async function consume(topic, groupId, count) {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push({ key: message.key?.toString(), value: message.value?.toString() });
          if (seen.length === count) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

it('a consumer group reads what the producer wrote, in order per key', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'orders',
    messages: [
      { key: 'alice', value: 'order-1' },
      { key: 'bob', value: 'order-2' },
      { key: 'alice', value: 'order-3' },
    ],
  });
  await producer.disconnect();

  const seen = await consume('orders', 'billing', 3);
  expect(seen.filter((m) => m.key === 'alice').map((m) => m.value)).toEqual(['order-1', 'order-3']);
  expect(seen.filter((m) => m.key === 'bob').map((m) => m.value)).toEqual(['order-2']);
});

it('starts clean after reset(): no topics and no groups from the previous test', async () => {
  const admin = kafka.admin();
  await admin.connect();
  expect(await admin.listTopics()).not.toContain('orders');
  expect((await admin.listGroups()).groups).toEqual([]);
  await admin.disconnect();

  // The same names again: an auto-created topic and a group starting from the beginning.
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ key: 'carol', value: 'order-4' }] });
  await producer.disconnect();
  expect(await consume('orders', 'billing', 1)).toEqual([{ key: 'carol', value: 'order-4' }]);
});
