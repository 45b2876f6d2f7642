/**
 * ElectLeaders (key 43): an admin client (kafka-leader-election.sh) asks for a preferred (type 0) or an
 * unclean (type 1) leader election of some partitions, or of all when topicPartitions is null (KIP-460).
 * Brokers forward it to the active controller. Kafka 4.4 spec (versions 0-2), flexible from v2.
 * - v1 adds electionType and the top-level errorCode (KIP-460); v2 is the first flexible version.
 */
import { api, message } from '../schema.js';

export const ElectLeadersRequest = message({
  name: 'ElectLeadersRequest',
  apiKey: 43,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'electionType', type: 'int8', versions: '1+', about: '0 preferred replica, 1 first live replica in the ISR... or unclean' },
    {
      name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', nullableVersions: '0+', about: 'null for every partition',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
  ],
});

export const ElectLeadersResponse = message({
  name: 'ElectLeadersResponse',
  apiKey: 43,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    // Not ignorable: a v0 response cannot carry a top-level error, so Kafka's encoder refuses one.
    { name: 'errorCode', type: 'int16', versions: '1+', ignorable: false },
    {
      name: 'replicaElectionResults', type: '[]ReplicaElectionResult', versions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        {
          name: 'partitionResult', type: '[]PartitionResult', versions: '0+',
          fields: [
            { name: 'partitionId', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const ElectLeaders = api('ElectLeaders', ElectLeadersRequest, ElectLeadersResponse);
