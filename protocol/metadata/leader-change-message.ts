/**
 * LeaderChangeMessage: the value of a LEADER_CHANGE control record (ControlRecordType 2), which a new
 * KRaft leader appends first thing in its epoch (KIP-595). Kafka 4.4 spec (kafka-clients'
 * common/message/LeaderChangeMessage.json), versions 0-1, flexible; apiKey -1: a `data` spec has none.
 * - Kafka writes and reads the value at version 0 (ControlRecordUtils.LEADER_CHANGE_CURRENT_VERSION) with
 *   no version prefix; the body's own `version` field is 0 too. v1 adds voterDirectoryId (KIP-853).
 */
import { message } from '../schema.js';

const voter = [
  { name: 'voterId', type: 'int32', versions: '0+' },
  { name: 'voterDirectoryId', type: 'uuid', versions: '1+' },
] as const;

export const LeaderChangeMessage = message({
  name: 'LeaderChangeMessage',
  apiKey: -1,
  type: 'data',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'version', type: 'int16', versions: '0+' },
    { name: 'leaderId', type: 'int32', versions: '0+' },
    { name: 'voters', type: '[]Voter', versions: '0+', fields: voter },
    { name: 'grantingVoters', type: '[]Voter', versions: '0+', fields: voter, about: 'the voters who voted for the leader' },
  ],
});
