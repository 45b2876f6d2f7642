/**
 * DescribeGroups (key 15): state, protocol and members of classic consumer groups. Kafka 3.9 spec
 * (versions 0-5); v0 is used by librdkafka's list_groups.
 * - v1 adds the throttle time; v2 answers before throttling (KIP-219).
 * - v3 can return authorized operations (KIP-430); v4 adds members' group.instance.id (KIP-345).
 * - v5 is the first flexible version (KIP-482).
 */
import { api, message } from '../schema.js';

export const DescribeGroupsRequest = message({
  name: 'DescribeGroupsRequest',
  apiKey: 15,
  type: 'request',
  validVersions: '0-5',
  flexibleVersions: '5+',
  fields: [
    { name: 'groups', type: '[]string', versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '3+' },
  ],
});

export const DescribeGroupsResponse = message({
  name: 'DescribeGroupsResponse',
  apiKey: 15,
  type: 'response',
  validVersions: '0-5',
  flexibleVersions: '5+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    {
      name: 'groups', type: '[]DescribedGroup', versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '0+' },
        { name: 'protocolType', type: 'string', versions: '0+' },
        { name: 'protocolData', type: 'string', versions: '0+' },
        {
          name: 'members', type: '[]DescribedGroupMember', versions: '0+',
          fields: [
            { name: 'memberId', type: 'string', versions: '0+' },
            { name: 'groupInstanceId', type: 'string', versions: '4+', nullableVersions: '4+', ignorable: true, default: null },
            { name: 'clientId', type: 'string', versions: '0+' },
            { name: 'clientHost', type: 'string', versions: '0+' },
            { name: 'memberMetadata', type: 'bytes', versions: '0+' },
            { name: 'memberAssignment', type: 'bytes', versions: '0+' },
          ],
        },
        { name: 'authorizedOperations', type: 'int32', versions: '3+', default: -2147483648 },
      ],
    },
  ],
});

export const DescribeGroups = api('DescribeGroups', DescribeGroupsRequest, DescribeGroupsResponse);
