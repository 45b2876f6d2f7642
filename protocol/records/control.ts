/**
 * Control records (the records of a batch whose control attribute bit is set): the key is
 * ControlRecordTypeSchema (int16 version 0, int16 type), the value depends on the type (clients:
 * ControlRecordType.java, ControlRecordUtils.java). KRaft's LEADER_CHANGE value is LeaderChangeMessage
 * (common/message/LeaderChangeMessage.json, flexible v0), written with no version prefix: Kafka reads it
 * at LEADER_CHANGE_CURRENT_VERSION (0).
 */
import { ProtocolError, Reader, Writer } from '../primitives.js';
import { message, type MessageValue } from '../schema.js';

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

/** The 4-byte key of a control record of this type. */
export function controlRecordKey(type: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** The type in a control record's key (ControlRecordType.parse: at least 4 bytes, version 0). */
export function controlRecordType(key: Buffer | null): number {
  if (key === null || key.length < 4) throw new ProtocolError(`control record key of ${key?.length ?? 'null'} bytes, expected 4`);
  const version = key.readInt16BE(0);
  if (version !== 0) throw new ProtocolError(`unknown control record key version ${version}`);
  return key.readInt16BE(2);
}

/** A "data" message in Kafka's spec; the schema language calls it a request with no api key, as for the group coordinator's records. */
export const LeaderChangeMessage = message({
  name: 'LeaderChangeMessage',
  apiKey: -1,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'version', type: 'int16', versions: '0+' },
    { name: 'leaderId', type: 'int32', versions: '0+' },
    {
      name: 'voters', type: '[]Voter', versions: '0+',
      fields: [
        { name: 'voterId', type: 'int32', versions: '0+' },
        { name: 'voterDirectoryId', type: 'uuid', versions: '1+' },
      ],
    },
    {
      name: 'grantingVoters', type: '[]Voter', versions: '0+',
      fields: [
        { name: 'voterId', type: 'int32', versions: '0+' },
        { name: 'voterDirectoryId', type: 'uuid', versions: '1+' },
      ],
    },
  ],
});

/** ControlRecordUtils.LEADER_CHANGE_CURRENT_VERSION. */
export const LEADER_CHANGE_CURRENT_VERSION = 0;

export function encodeLeaderChange(leaderId: number, voters: readonly number[], grantingVoters: readonly number[]): Buffer {
  const w = new Writer(64);
  LeaderChangeMessage.encode(
    w,
    { version: LEADER_CHANGE_CURRENT_VERSION, leaderId, voters: voters.map((voterId) => ({ voterId })), grantingVoters: grantingVoters.map((voterId) => ({ voterId })) },
    LEADER_CHANGE_CURRENT_VERSION,
  );
  return w.toBuffer();
}

export function decodeLeaderChange(value: Buffer): MessageValue<typeof LeaderChangeMessage.decl> {
  return LeaderChangeMessage.decode(new Reader(value), LEADER_CHANGE_CURRENT_VERSION);
}
