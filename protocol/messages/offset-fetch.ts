/**
 * OffsetFetch (key 9): read a group's committed offsets; -1 when nothing is committed. Kafka 3.9 spec (0-9).
 * - v0 (deprecated, KIP-896) read offsets from ZooKeeper; v1+ from __consumer_offsets.
 * - v2 allows null topics (= all) and adds a top-level error code; v3 the throttle time; v5 the committed
 *   leader epoch (KIP-320); v6 is the first flexible version (KIP-482); v7 adds requireStable (KIP-447).
 * - v8 batches several groups in one request (KIP-709): the single-group fields are 0-7 only.
 * - v9 adds memberId/memberEpoch for the consumer protocol (KIP-848).
 */
import { api, message } from '../schema.js';

export const OffsetFetchRequest = message({
  name: 'OffsetFetchRequest',
  apiKey: 9,
  type: 'request',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0-7' },
    {
      name: 'topics', type: '[]OffsetFetchRequestTopic', versions: '0-7', nullableVersions: '2-7',
      fields: [
        { name: 'name', type: 'string', versions: '0-7' },
        { name: 'partitionIndexes', type: '[]int32', versions: '0-7' },
      ],
    },
    {
      name: 'groups', type: '[]OffsetFetchRequestGroup', versions: '8+',
      fields: [
        { name: 'groupId', type: 'string', versions: '8+' },
        { name: 'memberId', type: 'string', versions: '9+', nullableVersions: '9+', default: null, ignorable: true },
        { name: 'memberEpoch', type: 'int32', versions: '9+', default: -1, ignorable: true },
        {
          name: 'topics', type: '[]OffsetFetchRequestTopics', versions: '8+', nullableVersions: '8+',
          fields: [
            { name: 'name', type: 'string', versions: '8+' },
            { name: 'partitionIndexes', type: '[]int32', versions: '8+' },
          ],
        },
      ],
    },
    { name: 'requireStable', type: 'bool', versions: '7+', default: false },
  ],
});

export const OffsetFetchResponse = message({
  name: 'OffsetFetchResponse',
  apiKey: 9,
  type: 'response',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    {
      name: 'topics', type: '[]OffsetFetchResponseTopic', versions: '0-7',
      fields: [
        { name: 'name', type: 'string', versions: '0-7' },
        {
          name: 'partitions', type: '[]OffsetFetchResponsePartition', versions: '0-7',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0-7' },
            { name: 'committedOffset', type: 'int64', versions: '0-7' },
            { name: 'committedLeaderEpoch', type: 'int32', versions: '5-7', default: -1, ignorable: true },
            { name: 'metadata', type: 'string', versions: '0-7', nullableVersions: '0-7' },
            { name: 'errorCode', type: 'int16', versions: '0-7' },
          ],
        },
      ],
    },
    { name: 'errorCode', type: 'int16', versions: '2-7', default: 0, ignorable: true },
    {
      name: 'groups', type: '[]OffsetFetchResponseGroup', versions: '8+',
      fields: [
        { name: 'groupId', type: 'string', versions: '8+' },
        {
          name: 'topics', type: '[]OffsetFetchResponseTopics', versions: '8+',
          fields: [
            { name: 'name', type: 'string', versions: '8+' },
            {
              name: 'partitions', type: '[]OffsetFetchResponsePartitions', versions: '8+',
              fields: [
                { name: 'partitionIndex', type: 'int32', versions: '8+' },
                { name: 'committedOffset', type: 'int64', versions: '8+' },
                { name: 'committedLeaderEpoch', type: 'int32', versions: '8+', default: -1, ignorable: true },
                { name: 'metadata', type: 'string', versions: '8+', nullableVersions: '8+' },
                { name: 'errorCode', type: 'int16', versions: '8+' },
              ],
            },
          ],
        },
        { name: 'errorCode', type: 'int16', versions: '8+', default: 0 },
      ],
    },
  ],
});

export const OffsetFetch = api('OffsetFetch', OffsetFetchRequest, OffsetFetchResponse);
