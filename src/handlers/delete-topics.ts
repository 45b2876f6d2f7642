/**
 * DeleteTopics (20), versions 1-6. v6 names topics by name or by id (KIP-516); an unknown id is
 * UNKNOWN_TOPIC_ID, an unknown name UNKNOWN_TOPIC_OR_PARTITION. Deletion removes the partition
 * directories and the topic from the metadata; deleting is refused when delete.topic.enable=false.
 *
 * Internal topics (__consumer_offsets, ...) are refused with INVALID_REQUEST and the message of Kafka's
 * kafka-topics.sh. Kafka's controller itself deletes them when asked (only its tools refuse), and with
 * __consumer_offsets go every group's committed offsets: one stray admin call must not do that here.
 * Waiting fetches on the deleted partitions are woken and answered UNKNOWN_TOPIC_OR_PARTITION.
 */
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { TopicError } from '../broker/broker.js';
import { isInternalTopic } from '../broker/internal-topics.js';
import { defineHandler } from './types.js';

export const deleteTopicsHandler = defineHandler(DeleteTopics, {
  minVersion: 1,
  maxVersion: 6,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const wanted: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name, topicId: NULL_UUID }));
    const responses = [];
    for (const w of wanted) {
      let name = w.name;
      let topicId = w.topicId;
      if (name === null || name === '') {
        const state = broker.image.topicById(w.topicId);
        if (!state) {
          responses.push({ name: null, topicId: w.topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.' });
          continue;
        }
        name = state.name;
      } else {
        topicId = broker.image.topic(name)?.topicId ?? NULL_UUID;
      }
      if (isInternalTopic(name) && broker.image.topic(name) !== undefined) {
        responses.push({ name, topicId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Topic ${name} is a kafka internal topic and is not allowed to be marked for deletion.` });
        continue;
      }
      try {
        await broker.deleteTopic(name);
        responses.push({ name, topicId, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        responses.push({ name, topicId, errorCode: err.errorCode, errorMessage: err.message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
