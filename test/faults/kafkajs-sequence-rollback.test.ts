/**
 * Why the fault suite's idempotent kafkajs producer sends a failed value again instead of the next one
 * (faults/workload.ts, IDEMPOTENT_RESENDS): the clean-clone CI run of seed 500327868 reported kafkajs-idem:180
 * acknowledged at an offset holding kafkajs-idem:138. kafkajs takes a partition's sequence number back
 * when a Produce fails, even when the broker appended the batch and only the answer was lost; its next
 * send() reuses the sequence with another value, which the broker (as Kafka does, KIP-98) answers as a
 * retry of the appended batch, with that batch's offset.
 *
 * Shown here with real kafkajs against a real broker, the answers held by the suite's TCP proxy
 * (faults/proxy.ts): first the loss, then the workload's remedy (the same value again gets its own offset).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { LinkProxy } from '../../faults/proxy.js';
import { producerOptions } from '../../faults/workload.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { freePort } from '../helpers/broker-process.js';
import { readPartition } from '../helpers/read-all.js';

const TOPIC = 'seq-rollback';
let broker: TestBroker | null = null;
let proxy: LinkProxy | null = null;
let producer: Producer | null = null;

afterEach(async () => {
  await producer?.disconnect().catch(() => {});
  await proxy?.close();
  await broker?.destroy();
  producer = null;
  proxy = null;
  broker = null;
});

/** A broker reached only through a proxy (its advertised port is the proxy's) and an idempotent kafkajs producer connected through it. */
async function setup(): Promise<{ proxy: LinkProxy; producer: Producer; broker: TestBroker }> {
  const brokerPort = await freePort();
  proxy = new LinkProxy({ name: 'c->1', targetPort: brokerPort });
  const proxyPort = await proxy.start();
  broker = await startTestBroker({ listeners: `PLAINTEXT://127.0.0.1:${brokerPort}`, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxyPort}` });
  await broker.broker.createTopic(TOPIC, 1, 1, new Map());
  const kafka = new Kafka({ clientId: 'seq-rollback', brokers: [`127.0.0.1:${proxyPort}`], logLevel: logLevel.NOTHING, requestTimeout: 1000, connectionTimeout: 1000 });
  // The workload's options, with few retries so that a send() fails within the test.
  producer = kafka.producer({ ...producerOptions(true), retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 50 } });
  await producer.connect();
  return { proxy, producer, broker };
}

/** Sends one value whose answers the proxy holds until the send() has failed; the connection is then reset and the link healed. */
async function sendWithLostAnswer(p: LinkProxy, prod: Producer, value: string): Promise<void> {
  p.cut('down');
  await expect(prod.send({ topic: TOPIC, acks: -1, timeout: 1000, messages: [{ value, partition: 0 }] })).rejects.toThrow();
  p.reset();
  p.heal();
}

describe('kafkajs idempotent producer after a Produce whose answer was lost', () => {
  it('reports the next value written at the offset of the failed one, which the log holds instead', async () => {
    const s = await setup();
    await sendWithLostAnswer(s.proxy, s.producer, 'v1');
    const [md] = await s.producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'v2', partition: 0 }] });
    expect(Number(md!.baseOffset)).toBe(0);
    const log = await readPartition(s.broker.port, TOPIC, 0);
    expect(log.records.map((r) => r.value)).toEqual(['v1']);
  });

  it('sending the failed value again (the workload) gets that value its offset, and the next value the next one', async () => {
    const s = await setup();
    await sendWithLostAnswer(s.proxy, s.producer, 'v1');
    const [again] = await s.producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'v1', partition: 0 }] });
    const [next] = await s.producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'v2', partition: 0 }] });
    expect([Number(again!.baseOffset), Number(next!.baseOffset)]).toEqual([0, 1]);
    const log = await readPartition(s.broker.port, TOPIC, 0);
    expect(log.records.map((r) => r.value)).toEqual(['v1', 'v2']);
  });
});
