/**
 * AddPartitionsToTxn (key 24): a transactional producer registers partitions with its transaction
 * coordinator before producing to them (KIP-98). Kafka 3.9 spec (versions 0-5).
 * - v1 answers before throttling (KIP-219); v2 may return PRODUCER_FENCED (KIP-588); v3 is the first
 *   flexible version (KIP-482).
 * - v4 batches several transactions and adds verifyOnly and a top-level error code (KIP-890); v4+ is
 *   broker-to-coordinator only, clients use v3 and below (the `v3AndBelow*` fields).
 * - v5 may return TRANSACTION_ABORTABLE (KIP-890).
 */
import { api, message, type FieldDecl } from '../schema.js';

/** Kafka common struct AddPartitionsToTxnTopic (versions 0+). */
const AddPartitionsToTxnTopicFields = [
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const satisfies readonly FieldDecl[];

/** Kafka common struct AddPartitionsToTxnPartitionResult (versions 0+). */
const AddPartitionsToTxnPartitionResultFields = [
  { name: 'partitionIndex', type: 'int32', versions: '0+' },
  { name: 'partitionErrorCode', type: 'int16', versions: '0+' },
] as const satisfies readonly FieldDecl[];

/** Kafka common struct AddPartitionsToTxnTopicResult (versions 0+). */
const AddPartitionsToTxnTopicResultFields = [
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'resultsByPartition', type: '[]AddPartitionsToTxnPartitionResult', versions: '0+', fields: AddPartitionsToTxnPartitionResultFields },
] as const satisfies readonly FieldDecl[];

export const AddPartitionsToTxnRequest = message({
  name: 'AddPartitionsToTxnRequest',
  apiKey: 24,
  type: 'request',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    {
      name: 'transactions', type: '[]AddPartitionsToTxnTransaction', versions: '4+',
      fields: [
        { name: 'transactionalId', type: 'string', versions: '4+' },
        { name: 'producerId', type: 'int64', versions: '4+' },
        { name: 'producerEpoch', type: 'int16', versions: '4+' },
        { name: 'verifyOnly', type: 'bool', versions: '4+', default: false },
        { name: 'topics', type: '[]AddPartitionsToTxnTopic', versions: '4+', fields: AddPartitionsToTxnTopicFields },
      ],
    },
    { name: 'v3AndBelowTransactionalId', type: 'string', versions: '0-3' },
    { name: 'v3AndBelowProducerId', type: 'int64', versions: '0-3' },
    { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: '0-3' },
    { name: 'v3AndBelowTopics', type: '[]AddPartitionsToTxnTopic', versions: '0-3', fields: AddPartitionsToTxnTopicFields },
  ],
});

export const AddPartitionsToTxnResponse = message({
  name: 'AddPartitionsToTxnResponse',
  apiKey: 24,
  type: 'response',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '4+', ignorable: true },
    {
      name: 'resultsByTransaction', type: '[]AddPartitionsToTxnResult', versions: '4+',
      fields: [
        { name: 'transactionalId', type: 'string', versions: '4+' },
        { name: 'topicResults', type: '[]AddPartitionsToTxnTopicResult', versions: '4+', fields: AddPartitionsToTxnTopicResultFields },
      ],
    },
    { name: 'resultsByTopicV3AndBelow', type: '[]AddPartitionsToTxnTopicResult', versions: '0-3', fields: AddPartitionsToTxnTopicResultFields },
  ],
});

export const AddPartitionsToTxn = api('AddPartitionsToTxn', AddPartitionsToTxnRequest, AddPartitionsToTxnResponse);
