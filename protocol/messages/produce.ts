/**
 * Produce (key 0): append record batches to partitions. Kafka 3.9 spec (0-11).
 * - v0-2 carry message format v0/v1 and are deprecated (KIP-896); we advertise them (librdkafka before 2.11
 *   only enables gzip/snappy/lz4 when Produce v0 is advertised, KAFKA-18659) but answer UNSUPPORTED_VERSION.
 * - v3 adds transactionalId and message format v2 (KIP-98); v7 allows zstd (KIP-110).
 * - v8 response adds recordErrors and errorMessage (KIP-467); v9 is the first flexible version (KIP-482).
 * - v10 response adds tagged currentLeader / nodeEndpoints (KIP-951); v11 allows TRANSACTION_ABORTABLE (KIP-890).
 * - acks=0 requests get no response at all.
 */
import { api, message } from '../schema.js';

export const ProduceRequest = message({
  name: 'ProduceRequest',
  apiKey: 0,
  type: 'request',
  validVersions: '0-11',
  flexibleVersions: '9+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    { name: 'acks', type: 'int16', versions: '0+', about: '0 none, 1 leader, -1 all in-sync replicas' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    {
      name: 'topicData', type: '[]TopicProduceData', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitionData', type: '[]PartitionProduceData', versions: '0+',
          fields: [
            { name: 'index', type: 'int32', versions: '0+' },
            { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const ProduceResponse = message({
  name: 'ProduceResponse',
  apiKey: 0,
  type: 'response',
  validVersions: '0-11',
  flexibleVersions: '9+',
  fields: [
    {
      name: 'responses', type: '[]TopicProduceResponse', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitionResponses', type: '[]PartitionProduceResponse', versions: '0+',
          fields: [
            { name: 'index', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'baseOffset', type: 'int64', versions: '0+' },
            { name: 'logAppendTimeMs', type: 'int64', versions: '2+', default: -1, ignorable: true, about: '-1 unless the topic uses LogAppendTime' },
            { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1, ignorable: true },
            {
              name: 'recordErrors', type: '[]BatchIndexAndErrorMessage', versions: '8+', ignorable: true,
              fields: [
                { name: 'batchIndex', type: 'int32', versions: '8+' },
                { name: 'batchIndexErrorMessage', type: 'string', versions: '8+', nullableVersions: '8+', default: null },
              ],
            },
            { name: 'errorMessage', type: 'string', versions: '8+', nullableVersions: '8+', default: null, ignorable: true },
            {
              name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '10+', taggedVersions: '10+', tag: 0,
              fields: [
                { name: 'leaderId', type: 'int32', versions: '10+', default: -1 },
                { name: 'leaderEpoch', type: 'int32', versions: '10+', default: -1 },
              ],
            },
          ],
        },
      ],
    },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true, default: 0 },
    {
      name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '10+', taggedVersions: '10+', tag: 0,
      about: 'Endpoints of the current leaders named in NOT_LEADER_OR_FOLLOWER partition errors',
      fields: [
        { name: 'nodeId', type: 'int32', versions: '10+' },
        { name: 'host', type: 'string', versions: '10+' },
        { name: 'port', type: 'int32', versions: '10+' },
        { name: 'rack', type: 'string', versions: '10+', nullableVersions: '10+', default: null },
      ],
    },
  ],
});

export const Produce = api('Produce', ProduceRequest, ProduceResponse);
