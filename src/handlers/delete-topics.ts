/**
 * DeleteTopics (20), versions 1-6. v6 names topics by name or by id (KIP-516); an unknown id is
 * UNKNOWN_TOPIC_ID, an unknown name UNKNOWN_TOPIC_OR_PARTITION. Deletion removes the partition
 * directories and the topic from the metadata; deleting is refused when delete.topic.enable=false.
 */
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { TopicError } from '../broker/broker.js';
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
        const state = broker.topicsById.get(w.topicId);
        if (!state) {
          responses.push({ name: null, topicId: w.topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.' });
          continue;
        }
        name = state.name;
      } else {
        topicId = broker.topics.get(name)?.topicId ?? NULL_UUID;
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
