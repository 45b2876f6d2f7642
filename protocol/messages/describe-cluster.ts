/**
 * DescribeCluster (key 60): cluster id, controller and brokers for the admin client (KIP-700).
 * Kafka 3.9 spec (versions 0-1), flexible from v0.
 * - v1 adds endpointType (1 brokers, 2 controllers) and the MISMATCHED_ENDPOINT_TYPE /
 *   UNSUPPORTED_ENDPOINT_TYPE errors (KIP-919).
 */
import { api, message } from '../schema.js';

export const DescribeClusterRequest = message({
  name: 'DescribeClusterRequest',
  apiKey: 60,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '0+' },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
  ],
});

export const DescribeClusterResponse = message({
  name: 'DescribeClusterResponse',
  apiKey: 60,
  type: 'response',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
    { name: 'clusterId', type: 'string', versions: '0+' },
    { name: 'controllerId', type: 'int32', versions: '0+', default: -1 },
    {
      name: 'brokers', type: '[]DescribeClusterBroker', versions: '0+',
      fields: [
        { name: 'brokerId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
  ],
});

export const DescribeCluster = api('DescribeCluster', DescribeClusterRequest, DescribeClusterResponse);
