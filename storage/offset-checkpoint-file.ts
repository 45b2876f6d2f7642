/**
 * Kafka's offset checkpoint files (OffsetCheckpointFile over CheckpointFile, storage and server-common
 * modules): text files in a log directory that map partitions to offsets, such as
 * `replication-offset-checkpoint` (each hosted replica's high watermark, written by the replica manager):
 *
 *   0                      the version (OffsetCheckpointFile.CURRENT_VERSION)
 *   2                      the number of entries
 *   orders 0 1200          "topic partition offset", one line per partition, in no particular order
 *   __consumer_offsets 7 38
 *
 * Lines end with '\n' (Java's BufferedWriter.newLine on Linux). A write replaces the file whole: `<file>.tmp`,
 * fsync, rename over the file, fsync of the directory (CheckpointFile.write with sync, then
 * Utils.atomicMoveWithFallback), so a crash leaves the old file or the new one, never a torn one.
 *
 * Reading follows CheckpointReadBuffer: an empty file, or one holding only the version line, has no
 * entries; the version must be 0; every line after the count must be three fields separated by whitespace
 * (a blank line is malformed), and the count must match. Anything else is a corrupt file, which Kafka
 * reports as a KafkaStorageException that takes the log directory offline (CheckpointFileWithFailureHandler):
 * here the read throws LogDirFailureError naming the file, and the broker refuses to start rather than guess.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KafkaStorageError, LogDirFailureError } from './errors.js';
import { writeFileAtomic } from './file-util.js';

/** ReplicaManager.HighWatermarkFilename: the high watermark of every replica in the log directory. */
export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';

/** OffsetCheckpointFile.CURRENT_VERSION */
export const OFFSET_CHECKPOINT_VERSION = 0;

/** One partition's entry. */
export interface OffsetCheckpointEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The text is not a valid offset checkpoint; the message is Kafka's (CheckpointReadBuffer's IOExceptions). */
export class MalformedCheckpointError extends Error {
  override readonly name = 'MalformedCheckpointError';
}

// Java's Integer.parseInt / Long.parseLong accept an optional sign and decimal digits, nothing else.
const JAVA_INTEGER = /^[+-]?\d+$/;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
// Java's \s (ASCII whitespace only).
const WHITESPACE = /[ \t\n\x0B\f\r]+/;

function javaInt(text: string): number | null {
  if (!JAVA_INTEGER.test(text)) return null;
  const n = Number(text);
  return n >= INT_MIN && n <= INT_MAX ? n : null;
}

function javaLong(text: string): number | null {
  if (!JAVA_INTEGER.test(text)) return null;
  const n = BigInt(text);
  // An offset beyond 2^53 is kept approximately: it only ever serves as an upper bound (clamped to the LEO).
  return n >= LONG_MIN && n <= LONG_MAX ? Number(n) : null;
}

/**
 * Java's line.split("\\s+") (OffsetCheckpointFile.Formatter): a leading separator gives an empty first
 * field (so " t 0 1" has four fields), trailing empty fields are dropped (so "t 0 1 " has three).
 */
function javaSplitOnWhitespace(line: string): string[] {
  const parts = line.split(WHITESPACE);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * Parses checkpoint text into its entries, in file order; throws MalformedCheckpointError. `location`
 * names the file in the messages.
 */
export function parseOffsetCheckpoint(text: string, location: string): OffsetCheckpointEntry[] {
  // BufferedReader.readLine: lines end at \n, \r\n or \r; a final line terminator adds no line.
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) return [];
  const malformed = (line: string): MalformedCheckpointError => new MalformedCheckpointError(`Malformed line in checkpoint file [${location}]: ${line}`);
  const version = javaInt(lines[0]!);
  if (version === null) throw malformed(lines[0]!);
  if (version !== OFFSET_CHECKPOINT_VERSION) throw new MalformedCheckpointError(`Unrecognised version:${version}, expected version: ${OFFSET_CHECKPOINT_VERSION} in checkpoint file at: ${location}`);
  if (lines.length === 1) return [];
  const expected = javaInt(lines[1]!);
  if (expected === null) throw malformed(lines[1]!);
  const entries: OffsetCheckpointEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const parts = javaSplitOnWhitespace(line);
    if (parts.length !== 3) throw malformed(line);
    const partition = javaInt(parts[1]!);
    const offset = javaLong(parts[2]!);
    if (partition === null || offset === null) throw malformed(line);
    entries.push({ topic: parts[0]!, partition, offset });
  }
  if (entries.length !== expected) throw new MalformedCheckpointError(`Expected [${expected}] entries in checkpoint file [${location}], but found only [${entries.length}]`);
  return entries;
}

/** The file's text: version, count, one line per entry (sorted by topic and partition, for stable files). */
export function formatOffsetCheckpoint(entries: readonly OffsetCheckpointEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  let text = `${OFFSET_CHECKPOINT_VERSION}\n${sorted.length}\n`;
  for (const e of sorted) text += `${e.topic} ${e.partition} ${e.offset}\n`;
  return text;
}

/**
 * Reads a checkpoint file: its entries, or null when there is no file. A malformed file or a read error
 * throws LogDirFailureError naming the file (Kafka: KafkaStorageException "Error while reading checkpoint
 * file", the log directory going offline).
 */
export async function readOffsetCheckpointFile(path: string): Promise<OffsetCheckpointEntry[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LogDirFailureError(`Error while reading checkpoint file ${path}: ${(err as Error).message}`, path, { cause: err });
  }
  try {
    return parseOffsetCheckpoint(text, path);
  } catch (err) {
    throw new LogDirFailureError(`Error while reading checkpoint file ${path}: ${(err as Error).message}. Refusing to start; restore the file, or remove it (the offsets it holds then start over from each log's start).`, path, { cause: err });
  }
}

/**
 * Replaces a checkpoint file with `entries`, atomically (`.tmp`, fsync, rename, directory fsync); a failure
 * throws KafkaStorageError (Kafka: "Error while writing to checkpoint file").
 */
export async function writeOffsetCheckpointFile(path: string, entries: readonly OffsetCheckpointEntry[]): Promise<void> {
  await writeOffsetCheckpointText(path, formatOffsetCheckpoint(entries));
}

/** writeOffsetCheckpointFile for text already formatted (callers that skip unchanged writes). */
export async function writeOffsetCheckpointText(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text, dirname(path));
  } catch (err) {
    throw new KafkaStorageError(`Error while writing to checkpoint file ${path}: ${(err as Error).message}`, { cause: err });
  }
}
