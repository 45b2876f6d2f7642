/**
 * The console's message browser: records of one partition from an offset, from a timestamp (the first
 * record at or after it, as ListOffsets answers) or the last N, each with its key, value and headers
 * decoded (console-decode.ts). Reads go through the partition as a consumer's fetch does, up to the high
 * watermark, so the browser never shows a record consumers cannot see yet.
 *
 * Records of `__consumer_offsets` are shown as the group coordinator reads them (offset commits and group
 * metadata, src/group/coordinator-records.ts), for students looking at how committed offsets are stored.
 *
 * Bounded: at most 500 records per request, and the log is read at most 4 MiB at a time, 16 MiB in all,
 * so a request for a huge partition answers with what fits and the offset to continue from.
 */
import { BATCH_HEADER_SIZE, compressionOf, isControl, LOG_OVERHEAD, readBatchHeader } from '../../protocol/records/batch.js';
import { codecName } from '../../protocol/records/compression.js';
import { readRecords } from '../../protocol/records/record.js';
import { ApiError, intParam, localPartition, type ConsoleContext } from './console-common.js';
import { plain, type Decoded, type DecodeFormat } from './console-decode.js';
import { decodeCoordinatorRecord, OFFSETS_TOPIC } from '../group/coordinator-records.js';

const MAX_LIMIT = 500;
const READ_BYTES = 4 * 1024 * 1024;
const MAX_READ_TOTAL = 16 * 1024 * 1024;
const FORMATS: readonly DecodeFormat[] = ['auto', 'text', 'hex', 'json', 'schema'];

function formatParam(q: URLSearchParams, name: string): DecodeFormat {
  const v = (q.get(name) ?? 'auto') as DecodeFormat;
  if (!FORMATS.includes(v)) throw new ApiError(400, `${name} must be one of ${FORMATS.join(', ')}, got "${v}"`);
  return v;
}

/** A `__consumer_offsets` record decoded as the coordinator reads it, or null (then shown as bytes). */
function coordinatorRecord(key: Buffer | null, value: Buffer | null): { key: Decoded; value: Decoded } | null {
  if (key === null) return null;
  try {
    const rec = decodeCoordinatorRecord(key, value);
    if (rec === null) return null;
    const format = 'consumer-offsets';
    const k = rec.type === 'offset' ? { type: 'OffsetCommitKey', group: rec.group, topic: rec.topic, partition: rec.partition } : { type: 'GroupMetadataKey', group: rec.group };
    return {
      key: { format, value: k, size: key.length },
      value: value === null ? { format: null, value: null, size: 0 } : { format, type: rec.type === 'offset' ? 'OffsetCommitValue' : 'GroupMetadataValue', value: plain(rec.value), size: value.length },
    };
  } catch {
    return null;
  }
}

export async function browseMessages(ctx: ConsoleContext, topic: string, index: number, q: URLSearchParams): Promise<unknown> {
  const p = localPartition(ctx, topic, index);
  const limit = intParam(q, 'limit', 50, 1, MAX_LIMIT)!;
  const keyFormat = formatParam(q, 'keyFormat');
  const valueFormat = formatParam(q, 'valueFormat');
  const hw = p.highWatermark;
  const start = p.logStartOffset;
  let from: number;
  let foundByTimestamp: { offset: number; timestamp: number } | null = null;
  const timestamp = intParam(q, 'timestamp', null, 0);
  const offset = intParam(q, 'offset', null, 0);
  const position = q.get('from');
  if (timestamp !== null) {
    foundByTimestamp = await p.offsetForTimestamp(timestamp);
    from = foundByTimestamp?.offset ?? hw;
  } else if (offset !== null) {
    from = Math.max(offset, start);
  } else if (position === 'end') {
    from = Math.max(start, hw - limit);
  } else if (position === null || position === 'start') {
    from = start;
  } else {
    throw new ApiError(400, `from must be start or end, got "${position}"`);
  }
  const messages: unknown[] = [];
  let next = from;
  let readTotal = 0;
  while (messages.length < limit && next < hw && readTotal < MAX_READ_TOTAL) {
    const read = await p.read(next, READ_BYTES, true, hw);
    if (read.sizeInBytes === 0) break;
    readTotal += read.sizeInBytes;
    const bytes = read.records.length === 1 ? read.records[0]! : Buffer.concat(read.records);
    let pos = 0;
    let advanced = false;
    // Whole batches only: a read can end inside one (a fetch's last batch may be cut), which is left out.
    while (pos + BATCH_HEADER_SIZE <= bytes.length && messages.length < limit) {
      const h = readBatchHeader(bytes, pos);
      const size = LOG_OVERHEAD + h.batchLength;
      if (pos + size > bytes.length) break;
      const lastOffset = h.baseOffset + h.lastOffsetDelta;
      if (lastOffset >= next) {
        const batch = bytes.subarray(pos, pos + size);
        // Control batches (transaction markers) are not records a consumer sees.
        if (!isControl(h.attributes)) {
          for (const r of await readRecords(batch)) {
            if (r.offset < next || r.offset >= hw) continue;
            if (messages.length >= limit) break;
            messages.push({
              offset: r.offset,
              timestamp: r.timestamp,
              timestampType: (h.attributes & 0x08) !== 0 ? 'LogAppendTime' : 'CreateTime',
              ...((topic === OFFSETS_TOPIC && keyFormat === 'auto' && valueFormat === 'auto' ? coordinatorRecord(r.key, r.value) : null) ?? {
                key: ctx.decoder.decode(r.key, keyFormat),
                value: ctx.decoder.decode(r.value, valueFormat),
              }),
              headers: r.headers.map((x) => ({ key: x.key, value: ctx.decoder.decode(x.value, 'auto') })),
              batch: { baseOffset: h.baseOffset, compression: codecName(compressionOf(h.attributes)), producerId: h.producerId, leaderEpoch: h.partitionLeaderEpoch },
            });
            next = r.offset + 1;
          }
        }
        if (messages.length < limit) next = Math.max(next, lastOffset + 1);
        advanced = true;
      }
      pos += size;
    }
    if (!advanced) break;
  }
  return {
    topic,
    partition: index,
    logStartOffset: start,
    highWatermark: hw,
    from,
    ...(timestamp !== null ? { timestamp, found: foundByTimestamp } : {}),
    nextOffset: next,
    messages,
  };
}
