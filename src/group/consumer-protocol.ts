/**
 * The parts of the consumer embedded protocol (protocol type "consumer") the coordinator reads: the topics
 * in a member's subscription (ConsumerProtocolSubscription: int16 version, then topics as an int16-length
 * string array; later fields are not needed). OffsetDelete refuses to delete offsets of subscribed topics
 * (GROUP_SUBSCRIBED_TO_TOPIC) and offset expiration spares them, as in Kafka.
 */
import { Reader } from '../../protocol/primitives.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The subscribed topics, or null when the bytes are not a subscription we can read. */
export function subscribedTopics(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.int16();
    if (version < 0) return null;
    const n = r.arrayLength(false);
    if (n < 0) return null;
    const topics: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = r.string(false, false);
      if (t !== null) topics.push(t);
    }
    return topics;
  } catch {
    return null;
  }
}
