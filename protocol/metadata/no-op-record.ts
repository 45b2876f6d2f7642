/**
 * NoOpRecord (metadata record type 20): written by the active controller every
 * `metadata.max.idle.interval.ms` (default 500) so that brokers see the high watermark move and can tell
 * a live controller from a stalled one (KIP-835). Kafka 4.4 spec, version 0, no fields.
 */
import { message } from '../schema.js';

export const NoOpRecord = message({
  name: 'NoOpRecord',
  apiKey: 20,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [],
});
