/**
 * The record formats of the internal topic `__consumer_offsets`, byte-compatible with Kafka's
 * (group-coordinator/src/main/resources/common/message/{OffsetCommit,GroupMetadata}{Key,Value}.json), so
 * Kafka's tools can read our log and we can read theirs.
 *
 * Every key and value starts with an int16 version, then the fields of that version:
 *
 *   key version 0 or 1   OffsetCommitKey      group string, topic string, partition int32
 *   key version 2        GroupMetadataKey     group string
 *   (key versions 3+ are KIP-848 consumer-group records: skipped when loading)
 *
 *   OffsetCommitValue    v0: offset int64, metadata string, commitTimestamp int64
 *                        v1: + expireTimestamp int64 (after commitTimestamp; v1 only)
 *                        v3: + leaderEpoch int32 (after offset)       <- what Samsa writes
 *                        v4: v3, flexible (compact strings, tagged fields)
 *   GroupMetadataValue   protocolType, generation, protocol (nullable), leader (nullable),
 *                        currentStateTimestamp int64 (v2+), members: memberId, groupInstanceId (v3+),
 *                        clientId, clientHost, rebalanceTimeout (v1+), sessionTimeout, subscription bytes,
 *                        assignment bytes                             <- Samsa writes v3
 *
 * A null value is a tombstone: the offset was deleted or the group removed. The topic is compacted, so
 * only the latest record per key survives cleaning.
 *
 * The declarations reuse the schema language of protocol/messages; `type: 'request'` and `apiKey` there
 * mean nothing for these record formats (Kafka's newer specs put the key version in `apiKey`, as here).
 */
import { Reader, Writer } from '../../protocol/primitives.js';
import { message, type MessageValue } from '../../protocol/schema.js';

/** The internal topic holding the coordinator's records. */
export const OFFSETS_TOPIC = '__consumer_offsets';

export const OffsetCommitKey = message({
  name: 'OffsetCommitKey',
  apiKey: 1,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: [
    { name: 'group', type: 'string', versions: '0+' },
    { name: 'topic', type: 'string', versions: '0+' },
    { name: 'partition', type: 'int32', versions: '0+' },
  ],
});

export const GroupMetadataKey = message({
  name: 'GroupMetadataKey',
  apiKey: 2,
  type: 'request',
  validVersions: '2',
  flexibleVersions: 'none',
  fields: [{ name: 'group', type: 'string', versions: '2' }],
});

export const OffsetCommitValue = message({
  name: 'OffsetCommitValue',
  apiKey: 1,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'offset', type: 'int64', versions: '0+' },
    { name: 'leaderEpoch', type: 'int32', versions: '3+', default: -1, ignorable: true },
    { name: 'metadata', type: 'string', versions: '0+' },
    { name: 'commitTimestamp', type: 'int64', versions: '0+' },
    { name: 'expireTimestamp', type: 'int64', versions: '1', default: -1, ignorable: true },
  ],
});

export const GroupMetadataValue = message({
  name: 'GroupMetadataValue',
  apiKey: 2,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'protocolType', type: 'string', versions: '0+' },
    { name: 'generation', type: 'int32', versions: '0+' },
    { name: 'protocol', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'leader', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'currentStateTimestamp', type: 'int64', versions: '2+', default: -1, ignorable: true },
    {
      name: 'members', type: '[]MemberMetadata', versions: '0+',
      fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null, ignorable: true },
        { name: 'clientId', type: 'string', versions: '0+' },
        { name: 'clientHost', type: 'string', versions: '0+' },
        { name: 'rebalanceTimeout', type: 'int32', versions: '1+', ignorable: true },
        { name: 'sessionTimeout', type: 'int32', versions: '0+' },
        { name: 'subscription', type: 'bytes', versions: '0+' },
        { name: 'assignment', type: 'bytes', versions: '0+' },
      ],
    },
  ],
});

export type GroupMetadataRecord = MessageValue<(typeof GroupMetadataValue)['decl']>;

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const GROUP_METADATA_VALUE_VERSION = 3;

export interface CommittedOffset {
  offset: bigint;
  /** -1 when the client did not send one (OffsetCommit before v6). */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** Only from v1 values (OffsetCommit v2-4 with a retention time); -1 otherwise. */
  expireTimestampMs: number;
}

/** What one `__consumer_offsets` record says, decoded. */
export type CoordinatorRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; value: CommittedOffset | null }
  | { type: 'group'; group: string; value: GroupMetadataRecord | null };

function versioned(version: number, body: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.int16(version);
  body(w);
  return w.toBuffer();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return versioned(OFFSET_COMMIT_KEY_VERSION, (w) => OffsetCommitKey.encode(w, { group, topic, partition }, OFFSET_COMMIT_KEY_VERSION));
}

export function groupMetadataKey(group: string): Buffer {
  return versioned(GROUP_METADATA_KEY_VERSION, (w) => GroupMetadataKey.encode(w, { group }, GROUP_METADATA_KEY_VERSION));
}

export function offsetCommitValue(v: CommittedOffset): Buffer {
  return versioned(OFFSET_COMMIT_VALUE_VERSION, (w) =>
    OffsetCommitValue.encode(
      w,
      { offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestamp: BigInt(v.commitTimestampMs) },
      OFFSET_COMMIT_VALUE_VERSION,
    ),
  );
}

export function groupMetadataValue(v: GroupMetadataRecord): Buffer {
  return versioned(GROUP_METADATA_VALUE_VERSION, (w) => GroupMetadataValue.encode(w, v, GROUP_METADATA_VALUE_VERSION));
}

/**
 * Decodes one record of `__consumer_offsets`; null for a record type we do not use (KIP-848 records,
 * unknown future versions). Malformed bytes throw ProtocolError.
 */
export function decodeCoordinatorRecord(key: Buffer, value: Buffer | null): CoordinatorRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = OffsetCommitKey.decode(kr, keyVersion);
    if (value === null) return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    if (valueVersion < 0 || valueVersion > 4) return null;
    const v = OffsetCommitValue.decode(vr, valueVersion);
    return {
      type: 'offset',
      group: k.group,
      topic: k.topic,
      partition: k.partition,
      value: {
        offset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestampMs: Number(v.commitTimestamp),
        expireTimestampMs: Number(v.expireTimestamp),
      },
    };
  }
  if (keyVersion === GROUP_METADATA_KEY_VERSION) {
    const k = GroupMetadataKey.decode(kr, keyVersion);
    if (value === null) return { type: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    if (valueVersion < 0 || valueVersion > 4) return null;
    return { type: 'group', group: k.group, value: GroupMetadataValue.decode(vr, valueVersion) };
  }
  return null;
}

/**
 * Java's String.hashCode over UTF-16 code units, as Kafka computes a group's partition of
 * `__consumer_offsets`: `Utils.abs(groupId.hashCode) % partitions`.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE maps to 0. */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId);
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}
