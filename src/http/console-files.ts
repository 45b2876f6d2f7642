/**
 * The console's view of a partition's files, for studying Kafka's on-disk layout (docs/storage.md): the
 * directory listing, and one file decoded: a `.log` segment as its record batch headers (position, offsets,
 * CRC, attributes, producer fields: what kafka-dump-log.sh prints per batch), an `.index` as its
 * (relative offset, position) entries, a `.timeindex` as its (timestamp, relative offset) entries, and the
 * small text files (leader-epoch-checkpoint, partition.metadata) as text. Other files are shown as hex.
 *
 * Files are read read-only, by name from the directory listing only (no paths from the request reach the
 * filesystem), and in bounded pieces: 100 batch headers or 1,000 index entries per request, with the
 * position to continue from.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, compressionOf, isControl, isTransactional, LOG_OVERHEAD, readBatchHeader, timestampTypeIsLogAppend, type RecordBatchHeader } from '../../protocol/records/batch.js';
import { codecName } from '../../protocol/records/compression.js';
import { ApiError, intParam, localPartition, type ConsoleContext } from './console-common.js';

const MAX_BATCHES = 100;
const MAX_INDEX_ENTRIES = 1000;
const MAX_TEXT_BYTES = 64 * 1024;
const HEX_BYTES = 1024;

function kindOf(name: string): string {
  if (name.endsWith('.log')) return 'log';
  if (name.endsWith('.index')) return 'index';
  if (name.endsWith('.timeindex')) return 'timeindex';
  if (name.endsWith('.snapshot')) return 'producer-snapshot';
  if (name === 'leader-epoch-checkpoint') return 'leader-epoch-checkpoint';
  if (name === 'partition.metadata') return 'partition-metadata';
  if (name.endsWith('.deleted')) return 'deleted';
  return 'other';
}

export async function partitionFiles(ctx: ConsoleContext, topic: string, index: number): Promise<unknown> {
  const p = localPartition(ctx, topic, index);
  const dir = p.log.dir;
  const names = (await readdir(dir)).sort();
  const files = [];
  for (const name of names) {
    try {
      const s = await stat(join(dir, name));
      if (s.isFile()) files.push({ name, kind: kindOf(name), size: s.size, modifiedMs: s.mtimeMs });
    } catch {
      // Deleted between readdir and stat (retention, a segment roll): not listed.
    }
  }
  return { topic, partition: index, dir, files };
}

function baseOffsetOf(name: string): number {
  const m = /^(\d{20})\./.exec(name);
  return m === null ? 0 : Number(m[1]);
}

export async function partitionFile(ctx: ConsoleContext, topic: string, index: number, name: string, q: URLSearchParams): Promise<unknown> {
  const p = localPartition(ctx, topic, index);
  const dir = p.log.dir;
  // Only a name the directory lists: no path separators or '..' can reach the filesystem.
  if (!(await readdir(dir)).includes(name)) throw new ApiError(404, `no file ${name} in ${topic}-${index}`);
  const path = join(dir, name);
  const kind = kindOf(name);
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const base = { topic, partition: index, name, kind, size };
    if (kind === 'log') {
      let position = intParam(q, 'position', 0, 0)!;
      const batches = [];
      let problem: string | null = null;
      const header = Buffer.alloc(BATCH_HEADER_SIZE);
      while (batches.length < MAX_BATCHES && position + BATCH_HEADER_SIZE <= size) {
        const { bytesRead } = await fh.read(header, 0, BATCH_HEADER_SIZE, position);
        if (bytesRead < BATCH_HEADER_SIZE) break;
        let h: RecordBatchHeader;
        try {
          h = readBatchHeader(header, 0);
        } catch (err) {
          problem = `batch header at position ${position} does not parse: ${(err as Error).message}`;
          break;
        }
        if (h.batchLength <= 0) {
          problem = `batch at position ${position} declares length ${h.batchLength}`;
          break;
        }
        batches.push({
          position,
          baseOffset: h.baseOffset,
          lastOffset: h.baseOffset + h.lastOffsetDelta,
          count: h.recordCount,
          size: LOG_OVERHEAD + h.batchLength,
          magic: h.magic,
          crc: h.crc >>> 0,
          partitionLeaderEpoch: h.partitionLeaderEpoch,
          compression: codecName(compressionOf(h.attributes)),
          timestampType: timestampTypeIsLogAppend(h.attributes) ? 'LogAppendTime' : 'CreateTime',
          transactional: isTransactional(h.attributes),
          control: isControl(h.attributes),
          baseTimestamp: h.baseTimestamp,
          maxTimestamp: h.maxTimestamp,
          producerId: h.producerId,
          producerEpoch: h.producerEpoch,
          baseSequence: h.baseSequence,
        });
        position += LOG_OVERHEAD + h.batchLength;
      }
      return { ...base, baseOffset: baseOffsetOf(name), batches, nextPosition: position < size && problem === null ? position : null, problem };
    }
    if (kind === 'index' || kind === 'timeindex') {
      const entrySize = kind === 'index' ? 8 : 12;
      const baseOffset = baseOffsetOf(name);
      // Samsa keeps a live segment's index in memory and writes it to the file at a roll or flush (Kafka's is
      // memory-mapped, so its file is always current): for a live segment the entries come from memory.
      const live = p.log.cleanerView().segments.find((s) => s.baseOffset === baseOffset)?.segment;
      if (live !== undefined) {
        const from = intParam(q, 'entry', 0, 0)!;
        const index = kind === 'index' ? live.offsetIndex : live.timeIndex;
        const total = index.entries;
        const entries = [];
        for (let i = from; i < total && entries.length < MAX_INDEX_ENTRIES; i++) {
          if (kind === 'index') {
            const e = live.offsetIndex.entry(i);
            entries.push({ relativeOffset: e.offset - baseOffset, offset: e.offset, position: e.position });
          } else {
            const e = live.timeIndex.entry(i);
            entries.push({ timestamp: e.timestamp, relativeOffset: e.offset - baseOffset, offset: e.offset });
          }
        }
        return { ...base, baseOffset, entrySize, source: 'memory', fileEntries: Math.floor(size / entrySize), entries, nextEntry: from + entries.length < total ? from + entries.length : null };
      }
      const from = intParam(q, 'entry', 0, 0)!;
      const want = Math.min(MAX_INDEX_ENTRIES, Math.max(0, Math.floor(size / entrySize) - from));
      const buf = Buffer.alloc(want * entrySize);
      const { bytesRead } = await fh.read(buf, 0, buf.length, from * entrySize);
      const entries = [];
      for (let i = 0; i + entrySize <= bytesRead; i += entrySize) {
        // An index file may be preallocated (Kafka sizes it to segment.index.bytes until the segment rolls):
        // the entries end at the first all-zero slot after the first.
        if (from + i / entrySize > 0 && buf.subarray(i, i + entrySize).every((b) => b === 0)) break;
        if (kind === 'index') entries.push({ relativeOffset: buf.readInt32BE(i), offset: baseOffset + buf.readInt32BE(i), position: buf.readInt32BE(i + 4) });
        else entries.push({ timestamp: Number(buf.readBigInt64BE(i)), relativeOffset: buf.readInt32BE(i + 8), offset: baseOffset + buf.readInt32BE(i + 8) });
      }
      return { ...base, baseOffset, entrySize, source: 'file', entries, nextEntry: entries.length === want && from + want < size / entrySize ? from + want : null };
    }
    const buf = Buffer.alloc(Math.min(size, MAX_TEXT_BYTES));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const bytes = buf.subarray(0, bytesRead);
    const text = bytes.toString('utf8');
    // eslint-disable-next-line no-control-regex
    if (Buffer.from(text, 'utf8').equals(bytes) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { ...base, text, truncated: size > bytesRead };
    return { ...base, hex: bytes.subarray(0, HEX_BYTES).toString('hex').replace(/(.{32})/g, '$1\n').trim(), truncated: size > HEX_BYTES };
  } finally {
    await fh.close();
  }
}
