/**
 * A refused topic operation (create, delete, grow, reconfigure), carrying the Kafka error code the client
 * gets. In its own module so that layers the broker starts (the group coordinator) can catch it without
 * importing the broker.
 */
export class TopicError extends Error {
  override readonly name = 'TopicError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}
