/**
 * TopicRecord (metadata record type 2): a topic is created, with the topic id it keeps for life
 * (KIP-516). Its partitions follow as PartitionRecords. Kafka 4.4 spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const TopicRecord = message({
  name: 'TopicRecord',
  apiKey: 2,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'name', type: 'string', versions: '0+' },
    { name: 'topicId', type: 'uuid', versions: '0+' },
  ],
});
