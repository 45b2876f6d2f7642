/**
 * `samsa dump-log --cluster-metadata-decoder` against Kafka's own tool: for a metadata log segment written
 * by a real Kafka 4.4.0 node, our output must equal, line for line, what Kafka's kafka-dump-log.sh
 * (DumpLogSegments --cluster-metadata-decoder) printed for the same file (both captured by
 * conformance/tools/capture-cluster-metadata.sh into test/vectors/kafka/cluster-metadata-kafka-4.4.0/).
 * The decoder is implied for a file in a `__cluster_metadata-0` directory; an undecodable record is
 * reported on its line, never a crash.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBatch } from '../../protocol/records/record.js';
import { encodeMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { dumpFiles, fileKind, type DumpOptions } from '../../src/cli/dump-log.js';
import { tempDir } from '../storage/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VECTORS = join(ROOT, 'test', 'vectors', 'kafka', 'cluster-metadata-kafka-4.4.0');
const SEGMENT = join(VECTORS, '__cluster_metadata-0', '00000000000000000000.log');

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('samsa-dump-metadata-'));
});
afterEach(async () => {
  await cleanup();
});

async function dump(path: string, options: DumpOptions): Promise<string[]> {
  const lines: string[] = [];
  await dumpFiles([path], options, (l) => lines.push(l));
  return lines;
}

/** Kafka's output, without its first line ("Dumping <path>"), which names the file as it was given. */
async function kafkaOutput(vector = 'kafka-dump-log.txt', file = '00000000000000000000.log'): Promise<string[]> {
  const lines = (await readFile(join(VECTORS, vector), 'utf8')).replace(/\n$/, '').split('\n');
  expect(lines[0]).toBe(`Dumping __cluster_metadata-0/${file}`);
  return lines.slice(1);
}

describe('dump-log --cluster-metadata-decoder', () => {
  it("prints a Kafka-written metadata log exactly as Kafka's kafka-dump-log.sh does", async () => {
    // A copy outside any __cluster_metadata-0 directory: only the flag turns the decoder on.
    const copy = join(dir, '00000000000000000000.log');
    await copyFile(SEGMENT, copy);
    const ours = await dump(copy, { clusterMetadataDecoder: true });
    expect(ours[0]).toBe(`Dumping ${copy}`);
    const kafka = await kafkaOutput();
    expect(kafka.length).toBeGreaterThan(100);
    expect(kafka.some((l) => l.includes('"type":"PARTITION_CHANGE_RECORD"'))).toBe(true);
    expect(ours.slice(1)).toEqual(kafka);
  });

  it('is implied for a file in a __cluster_metadata-0 directory, and off elsewhere', async () => {
    expect((await dump(SEGMENT, {})).slice(1)).toEqual(await kafkaOutput());
    const copy = join(dir, '00000000000000000000.log');
    await copyFile(SEGMENT, copy);
    const plain = await dump(copy, {});
    expect(plain.some((l) => l.startsWith('| offset:'))).toBe(false);
    expect(plain.filter((l) => l.startsWith('baseOffset:')).length).toBeGreaterThan(10);
  });

  it('reports an undecodable record on its line and goes on', async () => {
    const good = encodeMetadataRecord(TopicRecord, { name: 't', topicId: '00000000-0000-0000-0000-000000000001' }, 0);
    const bad = Buffer.from(good);
    bad[0] = 0; // frame version 0: the 2.8 KRaft preview, which Kafka refuses
    const batch = await buildBatch([
      { key: null, value: bad, timestamp: 1 },
      { key: null, value: good, timestamp: 1 },
    ]);
    await mkdir(join(dir, '__cluster_metadata-0'));
    const file = join(dir, '__cluster_metadata-0', '00000000000000000000.log');
    await writeFile(file, batch);
    const lines = await dump(file, {});
    expect(lines[3]).toMatch(/^\| offset: 0 .* payload: undecodable \(Could not deserialize metadata record with frame version 0\./);
    expect(lines[4]).toMatch(/^\| offset: 1 .* payload: \{"type":"TOPIC_RECORD","version":0,"data":\{"name":"t","topicId":"AAAAAAAAAAAAAAAAAAAAAQ"\}\}$/);
  });

  it("prints a Kafka-written KRaft snapshot (.checkpoint) exactly as Kafka's kafka-dump-log.sh does, wherever it is", async () => {
    const name = '00000000000000000000-0000000000.checkpoint';
    expect(fileKind(`/x/${name}`)).toBe('kraft-snapshot');
    expect(fileKind(`/x/${name}.deleted`)).toBe('kraft-snapshot');
    expect(fileKind('/x/leader-epoch-checkpoint')).toBe('leader-epoch-checkpoint');
    const copy = join(dir, name);
    await copyFile(join(VECTORS, '__cluster_metadata-0', name), copy);
    const kafka = await kafkaOutput('kafka-dump-checkpoint.txt', name);
    expect(kafka[0]).toBe('Snapshot end offset: 0, epoch: 0');
    expect(kafka.some((l) => l.includes(' SnapshotHeader {'))).toBe(true);
    expect(kafka.some((l) => l.includes(' SnapshotFooter {'))).toBe(true);
    expect((await dump(copy, {})).slice(1)).toEqual(kafka);
  });

  it('runs as `samsa dump-log --cluster-metadata-decoder <file>`', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dump-log', '--cluster-metadata-decoder', SEGMENT], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout.replace(/\n$/, '').split('\n').slice(1)).toEqual(await kafkaOutput());
  });
});
