import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Reader, Writer } from '../../protocol/primitives.js';
import { inRange, parseVersions } from '../../protocol/schema.js';
import type { ApiMessages, FieldDecl, MessageCodec, MessageDecl } from '../../protocol/schema.js';
import { Produce } from '../../protocol/messages/produce.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js';
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { JoinGroup } from '../../protocol/messages/join-group.js';
import { Heartbeat } from '../../protocol/messages/heartbeat.js';
import { LeaveGroup } from '../../protocol/messages/leave-group.js';
import { SyncGroup } from '../../protocol/messages/sync-group.js';

/** API, key, valid versions (min, max) and first flexible version, from the Kafka 3.9 specs. */
const APIS: [ApiMessages, number, number, number, number][] = [
  [Produce, 0, 0, 11, 9],
  [Fetch, 1, 0, 17, 12],
  [ListOffsets, 2, 0, 9, 6],
  [Metadata, 3, 0, 12, 9],
  [OffsetCommit, 8, 0, 9, 8],
  [OffsetFetch, 9, 0, 9, 6],
  [FindCoordinator, 10, 0, 5, 3],
  [JoinGroup, 11, 0, 9, 6],
  [Heartbeat, 12, 0, 4, 4],
  [LeaveGroup, 13, 0, 5, 4],
  [SyncGroup, 14, 0, 5, 4],
];

function encode<M extends MessageDecl>(codec: MessageCodec<M>, value: unknown, version: number): Buffer {
  const w = new Writer();
  codec.encode(w, value as never, version);
  return w.toBuffer();
}

function decode<M extends MessageDecl>(codec: MessageCodec<M>, bytes: Buffer, version: number): Record<string, unknown> {
  const r = new Reader(bytes);
  const value = codec.decode(r, version) as Record<string, unknown>;
  expect(r.remaining()).toBe(0);
  return value;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * A value with every field of `version` set to something other than its default (one element per array,
 * non-null strings), so that nested structs and tagged fields are exercised. Absent fields are left out.
 */
function sample(fields: readonly FieldDecl[], version: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(version, parseVersions(f.versions))) continue;
    const isArray = f.type.startsWith('[]');
    const element = isArray ? f.type.slice(2) : f.type;
    const one = f.fields ? sample(f.fields, version) : primitiveSample(element);
    out[f.name] = isArray ? [one] : one;
  }
  return out;
}

function primitiveSample(type: string): unknown {
  switch (type) {
    case 'bool':
      return true;
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint16':
    case 'uint32':
      return 7;
    case 'int64':
      return 1234567890123n;
    case 'float64':
      return 1.5;
    case 'string':
      return 'str';
    case 'uuid':
      return '0123abcd-4567-89ef-0123-456789abcdef';
    case 'bytes':
      return Buffer.from([1, 2, 3]);
    case 'records':
      return Buffer.from([9, 8, 7, 6]);
    default:
      throw new Error(`no sample for ${type}`);
  }
}

describe.each(APIS)('%s', (apiMessages, key, min, max, firstFlexible) => {
  const { request, response } = apiMessages;

  it('declares the Kafka 3.9 key and version ranges', () => {
    for (const codec of [request, response]) {
      expect(codec.decl.apiKey).toBe(key);
      expect(codec.validVersions).toEqual({ min, max });
      expect(codec.flexibleVersions.min).toBe(firstFlexible);
      expect(codec.decl.name).toBe(`${apiMessages.name}${codec.decl.type === 'request' ? 'Request' : 'Response'}`);
    }
    expect(apiMessages.apiKey).toBe(key);
  });

  it('round-trips the defaults of every version', () => {
    for (const codec of [request, response]) {
      for (let v = min; v <= max; v++) {
        const value = codec.defaults(v);
        const bytes = encode(codec, value, v);
        expect(decode(codec, bytes, v), `${codec.decl.name} v${v}`).toEqual(value);
      }
    }
  });

  it('round-trips a value with every field set, in every version', () => {
    for (const codec of [request, response]) {
      for (let v = min; v <= max; v++) {
        const value = sample(codec.decl.fields, v);
        const bytes = encode(codec, value, v);
        const decoded = decode(codec, bytes, v);
        expect(decoded, `${codec.decl.name} v${v}`).toMatchObject(value);
        expect(encode(codec, decoded, v).equals(bytes), `${codec.decl.name} v${v} re-encodes`).toBe(true);
      }
    }
  });
});

describe('hand-checked byte vectors', () => {
  it('Metadata v1 request with null topics (= all topics)', () => {
    const bytes = encode(Metadata.request, { topics: null }, 1);
    expect(bytes.toString('hex')).toBe('ffffffff');
    expect(decode(Metadata.request, bytes, 1).topics).toBeNull();
  });

  it('Metadata v0 request cannot carry null topics', () => {
    expect(() => encode(Metadata.request, { topics: null }, 0)).toThrow(/not nullable/);
  });

  it('Metadata v4 request: one topic, auto-create off', () => {
    const bytes = encode(Metadata.request, { topics: [{ name: 'ab' }], allowAutoTopicCreation: false }, 4);
    expect(bytes).toEqual(hex('00000001 0002 6162 00'));
  });

  it('Metadata v9 request (flexible): compact array and string, tagged-field sections', () => {
    const value = { topics: [{ name: 'a' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false };
    // topics: uvarint(1+1); name: uvarint(1+1) 'a'; element tags 0; allowAuto 1; includeCluster (8-10) 0;
    // includeTopic 0; message tags 0.
    const bytes = encode(Metadata.request, value, 9);
    expect(bytes).toEqual(hex('02 02 61 00 01 00 00 00'));
    expect(decode(Metadata.request, bytes, 9)).toMatchObject(value);
  });

  it('Metadata v3 request refuses a non-default, non-ignorable field the version lacks', () => {
    expect(() => encode(Metadata.request, { topics: [], allowAutoTopicCreation: false }, 3)).toThrow(/does not exist/);
  });

  it('Metadata v1 response', () => {
    const value = {
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 't',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    };
    const expected = hex(
      // brokers [1]: nodeId 1, host 'h', port 9092, rack null
      '00000001 00000001 0001 68 00002384 ffff' +
        // controllerId 1
        '00000001' +
        // topics [1]: errorCode 0, name 't', isInternal false
        '00000001 0000 0001 74 00' +
        // partitions [1]: errorCode 0, index 0, leader 1, replicas [1], isr [1]
        '00000001 0000 00000000 00000001 00000001 00000001 00000001 00000001',
    );
    const bytes = encode(Metadata.response, value, 1);
    expect(bytes).toEqual(expected);
    expect(decode(Metadata.response, bytes, 1)).toMatchObject(value);
  });

  it('Produce v3 request body (no header)', () => {
    const value = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.from([1, 2, 3]) }] }],
    };
    const expected = hex(
      // transactionalId null, acks -1, timeoutMs 30000
      'ffff ffff 00007530' +
        // topicData [1]: name 't'
        '00000001 0001 74' +
        // partitionData [1]: index 0, records (int32 length 3)
        '00000001 00000000 00000003 010203',
    );
    const bytes = encode(Produce.request, value, 3);
    expect(bytes).toEqual(expected);
    expect(decode(Produce.request, bytes, 3)).toMatchObject(value);
  });

  it('Produce v9 request (flexible): compact records', () => {
    const value = {
      transactionalId: 'tx',
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 't', partitionData: [{ index: 2, records: null }] }],
    };
    const expected = hex('03 7478 0001 000003e8 02 02 74 02 00000002 00 00 00 00');
    expect(encode(Produce.request, value, 9)).toEqual(expected);
  });

  it('Produce v2 request has no transactionalId on the wire', () => {
    const value = { acks: 0, timeoutMs: 1, topicData: [] };
    expect(encode(Produce.request, value, 2)).toEqual(hex('0000 00000001 00000000'));
    expect(decode(Produce.request, hex('0000 00000001 00000000'), 2).transactionalId).toBeNull();
  });

  it('Produce v10 response: tagged currentLeader and nodeEndpoints', () => {
    const value = {
      responses: [
        {
          name: 't',
          partitionResponses: [
            {
              index: 0,
              errorCode: 6,
              baseOffset: -1n,
              logAppendTimeMs: -1n,
              logStartOffset: -1n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: 2, leaderEpoch: 7 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
    };
    const expected = hex(
      // responses [1], name 't', partitionResponses [1]
      '02 0274 02' +
        // index 0, errorCode 6, baseOffset -1, logAppendTime -1, logStartOffset -1
        '00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff' +
        // recordErrors [], errorMessage null
        '01 00' +
        // partition tags: 1 field, tag 0, 9 bytes: leaderId 2, leaderEpoch 7, the struct's own (empty) tags
        '01 00 09 00000002 00000007 00' +
        // topic tags: none; throttleTimeMs 0
        '00 00000000' +
        // message tags: 1 field, tag 0, 13 bytes: [1] nodeId 2, host 'h', port 9092, rack null, no tags
        '01 00 0d 02 00000002 0268 00002384 00 00',
    );
    const bytes = encode(Produce.response, value, 10);
    expect(bytes).toEqual(expected);
    expect(decode(Produce.response, bytes, 10)).toEqual(value);
  });

  it('Produce v10 response: default tagged fields are not written', () => {
    const value = {
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n }] }],
      throttleTimeMs: 0,
    };
    const bytes = encode(Produce.response, value, 10);
    expect(bytes).toEqual(
      hex('02 0274 02 00000000 0000 0000000000000005 ffffffffffffffff ffffffffffffffff 01 00 00 00 00000000 00'),
    );
    expect(decode(Produce.response, bytes, 10).responses).toEqual([
      {
        name: 't',
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 5n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
          },
        ],
      },
    ]);
  });

  it('Fetch v4 request', () => {
    const value = {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 1,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 5n, partitionMaxBytes: 1048576 }] }],
    };
    const expected = hex(
      // replicaId -1, maxWaitMs 500, minBytes 1, maxBytes 50 MiB, isolationLevel 1
      'ffffffff 000001f4 00000001 03200000 01' +
        // topics [1]: 't', partitions [1]: partition 0, fetchOffset 5, partitionMaxBytes 1 MiB
        '00000001 0001 74 00000001 00000000 0000000000000005 00100000',
    );
    const bytes = encode(Fetch.request, value, 4);
    expect(bytes).toEqual(expected);
    const decoded = decode(Fetch.request, bytes, 4);
    expect(decoded).toMatchObject(value);
    // Fields the version lacks come back with Kafka's defaults.
    expect(decoded.sessionEpoch).toBe(-1);
    expect(decoded.rackId).toBe('');
    expect(decoded.topics).toMatchObject([{ partitions: [{ currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1 }] }]);
  });

  it('Fetch v3 request defaults maxBytes to 0x7fffffff', () => {
    expect(Fetch.request.defaults(3).maxBytes).toBe(0x7fffffff);
    expect(encode(Fetch.request, Fetch.request.defaults(3), 3)).toEqual(hex('ffffffff 00000000 00000000 7fffffff 00000000'));
  });

  it('Fetch v12 request: tagged clusterId is read and written', () => {
    const value = { ...Fetch.request.defaults(12), clusterId: 'c' };
    const bytes = encode(Fetch.request, value, 12);
    // ... topics [], forgotten [], rackId '' then tags: 1 field, tag 0, 2 bytes: compact 'c'
    expect(bytes.subarray(-8)).toEqual(hex('01 01 01 01 00 02 02 63'));
    expect(decode(Fetch.request, bytes, 12).clusterId).toBe('c');
  });

  it('Fetch v4 response with an aborted transaction', () => {
    const value = {
      throttleTimeMs: 0,
      responses: [
        {
          topic: 't',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 10n,
              lastStableOffset: 8n,
              abortedTransactions: [{ producerId: 3n, firstOffset: 4n }],
              records: null,
            },
          ],
        },
      ],
    };
    const expected = hex(
      '00000000 00000001 0001 74 00000001 00000000 0000 000000000000000a 0000000000000008' +
        '00000001 0000000000000003 0000000000000004 ffffffff',
    );
    const bytes = encode(Fetch.response, value, 4);
    expect(bytes).toEqual(expected);
    expect(decode(Fetch.response, bytes, 4)).toMatchObject(value);
  });

  it('ListOffsets v0 request carries maxNumOffsets, v1 does not', () => {
    const value = { replicaId: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: -1n, maxNumOffsets: 1 }] }] };
    expect(encode(ListOffsets.request, value, 0)).toEqual(
      hex('ffffffff 00000001 0001 74 00000001 00000000 ffffffffffffffff 00000001'),
    );
    expect(encode(ListOffsets.request, value, 1)).toEqual(hex('ffffffff 00000001 0001 74 00000001 00000000 ffffffffffffffff'));
  });

  it('OffsetFetch v8 request: groups with null topics (= all)', () => {
    const value = { groups: [{ groupId: 'g', topics: null }], requireStable: true };
    // groups [1]: 'g', topics null, tags; requireStable 1; tags
    expect(encode(OffsetFetch.request, value, 8)).toEqual(hex('02 0267 00 00 01 00'));
  });

  it('FindCoordinator v0 request and response', () => {
    expect(encode(FindCoordinator.request, { key: 'g' }, 0)).toEqual(hex('0001 67'));
    const res = { errorCode: 0, nodeId: 1, host: 'h', port: 9092 };
    expect(encode(FindCoordinator.response, res, 0)).toEqual(hex('0000 00000001 0001 68 00002384'));
  });

  it('JoinGroup v0 request', () => {
    const value = {
      groupId: 'g',
      sessionTimeoutMs: 10000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 1]) }],
    };
    const expected = hex(
      '0001 67 00002710 0000 0008' + Buffer.from('consumer').toString('hex') + '00000001 0005' + Buffer.from('range').toString('hex') + '00000002 0001',
    );
    const bytes = encode(JoinGroup.request, value, 0);
    expect(bytes).toEqual(expected);
    expect(decode(JoinGroup.request, bytes, 0)).toMatchObject(value);
    expect(decode(JoinGroup.request, bytes, 0).rebalanceTimeoutMs).toBe(-1);
  });

  it('LeaveGroup v3 request batches members', () => {
    const value = { groupId: 'g', members: [{ memberId: 'm', groupInstanceId: null }] };
    expect(encode(LeaveGroup.request, value, 3)).toEqual(hex('0001 67 00000001 0001 6d ffff'));
    expect(() => encode(LeaveGroup.request, { groupId: 'g', memberId: 'm' }, 3)).toThrow(/does not exist/);
  });

  it('SyncGroup v5 response (flexible) with protocol type and name', () => {
    const value = { throttleTimeMs: 0, errorCode: 0, protocolType: 'consumer', protocolName: null, assignment: Buffer.from([0, 1]) };
    const expected = hex('00000000 0000 09' + Buffer.from('consumer').toString('hex') + '00 03 0001 00');
    expect(encode(SyncGroup.response, value, 5)).toEqual(expected);
  });

  it('Heartbeat v4 request (flexible)', () => {
    const value = { groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null };
    expect(encode(Heartbeat.request, value, 4)).toEqual(hex('02 67 00000003 02 6d 00 00'));
  });
});

// ---------------------------------------------------------------------------------------------------
// Cross-check against an independent implementation: kafkajs 2.2.4's own (non-flexible) encoders and
// decoders. Requests kafkajs encodes must decode fully with our codecs; responses we encode must decode
// with kafkajs to the same values.

/* eslint-disable @typescript-eslint/no-explicit-any */
const requireCjs = createRequire(import.meta.url);
const kafkajsApi = (name: string): { versions: string[]; protocol: (o: { version: number }) => (args: any) => any } =>
  requireCjs(`kafkajs/src/protocol/requests/${name}/index.js`);

async function kafkajsRequest(name: string, version: number, args: unknown): Promise<Buffer> {
  const { request } = kafkajsApi(name).protocol({ version })(args);
  const encoder = await request.encode();
  return encoder.buffer as Buffer;
}

async function kafkajsResponse(name: string, version: number, bytes: Buffer): Promise<any> {
  const { response } = kafkajsApi(name).protocol({ version })({});
  return response.decode(bytes);
}

const versionsOf = (name: string): number[] => kafkajsApi(name).versions.map(Number);

describe('kafkajs encodes requests our codecs decode', () => {
  it('Produce v0-7', async () => {
    const args = {
      acks: -1,
      timeout: 30000,
      transactionalId: 'tx',
      producerId: 1,
      producerEpoch: 0,
      topicData: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 0, messages: [{ key: 'k', value: 'v' }] }] }],
    };
    for (const v of versionsOf('produce')) {
      const decoded = decode(Produce.request, await kafkajsRequest('produce', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({ acks: -1, timeoutMs: 30000, topicData: [{ name: 't', partitionData: [{ index: 2 }] }] });
      expect(decoded.transactionalId).toBe(v >= 3 ? 'tx' : null);
      const records = (decoded.topicData as any)[0].partitionData[0].records as Buffer;
      expect(records.length).toBeGreaterThan(0);
      if (v >= 3) expect(records.readInt8(16), 'record batch magic').toBe(2);
    }
  });

  it('Fetch v0-11', async () => {
    const args = {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 1,
      rackId: 'r',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '42', maxBytes: 100 }] }],
    };
    for (const v of versionsOf('fetch')) {
      const decoded = decode(Fetch.request, await kafkajsRequest('fetch', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: v >= 3 ? 1024 : 0x7fffffff,
        isolationLevel: v >= 4 ? 1 : 0,
        rackId: v >= 11 ? 'r' : '',
        topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 42n, partitionMaxBytes: 100 }] }],
      });
    }
  });

  it('ListOffsets v0-3', async () => {
    const args = { replicaId: -1, isolationLevel: 1, topics: [{ topic: 't', partitions: [{ partition: 1, timestamp: -2 }] }] };
    for (const v of versionsOf('listOffsets')) {
      const decoded = decode(ListOffsets.request, await kafkajsRequest('listOffsets', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({
        replicaId: -1,
        isolationLevel: v >= 2 ? 1 : 0,
        topics: [{ name: 't', partitions: [{ partitionIndex: 1, timestamp: -2n }] }],
      });
    }
  });

  it('Metadata v0-6', async () => {
    for (const v of versionsOf('metadata')) {
      const decoded = decode(Metadata.request, await kafkajsRequest('metadata', v, { topics: ['a', 'b'], allowAutoTopicCreation: false }), v);
      expect(decoded, `v${v}`).toMatchObject({ topics: [{ name: 'a' }, { name: 'b' }], allowAutoTopicCreation: v < 4 });
    }
  });

  it('OffsetCommit v0-5', async () => {
    const args = {
      groupId: 'g',
      groupGenerationId: 3,
      memberId: 'm',
      topics: [{ topic: 't', partitions: [{ partition: 0, offset: '7', metadata: null }] }],
    };
    for (const v of versionsOf('offsetCommit')) {
      const decoded = decode(OffsetCommit.request, await kafkajsRequest('offsetCommit', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({
        groupId: 'g',
        generationIdOrMemberEpoch: v >= 1 ? 3 : -1,
        memberId: v >= 1 ? 'm' : '',
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: null }] }],
      });
    }
  });

  it('OffsetFetch v1-4', async () => {
    for (const v of versionsOf('offsetFetch')) {
      const args = { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 1 }] }] };
      const decoded = decode(OffsetFetch.request, await kafkajsRequest('offsetFetch', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }] });
    }
  });

  it('FindCoordinator v0-2', async () => {
    for (const v of versionsOf('findCoordinator')) {
      const decoded = decode(FindCoordinator.request, await kafkajsRequest('findCoordinator', v, { groupId: 'g', coordinatorType: 1 }), v);
      expect(decoded, `v${v}`).toMatchObject({ key: 'g', keyType: v >= 1 ? 1 : 0 });
    }
  });

  it('JoinGroup v0-5', async () => {
    const args = {
      groupId: 'g',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
    };
    for (const v of versionsOf('joinGroup')) {
      const decoded = decode(JoinGroup.request, await kafkajsRequest('joinGroup', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({
        groupId: 'g',
        sessionTimeoutMs: 30000,
        rebalanceTimeoutMs: v >= 1 ? 60000 : -1,
        protocolType: 'consumer',
        protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
      });
    }
  });

  it('Heartbeat v0-3, LeaveGroup v0-3, SyncGroup v0-3', async () => {
    for (const v of versionsOf('heartbeat')) {
      const bytes = await kafkajsRequest('heartbeat', v, { groupId: 'g', groupGenerationId: 4, memberId: 'm', groupInstanceId: null });
      expect(decode(Heartbeat.request, bytes, v), `v${v}`).toMatchObject({ groupId: 'g', generationId: 4, memberId: 'm' });
    }
    for (const v of versionsOf('leaveGroup')) {
      const decoded = decode(LeaveGroup.request, await kafkajsRequest('leaveGroup', v, { groupId: 'g', memberId: 'm' }), v);
      expect(decoded, `v${v}`).toMatchObject(v >= 3 ? { groupId: 'g', members: [{ memberId: 'm', groupInstanceId: null }] } : { groupId: 'g', memberId: 'm' });
    }
    for (const v of versionsOf('syncGroup')) {
      const args = { groupId: 'g', generationId: 4, memberId: 'm', groupAssignment: [{ memberId: 'm', memberAssignment: Buffer.from([0, 1]) }] };
      const decoded = decode(SyncGroup.request, await kafkajsRequest('syncGroup', v, args), v);
      expect(decoded, `v${v}`).toMatchObject({ groupId: 'g', generationId: 4, memberId: 'm', assignments: [{ memberId: 'm', assignment: Buffer.from([0, 1]) }] });
    }
  });
});

describe('kafkajs decodes responses our codecs encode', () => {
  it('Metadata v0-6', async () => {
    const value = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'c',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 't',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
        },
      ],
    };
    for (const v of versionsOf('metadata')) {
      const decoded = await kafkajsResponse('metadata', v, encode(Metadata.response, value, v));
      expect(decoded.brokers, `v${v}`).toMatchObject([{ nodeId: 1, host: 'localhost', port: 9092 }]);
      expect(decoded.topicMetadata, `v${v}`).toMatchObject([
        { topicErrorCode: 0, topic: 't', partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1] }] },
      ]);
      if (v >= 1) expect(decoded.controllerId).toBe(1);
      if (v >= 2) expect(decoded.clusterId).toBe('c');
    }
  });

  it('Produce v0-7', async () => {
    const value = {
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n, logAppendTimeMs: -1n, logStartOffset: 0n }] }],
      throttleTimeMs: 0,
    };
    for (const v of versionsOf('produce')) {
      const decoded = await kafkajsResponse('produce', v, encode(Produce.response, value, v));
      const offsetField = v >= 3 ? 'baseOffset' : 'offset'; // kafkajs's names
      expect(decoded.topics, `v${v}`).toMatchObject([{ topicName: 't', partitions: [{ partition: 0, errorCode: 0, [offsetField]: '5' }] }]);
    }
  });

  it('Fetch v0-11', async () => {
    const value = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 't',
          partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 10n, lastStableOffset: 10n, logStartOffset: 0n, abortedTransactions: [], records: Buffer.alloc(0) }],
        },
      ],
    };
    for (const v of versionsOf('fetch')) {
      const decoded = await kafkajsResponse('fetch', v, encode(Fetch.response, value, v));
      expect(decoded.responses, `v${v}`).toMatchObject([{ topicName: 't', partitions: [{ partition: 0, errorCode: 0, highWatermark: '10', messages: [] }] }]);
    }
  });

  it('ListOffsets v0-3', async () => {
    for (const v of versionsOf('listOffsets')) {
      // v0 has only the old-style offset list; v1+ a single offset (neither field is ignorable).
      const partition0 = v === 0 ? { oldStyleOffsets: [12n] } : { timestamp: -1n, offset: 12n };
      const value = { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, ...partition0 }] }] };
      const decoded = await kafkajsResponse('listOffsets', v, encode(ListOffsets.response, value, v));
      const partition = decoded.responses[0].partitions[0];
      expect(decoded.responses[0].topic, `v${v}`).toBe('t');
      expect(v === 0 ? partition.offsets : [partition.offset], `v${v}`).toEqual(['12']);
    }
  });

  it('group APIs', async () => {
    const joined = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 1,
      protocolName: 'RoundRobinAssigner',
      leader: 'm',
      memberId: 'm',
      members: [{ memberId: 'm', groupInstanceId: null, metadata: Buffer.from([1]) }],
    };
    for (const v of versionsOf('joinGroup')) {
      const decoded = await kafkajsResponse('joinGroup', v, encode(JoinGroup.response, joined, v));
      expect(decoded, `v${v}`).toMatchObject({ errorCode: 0, generationId: 1, groupProtocol: 'RoundRobinAssigner', leaderId: 'm', memberId: 'm' });
      expect(decoded.members[0].memberMetadata).toEqual(Buffer.from([1]));
    }
    for (const v of versionsOf('syncGroup')) {
      const decoded = await kafkajsResponse('syncGroup', v, encode(SyncGroup.response, { errorCode: 0, assignment: Buffer.from([0, 1]) }, v));
      expect(decoded.memberAssignment, `v${v}`).toEqual(Buffer.from([0, 1]));
    }
    for (const v of versionsOf('heartbeat')) {
      const decoded = await kafkajsResponse('heartbeat', v, encode(Heartbeat.response, { throttleTimeMs: 0, errorCode: 0 }, v));
      expect(decoded.errorCode, `v${v}`).toBe(0);
    }
    for (const v of versionsOf('leaveGroup')) {
      const value = v >= 3 ? { errorCode: 0, members: [{ memberId: 'm', groupInstanceId: null, errorCode: 0 }] } : { errorCode: 0 };
      const decoded = await kafkajsResponse('leaveGroup', v, encode(LeaveGroup.response, value, v));
      expect(decoded.errorCode, `v${v}`).toBe(0);
    }
    for (const v of versionsOf('findCoordinator')) {
      const value = { errorCode: 0, errorMessage: null, nodeId: 1, host: 'h', port: 9092 };
      const decoded = await kafkajsResponse('findCoordinator', v, encode(FindCoordinator.response, value, v));
      expect(decoded.coordinator, `v${v}`).toEqual({ nodeId: 1, host: 'h', port: 9092 });
    }
    for (const v of versionsOf('offsetCommit')) {
      const value = { topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] };
      const decoded = await kafkajsResponse('offsetCommit', v, encode(OffsetCommit.response, value, v));
      expect(decoded.responses, `v${v}`).toMatchObject([{ topic: 't', partitions: [{ partition: 0, errorCode: 0 }] }]);
    }
    for (const v of versionsOf('offsetFetch')) {
      const value = { topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 7n, metadata: null, errorCode: 0 }] }], errorCode: 0 };
      const decoded = await kafkajsResponse('offsetFetch', v, encode(OffsetFetch.response, value, v));
      expect(decoded.responses, `v${v}`).toMatchObject([{ topic: 't', partitions: [{ partition: 0, offset: '7', errorCode: 0 }] }]);
    }
  });
});
