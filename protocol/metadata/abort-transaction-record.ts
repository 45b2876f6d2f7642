/**
 * AbortTransactionRecord (metadata record type 25): drops the records of the open metadata transaction
 * (KIP-868), e.g. after a controller failover in the middle of it. Kafka 4.4 spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const AbortTransactionRecord = message({
  name: 'AbortTransactionRecord',
  apiKey: 25,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'reason', type: 'string', versions: '0+', nullableVersions: '0+', taggedVersions: '0+', tag: 0, default: null, about: 'an optional description' },
  ],
});
