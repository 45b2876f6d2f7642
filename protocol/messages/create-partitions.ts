/**
 * CreatePartitions (key 37): grow a topic's partition count, optionally with an assignment (KIP-195).
 * Kafka 3.9 spec (versions 0-3).
 * - v1 answers before throttling (KIP-219); v2 is the first flexible version (KIP-482).
 * - v3 may return THROTTLING_QUOTA_EXCEEDED (KIP-599).
 */
import { api, message } from '../schema.js';

export const CreatePartitionsRequest = message({
  name: 'CreatePartitionsRequest',
  apiKey: 37,
  type: 'request',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    {
      name: 'topics', type: '[]CreatePartitionsTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'count', type: 'int32', versions: '0+' },
        {
          name: 'assignments', type: '[]CreatePartitionsAssignment', versions: '0+', nullableVersions: '0+',
          fields: [
            { name: 'brokerIds', type: '[]int32', versions: '0+' },
          ],
        },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const CreatePartitionsResponse = message({
  name: 'CreatePartitionsResponse',
  apiKey: 37,
  type: 'response',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results', type: '[]CreatePartitionsTopicResult', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ],
    },
  ],
});

export const CreatePartitions = api('CreatePartitions', CreatePartitionsRequest, CreatePartitionsResponse);
