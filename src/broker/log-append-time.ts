/**
 * message.timestamp.type=LogAppendTime: the broker stamps each batch with its append time. Kafka sets the
 * timestamp-type attribute bit (bit 3) and maxTimestamp to the append time; consumers then read every
 * record's timestamp as maxTimestamp. Both fields lie inside the CRC-32C range, so the CRC is recomputed
 * (the one case where the broker touches the checksum; see PROTOCOL-NOTES "Record batches").
 */
import { computeBatchCrc } from '../../protocol/records/batch.js';

const ATTRIBUTES_OFFSET = 21;
const CRC_OFFSET = 17;
const MAX_TIMESTAMP_OFFSET = 35;
const LOG_APPEND_TIME_BIT = 0x08;

export function rewriteLogAppendTime(buf: Buffer, pos: number, nowMs: number): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  buf.writeInt16BE(attributes | LOG_APPEND_TIME_BIT, pos + ATTRIBUTES_OFFSET);
  buf.writeBigInt64BE(BigInt(nowMs), pos + MAX_TIMESTAMP_OFFSET);
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + CRC_OFFSET);
}
