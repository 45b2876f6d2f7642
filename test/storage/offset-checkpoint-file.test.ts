/**
 * Kafka's offset checkpoint file format (storage/offset-checkpoint-file.ts), against Apache Kafka's own
 * classes: test/vectors/kafka/offset-checkpoint-kafka-4.4.0/ holds files written by Kafka's
 * OffsetCheckpointFile.write and Kafka's verdict (entries, or an exception) on reading each of a set of
 * inputs, captured by conformance/tools/capture-offset-checkpoint.sh. Our reader must accept what Kafka
 * accepts, with the same entries, and refuse what Kafka refuses; our writer's files must be Kafka's up to
 * the order of the entry lines (Kafka's follow a HashMap's order). Then the file operations: the atomic
 * write, a missing file, a corrupt one (LogDirFailureError naming it).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KafkaStorageError, LogDirFailureError } from '../../storage/errors.js';
import {
  formatOffsetCheckpoint,
  MalformedCheckpointError,
  parseOffsetCheckpoint,
  readOffsetCheckpointFile,
  writeOffsetCheckpointFile,
  type OffsetCheckpointEntry,
} from '../../storage/offset-checkpoint-file.js';
import { tempDir } from './helpers.js';

const VECTORS = join(import.meta.dirname, '../vectors/kafka/offset-checkpoint-kafka-4.4.0');

/** The partitions Capture.java wrote (conformance/tools/capture-offset-checkpoint.sh). */
const KAFKA_WRITTEN: OffsetCheckpointEntry[] = [
  { topic: 'orders', partition: 0, offset: 1200 },
  { topic: 'orders', partition: 1, offset: 0 },
  { topic: '__consumer_offsets', partition: 7, offset: 38 },
  { topic: 'my.topic_v2-x', partition: 12, offset: 9007199254740991 },
];

const asLines = (entries: readonly OffsetCheckpointEntry[]): string[] => entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`).sort();

describe('offset checkpoint format, against Kafka 4.4.0', () => {
  it("reads the file Kafka's OffsetCheckpointFile wrote, and writes the same file up to the entries' order", async () => {
    const kafka = await readFile(join(VECTORS, 'replication-offset-checkpoint'), 'utf8');
    const entries = parseOffsetCheckpoint(kafka, 'vector');
    expect(asLines(entries)).toEqual(asLines(KAFKA_WRITTEN));
    const ours = formatOffsetCheckpoint(KAFKA_WRITTEN);
    const [kVersion, kCount, ...kRest] = kafka.split('\n');
    const [oVersion, oCount, ...oRest] = ours.split('\n');
    expect([oVersion, oCount]).toEqual([kVersion, kCount]);
    // Both end with a newline (the last split element is empty); the entry lines are the same set.
    expect(kRest.at(-1)).toBe('');
    expect(oRest.at(-1)).toBe('');
    expect(oRest.slice(0, -1).sort()).toEqual(kRest.slice(0, -1).sort());
    // A stable order of ours: sorted by topic, then partition.
    expect(ours).toBe('0\n4\n__consumer_offsets 7 38\nmy.topic_v2-x 12 9007199254740991\norders 0 1200\norders 1 0\n');
    // No entry: byte for byte.
    expect(formatOffsetCheckpoint([])).toBe(await readFile(join(VECTORS, 'empty-offset-checkpoint'), 'utf8'));
  });

  it('accepts and refuses exactly the inputs Kafka does, with the same entries', async () => {
    const verdicts = (await readFile(join(VECTORS, 'read-verdicts.txt'), 'utf8')).trimEnd().split('\n');
    const cases = (await readdir(join(VECTORS, 'read-cases'))).sort();
    expect(verdicts.map((v) => v.split('\t')[0])).toEqual(cases);
    let accepted = 0;
    for (const line of verdicts) {
      const [name, verdict, detail = ''] = line.split('\t') as [string, string, string?];
      const text = await readFile(join(VECTORS, 'read-cases', name), 'utf8');
      let ours: string;
      try {
        ours = `ok\t${asLines(parseOffsetCheckpoint(text, name)).join(';')}`;
      } catch (err) {
        expect(err, name).toBeInstanceOf(MalformedCheckpointError);
        ours = 'error';
      }
      if (verdict === 'ok') accepted++;
      // Offsets past 2^53 are numbers here: compare Kafka's through the same conversion.
      const kafka = verdict === 'ok' ? `ok\t${detail.split(';').filter((e) => e !== '').map((e) => e.replace(/-?\d+$/, (o) => String(Number(o)))).join(';')}` : 'error';
      expect(ours, `${name}: ${JSON.stringify(text)}`).toBe(kafka);
    }
    // The vector exercises both sides.
    expect(accepted).toBeGreaterThan(5);
    expect(verdicts.length - accepted).toBeGreaterThan(5);
  });

  it("names the file in Kafka's messages", () => {
    expect(() => parseOffsetCheckpoint('1\n0\n', '/d/replication-offset-checkpoint')).toThrow('Unrecognised version:1, expected version: 0 in checkpoint file at: /d/replication-offset-checkpoint');
    expect(() => parseOffsetCheckpoint('0\n2\nt 0 1\n', '/d/f')).toThrow('Expected [2] entries in checkpoint file [/d/f], but found only [1]');
    expect(() => parseOffsetCheckpoint('0\n1\nt 0\n', '/d/f')).toThrow('Malformed line in checkpoint file [/d/f]: t 0');
  });
});

describe('offset checkpoint files', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('are replaced whole through <file>.tmp, read back, and missing means null', async () => {
    const path = join(dir, 'replication-offset-checkpoint');
    expect(await readOffsetCheckpointFile(path)).toBeNull();
    await writeOffsetCheckpointFile(path, [{ topic: 't', partition: 0, offset: 5 }]);
    await writeOffsetCheckpointFile(path, [
      { topic: 't', partition: 1, offset: 9 },
      { topic: 't', partition: 0, offset: 7 },
    ]);
    expect(await readFile(path, 'utf8')).toBe('0\n2\nt 0 7\nt 1 9\n');
    expect(await readOffsetCheckpointFile(path)).toEqual([
      { topic: 't', partition: 0, offset: 7 },
      { topic: 't', partition: 1, offset: 9 },
    ]);
    expect((await readdir(dir)).sort()).toEqual(['replication-offset-checkpoint']);
  });

  it('a corrupt file is a LogDirFailureError naming it; a failed write a KafkaStorageError', async () => {
    const path = join(dir, 'replication-offset-checkpoint');
    for (const bad of ['garbage', '0\n1\n', '0\n1\nt 0 x\n', '2\n0\n']) {
      await writeFile(path, bad);
      const err = await readOffsetCheckpointFile(path).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(bad)).toBeInstanceOf(LogDirFailureError);
      expect((err as LogDirFailureError).path).toBe(path);
      expect((err as Error).message).toContain(path);
    }
    const inMissingDir = join(dir, 'no-such-dir', 'replication-offset-checkpoint');
    await expect(writeOffsetCheckpointFile(inMissingDir, [])).rejects.toBeInstanceOf(KafkaStorageError);
  });
});
