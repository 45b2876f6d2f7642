/**
 * Hostile and broken input: each case gets the Kafka error code a client expects, or a closed connection,
 * and the broker keeps serving other connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { Produce } from '../../protocol/messages/produce.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { ErrorCode } from '../../protocol/errors.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { buildBatch } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ 'socket.request.max.bytes': '100000' });
  await broker.broker.createTopic('bad-input', 1, 1, new Map());
});
afterAll(async () => broker.destroy());

async function stillServes(): Promise<void> {
  const c = await RawClient.connect(broker.port);
  const res = await c.request(ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
  expect(res.errorCode).toBe(ErrorCode.NONE);
  c.close();
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

describe('bad input', () => {
  it('closes the connection on a frame larger than socket.request.max.bytes, before reading it', async () => {
    const c = await RawClient.connect(broker.port);
    const size = Buffer.alloc(4);
    size.writeInt32BE(200_000, 0);
    c.sendRaw(size);
    expect(await c.nextFrame()).toBeNull();
    await stillServes();
  });

  it('closes the connection on a negative length prefix', async () => {
    const c = await RawClient.connect(broker.port);
    c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xfb]));
    expect(await c.nextFrame()).toBeNull();
    await stillServes();
  });

  it('closes the connection on a frame too short for a request header', async () => {
    const c = await RawClient.connect(broker.port);
    c.sendRaw(frame(Buffer.from([0, 3, 0])));
    expect(await c.nextFrame()).toBeNull();
    await stillServes();
  });

  it('closes the connection on a truncated request body', async () => {
    const c = await RawClient.connect(broker.port);
    const full = c.encodeRequest(Metadata, 1, { topics: [{ name: 'some-topic' }] });
    // Keep the header and cut the body: the frame claims fewer bytes than the message needs.
    const cut = full.subarray(4, full.length - 5);
    c.sendRaw(frame(cut));
    expect(await c.nextFrame()).toBeNull();
    await stillServes();
  });

  it('drops a connection that ends in the middle of a frame without disturbing others', async () => {
    const c = await RawClient.connect(broker.port);
    const full = c.encodeRequest(Metadata, 1, { topics: null });
    c.sendRaw(full.subarray(0, 10));
    c.socket.end();
    await stillServes();
  });

  it('closes the connection on an unknown api key', async () => {
    const c = await RawClient.connect(broker.port);
    const w = new Writer();
    w.int16(999).int16(0).int32(7).string('x', false);
    c.sendRaw(frame(w.toBuffer()));
    expect(await c.nextFrame()).toBeNull();
    await stillServes();
  });

  it('answers ApiVersions at an unsupported version in the v0 layout with UNSUPPORTED_VERSION', async () => {
    const c = await RawClient.connect(broker.port);
    const w = new Writer();
    w.int16(18).int16(77).int32(42).string('future-client', false).uvarint(0);
    w.uvarint(1).uvarint(1).uvarint(0); // compact strings "" "" and empty tags, as a v3+ body would be
    c.sendRaw(frame(w.toBuffer()));
    const f = await c.nextFrame();
    expect(f).not.toBeNull();
    const r = new Reader(f!);
    expect(r.int32()).toBe(42); // response header v0: no tagged fields
    const body = ApiVersions.response.decode(r, 0);
    expect(r.remaining()).toBe(0);
    expect(body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys.find((k) => k.apiKey === 18)).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 4 });
    // The client can go on at a version it found in that list.
    const ok = await c.request(ApiVersions, 3, {});
    expect(ok.errorCode).toBe(ErrorCode.NONE);
    c.close();
  });

  it('closes the connection on an unsupported version of another api', async () => {
    const c = await RawClient.connect(broker.port);
    const w = new Writer();
    w.int16(Fetch.apiKey).int16(99).int32(5).string('x', false);
    c.sendRaw(frame(w.toBuffer()));
    expect(await c.nextFrame()).toBeNull();
    await stillServes();
  });

  it('answers CORRUPT_MESSAGE for a batch with a bad CRC and appends nothing', async () => {
    const c = await RawClient.connect(broker.port);
    const batch = await buildBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]);
    batch[batch.length - 1] ^= 0xff;
    const res = await c.request(Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'bad-input', partitionData: [{ index: 0, records: batch }] }] });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(broker.broker.getPartition('bad-input', 0)!.logEndOffset).toBe(0);
    c.close();
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a produce to a partition that does not exist', async () => {
    const c = await RawClient.connect(broker.port);
    const batch = await buildBatch([{ key: null, value: Buffer.from('v') }]);
    const res = await c.request(Produce, 9, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        { name: 'bad-input', partitionData: [{ index: 5, records: batch }] },
        { name: 'no-such-topic', partitionData: [{ index: 0, records: batch }] },
      ],
    });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(res.responses[1]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    c.close();
  });

  it('answers UNSUPPORTED_VERSION per partition for Produce v0-2 (message format v0/v1)', async () => {
    const c = await RawClient.connect(broker.port);
    const res = await c.request(Produce, 2, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'bad-input', partitionData: [{ index: 0, records: Buffer.alloc(30) }] }] });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    c.close();
  });

  it('answers INVALID_REQUIRED_ACKS for acks outside -1, 0, 1', async () => {
    const c = await RawClient.connect(broker.port);
    const batch = await buildBatch([{ key: null, value: Buffer.from('v') }]);
    const res = await c.request(Produce, 8, { acks: 2, timeoutMs: 1000, topicData: [{ name: 'bad-input', partitionData: [{ index: 0, records: batch }] }] });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    c.close();
  });
});
