/**
 * `_schemas` in a cluster, read and written through the Kafka protocol as Confluent's KafkaStore does
 * (KafkaStoreReaderThread, KafkaStore.put): every node of the cluster follows the partition with Fetch from
 * its current leader and applies each record to its in-memory registry; the elected writer produces with
 * acks=all and answers once its own reader has applied the record.
 *
 * - The leader of `_schemas-0` and its address come from this broker's metadata image (`broker.image`),
 *   so the reader follows leader changes as soon as this node has applied them; NOT_LEADER_OR_FOLLOWER,
 *   a closed connection or an offline partition make it retry against the image's next leader.
 * - "Caught up" is Confluent's `waitUntilKafkaReaderReachesLastOffset`: the reader has applied everything
 *   below the high watermark the leader answered to ListOffsets(LATEST) when asked.
 * - The topic is created on the first write (one partition, cleanup.policy=compact, replication factor the
 *   smaller of `kafkastore.topic.replication.factor` and the live brokers, as Confluent's KafkaStore).
 */
import type { Logger } from 'pino';
import { ErrorCode, errorName } from '../../protocol/errors.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { Produce } from '../../protocol/messages/produce.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { buildBatch, readRecords } from '../../protocol/records/record.js';
import type { MetadataImage } from '../broker/metadata-image.js';
import { TopicError } from '../broker/topic-error.js';
import { BrokerConnection } from '../client/connection.js';
import { SchemasTopicError } from './schemas-topic.js';
import { decodeRecord, encodeKey, encodeValue, StoreRecordError, type StoreRecord } from './store-records.js';

/** What the store needs of the broker: its metadata image and topic creation (through the controller). */
export interface KafkaStoreHost {
  readonly image: MetadataImage;
  createTopic(name: string, numPartitions: number, replicationFactor: number, configs: ReadonlyMap<string, string>): Promise<unknown>;
}

export interface KafkaStoreOptions {
  readonly topic: string;
  readonly replicationFactor: number;
  /**
   * `kafkastore.timeout.ms` (Confluent's default 500): how long a write waits for its acks=all answer, and
   * then again for this node's reader to reach it (KafkaStore.put: `ack.get(timeout)`, then
   * `waitUntilKafkaReaderReachesOffset(offset, timeout)`). Exceeding it is a REQUEST_TIMED_OUT
   * SchemasTopicError, which the registry answers 50002 as Confluent does.
   */
  readonly timeoutMs: number;
}

const FETCH_MAX_WAIT_MS = 500;
/**
 * The request timeout of the store's connections, independent of kafkastore.timeout.ms: the Kafka clients'
 * `request.timeout.ms` default, as Confluent's KafkaStore producer and reader use it.
 */
const REQUEST_TIMEOUT_MS = 30_000;
const RETRY_MS = 200;

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
}

export class KafkaSchemasStore {
  /** The next offset to read: every record below it has been applied. */
  private next = 0;
  private closed = false;
  private readonly waiters = new Set<Waiter>();
  /**
   * Connections to the partition's leader: the reader's long-polling Fetch has its own, since a broker
   * answers one connection's requests in order (a Produce behind a parked Fetch would wait out its maxWait).
   */
  private readonly conns: Record<'read' | 'write', { address: string; promise: Promise<BrokerConnection> } | null> = { read: null, write: null };
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** The reader's last failure, reported with a write or catch-up that times out. */
  private lastError = '';

  constructor(
    private readonly broker: KafkaStoreHost,
    private readonly options: KafkaStoreOptions,
    private readonly apply: (record: StoreRecord) => void,
    private readonly logger: Logger,
  ) {}

  /** Starts following the topic. */
  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
    await this.loop;
    for (const slot of ['read', 'write'] as const) {
      const c = this.conns[slot];
      this.conns[slot] = null;
      if (c) void c.promise.then((x) => x.close(), () => undefined);
    }
  }

  /** The offset below which every record has been applied. */
  get appliedOffset(): number {
    return this.next;
  }

  private leader(image: MetadataImage): { address: string; host: string; port: number } | null {
    const p = image.partition(this.options.topic, 0);
    if (!p || p.leader < 0) return null;
    const b = image.brokers.get(p.leader);
    if (!b || b.fenced) return null;
    return { address: `${b.host}:${b.port}`, host: b.host, port: b.port };
  }

  /** A connection to the partition's leader (reopened when the leader moves or it breaks). */
  private async leaderConnection(slot: 'read' | 'write'): Promise<BrokerConnection | null> {
    const leader = this.leader(this.broker.image);
    if (leader === null) return null;
    const current = this.conns[slot];
    if (current && current.address === leader.address) {
      const c = await current.promise.catch(() => null);
      if (c && !c.isClosed) return c;
    }
    if (current) void current.promise.then((x) => x.close(), () => undefined);
    const promise = BrokerConnection.open(leader.host, leader.port, { clientId: 'schema-registry', timeoutMs: REQUEST_TIMEOUT_MS + FETCH_MAX_WAIT_MS });
    this.conns[slot] = { address: leader.address, promise };
    return promise;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        const conn = await this.leaderConnection('read');
        if (conn === null) {
          this.lastError = this.broker.image.topic(this.options.topic) ? `${this.options.topic}-0 has no leader` : '';
          await this.pause(RETRY_MS);
          continue;
        }
        await this.fetchOnce(conn);
      } catch (err) {
        if (this.closed) return;
        this.lastError = (err as Error).message;
        this.logger.debug({ err: this.lastError, offset: this.next }, `reading ${this.options.topic} failed; retrying`);
        await this.pause(RETRY_MS);
      }
    }
  }

  private async fetchOnce(conn: BrokerConnection): Promise<void> {
    const topic = this.options.topic;
    const { response } = await conn.request(
      Fetch,
      {
        replicaId: -1,
        maxWaitMs: FETCH_MAX_WAIT_MS,
        minBytes: 1,
        maxBytes: 52_428_800,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: BigInt(this.next), partitionMaxBytes: 8_388_608, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
        forgottenTopicsData: [],
        rackId: '',
      },
      12,
    );
    if (response.errorCode !== ErrorCode.NONE) throw new SchemasTopicError(`Fetch ${topic}-0: ${errorName(response.errorCode)}`, response.errorCode);
    const p = response.responses[0]?.partitions[0];
    if (!p) throw new SchemasTopicError(`Fetch ${topic}-0: no partition in the answer`, ErrorCode.UNKNOWN_SERVER_ERROR);
    if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && p.logStartOffset > BigInt(this.next)) {
      // Compaction or deletion moved the log start past us (auto.offset.reset=earliest, as Confluent's reader).
      this.next = Number(p.logStartOffset);
      return;
    }
    if (p.errorCode !== ErrorCode.NONE) throw new SchemasTopicError(`Fetch ${topic}-0: ${errorName(p.errorCode)}`, p.errorCode);
    if (p.records === null || p.records.length === 0) return;
    const split = splitBatches(p.records);
    // A fetch answer may end with a partial batch (partitionMaxBytes): whole batches are applied, the rest refetched.
    const batches = split.ok ? split.batches : [];
    for (const b of batches) {
      const nextOffset = b.header.baseOffset + b.header.lastOffsetDelta + 1;
      if (nextOffset <= this.next) continue;
      if (!isControl(b.header.attributes)) {
        for (const r of await readRecords(p.records.subarray(b.pos, b.pos + b.size))) {
          if (r.offset < this.next || r.key === null) continue;
          try {
            const decoded = decodeRecord(r.key, r.value);
            if (decoded) this.apply(decoded);
          } catch (err) {
            if (!(err instanceof StoreRecordError)) throw err;
            this.logger.warn({ offset: r.offset, reason: err.message }, `undecodable ${topic} record skipped`);
          }
        }
      }
      this.next = nextOffset;
    }
    for (const w of this.waiters) {
      if (this.next >= w.offset) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Resolves once every record below `offset` is applied; throws after `timeoutMs` (default kafkastore.timeout.ms). */
  async waitFor(offset: number, timeoutMs = this.options.timeoutMs): Promise<void> {
    if (this.next >= offset || this.closed) return;
    let waiter: Waiter | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = { offset, resolve };
        this.waiters.add(waiter);
        timer = setTimeout(() => reject(new SchemasTopicError(`timed out after ${timeoutMs} ms waiting for the reader of ${this.options.topic}-0 to reach offset ${offset} (at ${this.next}${this.lastError ? `; ${this.lastError}` : ''})`, ErrorCode.REQUEST_TIMED_OUT)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (waiter) this.waiters.delete(waiter);
    }
  }

  /** The partition's high watermark, from its leader (0 while the topic does not exist). */
  async endOffset(): Promise<number> {
    if (!this.broker.image.topic(this.options.topic)) return 0;
    const conn = await this.leaderConnection('write');
    if (conn === null) throw new SchemasTopicError(`${this.options.topic}-0 has no leader`, ErrorCode.LEADER_NOT_AVAILABLE);
    const { response } = await conn.request(ListOffsets, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: this.options.topic, partitions: [{ partitionIndex: 0, timestamp: -1n, currentLeaderEpoch: -1 }] }],
    });
    const p = response.topics[0]?.partitions[0];
    if (!p || p.errorCode !== ErrorCode.NONE) throw new SchemasTopicError(`ListOffsets ${this.options.topic}-0: ${errorName(p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR)}`, p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR);
    return Number(p.offset);
  }

  /** Confluent's waitUntilKafkaReaderReachesLastOffset(timeout). */
  async catchUp(timeoutMs = this.options.timeoutMs): Promise<void> {
    await this.waitFor(await this.endOffset(), timeoutMs);
  }

  private async ensureTopic(): Promise<void> {
    const image = this.broker.image;
    if (image.topic(this.options.topic)) return;
    const live = [...image.brokers.values()].filter((b) => !b.fenced).length;
    const rf = Math.max(1, Math.min(this.options.replicationFactor, live));
    try {
      await this.broker.createTopic(this.options.topic, 1, rf, new Map([['cleanup.policy', 'compact']]));
      this.logger.info({ topic: this.options.topic, replicationFactor: rf }, `created ${this.options.topic}`);
    } catch (err) {
      if (!(err instanceof TopicError && err.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
    }
  }

  /**
   * Produces the records as one batch with acks=all to the partition's leader and resolves once this node's
   * reader has applied them (so the caller's state includes the write when it answers).
   */
  async append(records: readonly StoreRecord[]): Promise<void> {
    await this.ensureTopic();
    const conn = await this.leaderConnection('write');
    if (conn === null) throw new SchemasTopicError(`${this.options.topic}-0 has no leader`, ErrorCode.LEADER_NOT_AVAILABLE);
    const now = Date.now();
    const batch = await buildBatch(records.map((r) => ({ key: encodeKey(r), value: encodeValue(r), timestamp: now })));
    // The broker bounds the acks=all wait by the request's timeout; the timer bounds the whole round trip.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SchemasTopicError(`timed out after ${this.options.timeoutMs} ms waiting for the acks=all answer of ${this.options.topic}-0`, ErrorCode.REQUEST_TIMED_OUT)), this.options.timeoutMs);
    });
    const produced = conn.request(Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: this.options.timeoutMs,
      topicData: [{ name: this.options.topic, partitionData: [{ index: 0, records: batch }] }],
    });
    produced.catch(() => undefined);
    let response: Awaited<typeof produced>['response'];
    try {
      ({ response } = await Promise.race([produced, timedOut]));
    } finally {
      clearTimeout(timer);
    }
    const p = response.responses[0]?.partitionResponses[0];
    if (!p) throw new SchemasTopicError(`Produce ${this.options.topic}-0: no partition in the answer`, ErrorCode.UNKNOWN_SERVER_ERROR);
    if (p.errorCode !== ErrorCode.NONE) {
      throw new SchemasTopicError(`append to ${this.options.topic}-0 failed: ${p.errorMessage ?? errorName(p.errorCode)}`, p.errorCode);
    }
    this.wake?.();
    await this.waitFor(Number(p.baseOffset) + records.length);
  }
}
