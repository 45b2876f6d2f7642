/**
 * Request and response headers.
 *
 * Request header v1: apiKey int16, apiVersion int16, correlationId int32, clientId nullable string.
 * v2 (used by flexible request versions, KIP-482) appends a tagged-field section; clientId stays a
 * non-compact string there, for compatibility with brokers that parse it before knowing the version.
 * Response header v0: correlationId; v1 (flexible) appends tagged fields. ApiVersions responses always use
 * header v0 (KIP-511), so a client can read our answer to a version it guessed too high.
 */
import { ProtocolError, Reader, Writer } from './primitives.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** 1 or 2; 2 when the request version is flexible. */
  headerVersion: number;
}

/** Reads apiKey, apiVersion and correlationId: enough to answer even when the rest cannot be parsed. */
export function peekRequestHeader(buf: Buffer): { apiKey: number; apiVersion: number; correlationId: number } {
  if (buf.length < 8) throw new ProtocolError(`request header needs 8 bytes, frame has ${buf.length}`);
  return { apiKey: buf.readInt16BE(0), apiVersion: buf.readInt16BE(2), correlationId: buf.readInt32BE(4) };
}

export function readRequestHeader(r: Reader, isFlexible: (apiKey: number, apiVersion: number) => boolean): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.string(false, true);
  const flexible = isFlexible(apiKey, apiVersion);
  if (flexible) skipTaggedFields(r);
  return { apiKey, apiVersion, correlationId, clientId, headerVersion: flexible ? 2 : 1 };
}

export function writeRequestHeader(w: Writer, h: Omit<RequestHeader, 'headerVersion'>, flexible: boolean): void {
  w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId).string(h.clientId, false);
  if (flexible) w.uvarint(0);
}

export function responseHeaderVersion(apiKey: number, flexible: boolean): number {
  if (apiKey === 18) return 0;
  return flexible ? 1 : 0;
}

export function writeResponseHeader(w: Writer, correlationId: number, headerVersion: number): void {
  w.int32(correlationId);
  if (headerVersion >= 1) w.uvarint(0);
}

export function readResponseHeader(r: Reader, headerVersion: number): { correlationId: number } {
  const correlationId = r.int32();
  if (headerVersion >= 1) skipTaggedFields(r);
  return { correlationId };
}

export function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    r.raw(r.uvarint());
  }
}
