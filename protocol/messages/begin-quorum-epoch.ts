/**
 * BeginQuorumEpoch (key 53): a newly elected Raft leader tells the other voters of its epoch (KIP-595), on
 * the controller listener. Kafka 4.4 spec (versions 0-1), flexible from v1.
 * - v1 adds voterId, voterDirectoryId and the leader's endpoints (KIP-853), and the tagged nodeEndpoints in
 *   the response.
 */
import { api, message } from '../schema.js';

export const BeginQuorumEpochRequest = message({
  name: 'BeginQuorumEpochRequest',
  apiKey: 53,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'voterId', type: 'int32', versions: '1+', ignorable: true, default: -1 },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'voterDirectoryId', type: 'uuid', versions: '1+', ignorable: true },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
    {
      name: 'leaderEndpoints', type: '[]LeaderEndpoint', versions: '1+', ignorable: true,
      fields: [
        { name: 'name', type: 'string', versions: '1+' },
        { name: 'host', type: 'string', versions: '1+' },
        { name: 'port', type: 'uint16', versions: '1+' },
      ],
    },
  ],
});

export const BeginQuorumEpochResponse = message({
  name: 'BeginQuorumEpochResponse',
  apiKey: 53,
  type: 'response',
  validVersions: '0-1',
  flexibleVersions: '1+',
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

export const BeginQuorumEpoch = api('BeginQuorumEpoch', BeginQuorumEpochRequest, BeginQuorumEpochResponse);
