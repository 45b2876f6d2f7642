/**
 * JoinGroup (key 11): join a classic consumer group; the coordinator elects a leader and picks a protocol.
 * Kafka 3.9 spec (0-9).
 * - v0-1 are deprecated (KIP-896), but librdkafka's feature detection needs v0 advertised.
 * - v1 adds rebalanceTimeoutMs; v2 the throttle time; v4 requires a second join with the member id the
 *   coordinator assigned (MEMBER_ID_REQUIRED, KIP-394); v5 adds groupInstanceId (static membership, KIP-345);
 *   v6 is the first flexible version (KIP-482); v7 returns the protocol type (KIP-559); v8 adds the reason
 *   (KIP-800); v9 adds skipAssignment (KIP-814).
 */
import { api, message } from '../schema.js';

export const JoinGroupRequest = message({
  name: 'JoinGroupRequest',
  apiKey: 11,
  type: 'request',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'sessionTimeoutMs', type: 'int32', versions: '0+' },
    // When absent (v0) the session timeout applies; -1 is only a placeholder.
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '1+', default: -1, ignorable: true },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
    { name: 'protocolType', type: 'string', versions: '0+' },
    {
      name: 'protocols', type: '[]JoinGroupRequestProtocol', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'metadata', type: 'bytes', versions: '0+' },
      ],
    },
    { name: 'reason', type: 'string', versions: '8+', nullableVersions: '8+', default: null, ignorable: true },
  ],
});

export const JoinGroupResponse = message({
  name: 'JoinGroupResponse',
  apiKey: 11,
  type: 'response',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+', default: -1 },
    { name: 'protocolType', type: 'string', versions: '7+', nullableVersions: '7+', default: null, ignorable: true },
    { name: 'protocolName', type: 'string', versions: '0+', nullableVersions: '7+' },
    { name: 'leader', type: 'string', versions: '0+' },
    { name: 'skipAssignment', type: 'bool', versions: '9+', default: false },
    { name: 'memberId', type: 'string', versions: '0+' },
    {
      name: 'members', type: '[]JoinGroupResponseMember', versions: '0+',
      fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'groupInstanceId', type: 'string', versions: '5+', ignorable: true, nullableVersions: '5+', default: null },
        { name: 'metadata', type: 'bytes', versions: '0+' },
      ],
    },
  ],
});

export const JoinGroup = api('JoinGroup', JoinGroupRequest, JoinGroupResponse);
