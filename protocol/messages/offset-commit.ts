/**
 * OffsetCommit (key 8): store a group's committed offsets. Kafka 3.9 spec (0-9).
 * - v0-1 are deprecated (KIP-896). v1 adds the generation, member id and a per-partition commit timestamp;
 *   v2 replaces the timestamp with retentionTimeMs, which v5 removes again (KIP-211).
 * - v3 adds the throttle time; v6 committedLeaderEpoch (KIP-320); v7 groupInstanceId (KIP-345); v8 is the
 *   first flexible version (KIP-482); v9 is usable with the consumer protocol (KIP-848), where the
 *   generation field carries the member epoch. Same wire layout as v8.
 */
import { api, message } from '../schema.js';

export const OffsetCommitRequest = message({
  name: 'OffsetCommitRequest',
  apiKey: 8,
  type: 'request',
  validVersions: '0-9',
  flexibleVersions: '8+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationIdOrMemberEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
    { name: 'memberId', type: 'string', versions: '1+', ignorable: true },
    { name: 'groupInstanceId', type: 'string', versions: '7+', nullableVersions: '7+', default: null },
    { name: 'retentionTimeMs', type: 'int64', versions: '2-4', default: -1, ignorable: true },
    {
      name: 'topics', type: '[]OffsetCommitRequestTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]OffsetCommitRequestPartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'committedOffset', type: 'int64', versions: '0+' },
            { name: 'committedLeaderEpoch', type: 'int32', versions: '6+', default: -1, ignorable: true },
            { name: 'commitTimestamp', type: 'int64', versions: '1', default: -1 },
            { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const OffsetCommitResponse = message({
  name: 'OffsetCommitResponse',
  apiKey: 8,
  type: 'response',
  validVersions: '0-9',
  flexibleVersions: '8+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    {
      name: 'topics', type: '[]OffsetCommitResponseTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]OffsetCommitResponsePartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const OffsetCommit = api('OffsetCommit', OffsetCommitRequest, OffsetCommitResponse);
