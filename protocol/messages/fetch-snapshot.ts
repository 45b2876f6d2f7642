/**
 * FetchSnapshot (key 59): a follower whose fetch offset is below the leader's log start copies the
 * leader's `.checkpoint` snapshot in chunks (KIP-630), on the controller listener. Kafka 4.4 spec (versions
 * 0-1), flexible from v0.
 * - v1 adds the follower's replicaDirectoryId (tagged) and the tagged nodeEndpoints in the response
 *   (KIP-853).
 */
import { api, message } from '../schema.js';

export const FetchSnapshotRequest = message({
  name: 'FetchSnapshotRequest',
  apiKey: 59,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '0+', nullableVersions: '0+', default: null, taggedVersions: '0+', tag: 0 },
    { name: 'replicaId', type: 'int32', versions: '0+', default: -1 },
    { name: 'maxBytes', type: 'int32', versions: '0+', default: 0x7fffffff },
    {
      name: 'topics', type: '[]TopicSnapshot', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionSnapshot', versions: '0+',
          fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'currentLeaderEpoch', type: 'int32', versions: '0+' },
            {
              name: 'snapshotId', type: 'SnapshotId', versions: '0+',
              fields: [
                { name: 'endOffset', type: 'int64', versions: '0+' },
                { name: 'epoch', type: 'int32', versions: '0+' },
              ],
            },
            { name: 'position', type: 'int64', versions: '0+', about: 'byte position within the snapshot' },
            { name: 'replicaDirectoryId', type: 'uuid', versions: '1+', taggedVersions: '1+', tag: 0, ignorable: true },
          ],
        },
      ],
    },
  ],
});

export const FetchSnapshotResponse = message({
  name: 'FetchSnapshotResponse',
  apiKey: 59,
  type: 'response',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'topics', type: '[]TopicSnapshot', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]PartitionSnapshot', versions: '0+',
          fields: [
            { name: 'index', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            {
              name: 'snapshotId', type: 'SnapshotId', versions: '0+',
              fields: [
                { name: 'endOffset', type: 'int64', versions: '0+' },
                { name: 'epoch', type: 'int32', versions: '0+' },
              ],
            },
            {
              name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', taggedVersions: '0+', tag: 0,
              fields: [
                { name: 'leaderId', type: 'int32', versions: '0+' },
                { name: 'leaderEpoch', type: 'int32', versions: '0+' },
              ],
            },
            { name: 'size', type: 'int64', versions: '0+' },
            { name: 'position', type: 'int64', versions: '0+' },
            { name: 'unalignedRecords', type: 'records', versions: '0+', about: 'snapshot bytes, not aligned on a batch boundary' },
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

export const FetchSnapshot = api('FetchSnapshot', FetchSnapshotRequest, FetchSnapshotResponse);
