/**
 * DescribeConfigs (key 32): read topic / broker / broker-logger configs (KIP-133; `kafka-topics --describe`).
 * Kafka 3.9 spec (versions 0-4).
 * - v1 adds includeSynonyms, configSource and synonyms (KIP-226); isDefault exists only in v0.
 * - v2 answers before throttling (KIP-219); v3 adds includeDocumentation, configType and documentation
 *   (KIP-569); v4 is the first flexible version (KIP-482). v0 is deprecated (KIP-896), gone in Kafka 4.0.
 */
import { api, message } from '../schema.js';

export const DescribeConfigsRequest = message({
  name: 'DescribeConfigsRequest',
  apiKey: 32,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    {
      name: 'resources', type: '[]DescribeConfigsResource', versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'configurationKeys', type: '[]string', versions: '0+', nullableVersions: '0+' },
      ],
    },
    { name: 'includeSynonyms', type: 'bool', versions: '1+', ignorable: false, default: false },
    { name: 'includeDocumentation', type: 'bool', versions: '3+', ignorable: false, default: false },
  ],
});

export const DescribeConfigsResponse = message({
  name: 'DescribeConfigsResponse',
  apiKey: 32,
  type: 'response',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results', type: '[]DescribeConfigsResult', versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        {
          name: 'configs', type: '[]DescribeConfigsResourceResult', versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
            { name: 'readOnly', type: 'bool', versions: '0+' },
            { name: 'isDefault', type: 'bool', versions: '0' },
            { name: 'configSource', type: 'int8', versions: '1+', ignorable: true, default: -1 },
            { name: 'isSensitive', type: 'bool', versions: '0+' },
            {
              name: 'synonyms', type: '[]DescribeConfigsSynonym', versions: '1+', ignorable: true,
              fields: [
                { name: 'name', type: 'string', versions: '1+' },
                { name: 'value', type: 'string', versions: '1+', nullableVersions: '0+' },
                { name: 'source', type: 'int8', versions: '1+' },
              ],
            },
            { name: 'configType', type: 'int8', versions: '3+', ignorable: true, default: 0 },
            { name: 'documentation', type: 'string', versions: '3+', nullableVersions: '0+', ignorable: true },
          ],
        },
      ],
    },
  ],
});

export const DescribeConfigs = api('DescribeConfigs', DescribeConfigsRequest, DescribeConfigsResponse);
