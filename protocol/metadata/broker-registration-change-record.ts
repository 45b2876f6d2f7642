/**
 * BrokerRegistrationChangeRecord (metadata record type 17): a change to a registered broker. All changes
 * are tagged fields: fenced (-1 unfenced, 0 no change, 1 fenced), inControlledShutdown (v1+, 0 no change,
 * 1 in controlled shutdown), logDirs (v2+, KIP-858), cordonedLogDirs (v3+, null: no change).
 * Kafka 4.4 spec, versions 0-3, flexible.
 */
import { message } from '../schema.js';

export const BrokerRegistrationChangeRecord = message({
  name: 'BrokerRegistrationChangeRecord',
  apiKey: 17,
  type: 'metadata',
  validVersions: '0-3',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+' },
    { name: 'fenced', type: 'int8', versions: '0+', taggedVersions: '0+', tag: 0 },
    { name: 'inControlledShutdown', type: 'int8', versions: '1+', taggedVersions: '1+', tag: 1 },
    { name: 'logDirs', type: '[]uuid', versions: '2+', taggedVersions: '2+', tag: 2 },
    { name: 'cordonedLogDirs', type: '[]uuid', versions: '3+', taggedVersions: '3+', tag: 3, nullableVersions: '3+', default: null },
  ],
});
