/**
 * ListGroups (key 16): the groups a broker coordinates. Kafka 3.9 spec (versions 0-5).
 * - v1 adds the throttle time; v2 answers before throttling (KIP-219); v3 is the first flexible version.
 * - v4 adds statesFilter and the group state (KIP-518); v5 adds typesFilter and the group type (KIP-848).
 */
import { api, message } from '../schema.js';

export const ListGroupsRequest = message({
  name: 'ListGroupsRequest',
  apiKey: 16,
  type: 'request',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    { name: 'statesFilter', type: '[]string', versions: '4+' },
    { name: 'typesFilter', type: '[]string', versions: '5+' },
  ],
});

export const ListGroupsResponse = message({
  name: 'ListGroupsResponse',
  apiKey: 16,
  type: 'response',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'groups', type: '[]ListedGroup', versions: '0+',
      fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'protocolType', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '4+', ignorable: true },
        { name: 'groupType', type: 'string', versions: '5+', ignorable: true },
      ],
    },
  ],
});

export const ListGroups = api('ListGroups', ListGroupsRequest, ListGroupsResponse);
