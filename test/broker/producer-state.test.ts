/**
 * Producer state below the wire: sequence arithmetic, the snapshot format (ours and Kafka's version 1),
 * the per-producer serialisation of check-and-append (a retry that arrives while the original append is
 * still being written waits for it), and the producer id blocks of InitProducerId.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CRC32C from 'crc-32/crc32c';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { readBatchHeader, type RecordBatchHeader } from '../../protocol/records/batch.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { Log, type AppendResult } from '../../storage/log.js';
import { defaultLogConfig } from '../../storage/log-config.js';
import { PartitionProducerState } from '../../src/broker/partition-producer-state.js';
import { PRODUCER_ID_BLOCK_SIZE, PRODUCER_IDS_FILE, ProducerIdManager } from '../../src/broker/producer-ids.js';
import { decrementSequence, incrementSequence, ProducerStateManager, SnapshotError } from '../../src/broker/producer-state.js';

const INT32_MAX = 0x7fffffff;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'samsa-producer-state-'));
  dirs.push(d);
  return d;
}

function header(producerId: number, producerEpoch: number, baseSequence: number, records = 1): RecordBatchHeader {
  const values = Array.from({ length: records }, () => ({ value: Buffer.from('x') }));
  return readBatchHeader(buildBatchSync(values, { producerId, producerEpoch, baseSequence }));
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('sequence arithmetic', () => {
  it('wraps at Int32 max both ways (Kafka DefaultRecordBatch.incrementSequence / decrementSequence)', () => {
    expect(incrementSequence(5, 3)).toBe(8);
    expect(incrementSequence(INT32_MAX, 1)).toBe(0);
    expect(incrementSequence(INT32_MAX - 1, 4)).toBe(2);
    expect(decrementSequence(2, 4)).toBe(INT32_MAX - 1);
    expect(decrementSequence(0, 1)).toBe(INT32_MAX);
    expect(decrementSequence(9, 3)).toBe(6);
  });
});

describe('ProducerStateManager snapshots', () => {
  it('round-trips every producer with its five batches', () => {
    const m = new ProducerStateManager();
    for (let i = 0; i < 7; i++) m.apply(header(1, 0, i * 2, 2), i * 2, 1000 + i);
    m.apply(header(2, 5, INT32_MAX, 3), 14, 2000);
    const copy = new ProducerStateManager();
    copy.loadSnapshot(m.encodeSnapshot());
    expect([...copy.entries()]).toEqual([...m.entries()]);
    expect(copy.entry(1)!.batches.map((b) => b.firstSeq)).toEqual([4, 6, 8, 10, 12]);
    expect(copy.entry(2)!.batches[0]).toEqual({ firstSeq: INT32_MAX, lastSeq: 1, firstOffset: 14, lastOffset: 16, timestamp: 2000 });
  });

  it('refuses a snapshot with a bad CRC, an unknown version or trailing bytes', () => {
    const m = new ProducerStateManager();
    m.apply(header(1, 0, 0), 0, 1);
    const good = m.encodeSnapshot();
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => new ProducerStateManager().loadSnapshot(flipped)).toThrow(SnapshotError);
    const version = Buffer.from(good);
    version.writeInt16BE(9, 0);
    expect(() => new ProducerStateManager().loadSnapshot(version)).toThrow(/version/);
    const longer = Buffer.concat([good, Buffer.alloc(1)]);
    longer.writeUInt32BE(CRC32C.buf(longer.subarray(6), 0) >>> 0, 2);
    expect(() => new ProducerStateManager().loadSnapshot(longer)).toThrow(/trailing/);
  });

  it('reads Kafka\'s version 1 snapshot (last batch of each producer only)', () => {
    const entry = Buffer.alloc(46);
    entry.writeInt32BE(0, 0);
    entry.writeUInt32BE(77, 4); // producerId 77
    entry.writeInt16BE(3, 8); // epoch
    entry.writeInt32BE(19, 10); // last sequence
    entry.writeUInt32BE(120, 18); // last offset (low word)
    entry.writeInt32BE(4, 22); // offset delta
    entry.writeUInt32BE(5000, 30); // timestamp (low word)
    entry.writeInt32BE(-1, 34); // coordinator epoch
    entry.writeInt32BE(-1, 38); // current txn first offset: -1
    entry.writeInt32BE(-1, 42);
    const head = Buffer.alloc(10);
    head.writeInt16BE(1, 0);
    head.writeInt32BE(1, 6);
    const file = Buffer.concat([head, entry]);
    file.writeUInt32BE(CRC32C.buf(file.subarray(6), 0) >>> 0, 2);
    const m = new ProducerStateManager();
    m.loadSnapshot(file);
    expect(m.entry(77)).toEqual({ producerId: 77, producerEpoch: 3, lastTimestamp: 5000, batches: [{ firstSeq: 15, lastSeq: 19, firstOffset: 116, lastOffset: 120, timestamp: 5000 }] });
    expect(m.check([header(77, 3, 20)])).toEqual({ kind: 'append' });
  });
});

describe('PartitionProducerState: check and append are atomic per producer', () => {
  async function openState(): Promise<{ log: Log; state: PartitionProducerState }> {
    const log = await Log.open(join(await tempDir(), 't-0'), defaultLogConfig);
    const state = new PartitionProducerState(log);
    await state.load();
    return { log, state };
  }

  const written = (firstOffset: number, lastOffset: number): AppendResult => ({ firstOffset, lastOffset, logAppendTimeMs: 0 });

  it('holds a retry until the original append is written, then answers it as a duplicate', async () => {
    const { log, state } = await openState();
    const h = header(5, 0, 0, 3);
    const write = deferred<AppendResult>();
    let appends = 0;
    const first = state.append([{ header: h, maxTimestamp: 10 }], () => {
      appends++;
      return write.promise;
    });
    const retry = state.append([{ header: h, maxTimestamp: 10 }], () => {
      appends++;
      return Promise.resolve(written(3, 5));
    });
    // The retry is held: with the write outstanding, it is still pending after every queued callback has
    // run (setImmediate comes after the microtasks). Whether it ever writes is counted by `appends`,
    // checked once both have settled, so no sleep is needed.
    expect(await Promise.race([retry.then(() => 'answered'), new Promise((r) => setImmediate(() => r('pending')))])).toBe('pending');
    expect(appends).toBe(1);
    write.resolve(written(0, 2));
    expect(await first).toEqual({ kind: 'appended', result: written(0, 2) });
    expect(await retry).toEqual({ kind: 'duplicate', batch: { firstSeq: 0, lastSeq: 2, firstOffset: 0, lastOffset: 2, timestamp: 10 } });
    expect(appends).toBe(1);
    await log.close();
  });

  it('checks a held request against the state without a failed append', async () => {
    const { log, state } = await openState();
    const write = deferred<AppendResult>();
    const first = state.append([{ header: header(6, 0, 0), maxTimestamp: 1 }], () => write.promise);
    const next = state.append([{ header: header(6, 0, 1), maxTimestamp: 1 }], () => Promise.resolve(written(0, 0)));
    write.reject(new Error('disk full'));
    await expect(first).rejects.toThrow('disk full');
    // sequence 1 after a lost sequence 0: a gap for a known producer, but producer 6 is still unknown here
    expect(await next).toEqual({ kind: 'appended', result: written(0, 0) });
    expect(state.state.check([header(6, 0, 3)])).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    await log.close();
  });

  it('does not hold other producers, nor requests without a producer id', async () => {
    const { log, state } = await openState();
    const write = deferred<AppendResult>();
    const slow = state.append([{ header: header(7, 0, 0), maxTimestamp: 1 }], () => write.promise);
    const other = await state.append([{ header: header(8, 0, 0), maxTimestamp: 1 }], () => Promise.resolve(written(1, 1)));
    const plain = await state.append([{ header: header(-1, -1, -1), maxTimestamp: 1 }], () => Promise.resolve(written(2, 2)));
    expect(other.kind).toBe('appended');
    expect(plain.kind).toBe('appended');
    write.resolve(written(0, 0));
    await slow;
    await log.close();
  });
});

describe('ProducerIdManager', () => {
  it('persists the end of the block before handing out its ids, and starts a new block after a restart', async () => {
    const dir = await tempDir();
    const a = await ProducerIdManager.load(dir);
    expect(await a.generateProducerId()).toBe(0);
    expect(await a.generateProducerId()).toBe(1);
    expect(JSON.parse(await readFile(join(dir, PRODUCER_IDS_FILE), 'utf8'))).toMatchObject({ nextProducerIdBlockStart: PRODUCER_ID_BLOCK_SIZE });
    const b = await ProducerIdManager.load(dir);
    expect(await b.generateProducerId()).toBe(PRODUCER_ID_BLOCK_SIZE);
    const ids = await Promise.all(Array.from({ length: PRODUCER_ID_BLOCK_SIZE + 5 }, () => b.generateProducerId()));
    expect(new Set(ids).size).toBe(ids.length);
    expect(JSON.parse(await readFile(join(dir, PRODUCER_IDS_FILE), 'utf8'))).toMatchObject({ nextProducerIdBlockStart: 3 * PRODUCER_ID_BLOCK_SIZE });
  });

  it('rotates a transactional id to a new producer id when its epoch is exhausted', async () => {
    const dir = await tempDir();
    const near = { producerId: 5, producerEpoch: 0x7fff - 2, previousProducerId: 5, lastProducerEpoch: -1, transactionTimeoutMs: 1000 };
    await writeFile(join(dir, PRODUCER_IDS_FILE), JSON.stringify({ version: 1, nextProducerIdBlockStart: 1000, transactionalIds: { t: near } }));
    const m = await ProducerIdManager.load(dir);
    expect(await m.initTransactional('t', 1000, null)).toEqual({ errorCode: ErrorCode.NONE, producerId: 5, producerEpoch: 0x7fff - 1 });
    const rotated = await m.initTransactional('t', 1000, { producerId: 5, producerEpoch: 0x7fff - 1 });
    expect(rotated).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    // a retry of the rotation (old id, exhausted epoch) is recognised and answered the same
    expect(await m.initTransactional('t', 1000, { producerId: 5, producerEpoch: 0x7fff - 1 })).toEqual(rotated);
    // without an expected epoch an exhausted epoch rotates too
    await writeFile(join(dir, PRODUCER_IDS_FILE), JSON.stringify({ version: 1, nextProducerIdBlockStart: 2000, transactionalIds: { t: { ...near, producerEpoch: 0x7fff - 1 } } }));
    expect(await (await ProducerIdManager.load(dir)).initTransactional('t', 1000, null)).toEqual({ errorCode: ErrorCode.NONE, producerId: 2000, producerEpoch: 0 });
  });
});
