/**
 * AlterConfigs (key 33): replace the whole config set of a resource (KIP-133; superseded by
 * IncrementalAlterConfigs, KIP-339). Kafka 3.9 spec (versions 0-2).
 * v1 answers before throttling (KIP-219); v2 is the first flexible version (KIP-482).
 */
import { api, message } from '../schema.js';

export const AlterConfigsRequest = message({
  name: 'AlterConfigsRequest',
  apiKey: 33,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    {
      name: 'resources', type: '[]AlterConfigsResource', versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        {
          name: 'configs', type: '[]AlterableConfig', versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const AlterConfigsResponse = message({
  name: 'AlterConfigsResponse',
  apiKey: 33,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'responses', type: '[]AlterConfigsResourceResponse', versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
      ],
    },
  ],
});

export const AlterConfigs = api('AlterConfigs', AlterConfigsRequest, AlterConfigsResponse);
