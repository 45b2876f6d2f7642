/**
 * VotersRecord: the value of the KRAFT_VOTERS control record (ControlRecordType 6): the quorum's voter set
 * with each voter's directory id, endpoints and supported kraft.version range (KIP-853). Kafka 4.4 spec
 * (kafka-clients), version 0, flexible; apiKey -1: a `data` spec has none.
 */
import { message } from '../schema.js';

export const VotersRecord = message({
  name: 'VotersRecord',
  apiKey: -1,
  type: 'data',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'version', type: 'int16', versions: '0+' },
    {
      name: 'voters', type: '[]Voter', versions: '0+',
      fields: [
        { name: 'voterId', type: 'int32', versions: '0+' },
        { name: 'voterDirectoryId', type: 'uuid', versions: '0+' },
        {
          name: 'endpoints', type: '[]Endpoint', versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'port', type: 'uint16', versions: '0+' },
          ],
        },
        {
          name: 'kRaftVersionFeature', type: 'KRaftVersionFeature', versions: '0+',
          fields: [
            { name: 'minSupportedVersion', type: 'int16', versions: '0+' },
            { name: 'maxSupportedVersion', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});
