/**
 * PartitionRecord (metadata record type 3): the full state of one partition, written when it is created
 * (and in snapshots). Later changes are PartitionChangeRecords. Kafka 4.4 spec, versions 0-2, flexible.
 * - leaderRecoveryState is tagged from v0 (KIP-704: 1 after an unclean election, until recovered).
 * - v1 adds directories (KIP-858: the log dir of each replica, in replica order).
 * - v2 adds the tagged eligibleLeaderReplicas and lastKnownElr (KIP-966).
 */
import { message } from '../schema.js';

export const PartitionRecord = message({
  name: 'PartitionRecord',
  apiKey: 3,
  type: 'metadata',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'partitionId', type: 'int32', versions: '0+', default: -1 },
    { name: 'topicId', type: 'uuid', versions: '0+' },
    { name: 'replicas', type: '[]int32', versions: '0+', about: 'in preferred order' },
    { name: 'isr', type: '[]int32', versions: '0+' },
    { name: 'removingReplicas', type: '[]int32', versions: '0+' },
    { name: 'addingReplicas', type: '[]int32', versions: '0+' },
    { name: 'leader', type: 'int32', versions: '0+', default: -1, about: '-1: no leader' },
    { name: 'leaderRecoveryState', type: 'int8', versions: '0+', taggedVersions: '0+', tag: 0, default: 0 },
    { name: 'leaderEpoch', type: 'int32', versions: '0+', default: -1 },
    { name: 'partitionEpoch', type: 'int32', versions: '0+', default: -1, about: 'bumped on any change of the partition' },
    { name: 'directories', type: '[]uuid', versions: '1+' },
    { name: 'eligibleLeaderReplicas', type: '[]int32', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 1, default: null },
    { name: 'lastKnownElr', type: '[]int32', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 2, default: null },
  ],
});
