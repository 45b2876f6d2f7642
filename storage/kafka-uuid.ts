/**
 * Kafka's text form of a Uuid (topic ids, directory ids): `Uuid.toString()` is the 16 bytes in URL-safe
 * base64 without padding (22 characters), as Kafka writes them in partition.metadata and meta.properties.
 * Samsa keeps ids in memory as RFC 4122 strings (`xxxxxxxx-xxxx-...`); these convert between the two.
 */

import { randomUUID } from 'node:crypto';

const HEX_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL_UUID = /^[A-Za-z0-9_-]{22}$/;

/** An RFC 4122 UUID string as Kafka prints it (Uuid.toString). */
export function toKafkaUuidString(uuid: string): string {
  if (!HEX_UUID.test(uuid)) throw new RangeError(`not a UUID: ${uuid}`);
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
}

/**
 * Kafka's Uuid.fromString (22 base64url characters) as an RFC 4122 string; the RFC 4122 form itself is
 * accepted too (what Samsa wrote before). Null when `text` is neither.
 */
export function parseKafkaUuidString(text: string): string | null {
  if (HEX_UUID.test(text)) return text.toLowerCase();
  if (!BASE64URL_UUID.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== 16 || bytes.toString('base64url') !== text) return null;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A new topic id (RFC 4122 form), as Kafka's Uuid.randomUuid: never the zero id nor the metadata topic's
 * id (both have 0 in the first 8 bytes), never one whose text starts with '-'.
 */
export function randomTopicId(): string {
  for (;;) {
    const id = randomUUID();
    if (!id.startsWith('00000000-0000') && !toKafkaUuidString(id).startsWith('-')) return id;
  }
}
