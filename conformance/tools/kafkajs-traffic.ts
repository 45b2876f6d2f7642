/** Drives kafkajs through produce and admin calls against $BOOTSTRAP (for capture-vectors.sh). */
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';

const kafka = new Kafka({ clientId: 'kafkajs-vectors', brokers: [process.env.BOOTSTRAP!], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: 'vec-kafkajs', numPartitions: 2 }] });
await admin.fetchTopicOffsets('vec-kafkajs');
await admin.fetchTopicOffsetsByTimestamp('vec-kafkajs', 1000);
await admin.describeConfigs({ resources: [{ type: 2, name: 'vec-kafkajs' }], includeSynonyms: false });
const producer = kafka.producer();
await producer.connect();
await producer.send({ topic: 'vec-kafkajs', compression: CompressionTypes.GZIP, messages: [{ key: 'a', value: 'b', headers: { h: 'v' } }] });
await producer.disconnect();
await admin.deleteTopics({ topics: ['vec-kafkajs'] });
await admin.disconnect();
