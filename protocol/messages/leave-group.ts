/**
 * LeaveGroup (key 13): members leave a classic group, triggering a rebalance. Kafka 3.9 spec (0-5).
 * - v1 adds the throttle time; v3 batches members with their groupInstanceId (KIP-345), replacing the single
 *   memberId; v4 is the first flexible version (KIP-482); v5 adds a per-member reason (KIP-800).
 */
import { api, message } from '../schema.js';

export const LeaveGroupRequest = message({
  name: 'LeaveGroupRequest',
  apiKey: 13,
  type: 'request',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0-2' },
    {
      name: 'members', type: '[]MemberIdentity', versions: '3+',
      fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
        { name: 'reason', type: 'string', versions: '5+', nullableVersions: '5+', default: null, ignorable: true },
      ],
    },
  ],
});

export const LeaveGroupResponse = message({
  name: 'LeaveGroupResponse',
  apiKey: 13,
  type: 'response',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'members', type: '[]MemberResponse', versions: '3+',
      fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+' },
        { name: 'errorCode', type: 'int16', versions: '3+' },
      ],
    },
  ],
});

export const LeaveGroup = api('LeaveGroup', LeaveGroupRequest, LeaveGroupResponse);
