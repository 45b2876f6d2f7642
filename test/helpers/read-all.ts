/**
 * Reads every record of a partition from `from` up to the high watermark with plain Fetch v11 requests on
 * our own codecs (so tests see exactly what the broker serves, batch by batch, CRC-checked).
 */
import { Fetch } from '../../protocol/messages/fetch.js';
import { ErrorCode } from '../../protocol/errors.js';
import { splitBatches } from '../../protocol/records/batch.js';
import { readRecords } from '../../protocol/records/record.js';
import { RawClient } from './raw-client.js';

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
}

export interface ReadAllResult {
  records: ReadRecord[];
  highWatermark: number;
  logStartOffset: number;
}

export async function readPartition(port: number, topic: string, partition = 0, from = 0): Promise<ReadAllResult> {
  const c = await RawClient.connect(port);
  const records: ReadRecord[] = [];
  let offset = from;
  let highWatermark = -1;
  let logStartOffset = -1;
  try {
    for (;;) {
      const res = await c.request(Fetch, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 4 << 20, isolationLevel: 0,
        topics: [{ topic, partitions: [{ partition, fetchOffset: BigInt(offset), partitionMaxBytes: 4 << 20 }] }],
      });
      const p = res.responses[0]!.partitions[0]!;
      if (p.errorCode !== ErrorCode.NONE) throw new Error(`fetch ${topic}-${partition} at ${offset}: error ${p.errorCode}`);
      highWatermark = Number(p.highWatermark);
      logStartOffset = Number(p.logStartOffset);
      if (!p.records || p.records.length === 0) break;
      const split = splitBatches(p.records);
      if (!split.ok) throw new Error(split.message);
      let next = offset;
      for (const batch of split.batches) {
        next = Math.max(next, batch.header.baseOffset + batch.header.lastOffsetDelta + 1);
        for (const r of await readRecords(p.records.subarray(batch.pos, batch.pos + batch.size))) {
          if (r.offset < offset) continue;
          records.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
        }
      }
      offset = next;
      if (offset >= highWatermark) break;
    }
  } finally {
    c.close();
  }
  return { records, highWatermark, logStartOffset };
}
