/**
 * Typed storage failures. Each carries the Kafka error code the broker should answer with, as a number
 * (storage does not import protocol/errors; the codes are Kafka's: OFFSET_OUT_OF_RANGE = 1,
 * CORRUPT_MESSAGE = 2, KAFKA_STORAGE_ERROR = 56, UNKNOWN_SERVER_ERROR = -1).
 */

export class OffsetOutOfRangeError extends Error {
  override readonly name = 'OffsetOutOfRangeError';
  readonly errorCode = 1;
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}]`);
  }
}

/** The log can no longer be written or read (an I/O error left it in an unknown state, or it was closed). */
export class KafkaStorageError extends Error {
  override readonly name = 'KafkaStorageError';
  readonly errorCode = 56;
}

/** The batches handed to append do not match their positions, or a follower append does not continue the log. */
export class InvalidAppendError extends Error {
  override readonly name = 'InvalidAppendError';
  readonly errorCode: number;
  constructor(message: string, errorCode = 2) {
    super(message);
    this.errorCode = errorCode;
  }
}

/**
 * A log directory, or a file in it, that the broker cannot safely use (held by another process, full, a
 * corrupt metadata file): start-up stops with this message, naming `path`, instead of guessing.
 */
export class LogDirFailureError extends Error {
  override readonly name: string = 'LogDirFailureError';
  constructor(
    message: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Another process holds the log directory's `.lock` (Kafka's "Failed to acquire lock on file .lock"). */
export class LogDirLockedError extends LogDirFailureError {
  override readonly name = 'LogDirLockedError';
}

/**
 * A partition directory holds another incarnation of the topic (its partition.metadata names a different
 * topic id): Kafka's InconsistentTopicIdException, INCONSISTENT_TOPIC_ID = 103. The directory is left alone.
 */
export class InconsistentTopicIdError extends Error {
  override readonly name = 'InconsistentTopicIdError';
  readonly errorCode = 103;
}

/** The errno code of a file system error (ENOSPC, EIO, ...), or null for anything else. */
export function ioErrorCode(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : null;
}

/**
 * A file system error met while a log dir was being loaded, as the start-up failure to report (Kafka marks
 * the log dir offline and, with no log dir left, stops): "log dir X is full" for ENOSPC / EDQUOT.
 */
export function logDirLoadFailure(err: NodeJS.ErrnoException, logDir: string, during: string): LogDirFailureError {
  const full = err.code === 'ENOSPC' || err.code === 'EDQUOT';
  const where = err.path ? ` (${err.path})` : '';
  const message = full
    ? `Log directory ${logDir} is full: ${err.code} while ${during}${where}; refusing to start. Free some space on it and start again.`
    : `Log directory ${logDir} failed: ${err.code} while ${during}${where}: ${err.message}; refusing to start.`;
  return new LogDirFailureError(message, logDir, { cause: err });
}
