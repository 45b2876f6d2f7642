/**
 * ConfigRecord (metadata record type 4): one config key of a resource is set, or deleted when value is
 * null. resourceType is the ConfigResource type of the admin APIs (2 topic, 4 broker, 8 broker logger...).
 * Kafka 4.4 spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const ConfigRecord = message({
  name: 'ConfigRecord',
  apiKey: 4,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'resourceType', type: 'int8', versions: '0+' },
    { name: 'resourceName', type: 'string', versions: '0+', about: "'' for the cluster-wide broker default" },
    { name: 'name', type: 'string', versions: '0+' },
    { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+', about: 'null: the key is deleted' },
  ],
});
