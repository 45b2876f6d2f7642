/**
 * KRaftVersionRecord: the value of the KRAFT_VERSION control record (ControlRecordType 5): the finalized
 * kraft.version (1 once the quorum's voter set is stored in the log, KIP-853). Kafka 4.4 spec
 * (kafka-clients), version 0, flexible; apiKey -1: a `data` spec has none.
 */
import { message } from '../schema.js';

export const KRaftVersionRecord = message({
  name: 'KRaftVersionRecord',
  apiKey: -1,
  type: 'data',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'version', type: 'int16', versions: '0+' },
    { name: 'kRaftVersion', type: 'int16', versions: '0+' },
  ],
});
