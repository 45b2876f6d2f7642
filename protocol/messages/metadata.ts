/**
 * Metadata (key 3): brokers, controller and topic/partition leadership. Kafka 3.9 spec (0-12).
 * - v0: an empty topic list means all topics. v1+: null means all topics, [] none; v1 adds racks, the
 *   controller id and isInternal; v2 the cluster id; v3 the throttle time.
 * - v4 adds allowAutoTopicCreation (KIP-204); v5 offlineReplicas; v7 leaderEpoch (KIP-320); v8 authorized
 *   operations (KIP-430); v9 is the first flexible version (KIP-482).
 * - v10 adds topic ids (KIP-516); v11 drops cluster authorized operations (moved to DescribeCluster, KIP-700);
 *   v12 allows lookups by topic id (null names).
 */
import { api, message } from '../schema.js';

export const MetadataRequest = message({
  name: 'MetadataRequest',
  apiKey: 3,
  type: 'request',
  validVersions: '0-12',
  flexibleVersions: '9+',
  fields: [
    {
      name: 'topics', type: '[]MetadataRequestTopic', versions: '0+', nullableVersions: '1+',
      fields: [
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '10+' },
      ],
    },
    { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+', default: true, ignorable: false },
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
    { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
  ],
});

export const MetadataResponse = message({
  name: 'MetadataResponse',
  apiKey: 3,
  type: 'response',
  validVersions: '0-12',
  flexibleVersions: '9+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    {
      name: 'brokers', type: '[]MetadataResponseBroker', versions: '0+',
      fields: [
        { name: 'nodeId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '1+', nullableVersions: '1+', ignorable: true, default: null },
      ],
    },
    { name: 'clusterId', type: 'string', versions: '2+', nullableVersions: '2+', ignorable: true, default: null },
    { name: 'controllerId', type: 'int32', versions: '1+', default: -1, ignorable: true },
    {
      name: 'topics', type: '[]MetadataResponseTopic', versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '12+' },
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'isInternal', type: 'bool', versions: '1+', default: false, ignorable: true },
        {
          name: 'partitions', type: '[]MetadataResponsePartition', versions: '0+',
          fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '7+', default: -1, ignorable: true },
            { name: 'replicaNodes', type: '[]int32', versions: '0+' },
            { name: 'isrNodes', type: '[]int32', versions: '0+' },
            { name: 'offlineReplicas', type: '[]int32', versions: '5+', ignorable: true },
          ],
        },
        { name: 'topicAuthorizedOperations', type: 'int32', versions: '8+', default: -2147483648 },
      ],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '8-10', default: -2147483648 },
  ],
});

export const Metadata = api('Metadata', MetadataRequest, MetadataResponse);
