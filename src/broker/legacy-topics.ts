/**
 * The one-time migration of a data directory written by Samsa's old single-node path (before issue 11's
 * one code path), whose topics lived in `<log.dirs>/samsa-topics.json` instead of the metadata log:
 *
 *   [ { "name": "orders", "topicId": "<Kafka Uuid text or dashed uuid>", "numPartitions": 3,
 *       "configs": { "retention.ms": "60000" } }, ... ]
 *
 * On the first start of such a directory the active controller writes its topics into the new, empty
 * metadata log together with the bootstrap records (QuorumController.bootstrapRecords): a TopicRecord with
 * the same topic id (the partitions' `partition.metadata` files name it), a ConfigRecord per override and a
 * PartitionRecord per partition with this node as the only replica. Once the broker's image has them all,
 * the file is renamed `samsa-topics.json.migrated` so it is never read again (kept, not deleted, for a
 * user who wants to look). This is Kafka's ZooKeeper-to-KRaft migration (KIP-866) reduced to one node and
 * one file: the metadata moves, the partition data stays where it is.
 *
 * The old path also reserved producer id blocks in `samsa-producer-ids.json`; its next block start becomes
 * a ProducerIdsRecord, so the controller never hands out an id the old path already gave a producer.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LogDirFailureError } from '../../storage/errors.js';
import { fsyncDir } from '../../storage/file-util.js';
import { parseKafkaUuidString } from '../../storage/kafka-uuid.js';
import { topicNameError } from '../controller/topic-validation.js';
import { PRODUCER_IDS_FILE } from './producer-ids.js';

export const LEGACY_TOPICS_FILE = 'samsa-topics.json';
export const MIGRATED_SUFFIX = '.migrated';

/** A topic as the old single-node path kept it. */
export interface LegacyTopic {
  readonly name: string;
  /** Dashed uuid form (the image's). */
  readonly topicId: string;
  readonly numPartitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

/** What an old single-node data directory holds for the metadata log. */
export interface LegacyMetadata {
  readonly path: string;
  readonly topics: readonly LegacyTopic[];
  /** The old path's next producer id block start (0 when it never reserved one). */
  readonly nextProducerId: bigint;
}

/**
 * Reads `<logDir>/samsa-topics.json`: null when there is none (a new directory, or one already migrated).
 * A file that does not parse or does not have the expected shape stops the start (LogDirFailureError
 * naming it): migrating it as empty would lose every topic, and the stray check would then move every
 * partition directory aside.
 */
export async function readLegacyMetadata(logDir: string): Promise<LegacyMetadata | null> {
  const path = join(logDir, LEGACY_TOPICS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const refuse = (why: string, cause?: unknown): never => {
    throw new LogDirFailureError(`Topic metadata file ${path} is corrupt (${why}); refusing to start rather than lose its topics. Restore it from a backup, or remove it to start without any topic.`, path, { cause });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return refuse((err as Error).message, err);
  }
  if (!Array.isArray(parsed)) return refuse('not a JSON array');
  const topics: LegacyTopic[] = [];
  for (const [i, t] of (parsed as unknown[]).entries()) {
    const o = t as Partial<Record<keyof LegacyTopic, unknown>> | null;
    if (
      typeof o !== 'object' || o === null ||
      typeof o.name !== 'string' || topicNameError(o.name) !== null ||
      typeof o.topicId !== 'string' || parseKafkaUuidString(o.topicId) === null ||
      typeof o.numPartitions !== 'number' || !Number.isSafeInteger(o.numPartitions) || o.numPartitions < 1 ||
      typeof o.configs !== 'object' || o.configs === null || Object.values(o.configs).some((v) => typeof v !== 'string')
    ) {
      return refuse(`entry ${i} is not a topic with a name, topicId, numPartitions and configs`);
    }
    topics.push({ name: o.name, topicId: parseKafkaUuidString(o.topicId)!, numPartitions: o.numPartitions, configs: o.configs as Record<string, string> });
  }
  return { path, topics, nextProducerId: await legacyNextProducerId(logDir) };
}

/** nextProducerIdBlockStart of samsa-producer-ids.json; 0 when absent or unreadable (ProducerIdManager refuses a corrupt one). */
async function legacyNextProducerId(logDir: string): Promise<bigint> {
  try {
    const state = JSON.parse(await readFile(join(logDir, PRODUCER_IDS_FILE), 'utf8')) as { nextProducerIdBlockStart?: unknown };
    const next = state.nextProducerIdBlockStart;
    return typeof next === 'number' && Number.isSafeInteger(next) && next > 0 ? BigInt(next) : 0n;
  } catch {
    return 0n;
  }
}

/** Renames the migrated file aside (directory fsynced), so the next start reads the metadata log only. */
export async function markLegacyMetadataMigrated(legacy: LegacyMetadata, logDir: string): Promise<string> {
  const to = `${legacy.path}${MIGRATED_SUFFIX}`;
  await rename(legacy.path, to);
  await fsyncDir(logDir);
  return to;
}
