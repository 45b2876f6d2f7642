/**
 * The fault suite's workload through stock clients, every operation recorded in the history:
 * - kafkajs (in this process): an idempotent producer and a plain one, both acks=all, writing unique
 *   values round-robin over the partitions; two consumers in one group (subscribe), whose joins and crashes
 *   are recorded as rebalances; an observer reading the group's committed offsets (OffsetFetch) each second;
 * - confluent-kafka-python (faults/workload.py, librdkafka): an idempotent producer, an assign-style reader,
 *   and the final reader that reads every partition from its log start to its high watermark once the
 *   cluster has healed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Consumer, type Producer, type ProducerConfig } from 'kafkajs';
import type { History, Op } from './history.js';
import { REPO_ROOT } from './cluster.js';

export const TOPIC = 'faults';
export const GROUP = 'faults-group';

export interface WorkloadOptions {
  bootstrap: string[];
  partitions: number;
  history: History;
  /** Pause between a producer's sends (ms). */
  pacingMs: number;
  python: string;
  /** The producers' acks: -1 (all; the suite's normal workload) or 1 (a weakened workload, for the
   *  replicated negative control: no producer is idempotent then, since idempotence requires acks=all). */
  acks: -1 | 1;
  /** Where the python workers' stderr goes. */
  logDir: string;
  log: (msg: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errText(e: unknown): string {
  if (e instanceof Error) {
    // kafkajs's aggregate errors (topic creation) carry the broker's answers inside
    const inner = (e as Error & { errors?: unknown[] }).errors;
    const detail = Array.isArray(inner) && inner.length ? ` (${inner.map((x) => (x instanceof Error ? x.message : String(x))).join('; ')})` : '';
    return `${e.name}: ${e.message}${detail}`.slice(0, 500);
  }
  return String(e).slice(0, 300);
}

/** Waits until Metadata lists `n` brokers: on several nodes, that they formed one cluster. */
export async function waitForBrokers(bootstrap: string[], n: number, deadlineMs = 90_000): Promise<void> {
  const admin = kafkaClient(bootstrap, 'faults-setup').admin();
  const deadline = Date.now() + deadlineMs;
  let seen = 0;
  try {
    for (;;) {
      try {
        await admin.connect();
        seen = (await admin.describeCluster()).brokers.length;
        if (seen >= n) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`the nodes do not form one cluster: Metadata lists ${seen} broker(s), expected ${n} (is the Raft cluster of issues 11/12 in this checkout?)`);
      await sleep(500);
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export function kafkaClient(bootstrap: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: bootstrap,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
  });
}

/** Creates the topic (RF, min ISR, no unclean election), retrying while the cluster settles. */
export async function createTopic(bootstrap: string[], partitions: number, rf: number, minIsr: number, segmentBytes: number, deadlineMs = 120_000): Promise<void> {
  const admin = kafkaClient(bootstrap, 'faults-setup').admin();
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: TOPIC,
            numPartitions: partitions,
            replicationFactor: rf,
            configEntries: [
              { name: 'min.insync.replicas', value: String(minIsr) },
              { name: 'unclean.leader.election.enable', value: 'false' },
              // small segments: rolls happen during faults, and a read-only log dir bites at the next roll
              { name: 'segment.bytes', value: String(segmentBytes) },
            ],
          },
        ],
      });
      const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
      if (md.topics[0]?.partitions.length === partitions && md.topics[0].partitions.every((p) => p.leader >= 0)) break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`could not create topic ${TOPIC}: ${errText(e)}`);
    }
    await sleep(500);
  }
  await admin.disconnect();
}

/** The current leader of a partition, from Metadata (null when unknown). */
export async function leaderOf(admin: Admin, partition: number): Promise<number | null> {
  try {
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    const p = md.topics[0]?.partitions.find((x) => x.partitionId === partition);
    return p && p.leader >= 0 ? p.leader : null;
  } catch {
    return null;
  }
}

/**
 * How often the idempotent kafkajs producer sends a value again after its send() failed, before it gives
 * the value up and starts a new producer (a new producer id).
 *
 * Why not go on with the next value: kafkajs (src/producer/sendMessages.js) takes a partition's sequence
 * number back when a Produce fails, even when the broker had appended the batch and only the answer was
 * lost (a request timeout, a cut connection). The next send() then carries the same producer id, epoch and
 * sequence with a different value; the broker, Kafka's rule (KIP-98), takes it for a retry of the appended
 * batch and answers with that batch's offset, and kafkajs reports the new value as written at an offset
 * that holds the old one. A Kafka broker answers the same, so this is the client's loss, not the broker's
 * (test/faults/kafkajs-sequence-rollback.test.ts shows it). Sending the failed value again is what the
 * sequence number was made for: the broker appends it if the first attempt never arrived, or answers with
 * its offset if it did.
 */
export const IDEMPOTENT_RESENDS = 20;

/** The kafkajs producer options of the workload's producers. */
export function producerOptions(idempotent: boolean): ProducerConfig {
  return { idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: idempotent ? 20 : 8, initialRetryTime: 100, maxRetryTime: 2000 } };
}

export class Workload {
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly producers: Producer[] = [];
  private readonly consumers: Consumer[] = [];
  private observerAdmin: Admin | null = null;
  private readonly pythons: ChildProcess[] = [];
  private pythonProducer: ChildProcess | null = null;
  private readonly pythonDone: Promise<void>[] = [];
  /** An admin client for the harness (leader lookups). */
  admin!: Admin;

  constructor(private readonly o: WorkloadOptions) {}

  private push(op: Op): void {
    this.o.history.push(op);
  }

  async start(): Promise<void> {
    this.admin = kafkaClient(this.o.bootstrap, 'faults-harness').admin();
    await this.admin.connect();
    if (this.o.acks === -1) this.loops.push(this.producerLoop('kafkajs-idem', 'kafkajs-idempotent', true));
    else this.loops.push(this.producerLoop('kafkajs-acks1', 'kafkajs-acks1', false));
    this.loops.push(this.producerLoop('kafkajs-plain', this.o.acks === -1 ? 'kafkajs' : 'kafkajs-plain-acks1', false));
    for (const id of ['group-a', 'group-b']) await this.startGroupConsumer(id);
    this.loops.push(this.observerLoop());
    this.startPython('produce', this.o.acks === -1 ? 'py-idem' : 'py-acks1');
    this.startPython('assign', 'py-assign');
  }

  private async producerLoop(client: string, workload: string, idempotent: boolean): Promise<void> {
    const kafka = kafkaClient(this.o.bootstrap, client);
    const newProducer = (): Producer => {
      const p = kafka.producer(producerOptions(idempotent));
      this.producers.push(p);
      return p;
    };
    let producer = newProducer();
    let connected = false;
    let seq = 0;
    // The idempotent producer's value whose send failed: sent again, unchanged (see IDEMPOTENT_RESENDS).
    let unacked: { value: string; partition: number } | null = null;
    let failures = 0;
    while (this.running) {
      if (!connected) {
        try {
          await producer.connect();
          connected = true;
        } catch (e) {
          this.push({ type: 'error', t: Date.now(), client, error: `connect: ${errText(e)}` });
          await sleep(500);
          continue;
        }
      }
      let value: string;
      let partition: number;
      if (unacked) ({ value, partition } = unacked);
      else {
        value = `${client}:${seq++}`;
        partition = seq % this.o.partitions;
      }
      this.push({ type: 'send', t: Date.now(), client, workload, idempotent, partition, value });
      try {
        const [md] = await producer.send({ topic: TOPIC, acks: this.o.acks, timeout: 10_000, messages: [{ value, partition }] });
        if (!md) throw new Error('no record metadata');
        this.push({ type: 'ack', t: Date.now(), client, partition: md.partition, offset: Number(md.baseOffset), value });
        unacked = null;
        failures = 0;
      } catch (e) {
        this.push({ type: 'send-error', t: Date.now(), client, value, error: errText(e) });
        if (idempotent) {
          unacked = { value, partition };
          if (++failures >= IDEMPOTENT_RESENDS) {
            // A new producer id: no later value can be taken for a retry of this one.
            await producer.disconnect().catch(() => {});
            producer = newProducer();
            connected = false;
            unacked = null;
            failures = 0;
          }
        }
        if (/disconnected/i.test(errText(e))) connected = false;
        await sleep(200);
      }
      await sleep(this.o.pacingMs);
    }
  }

  private async startGroupConsumer(client: string): Promise<void> {
    const kafka = kafkaClient(this.o.bootstrap, client);
    const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000, retry: { retries: 1000, initialRetryTime: 200, maxRetryTime: 2000 } });
    this.consumers.push(consumer);
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const parts = e.payload.memberAssignment[TOPIC] ?? [];
      this.push({ type: 'rebalance', t: Date.now(), client, partitions: [...parts] });
    });
    consumer.on(consumer.events.REBALANCING, () => this.push({ type: 'rebalance', t: Date.now(), client, partitions: [] }));
    consumer.on(consumer.events.CRASH, (e) => {
      this.push({ type: 'error', t: Date.now(), client, error: `crash (restart: ${e.payload.restart}): ${errText(e.payload.error)}` });
      // kafkajs restarts a crashed consumer from the committed offsets: that is a rebalance for the checker
      this.push({ type: 'rebalance', t: Date.now(), client, partitions: [] });
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(500);
      }
    }
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachMessage: async ({ partition, message }) => {
        this.push({ type: 'read', t: Date.now(), client, mode: 'group', partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
      },
    });
  }

  private async observerLoop(): Promise<void> {
    const admin = kafkaClient(this.o.bootstrap, 'observer').admin();
    this.observerAdmin = admin;
    let connected = false;
    while (this.running) {
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        const res = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
        const t = Date.now();
        for (const topic of res) for (const p of topic.partitions) this.push({ type: 'committed', t, client: 'observer', group: GROUP, partition: p.partition, offset: Number(p.offset) });
      } catch (e) {
        this.push({ type: 'error', t: Date.now(), client: 'observer', error: errText(e) });
      }
      await sleep(1000);
    }
  }

  private startPython(role: 'produce' | 'assign', client: string): void {
    const { proc, done } = runPython(this.o, role, client, (op) => this.push(op), role === 'produce' ? [String(this.o.acks)] : []);
    this.pythons.push(proc);
    this.pythonDone.push(done);
    if (role === 'produce') this.pythonProducer = proc;
  }

  /** Stops the producers (waiting for their last sends), then, after `drainMs`, the readers. */
  async stop(drainMs: number): Promise<void> {
    this.running = false;
    this.pythonProducer?.kill('SIGTERM');
    await Promise.race([Promise.all(this.loops), sleep(30_000)]);
    await sleep(drainMs);
    for (const p of this.pythons) p.kill('SIGTERM');
    await Promise.race([Promise.all(this.pythonDone), sleep(30_000)]);
    for (const p of this.pythons) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all([...this.producers.map((p) => p.disconnect().catch(() => {})), ...this.consumers.map((c) => c.disconnect().catch(() => {}))]);
    await this.observerAdmin?.disconnect().catch(() => {});
    await this.admin.disconnect().catch(() => {});
  }
}

/** Runs faults/workload.py in a role; its JSON lines go to `onOp`. */
export function runPython(o: Pick<WorkloadOptions, 'bootstrap' | 'partitions' | 'python' | 'logDir' | 'log'>, role: 'produce' | 'assign' | 'final', client: string, onOp: (op: Op) => void, extra: string[] = []): { proc: ChildProcess; done: Promise<void> } {
  const proc = spawn(o.python, [join(REPO_ROOT, 'faults', 'workload.py'), role, o.bootstrap.join(','), TOPIC, String(o.partitions), client, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const rl = createInterface({ input: proc.stdout! });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      onOp(JSON.parse(line) as Op);
    } catch {
      o.log(`${client}: ${line}`);
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const done = new Promise<void>((res) =>
    proc.once('close', (code, signal) => {
      if (code !== 0 && signal !== 'SIGTERM' && code !== null) o.log(`${client} (${role}) exited ${code}: ${stderr.slice(-2000)}`);
      res();
    }),
  );
  return { proc, done };
}
