/**
 * Heartbeat (key 12): a classic group member's liveness ping; the error tells it to rejoin
 * (REBALANCE_IN_PROGRESS 27, UNKNOWN_MEMBER_ID 25, ILLEGAL_GENERATION 22). Kafka 3.9 spec (0-4).
 * - v1 adds the throttle time; v3 groupInstanceId (KIP-345); v4 is the first flexible version (KIP-482).
 */
import { api, message } from '../schema.js';

export const HeartbeatRequest = message({
  name: 'HeartbeatRequest',
  apiKey: 12,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
  ],
});

export const HeartbeatResponse = message({
  name: 'HeartbeatResponse',
  apiKey: 12,
  type: 'response',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
});

export const Heartbeat = api('Heartbeat', HeartbeatRequest, HeartbeatResponse);
