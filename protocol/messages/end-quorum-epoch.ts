/**
 * EndQuorumEpoch (key 54): a resigning Raft leader tells the voters to elect a successor, ranked by how far
 * each has replicated (KIP-595 graceful shutdown), on the controller listener. Kafka 4.4 spec (versions
 * 0-1), flexible from v1.
 * - v1 replaces preferredSuccessors (ids) with preferredCandidates (id and directory id) and adds the
 *   leader's endpoints (KIP-853), and the tagged nodeEndpoints in the response.
 */
import { api, message } from '../schema.js';

export const EndQuorumEpochRequest = message({
  name: 'EndQuorumEpochRequest',
  apiKey: 54,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            { name: 'preferredSuccessors', type: '[]int32', versions: '0', ignorable: true },
            {
              name: 'preferredCandidates', type: '[]ReplicaInfo', versions: '1+', ignorable: true,
              fields: [
                { name: 'candidateId', type: 'int32', versions: '1+' },
                { name: 'candidateDirectoryId', type: 'uuid', versions: '1+' },
              ],
            },
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

export const EndQuorumEpochResponse = message({
  name: 'EndQuorumEpochResponse',
  apiKey: 54,
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

export const EndQuorumEpoch = api('EndQuorumEpoch', EndQuorumEpochRequest, EndQuorumEpochResponse);
