/**
 * DeleteTopics (key 20): delete topics by name or, from v6, by topic id. Kafka 3.9 spec (versions 0-6).
 * - v1 adds the response throttle time; v2 answers before throttling (KIP-219); v3 may return
 *   TOPIC_DELETION_DISABLED; v4 is the first flexible version (KIP-482).
 * - v5 adds a per-topic error message and THROTTLING_QUOTA_EXCEEDED (KIP-599).
 * - v6 replaces topicNames with topics (nullable name + topic id) and echoes topic ids (KIP-516).
 * - v0 is deprecated (KIP-896) and gone in Kafka 4.0.
 */
import { api, message } from '../schema.js';

export const DeleteTopicsRequest = message({
  name: 'DeleteTopicsRequest',
  apiKey: 20,
  type: 'request',
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: [
    {
      name: 'topics', type: '[]DeleteTopicState', versions: '6+',
      fields: [
        { name: 'name', type: 'string', versions: '6+', nullableVersions: '6+', default: null },
        { name: 'topicId', type: 'uuid', versions: '6+' },
      ],
    },
    { name: 'topicNames', type: '[]string', versions: '0-5', ignorable: true },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
});

export const DeleteTopicsResponse = message({
  name: 'DeleteTopicsResponse',
  apiKey: 20,
  type: 'response',
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    {
      name: 'responses', type: '[]DeletableTopicResult', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '6+' },
        { name: 'topicId', type: 'uuid', versions: '6+', ignorable: true },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '5+', nullableVersions: '5+', ignorable: true, default: null },
      ],
    },
  ],
});

export const DeleteTopics = api('DeleteTopics', DeleteTopicsRequest, DeleteTopicsResponse);
