/**
 * UnfenceBrokerRecord (metadata record type 8): a broker has caught up with the metadata log and is
 * unfenced (KIP-631). Kafka 4.4 spec, version 0, flexible. Newer controllers write a
 * BrokerRegistrationChangeRecord with fenced=-1 instead; this record is still read from older logs.
 */
import { message } from '../schema.js';

export const UnfenceBrokerRecord = message({
  name: 'UnfenceBrokerRecord',
  apiKey: 8,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'id', type: 'int32', versions: '0+', about: 'the broker id' },
    { name: 'epoch', type: 'int64', versions: '0+', about: 'the broker epoch' },
  ],
});
