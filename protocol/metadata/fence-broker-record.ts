/**
 * FenceBrokerRecord (metadata record type 7): a broker is fenced and removed from every ISR (KIP-631).
 * Kafka 4.4 spec, version 0, flexible. Since metadata.version 3.3 the controller writes a
 * BrokerRegistrationChangeRecord with fenced=1 instead; this record is still read from older logs.
 */
import { message } from '../schema.js';

export const FenceBrokerRecord = message({
  name: 'FenceBrokerRecord',
  apiKey: 7,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'id', type: 'int32', versions: '0+', about: 'the broker id' },
    { name: 'epoch', type: 'int64', versions: '0+', about: 'the broker epoch' },
  ],
});
