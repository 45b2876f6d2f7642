/**
 * BeginTransactionRecord (metadata record type 23): opens a metadata transaction (KIP-868): the records up
 * to the matching EndTransactionRecord are applied atomically, or dropped on an AbortTransactionRecord.
 * Kafka writes the bootstrap records of a new cluster this way. Kafka 4.4 spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const BeginTransactionRecord = message({
  name: 'BeginTransactionRecord',
  apiKey: 23,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'name', type: 'string', versions: '0+', nullableVersions: '0+', taggedVersions: '0+', tag: 0, default: null, about: 'an optional description' },
  ],
});
