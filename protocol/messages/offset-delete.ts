/**
 * OffsetDelete (key 47): delete a group's committed offsets for some partitions (KIP-496).
 * Kafka 3.9 spec: version 0 only, not flexible.
 */
import { api, message } from '../schema.js';

export const OffsetDeleteRequest = message({
  name: 'OffsetDeleteRequest',
  apiKey: 47,
  type: 'request',
  validVersions: '0',
  flexibleVersions: 'none',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    {
      name: 'topics', type: '[]OffsetDeleteRequestTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]OffsetDeleteRequestPartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const OffsetDeleteResponse = message({
  name: 'OffsetDeleteResponse',
  apiKey: 47,
  type: 'response',
  validVersions: '0',
  flexibleVersions: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    {
      name: 'topics', type: '[]OffsetDeleteResponseTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]OffsetDeleteResponsePartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const OffsetDelete = api('OffsetDelete', OffsetDeleteRequest, OffsetDeleteResponse);
