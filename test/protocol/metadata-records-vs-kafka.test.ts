/**
 * The KRaft metadata records of protocol/metadata/ against Kafka itself, two ways:
 *
 * 1. Each declaration checked field by field, version by version, against Kafka's own JSON spec:
 *    common/metadata/*.json in the kafka-metadata 4.4.0 jar for the metadata records, and
 *    common/message/*.json in kafka-clients 4.4.0 for the KRaft control records (both from Maven Central,
 *    cached in test/.cache/; a failed download fails the test). The checker is proved to notice mistakes:
 *    every single-field mutation of every declaration is reported.
 * 2. A metadata log written by a real Kafka 4.4.0 broker (test/vectors/kafka/cluster-metadata-kafka-4.4.0/,
 *    captured by conformance/tools/capture-cluster-metadata.sh): every record of it is decoded with our
 *    declarations and re-encoded byte for byte, framing included.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Writer } from '../../protocol/primitives.js';
import { isControl, LOG_OVERHEAD, readBatchHeader } from '../../protocol/records/batch.js';
import { readRecordsSync, type Record as LogRecord } from '../../protocol/records/record.js';
import { inRange, parseVersions, type FieldDecl, type MessageDecl } from '../../protocol/schema.js';
import {
  controlRecordType,
  decodeControlRecordValue,
  decodeMetadataRecord,
  encodeControlRecordKey,
  encodeControlRecordValue,
  encodeMetadataRecord,
  KRAFT_CONTROL_RECORDS,
  MetadataParseError,
  METADATA_RECORDS,
  metadataTypeName,
} from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { PartitionChangeRecord } from '../../protocol/metadata/partition-change-record.js';
import { loadKafkaMetadataSpecs, loadKafkaSpecs, REPO_ROOT, type KafkaSpec } from '../helpers/kafka-specs.js';
import { checkDeclaration, type SpecForVersion } from './declaration-check.js';

const KAFKA = '4.4.0';
const KAFKA_METADATA_DIR = join(REPO_ROOT, 'test', 'vectors', 'kafka', `cluster-metadata-kafka-${KAFKA}`, '__cluster_metadata-0');
const KAFKA_METADATA_SEGMENT = join(KAFKA_METADATA_DIR, '00000000000000000000.log');
/** The bootstrap snapshot `kafka-storage format --standalone` wrote. */
const KAFKA_METADATA_SNAPSHOT = join(KAFKA_METADATA_DIR, '00000000000000000000-0000000000.checkpoint');

let metadataSpecs: Map<string, KafkaSpec>;
let clientSpecs: Map<string, KafkaSpec>;

beforeAll(async () => {
  [metadataSpecs, clientSpecs] = await Promise.all([loadKafkaMetadataSpecs(KAFKA), loadKafkaSpecs(KAFKA)]);
}, 300_000);

const METADATA_DECLS: MessageDecl[] = METADATA_RECORDS.map((c) => c.decl);
const CONTROL_DECLS: MessageDecl[] = [...KRAFT_CONTROL_RECORDS.values()].map((c) => c.decl);
const ALL = [...METADATA_DECLS, ...CONTROL_DECLS];

function specFor(decl: MessageDecl): SpecForVersion {
  return (v) => {
    const spec = (decl.type === 'metadata' ? metadataSpecs : clientSpecs).get(decl.name);
    return spec && inRange(v, parseVersions(spec.validVersions)) ? { spec, source: KAFKA } : undefined;
  };
}

describe('metadata record declarations match Kafka JSON specs', () => {
  it('loaded the kafka-metadata jar', () => {
    expect(metadataSpecs.get('TopicRecord')?.apiKey).toBe(2);
  });

  it('declares every record issue 11 names, plus those a real Kafka 4.4 log holds', () => {
    const names = METADATA_DECLS.map((d) => d.name);
    for (const want of [
      'RegisterBrokerRecord', 'UnregisterBrokerRecord', 'BrokerRegistrationChangeRecord', 'FenceBrokerRecord', 'UnfenceBrokerRecord',
      'TopicRecord', 'PartitionRecord', 'PartitionChangeRecord', 'RemoveTopicRecord', 'ConfigRecord', 'ProducerIdsRecord',
      'FeatureLevelRecord', 'NoOpRecord', 'RegisterControllerRecord', 'BeginTransactionRecord', 'EndTransactionRecord', 'AbortTransactionRecord',
    ]) {
      expect(names).toContain(want);
    }
    expect(CONTROL_DECLS.map((d) => d.name).sort()).toEqual(['KRaftVersionRecord', 'LeaderChangeMessage', 'SnapshotFooterRecord', 'SnapshotHeaderRecord', 'VotersRecord']);
  });

  for (const decl of ALL) {
    it(`${decl.name} ${decl.validVersions}`, () => {
      expect(checkDeclaration(decl, specFor(decl))).toEqual([]);
    });
  }

  it('declares the newest version Kafka has of each', () => {
    for (const decl of ALL) {
      const spec = (decl.type === 'metadata' ? metadataSpecs : clientSpecs).get(decl.name)!;
      expect(parseVersions(decl.validVersions).max, decl.name).toBe(parseVersions(spec.validVersions).max);
    }
  });
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

describe('the checker reports a mutated metadata record declaration', () => {
  it('a wrong record type', () => {
    const d = { ...structuredClone(TopicRecord.decl), apiKey: 3 };
    expect(checkDeclaration(d, specFor(d)).join('\n')).toMatch(/TopicRecord v0: apiKey 3, Kafka says 2/);
  });
  it('a wrong tag', () => {
    const d = structuredClone(PartitionChangeRecord.decl) as Mutable<MessageDecl>;
    (d.fields.find((f) => f.name === 'directories') as Mutable<FieldDecl>).tag = 6;
    expect(checkDeclaration(d, specFor(d)).join('\n')).toMatch(/directories: tag 6, Kafka says 8/);
  });
  it('a wrong default', () => {
    const d = structuredClone(PartitionChangeRecord.decl) as Mutable<MessageDecl>;
    (d.fields.find((f) => f.name === 'leader') as Mutable<FieldDecl>).default = -1;
    expect(checkDeclaration(d, specFor(d)).join('\n')).toMatch(/leader: default -1, Kafka -2/);
  });
  // Every field of every declaration, mutated three ways (one at a time): its first version moved up by one,
  // its nullability flipped, its type swapped for another of a different wire form. Each must be reported.
  it('every single-field mutation of every declaration is reported', () => {
    const SWAP: Record<string, string> = {
      bool: 'int8', int8: 'bool', int16: 'int32', uint16: 'int16', int32: 'int64', int64: 'int32', string: 'bytes', uuid: 'string',
    };
    let checked = 0;
    const missed: string[] = [];
    for (const decl of ALL) {
      const flatten = (fs: readonly FieldDecl[], out: FieldDecl[] = []): FieldDecl[] => {
        for (const f of fs) {
          out.push(f);
          if (f.fields) flatten(f.fields, out);
        }
        return out;
      };
      const count = flatten(decl.fields).length;
      for (let index = 0; index < count; index++) {
        const original = flatten(decl.fields)[index]!;
        const fv = parseVersions(original.versions);
        const first = Math.max(fv.min, parseVersions(decl.validVersions).min);
        const element = original.type.replace(/^\[\]/, '');
        const mutations: [string, (f: Mutable<FieldDecl>) => void][] = [
          ['versions', (f) => (f.versions = first + 1 > Math.min(fv.max, parseVersions(decl.validVersions).max) ? 'none' : `${first + 1}+`)],
          ['nullability', (f) => (f.nullableVersions = f.nullableVersions === undefined ? f.versions : undefined)],
        ];
        if (SWAP[element]) mutations.push(['type', (f) => (f.type = f.type.replace(element, SWAP[element]!))]);
        for (const [what, change] of mutations) {
          const d = structuredClone(decl);
          change(flatten(d.fields)[index] as Mutable<FieldDecl>);
          checked++;
          if (checkDeclaration(d, specFor(d)).length === 0) missed.push(`${decl.name}.${original.name} ${what}`);
        }
      }
    }
    expect(missed).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });
});

// ---------------------------------------------------------------------------------------------------
// Kafka-written bytes

interface LoggedRecord {
  batchOffset: number;
  control: boolean;
  record: LogRecord;
}

function readSegment(path: string): LoggedRecord[] {
  const bytes = readFileSync(path);
  const out: LoggedRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
    const batch = bytes.subarray(pos, pos + size);
    const h = readBatchHeader(batch);
    for (const record of readRecordsSync(batch)) out.push({ batchOffset: h.baseOffset, control: isControl(h.attributes), record });
    pos += size;
  }
  expect(pos).toBe(bytes.length);
  return out;
}

describe(`a metadata log written by Kafka ${KAFKA}`, () => {
  const records = readSegment(KAFKA_METADATA_SEGMENT);

  it('every metadata record decodes and re-encodes byte for byte', () => {
    const seen = new Set<string>();
    for (const { control, record } of records) {
      if (control) continue;
      expect(record.key, `offset ${record.offset}: metadata records have a null key`).toBeNull();
      const decoded = decodeMetadataRecord(record.value!);
      seen.add(`${metadataTypeName(decoded.codec.decl.name)} v${decoded.version}`);
      const again = encodeMetadataRecord(decoded.codec, decoded.data, decoded.version);
      expect(again.toString('hex'), `offset ${record.offset} ${decoded.codec.decl.name} v${decoded.version}`).toBe(record.value!.toString('hex'));
    }
    // What the capture script made Kafka write (the versions are Kafka 4.4's current ones).
    for (const want of [
      'BEGIN_TRANSACTION_RECORD v0', 'FEATURE_LEVEL_RECORD v0', 'CONFIG_RECORD v0', 'END_TRANSACTION_RECORD v0', 'NO_OP_RECORD v0',
      'REGISTER_CONTROLLER_RECORD v0', 'REGISTER_BROKER_RECORD v4', 'BROKER_REGISTRATION_CHANGE_RECORD v0', 'TOPIC_RECORD v0',
      'PARTITION_RECORD v2', 'PRODUCER_IDS_RECORD v0', 'REMOVE_TOPIC_RECORD v0', 'PARTITION_CHANGE_RECORD v2',
    ]) {
      expect([...seen]).toContain(want);
    }
  });

  it('decodes the values Kafka wrote (spot checks)', () => {
    const decoded = records.filter((r) => !r.control).map((r) => decodeMetadataRecord(r.record.value!));
    const topic = decoded.find((d) => d.codec.decl.name === 'TopicRecord' && (d.data as { name: string }).name === 'golden');
    expect(topic).toBeDefined();
    const partitions = decoded.filter((d) => d.codec.decl.name === 'PartitionRecord' && (d.data as { topicId: string }).topicId === (topic!.data as { topicId: string }).topicId);
    expect(partitions.map((p) => (p.data as { partitionId: number }).partitionId)).toEqual([0, 1]);
    expect(partitions[0]!.data).toMatchObject({ replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, eligibleLeaderReplicas: null });
    const config = decoded.find((d) => d.codec.decl.name === 'ConfigRecord' && (d.data as { resourceName: string }).resourceName === 'golden');
    expect(config?.data).toEqual({ resourceType: 2, resourceName: 'golden', name: 'retention.ms', value: '3600000' });
    const mv = decoded.find((d) => d.codec.decl.name === 'FeatureLevelRecord');
    expect(mv?.data).toMatchObject({ name: 'metadata.version' });
    // The controlled shutdown: the leader goes to -1 with an empty ISR, an explicitly written empty array
    // (null would mean "unchanged").
    const shutdown = decoded.filter((d) => d.codec.decl.name === 'PartitionChangeRecord');
    expect(shutdown.length).toBeGreaterThan(0);
    expect(shutdown[0]!.data).toMatchObject({ leader: -1, isr: [], replicas: null });
  });

  it('every control record decodes (at version 0, as Kafka reads them) and re-encodes byte for byte', () => {
    const types = new Set<number>();
    for (const { control, record } of records) {
      if (!control) continue;
      const type = controlRecordType(record.key);
      types.add(type);
      expect(encodeControlRecordKey(type).equals(record.key!)).toBe(true);
      const codec = KRAFT_CONTROL_RECORDS.get(type)!;
      const value = decodeControlRecordValue(type, record.value!);
      expect(encodeControlRecordValue(codec, value).toString('hex'), `offset ${record.offset} ${codec.decl.name}`).toBe(record.value!.toString('hex'));
    }
    expect([...types].sort()).toEqual([2, 5, 6]); // LEADER_CHANGE, KRAFT_VERSION, KRAFT_VOTERS (formatted --standalone)
  });

  it('every record of its bootstrap snapshot re-encodes byte for byte, framed by SnapshotHeader and SnapshotFooter', () => {
    const snapshot = readSegment(KAFKA_METADATA_SNAPSHOT);
    const kinds: string[] = [];
    for (const { control, record } of snapshot) {
      if (control) {
        const type = controlRecordType(record.key);
        const codec = KRAFT_CONTROL_RECORDS.get(type)!;
        kinds.push(codec.decl.name);
        expect(encodeControlRecordValue(codec, decodeControlRecordValue(type, record.value!)).equals(record.value!), codec.decl.name).toBe(true);
      } else {
        const d = decodeMetadataRecord(record.value!);
        kinds.push(d.codec.decl.name);
        expect(encodeMetadataRecord(d.codec, d.data, d.version).equals(record.value!), d.codec.decl.name).toBe(true);
      }
    }
    expect(kinds[0]).toBe('SnapshotHeaderRecord');
    expect(kinds.at(-1)).toBe('SnapshotFooterRecord');
    expect(kinds).toContain('VotersRecord');
    expect(kinds).toContain('FeatureLevelRecord');
  });
});

// ---------------------------------------------------------------------------------------------------
// Framing: what AbstractApiMessageSerde refuses, we refuse with the same words.

describe('metadata record framing', () => {
  const topic = encodeMetadataRecord(TopicRecord, { name: 'a', topicId: '00000000-0000-0000-0000-000000000001' }, 0);
  const frame = (...head: number[]): Buffer => {
    const w = new Writer(16);
    for (const h of head) w.uvarint(h);
    return w.toBuffer();
  };

  it('frame version 1, then type, then version, then the body', () => {
    expect(topic.subarray(0, 3)).toEqual(Buffer.from([1, 2, 0]));
    expect(decodeMetadataRecord(topic).data).toEqual({ name: 'a', topicId: '00000000-0000-0000-0000-000000000001' });
  });
  it('frame version 0 (the 2.8 KRaft preview) is refused', () => {
    expect(() => decodeMetadataRecord(Buffer.concat([frame(0), topic.subarray(1)]))).toThrow(/frame version 0\. Note that upgrades from the preview release of KRaft in 2\.8/);
  });
  it('an unknown frame version is refused', () => {
    expect(() => decodeMetadataRecord(Buffer.concat([frame(2), topic.subarray(1)]))).toThrow('unknown frame version 2(only frame version 1 is supported)');
  });
  it('an unknown record type is refused', () => {
    expect(() => decodeMetadataRecord(frame(1, 99, 0))).toThrow('Unknown metadata id 99');
  });
  it('a record type above 32767 is refused', () => {
    expect(() => decodeMetadataRecord(frame(1, 40000, 0))).toThrow('Value for type was too large.');
  });
  it('a version the spec lacks is refused', () => {
    expect(() => decodeMetadataRecord(frame(1, 2, 1))).toThrow(/Failed to deserialize record with type 2/);
  });
  it('bytes after the body are garbage', () => {
    expect(() => decodeMetadataRecord(Buffer.concat([topic, Buffer.from([0])]))).toThrow('Found 1 byte(s) of garbage after 2');
  });
  it('a truncated body is refused', () => {
    const err = (() => {
      try {
        decodeMetadataRecord(topic.subarray(0, topic.length - 3));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MetadataParseError);
  });
  it('an empty ISR in a PartitionChangeRecord is written (null means unchanged)', () => {
    const base = { partitionId: 0, topicId: '00000000-0000-0000-0000-000000000001' };
    const unchanged = encodeMetadataRecord(PartitionChangeRecord, base, 0);
    const emptied = encodeMetadataRecord(PartitionChangeRecord, { ...base, isr: [] }, 0);
    expect(emptied.length).toBe(unchanged.length + 3); // tag 0, size 1, compact length 1 (= 0 elements)
    expect(decodeMetadataRecord(emptied).data).toMatchObject({ isr: [] });
    expect(decodeMetadataRecord(unchanged).data).toMatchObject({ isr: null, leader: -2 });
  });
});
