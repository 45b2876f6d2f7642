/**
 * FindCoordinator (key 10): which broker coordinates a group (keyType 0) or transactional id (keyType 1).
 * Kafka 3.9 spec (0-5).
 * - v1 adds keyType (KIP-98), the throttle time and an error message; v3 is the first flexible version.
 * - v4 batches several keys (KIP-699): the single-key fields are 0-3 only. v5 may return
 *   TRANSACTION_ABORTABLE (KIP-890). (Kafka 4.0's v6, share groups (KIP-932), has the same layout.)
 * - librdkafka needs v0 advertised to use consumer groups and lz4.
 */
import { api, message } from '../schema.js';

export const FindCoordinatorRequest = message({
  name: 'FindCoordinatorRequest',
  apiKey: 10,
  type: 'request',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    { name: 'key', type: 'string', versions: '0-3' },
    { name: 'keyType', type: 'int8', versions: '1+', default: 0, ignorable: false, about: '0 group, 1 transaction' },
    { name: 'coordinatorKeys', type: '[]string', versions: '4+' },
  ],
});

export const FindCoordinatorResponse = message({
  name: 'FindCoordinatorResponse',
  apiKey: 10,
  type: 'response',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0-3' },
    { name: 'errorMessage', type: 'string', versions: '1-3', nullableVersions: '1-3', ignorable: true },
    { name: 'nodeId', type: 'int32', versions: '0-3' },
    { name: 'host', type: 'string', versions: '0-3' },
    { name: 'port', type: 'int32', versions: '0-3' },
    {
      name: 'coordinators', type: '[]Coordinator', versions: '4+',
      fields: [
        { name: 'key', type: 'string', versions: '4+' },
        { name: 'nodeId', type: 'int32', versions: '4+' },
        { name: 'host', type: 'string', versions: '4+' },
        { name: 'port', type: 'int32', versions: '4+' },
        { name: 'errorCode', type: 'int16', versions: '4+' },
        { name: 'errorMessage', type: 'string', versions: '4+', nullableVersions: '4+', ignorable: true },
      ],
    },
  ],
});

export const FindCoordinator = api('FindCoordinator', FindCoordinatorRequest, FindCoordinatorResponse);
