/**
 * PartitionChangeRecord (metadata record type 5): a change to one partition (a new leader, ISR,
 * replicas...). Every changed attribute is a tagged field, absent when unchanged: a null list, or
 * leader -2 / leaderRecoveryState -1 meaning "no change". Kafka 4.4 spec, versions 0-2, flexible.
 * - v1 adds the tagged directories (KIP-858); v2 the tagged eligibleLeaderReplicas and lastKnownElr (KIP-966).
 * - Tags are not in field order (directories is tag 8): our encoder writes tagged fields by ascending tag.
 */
import { message } from '../schema.js';

export const PartitionChangeRecord = message({
  name: 'PartitionChangeRecord',
  apiKey: 5,
  type: 'metadata',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'partitionId', type: 'int32', versions: '0+', default: -1 },
    { name: 'topicId', type: 'uuid', versions: '0+' },
    { name: 'isr', type: '[]int32', versions: '0+', nullableVersions: '0+', taggedVersions: '0+', tag: 0, default: null },
    { name: 'leader', type: 'int32', versions: '0+', taggedVersions: '0+', tag: 1, default: -2, about: '-1 no leader, -2 unchanged' },
    { name: 'replicas', type: '[]int32', versions: '0+', nullableVersions: '0+', taggedVersions: '0+', tag: 2, default: null },
    { name: 'removingReplicas', type: '[]int32', versions: '0+', nullableVersions: '0+', taggedVersions: '0+', tag: 3, default: null },
    { name: 'addingReplicas', type: '[]int32', versions: '0+', nullableVersions: '0+', taggedVersions: '0+', tag: 4, default: null },
    { name: 'leaderRecoveryState', type: 'int8', versions: '0+', taggedVersions: '0+', tag: 5, default: -1, about: '-1 unchanged' },
    { name: 'directories', type: '[]uuid', versions: '1+', nullableVersions: '1+', taggedVersions: '1+', tag: 8, default: null },
    { name: 'eligibleLeaderReplicas', type: '[]int32', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 6, default: null },
    { name: 'lastKnownElr', type: '[]int32', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 7, default: null },
  ],
});
