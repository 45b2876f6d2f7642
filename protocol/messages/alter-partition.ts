/**
 * AlterPartition (key 56): a partition leader asks the active controller to change the partition's ISR
 * (KIP-497, KIP-841), on the controller listener; the controller checks the leader and partition epochs and
 * writes a PartitionChangeRecord. Kafka 4.4 spec (versions 2-3; Kafka 4 removed v0-1, KIP-896), flexible
 * from v0.
 * - v2 names topics by id; v3 replaces newIsr by newIsrWithEpochs, each ISR member with its broker epoch
 *   (KIP-903), so a broker that restarted with an empty disk cannot rejoin the ISR on a stale request.
 */
import { api, message } from '../schema.js';

export const AlterPartitionRequest = message({
  name: 'AlterPartitionRequest',
  apiKey: 56,
  type: 'request',
  validVersions: '2-3',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+', about: 'the requesting broker (the partitions\' leader)' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+', default: -1 },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicId', type: 'uuid', versions: '2+', ignorable: true },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            { name: 'newIsr', type: '[]int32', versions: '0-2', about: 'deprecated since v3' },
            {
              name: 'newIsrWithEpochs', type: '[]BrokerState', versions: '3+',
              fields: [
                { name: 'brokerId', type: 'int32', versions: '3+' },
                { name: 'brokerEpoch', type: 'int64', versions: '3+', default: -1, about: '-1 if the epoch check is not supported' },
              ],
            },
            { name: 'leaderRecoveryState', type: 'int8', versions: '1+', default: 0, about: '1 while recovering from an unclean leader election (KIP-704)' },
            { name: 'partitionEpoch', type: 'int32', versions: '0+', about: 'the partition epoch the leader expects' },
          ],
        },
      ],
    },
  ],
});

export const AlterPartitionResponse = message({
  name: 'AlterPartitionResponse',
  apiKey: 56,
  type: 'response',
  validVersions: '2-3',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'topics', type: '[]TopicData', versions: '0+',
      fields: [
        { name: 'topicId', type: 'uuid', versions: '2+', ignorable: true },
        {
          name: 'partitions', type: '[]PartitionData', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            { name: 'isr', type: '[]int32', versions: '0+' },
            { name: 'leaderRecoveryState', type: 'int8', versions: '1+', ignorable: true, default: 0 },
            { name: 'partitionEpoch', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const AlterPartition = api('AlterPartition', AlterPartitionRequest, AlterPartitionResponse);
