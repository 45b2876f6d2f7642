/**
 * TxnOffsetCommit (key 28): commit consumer offsets as part of a transaction; they become visible when
 * the transaction commits (KIP-98). Kafka 3.9 spec (versions 0-4).
 * - v1 answers before throttling (KIP-219); v2 adds committedLeaderEpoch (KIP-320).
 * - v3 adds generationIdOrMemberEpoch (Kafka 3.9 called it generationId; KIP-848 groups put the member
 *   epoch there), memberId and groupInstanceId for group fencing (KIP-447) and is the first flexible
 *   version (KIP-482); v4 may return TRANSACTION_ABORTABLE (KIP-890).
 */
import { api, message } from '../schema.js';

export const TxnOffsetCommitRequest = message({
  name: 'TxnOffsetCommitRequest',
  apiKey: 28,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'generationIdOrMemberEpoch', type: 'int32', versions: '3+', default: -1 },
    { name: 'memberId', type: 'string', versions: '3+', default: '' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    {
      name: 'topics', type: '[]TxnOffsetCommitRequestTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]TxnOffsetCommitRequestPartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'committedOffset', type: 'int64', versions: '0+' },
            { name: 'committedLeaderEpoch', type: 'int32', versions: '2+', ignorable: true, default: -1 },
            { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const TxnOffsetCommitResponse = message({
  name: 'TxnOffsetCommitResponse',
  apiKey: 28,
  type: 'response',
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics', type: '[]TxnOffsetCommitResponseTopic', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions', type: '[]TxnOffsetCommitResponsePartition', versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const TxnOffsetCommit = api('TxnOffsetCommit', TxnOffsetCommitRequest, TxnOffsetCommitResponse);
