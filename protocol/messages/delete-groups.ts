/**
 * DeleteGroups (key 42): delete empty consumer groups and their committed offsets (KIP-229).
 * Kafka 3.9 spec (versions 0-2). v1 answers before throttling (KIP-219); v2 is the first flexible version.
 */
import { api, message } from '../schema.js';

export const DeleteGroupsRequest = message({
  name: 'DeleteGroupsRequest',
  apiKey: 42,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'groupsNames', type: '[]string', versions: '0+' },
  ],
});

export const DeleteGroupsResponse = message({
  name: 'DeleteGroupsResponse',
  apiKey: 42,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results', type: '[]DeletableGroupResult', versions: '0+',
      fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ],
    },
  ],
});

export const DeleteGroups = api('DeleteGroups', DeleteGroupsRequest, DeleteGroupsResponse);
