/**
 * Vote (key 52): a candidate asks a voter for its vote in a new epoch (KIP-595), on the controller listener.
 * Kafka 4.4 spec (versions 0-2), flexible from v0.
 * - v1 adds voterId and the directory ids (KIP-853), and the tagged nodeEndpoints in the response.
 * - v2 adds preVote (KIP-996): a non-binding poll that neither bumps the epoch nor is persisted.
 * - Kafka 4 renamed v0's CandidateEpoch/CandidateId to ReplicaEpoch/ReplicaId (same wire position and type).
 */
import { api, message } from '../schema.js';

export const VoteRequest = message({
  name: 'VoteRequest',
  apiKey: 52,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'voterId', type: 'int32', versions: '1+', ignorable: true, default: -1, about: 'the voter receiving the request' },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'replicaEpoch', type: 'int32', versions: '0+', about: "the candidate's epoch" },
            { name: 'replicaId', type: 'int32', versions: '0+', about: 'the candidate' },
            { name: 'replicaDirectoryId', type: 'uuid', versions: '1+', ignorable: true },
            { name: 'voterDirectoryId', type: 'uuid', versions: '1+', ignorable: true },
            { name: 'lastOffsetEpoch', type: 'int32', versions: '0+' },
            { name: 'lastOffset', type: 'int64', versions: '0+' },
            { name: 'preVote', type: 'bool', versions: '2+' },
          ],
        },
      ],
    },
  ],
});

export const VoteResponse = message({
  name: 'VoteResponse',
  apiKey: 52,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            { name: 'voteGranted', type: 'bool', versions: '0+' },
          ],
        },
      ],
    },
    {
      name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '1+', taggedVersions: '1+', tag: 0,
      fields: [
        { name: 'nodeId', type: 'int32', versions: '1+' },
        { name: 'host', type: 'string', versions: '1+' },
        { name: 'port', type: 'uint16', versions: '1+' },
      ],
    },
  ],
});

export const Vote = api('Vote', VoteRequest, VoteResponse);
