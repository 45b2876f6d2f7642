/**
 * OffsetForLeaderEpoch (key 23): the end offset of a leader epoch, for log truncation after a leader
 * change (KIP-101, KIP-279) and consumer-side truncation detection (KIP-320). Kafka 3.9 spec (0-4).
 * - v1 returns the leader epoch; v2 adds currentLeaderEpoch for fencing (KIP-320) and the throttle time.
 * - v3 adds replicaId (-2 = debug consumer; KIP-392); v4 is the first flexible version (KIP-482).
 * - v0-1 are deprecated (KIP-896). librdkafka 2.1+ sends v2; Java consumers need v3+.
 */
import { api, message } from '../schema.js';

export const OffsetForLeaderEpochRequest = message({
  name: 'OffsetForLeaderEpochRequest',
  apiKey: 23,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'replicaId', type: 'int32', versions: '3+', ignorable: true, default: -2 },
    {
      name: 'topics', type: '[]OffsetForLeaderTopic', versions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]OffsetForLeaderPartition', versions: '0+',
          fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'currentLeaderEpoch', type: 'int32', versions: '2+', ignorable: true, default: -1 },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const OffsetForLeaderEpochResponse = message({
  name: 'OffsetForLeaderEpochResponse',
  apiKey: 23,
  type: 'response',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    {
      name: 'topics', type: '[]OffsetForLeaderTopicResult', versions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]EpochEndOffset', versions: '0+',
          fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '1+', ignorable: true, default: -1 },
            { name: 'endOffset', type: 'int64', versions: '0+', default: -1 },
          ],
        },
      ],
    },
  ],
});

export const OffsetForLeaderEpoch = api('OffsetForLeaderEpoch', OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse);
