/**
 * ListOffsets (key 2): the offset for a timestamp per partition; -1 latest, -2 earliest, -3 max timestamp
 * (v7, KIP-734), -4 earliest local (v8, KIP-405), -5 latest tiered (v9, KIP-1005). Kafka 3.9 spec (0-9).
 * - v0 (deprecated, KIP-896) returns a list of old-style offsets; v1 a single offset with its timestamp.
 * - v2 adds isolationLevel (KIP-98) and the throttle time; v4 the leader epoch (KIP-320); v5 may return
 *   OFFSET_NOT_AVAILABLE; v6 is the first flexible version (KIP-482).
 */
import { api, message } from '../schema.js';

export const ListOffsetsRequest = message({
  name: 'ListOffsetsRequest',
  apiKey: 2,
  type: 'request',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    { name: 'replicaId', type: 'int32', versions: '0+', about: '-1 for consumers' },
    { name: 'isolationLevel', type: 'int8', versions: '2+' },
    {
      name: 'topics', type: '[]ListOffsetsTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]ListOffsetsPartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'currentLeaderEpoch', type: 'int32', versions: '4+', default: -1, ignorable: true },
            { name: 'timestamp', type: 'int64', versions: '0+' },
            { name: 'maxNumOffsets', type: 'int32', versions: '0', default: 1 },
          ],
        },
      ],
    },
  ],
});

export const ListOffsetsResponse = message({
  name: 'ListOffsetsResponse',
  apiKey: 2,
  type: 'response',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    {
      name: 'topics', type: '[]ListOffsetsTopicResponse', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]ListOffsetsPartitionResponse', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'oldStyleOffsets', type: '[]int64', versions: '0', ignorable: false },
            { name: 'timestamp', type: 'int64', versions: '1+', default: -1, ignorable: false },
            { name: 'offset', type: 'int64', versions: '1+', default: -1, ignorable: false },
            { name: 'leaderEpoch', type: 'int32', versions: '4+', default: -1 },
          ],
        },
      ],
    },
  ],
});

export const ListOffsets = api('ListOffsets', ListOffsetsRequest, ListOffsetsResponse);
