/**
 * RemoveTopicRecord (metadata record type 9): a topic and all its partitions are deleted. Kafka 4.4
 * spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const RemoveTopicRecord = message({
  name: 'RemoveTopicRecord',
  apiKey: 9,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [{ name: 'topicId', type: 'uuid', versions: '0+' }],
});
