/**
 * FeatureLevelRecord (metadata record type 12): the finalized level of a feature, above all
 * `metadata.version`: new metadata logs and snapshots begin with one, and Kafka keeps this record at
 * version 0 forever so any reader can learn the level it must understand. Kafka 4.4 spec, version 0.
 */
import { message } from '../schema.js';

export const FeatureLevelRecord = message({
  name: 'FeatureLevelRecord',
  apiKey: 12,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'name', type: 'string', versions: '0+', about: 'e.g. metadata.version, kraft.version' },
    { name: 'featureLevel', type: 'int16', versions: '0+', about: '0: the feature is not supported' },
  ],
});
