/**
 * EndTransactionRecord (metadata record type 24): commits the metadata transaction opened by a
 * BeginTransactionRecord (KIP-868). Kafka 4.4 spec, version 0, no fields.
 */
import { message } from '../schema.js';

export const EndTransactionRecord = message({
  name: 'EndTransactionRecord',
  apiKey: 24,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [],
});
