/**
 * The framing of a KRaft metadata record inside a record's value in `__cluster_metadata` (KIP-631), as
 * Kafka's AbstractApiMessageSerde (server-common) writes and reads it:
 *
 *   unsigned varint frame version (always 1) | unsigned varint record type (the spec's apiKey)
 *   | unsigned varint record version | the record body (flexible encoding, as the spec says)
 *
 * The record key is null. Decoding refuses what Kafka refuses, with Kafka's MetadataParseException text:
 * frame version 0 (the 2.8 KRaft preview) or any other than 1, a type or version above 32767, an unknown
 * type, a version the spec lacks, and bytes left after the body ("garbage").
 *
 * Control batches of the metadata log carry the KRaft control records instead: key = int16 key version
 * (0) + int16 ControlRecordType, value = the record body at version 0 with no prefix (Kafka's
 * ControlRecordUtils always reads version 0).
 */
import { ProtocolError, Reader, Writer } from '../primitives.js';
import type { MessageCodec, MessageDecl, MessageInput, MessageValue } from '../schema.js';
import { AbortTransactionRecord } from './abort-transaction-record.js';
import { BeginTransactionRecord } from './begin-transaction-record.js';
import { BrokerRegistrationChangeRecord } from './broker-registration-change-record.js';
import { ConfigRecord } from './config-record.js';
import { EndTransactionRecord } from './end-transaction-record.js';
import { FeatureLevelRecord } from './feature-level-record.js';
import { FenceBrokerRecord } from './fence-broker-record.js';
import { KRaftVersionRecord } from './kraft-version-record.js';
import { LeaderChangeMessage } from './leader-change-message.js';
import { NoOpRecord } from './no-op-record.js';
import { PartitionChangeRecord } from './partition-change-record.js';
import { PartitionRecord } from './partition-record.js';
import { ProducerIdsRecord } from './producer-ids-record.js';
import { RegisterBrokerRecord } from './register-broker-record.js';
import { RegisterControllerRecord } from './register-controller-record.js';
import { RemoveTopicRecord } from './remove-topic-record.js';
import { SnapshotFooterRecord } from './snapshot-footer-record.js';
import { SnapshotHeaderRecord } from './snapshot-header-record.js';
import { TopicRecord } from './topic-record.js';
import { UnfenceBrokerRecord } from './unfence-broker-record.js';
import { UnregisterBrokerRecord } from './unregister-broker-record.js';
import { VotersRecord } from './voters-record.js';

/** Kafka's MetadataParseException: a metadata record that cannot be decoded. */
export class MetadataParseError extends ProtocolError {}

/** The frame version AbstractApiMessageSerde writes (DEFAULT_FRAME_VERSION). */
export const METADATA_FRAME_VERSION = 1;

/** The metadata record types we declare, in record-type order. */
export const METADATA_RECORDS = [
  RegisterBrokerRecord,
  UnregisterBrokerRecord,
  TopicRecord,
  PartitionRecord,
  ConfigRecord,
  PartitionChangeRecord,
  FenceBrokerRecord,
  UnfenceBrokerRecord,
  RemoveTopicRecord,
  FeatureLevelRecord,
  ProducerIdsRecord,
  BrokerRegistrationChangeRecord,
  NoOpRecord,
  BeginTransactionRecord,
  EndTransactionRecord,
  AbortTransactionRecord,
  RegisterControllerRecord,
] as const satisfies readonly MessageCodec<MessageDecl>[];

export type MetadataRecordCodec = (typeof METADATA_RECORDS)[number];

const BY_TYPE = new Map<number, MessageCodec<MessageDecl>>(METADATA_RECORDS.map((c) => [c.decl.apiKey, c]));

/** The codec of a metadata record type, or undefined for a type we do not declare. */
export function metadataRecordCodec(type: number): MessageCodec<MessageDecl> | undefined {
  return BY_TYPE.get(type);
}

/** Kafka's MetadataRecordType enum name of a record: TopicRecord -> TOPIC_RECORD. */
export function metadataTypeName(recordName: string): string {
  return recordName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export interface DecodedMetadataRecord {
  /** The record type (the spec's apiKey). */
  readonly type: number;
  readonly version: number;
  readonly codec: MessageCodec<MessageDecl>;
  readonly data: MessageValue<MessageDecl>;
}

function unsignedShort(r: Reader, what: string): number {
  let v: number;
  try {
    v = r.uvarint();
  } catch (err) {
    throw new MetadataParseError(`Error while reading ${what}: ${(err as Error).message}`);
  }
  if (v > 0x7fff) throw new MetadataParseError(`Value for ${what} was too large.`);
  return v;
}

/** Decodes one record value of a (non-control) batch of the metadata log. */
export function decodeMetadataRecord(value: Buffer): DecodedMetadataRecord {
  const r = new Reader(value);
  const frame = unsignedShort(r, 'frame version');
  if (frame === 0) {
    throw new MetadataParseError(
      'Could not deserialize metadata record with frame version 0. Note that upgrades from the preview release of KRaft in 2.8 to newer versions are not supported.',
    );
  }
  if (frame !== METADATA_FRAME_VERSION) {
    throw new MetadataParseError(`Could not deserialize metadata record due to unknown frame version ${frame}(only frame version 1 is supported)`);
  }
  const type = unsignedShort(r, 'type');
  const version = unsignedShort(r, 'version');
  const codec = BY_TYPE.get(type);
  if (!codec) throw new MetadataParseError(`Unknown metadata id ${type}`);
  let data: MessageValue<MessageDecl>;
  try {
    data = codec.decode(r, version);
  } catch (err) {
    throw new MetadataParseError(`Failed to deserialize record with type ${type}: ${(err as Error).message}`);
  }
  if (r.remaining() > 0) throw new MetadataParseError(`Found ${r.remaining()} byte(s) of garbage after ${type}`);
  return { type, version, codec, data };
}

/** Encodes a metadata record as a record value: the frame, then the body at `version`. */
export function encodeMetadataRecord<M extends MessageDecl>(codec: MessageCodec<M>, value: MessageInput<M>, version: number): Buffer {
  const w = new Writer(64);
  w.uvarint(METADATA_FRAME_VERSION);
  w.uvarint(codec.decl.apiKey);
  w.uvarint(version);
  codec.encode(w, value, version);
  return w.toBuffer();
}

// ---------------------------------------------------------------------------------------------------
// KRaft control records (ControlRecordType, clients:record/ControlRecordType.java)

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

/** The value codec of each KRaft control record type (ABORT/COMMIT carry an EndTxnMarker instead). */
export const KRAFT_CONTROL_RECORDS = new Map<number, MessageCodec<MessageDecl>>([
  [ControlRecordType.LEADER_CHANGE, LeaderChangeMessage],
  [ControlRecordType.SNAPSHOT_HEADER, SnapshotHeaderRecord],
  [ControlRecordType.SNAPSHOT_FOOTER, SnapshotFooterRecord],
  [ControlRecordType.KRAFT_VERSION, KRaftVersionRecord],
  [ControlRecordType.KRAFT_VOTERS, VotersRecord],
]);

/** The version Kafka writes and reads every KRaft control record value at (ControlRecordUtils.*_CURRENT_VERSION). */
export const CONTROL_RECORD_VALUE_VERSION = 0;

/** A control record key: int16 version (0), int16 type. Kafka reads only the type; a key shorter than 4 bytes is invalid. */
export function controlRecordType(key: Buffer | null): number {
  if (key === null || key.length < 4) throw new MetadataParseError(`Invalid control record key: ${key === null ? 'null' : `${key.length} bytes`}`);
  return key.readInt16BE(2);
}

export function encodeControlRecordKey(type: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** Decodes the value of a KRaft control record (types 2-6) at version 0; the whole value must be consumed. */
export function decodeControlRecordValue(type: number, value: Buffer): MessageValue<MessageDecl> {
  const codec = KRAFT_CONTROL_RECORDS.get(type);
  if (!codec) throw new MetadataParseError(`control record type ${type} has no KRaft value`);
  const r = new Reader(value);
  let data: MessageValue<MessageDecl>;
  try {
    data = codec.decode(r, CONTROL_RECORD_VALUE_VERSION);
  } catch (err) {
    throw new MetadataParseError(`Failed to deserialize ${codec.decl.name}: ${(err as Error).message}`);
  }
  if (r.remaining() > 0) throw new MetadataParseError(`Found ${r.remaining()} byte(s) of garbage after ${codec.decl.name}`);
  return data;
}

export function encodeControlRecordValue<M extends MessageDecl>(codec: MessageCodec<M>, value: MessageInput<M>): Buffer {
  const w = new Writer(64);
  codec.encode(w, value, CONTROL_RECORD_VALUE_VERSION);
  return w.toBuffer();
}
