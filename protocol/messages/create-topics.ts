/**
 * CreateTopics (key 19): create topics with a partition count and replication factor, or an explicit
 * replica assignment, plus topic configs. Declared from the Kafka 3.9 spec (versions 0-7).
 * - v1 adds validateOnly; v2 adds the response throttle time; v3 answers before throttling (KIP-219).
 * - v4: numPartitions / replicationFactor -1 mean broker defaults even without assignments (KIP-464).
 * - v5 is the first flexible version (KIP-482); the response echoes partitions, replication factor and
 *   configs of the new topic (KIP-525). v6 may return THROTTLING_QUOTA_EXCEEDED (KIP-599).
 * - v7 returns the new topic's id (KIP-516). v0-1 are deprecated (KIP-896) and gone in Kafka 4.0.
 */
import { api, message } from '../schema.js';

export const CreateTopicsRequest = message({
  name: 'CreateTopicsRequest',
  apiKey: 19,
  type: 'request',
  validVersions: '0-7',
  flexibleVersions: '5+',
  fields: [
    {
      name: 'topics', type: '[]CreatableTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'numPartitions', type: 'int32', versions: '0+' },
        { name: 'replicationFactor', type: 'int16', versions: '0+' },
        {
          name: 'assignments', type: '[]CreatableReplicaAssignment', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'brokerIds', type: '[]int32', versions: '0+' },
          ],
        },
        {
          name: 'configs', type: '[]CreatableTopicConfig', versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    { name: 'validateOnly', type: 'bool', versions: '1+', ignorable: false, default: false },
  ],
});

export const CreateTopicsResponse = message({
  name: 'CreateTopicsResponse',
  apiKey: 19,
  type: 'response',
  validVersions: '0-7',
  flexibleVersions: '5+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    {
      name: 'topics', type: '[]CreatableTopicResult', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'topicId', type: 'uuid', versions: '7+', ignorable: true },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '1+', nullableVersions: '0+', ignorable: true },
        { name: 'topicConfigErrorCode', type: 'int16', versions: '5+', tag: 0, taggedVersions: '5+', ignorable: true },
        { name: 'numPartitions', type: 'int32', versions: '5+', ignorable: true, default: -1 },
        { name: 'replicationFactor', type: 'int16', versions: '5+', ignorable: true, default: -1 },
        {
          name: 'configs', type: '[]CreatableTopicConfigs', versions: '5+', nullableVersions: '5+', ignorable: true,
          fields: [
            { name: 'name', type: 'string', versions: '5+' },
            { name: 'value', type: 'string', versions: '5+', nullableVersions: '5+' },
            { name: 'readOnly', type: 'bool', versions: '5+' },
            { name: 'configSource', type: 'int8', versions: '5+', ignorable: true, default: -1 },
            { name: 'isSensitive', type: 'bool', versions: '5+' },
          ],
        },
      ],
    },
  ],
});

export const CreateTopics = api('CreateTopics', CreateTopicsRequest, CreateTopicsResponse);
