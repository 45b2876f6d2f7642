import { describe, expect, it } from 'vitest';
import { Reader, Writer } from '../../protocol/primitives.js';
import { inRange, parseVersions, type ApiMessages, type FieldDecl, type MessageCodec, type MessageDecl } from '../../protocol/schema.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { InitProducerId } from '../../protocol/messages/init-producer-id.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { DescribeGroups } from '../../protocol/messages/describe-groups.js';
import { ListGroups } from '../../protocol/messages/list-groups.js';
import { OffsetForLeaderEpoch } from '../../protocol/messages/offset-for-leader-epoch.js';
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { DeleteGroups } from '../../protocol/messages/delete-groups.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { AlterConfigs } from '../../protocol/messages/alter-configs.js';
import { DeleteRecords } from '../../protocol/messages/delete-records.js';
import { OffsetDelete } from '../../protocol/messages/offset-delete.js';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { SaslHandshake } from '../../protocol/messages/sasl-handshake.js';
import { SaslAuthenticate } from '../../protocol/messages/sasl-authenticate.js';
import { AddPartitionsToTxn } from '../../protocol/messages/add-partitions-to-txn.js';
import { AddOffsetsToTxn } from '../../protocol/messages/add-offsets-to-txn.js';
import { EndTxn } from '../../protocol/messages/end-txn.js';
import { WriteTxnMarkers } from '../../protocol/messages/write-txn-markers.js';
import { TxnOffsetCommit } from '../../protocol/messages/txn-offset-commit.js';
import {
  ErrorCode,
  KafkaError,
  GroupError,
  InvalidRequestError,
  UnknownTopicOrPartitionError,
  errorCodeOf,
  errorInfo,
  isErrorCode,
  type ErrorName,
} from '../../protocol/errors.js';

/** API, key, valid versions (min, max) and first flexible version (-1: none), from the Kafka 3.9 specs. */
const APIS: [ApiMessages, number, number, number, number][] = [
  [CreateTopics, 19, 0, 7, 5],
  [DeleteTopics, 20, 0, 6, 4],
  [InitProducerId, 22, 0, 5, 2],
  [DescribeConfigs, 32, 0, 4, 4],
  [DescribeGroups, 15, 0, 5, 5],
  [ListGroups, 16, 0, 5, 3],
  [OffsetForLeaderEpoch, 23, 0, 4, 4],
  [CreatePartitions, 37, 0, 3, 2],
  [DeleteGroups, 42, 0, 2, 2],
  [IncrementalAlterConfigs, 44, 0, 1, 1],
  [AlterConfigs, 33, 0, 2, 2],
  [DeleteRecords, 21, 0, 2, 2],
  [OffsetDelete, 47, 0, 0, -1],
  [DescribeCluster, 60, 0, 1, 0],
  [SaslHandshake, 17, 0, 1, -1],
  [SaslAuthenticate, 36, 0, 2, 2],
  [AddPartitionsToTxn, 24, 0, 5, 3],
  [AddOffsetsToTxn, 25, 0, 4, 3],
  [EndTxn, 26, 0, 4, 3],
  [WriteTxnMarkers, 27, 0, 1, 1],
  [TxnOffsetCommit, 28, 0, 4, 3],
];

/** A small deterministic PRNG, so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** A random value for the fields present in `version`; absent fields are left out (the decoder fills defaults). */
function randomStruct(fields: readonly FieldDecl[], version: number, rand: () => number): Record<string, unknown> {
  const int = (bits: number): number => Math.floor(rand() * 2 ** bits) - 2 ** (bits - 1);
  const prim = (type: string): unknown => {
    switch (type) {
      case 'bool': return rand() < 0.5;
      case 'int8': return int(8);
      case 'int16': return int(16);
      case 'uint16': return Math.floor(rand() * 65536);
      case 'int32': return int(32);
      case 'uint32': return Math.floor(rand() * 2 ** 32);
      case 'int64': return (BigInt(int(32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
      case 'float64': return rand() * 1e6 - 5e5;
      case 'string': return Math.floor(rand() * 1e9).toString(36).slice(0, Math.floor(rand() * 6));
      case 'bytes':
      case 'records': return Buffer.from(Array.from({ length: Math.floor(rand() * 5) }, () => Math.floor(rand() * 256)));
      case 'uuid': {
        const h = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      default: throw new Error(`no generator for ${type}`);
    }
  };
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(version, parseVersions(f.versions))) continue;
    if (inRange(version, parseVersions(f.nullableVersions)) && rand() < 0.25) {
      out[f.name] = null;
      continue;
    }
    const isArray = f.type.startsWith('[]');
    const one = (): unknown => (f.fields ? randomStruct(f.fields, version, rand) : prim(isArray ? f.type.slice(2) : f.type));
    out[f.name] = isArray ? Array.from({ length: Math.floor(rand() * 3) }, one) : one();
  }
  return out;
}

function encode<M extends MessageDecl>(codec: MessageCodec<M>, value: Parameters<MessageCodec<M>['encode']>[1], version: number): Buffer {
  const w = new Writer();
  codec.encode(w, value, version);
  return w.toBuffer();
}

function decodeAll<M extends MessageDecl>(codec: MessageCodec<M>, bytes: Buffer, version: number) {
  const r = new Reader(bytes);
  const value = codec.decode(r, version);
  expect(r.remaining()).toBe(0);
  return value;
}

describe('message declarations, part 2', () => {
  it.each(APIS.map(([a, key, min, max, flex]) => [a.name, a, key, min, max, flex] as const))(
    '%s: key, version ranges, defaults round trip',
    (_name, a, key, min, max, flex) => {
      expect(a.apiKey).toBe(key);
      for (const codec of [a.request, a.response]) {
        expect(codec.decl.apiKey).toBe(key);
        expect(codec.validVersions).toEqual({ min, max });
        for (let v = min; v <= max; v++) {
          expect(codec.isFlexible(v)).toBe(flex >= 0 && v >= flex);
          const value = codec.defaults(v);
          const bytes = encode(codec, value, v);
          expect(decodeAll(codec, bytes, v)).toEqual(value);
        }
        expect(() => codec.defaults(max + 1)).toThrow();
      }
    },
  );

  it.each(APIS.map(([a]) => [a.name, a] as const))('%s: random values round trip in every version', (_name, a) => {
    const rand = rng(a.apiKey * 7919 + 1);
    for (const codec of [a.request, a.response]) {
      for (let v = codec.validVersions.min; v <= codec.validVersions.max; v++) {
        for (let i = 0; i < 20; i++) {
          const value = randomStruct(codec.decl.fields, v, rand);
          const bytes = encode(codec, value, v);
          const back = decodeAll(codec, bytes, v);
          expect(back).toMatchObject(value);
          expect(encode(codec, back, v).equals(bytes)).toBe(true);
        }
      }
    }
  });

  it('InitProducerId v0 request: null transactional id, int32 timeout', () => {
    const bytes = encode(InitProducerId.request, { transactionalId: null, transactionTimeoutMs: 60000 }, 0);
    expect(bytes.toString('hex')).toBe('ffff' + '0000ea60');
    const back = decodeAll(InitProducerId.request, bytes, 0);
    expect(back).toEqual({ transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
  });

  it('InitProducerId v3 request (flexible) carries producer id and epoch', () => {
    const bytes = encode(InitProducerId.request, { transactionalId: 'tx', transactionTimeoutMs: 1000, producerId: 5n, producerEpoch: 2 }, 3);
    // compact 'tx', int32 1000, int64 5, int16 2, no tagged fields
    expect(bytes.toString('hex')).toBe('03' + '7478' + '000003e8' + '0000000000000005' + '0002' + '00');
  });

  it('InitProducerId v0 request refuses a producer id it cannot carry', () => {
    expect(() => encode(InitProducerId.request, { transactionalId: null, transactionTimeoutMs: 1, producerId: 7n }, 0)).toThrow();
  });

  it('CreateTopics v5 flexible request with one topic', () => {
    const value = {
      topics: [{ name: 'foo', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'a', value: null }] }],
      timeoutMs: 30000,
      validateOnly: false,
    };
    const bytes = encode(CreateTopics.request, value, 5);
    const hex =
      '02' + // topics: compact array of 1
      '04666f6f' + // name 'foo'
      '00000003' + // numPartitions
      '0001' + // replicationFactor
      '01' + // assignments: empty compact array
      '02' + // configs: 1
      '0261' + // name 'a'
      '00' + // value null (compact)
      '00' + // config tagged fields
      '00' + // topic tagged fields
      '00007530' + // timeoutMs 30000
      '00' + // validateOnly
      '00'; // top-level tagged fields
    expect(bytes.toString('hex')).toBe(hex);
    expect(decodeAll(CreateTopics.request, bytes, 5)).toEqual(value);
  });

  it('CreateTopics v1 request (non-flexible) and the validateOnly version check', () => {
    const value = { topics: [{ name: 'x', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 100, validateOnly: true };
    const bytes = encode(CreateTopics.request, value, 1);
    expect(bytes.toString('hex')).toBe('00000001' + '000178' + 'ffffffff' + 'ffff' + '00000000' + '00000000' + '00000064' + '01');
    // validateOnly is not ignorable: v0 cannot carry true
    expect(() => encode(CreateTopics.request, value, 0)).toThrow();
  });

  it('CreateTopics v5 response: tagged topicConfigErrorCode', () => {
    const value = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'foo',
          topicId: '00000000-0000-0000-0000-000000000000', // not in v5
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 40,
          numPartitions: 3,
          replicationFactor: 1,
          configs: null,
        },
      ],
    };
    const bytes = encode(CreateTopics.response, value, 5);
    const hex =
      '00000000' + // throttleTimeMs
      '02' + // topics: 1
      '04666f6f' + // name
      '0000' + // errorCode
      '00' + // errorMessage null
      '00000003' + // numPartitions
      '0001' + // replicationFactor
      '00' + // configs null
      '01' + '00' + '02' + '0028' + // one tagged field: tag 0, size 2, int16 40
      '00'; // top-level tagged fields
    expect(bytes.toString('hex')).toBe(hex);
    const back = decodeAll(CreateTopics.response, bytes, 5);
    expect(back.topics[0]!.topicConfigErrorCode).toBe(40);
    expect(back.topics[0]!.topicId).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('DeleteTopics v1 names and v6 topic states', () => {
    const v1 = encode(DeleteTopics.request, { topicNames: ['a'], timeoutMs: 1000 }, 1);
    expect(v1.toString('hex')).toBe('00000001' + '000161' + '000003e8');
    const id = '0123456789abcdef0123456789abcdef';
    const topicId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    const v6 = encode(DeleteTopics.request, { topics: [{ name: null, topicId }], timeoutMs: 1000 }, 6);
    expect(v6.toString('hex')).toBe('02' + '00' + id + '00' + '000003e8' + '00');
    expect(decodeAll(DeleteTopics.request, v6, 6).topics).toEqual([{ name: null, topicId }]);
  });

  it('SaslHandshake v1 request and response', () => {
    expect(encode(SaslHandshake.request, { mechanism: 'PLAIN' }, 1).toString('hex')).toBe('0005504c41494e');
    const res = encode(SaslHandshake.response, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN'] }, 1);
    expect(res.toString('hex')).toBe('0021' + '00000001' + '0005504c41494e');
  });

  it('AddPartitionsToTxn shares its common structs between v3- and v4+ layouts', () => {
    const v3 = { v3AndBelowTransactionalId: 't', v3AndBelowProducerId: 1n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [{ name: 'a', partitions: [0, 1] }] };
    const b3 = encode(AddPartitionsToTxn.request, v3, 3);
    expect(b3.toString('hex')).toBe('0274' + '0000000000000001' + '0000' + '02' + '0261' + '03' + '00000000' + '00000001' + '00' + '00');
    const v4 = {
      transactions: [{ transactionalId: 't', producerId: 1n, producerEpoch: 0, verifyOnly: true, topics: [{ name: 'a', partitions: [0] }] }],
    };
    const back = decodeAll(AddPartitionsToTxn.request, encode(AddPartitionsToTxn.request, v4, 4), 4);
    expect(back.transactions).toEqual(v4.transactions);
    expect(back.v3AndBelowTopics).toEqual([]);
  });

  it('DescribeGroups v0 response omits authorizedOperations and throttle time', () => {
    const value = {
      groups: [
        {
          errorCode: 0,
          groupId: 'g',
          groupState: 'Empty',
          protocolType: 'consumer',
          protocolData: '',
          members: [],
          authorizedOperations: -2147483648, // v3+: must stay at its default for v0
        },
      ],
    };
    const bytes = encode(DescribeGroups.response, value, 0);
    const back = decodeAll(DescribeGroups.response, bytes, 0);
    expect(back.groups[0]!.authorizedOperations).toBe(-2147483648);
    expect(back.throttleTimeMs).toBe(0);
    expect(bytes.length).toBe(4 + 2 + 3 + 7 + 10 + 2 + 4);
    const withOps = { groups: [{ ...value.groups[0]!, authorizedOperations: 8 }] };
    expect(() => encode(DescribeGroups.response, withOps, 2)).toThrow();
    expect(decodeAll(DescribeGroups.response, encode(DescribeGroups.response, withOps, 3), 3).groups[0]!.authorizedOperations).toBe(8);
  });
});

describe('error codes', () => {
  const names = Object.keys(ErrorCode) as ErrorName[];
  const codes = names.map((n) => ErrorCode[n]);

  it('names and codes are unique and cover -1..127 without gaps', () => {
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(codes).size).toBe(codes.length);
    for (const n of names) expect(n).toMatch(/^[A-Z][A-Z0-9_]*$/);
    const sorted = [...codes].sort((a, b) => a - b);
    expect(sorted[0]).toBe(-1);
    expect(sorted.at(-1)).toBeGreaterThanOrEqual(119);
    sorted.forEach((c, i) => expect(c).toBe(i - 1));
  });

  it('errorInfo', () => {
    for (const n of names) {
      const info = errorInfo(ErrorCode[n]);
      expect(info.name).toBe(n);
      expect(info.code).toBe(ErrorCode[n]);
      if (n !== 'NONE') expect(info.message.length).toBeGreaterThan(0);
    }
    expect(errorInfo(ErrorCode.NOT_LEADER_OR_FOLLOWER).retriable).toBe(true);
    expect(errorInfo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).retriable).toBe(true);
    expect(errorInfo(ErrorCode.CORRUPT_MESSAGE).retriable).toBe(true);
    expect(errorInfo(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS).retriable).toBe(true);
    expect(errorInfo(ErrorCode.UNKNOWN_SERVER_ERROR).retriable).toBe(false);
    expect(errorInfo(ErrorCode.REBALANCE_IN_PROGRESS).retriable).toBe(false);
    expect(errorInfo(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER).retriable).toBe(false);
    expect(errorInfo(ErrorCode.NONE).retriable).toBe(false);
    expect(errorInfo(12345).name).toBe('UNKNOWN_SERVER_ERROR');
    expect(isErrorCode(79)).toBe(true);
    expect(isErrorCode(12345)).toBe(false);
  });

  it('error classes carry their code', () => {
    const e = new UnknownTopicOrPartitionError();
    expect(e).toBeInstanceOf(KafkaError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(3);
    expect(e.name).toBe('UnknownTopicOrPartitionError');
    expect(e.errorName).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(e.retriable).toBe(true);
    expect(e.message).toBe(errorInfo(3).message);
    expect(new InvalidRequestError('bad acks', ErrorCode.INVALID_REQUIRED_ACKS).code).toBe(21);
    const g = new GroupError(ErrorCode.MEMBER_ID_REQUIRED, 'rejoin with the given member id');
    expect(g.message).toBe('rejoin with the given member id');
    expect(errorCodeOf(g)).toBe(79);
    expect(errorCodeOf(new TypeError('boom'))).toBe(-1);
    expect(new KafkaError(ErrorCode.POLICY_VIOLATION).errorName).toBe('POLICY_VIOLATION');
  });
});
