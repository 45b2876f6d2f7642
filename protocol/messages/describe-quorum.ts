/**
 * DescribeQuorum (key 55): the Raft quorum of `__cluster_metadata` as the leader sees it (voters,
 * observers, their log end offsets and fetch times), for kafka-metadata-quorum.sh. Served on both the broker
 * and the controller listeners (brokers forward it). Kafka 4.4 spec (versions 0-2), flexible from v0.
 * - v1 adds lastFetchTimestamp and lastCaughtUpTimestamp (KIP-836).
 * - v2 adds error messages, replicaDirectoryId and the nodes' listeners (KIP-853).
 */
import { api, message, type FieldDecl } from '../schema.js';

/** ReplicaState, a common struct in Kafka's spec, used by currentVoters and observers. */
const replicaState = [
  { name: 'replicaId', type: 'int32', versions: '0+' },
  { name: 'replicaDirectoryId', type: 'uuid', versions: '2+' },
  { name: 'logEndOffset', type: 'int64', versions: '0+', about: '-1 if unknown' },
  { name: 'lastFetchTimestamp', type: 'int64', versions: '1+', ignorable: true, default: -1 },
  { name: 'lastCaughtUpTimestamp', type: 'int64', versions: '1+', ignorable: true, default: -1 },
] as const satisfies readonly FieldDecl[];

export const DescribeQuorumRequest = message({
  name: 'DescribeQuorumRequest',
  apiKey: 55,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [{ name: 'partitionIndex', type: 'int32', versions: '0+' }],
        },
      ],
    },
  ],
});

export const DescribeQuorumResponse = message({
  name: 'DescribeQuorumResponse',
  apiKey: 55,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '2+', nullableVersions: '2+', ignorable: true },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '2+', nullableVersions: '2+', ignorable: true },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            { name: 'highWatermark', type: 'int64', versions: '0+' },
            { name: 'currentVoters', type: '[]ReplicaState', versions: '0+', fields: replicaState },
            { name: 'observers', type: '[]ReplicaState', versions: '0+', fields: replicaState },
          ],
        },
      ],
    },
    {
      name: 'nodes', type: '[]Node', versions: '2+',
      fields: [
        { name: 'nodeId', type: 'int32', versions: '2+' },
        {
          name: 'listeners', type: '[]Listener', versions: '2+',
          fields: [
            { name: 'name', type: 'string', versions: '2+' },
            { name: 'host', type: 'string', versions: '2+' },
            { name: 'port', type: 'uint16', versions: '2+' },
          ],
        },
      ],
    },
  ],
});

export const DescribeQuorum = api('DescribeQuorum', DescribeQuorumRequest, DescribeQuorumResponse);
