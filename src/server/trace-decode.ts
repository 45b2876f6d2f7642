/**
 * The protocol trace (`samsa.protocol.trace=true`): requests and responses logged as decoded JSON, for
 * studying the protocol. A listener's Dispatcher traces what its handlers serve; this module decodes any
 * request frame by its API key from the declaration table (protocol/apis.ts), so the trace also covers
 * what a listener does not serve (logged before the connection is closed) and what this node sends as a
 * client (BrokerConnection: a broker's BrokerRegistration and heartbeats, forwarded admin requests). Every
 * declared API is decoded: the client APIs, the Raft RPCs of the controller listener (Vote,
 * BeginQuorumEpoch, EndQuorumEpoch, Fetch, FetchSnapshot, DescribeQuorum, KIP-595) and the controller RPCs
 * (BrokerRegistration, BrokerHeartbeat, AlterPartition, AllocateProducerIds, ..., KIP-631).
 */
import { API_BY_KEY } from '../../protocol/apis.js';
import { readRequestHeader } from '../../protocol/headers.js';
import { ProtocolError, Reader } from '../../protocol/primitives.js';
import { inRange } from '../../protocol/schema.js';

/** A decoded value as plain JSON: int64 as decimal strings, byte fields (records) as their length. */
export function traceValue(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
        const data = (v as { data?: unknown[] }).data;
        return `<${Array.isArray(data) ? data.length : '?'} bytes>`;
      }
      return v;
    }),
  );
}

export interface TracedRequest {
  readonly api: string;
  readonly apiKey: number;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** The request body, decoded and made plain JSON by traceValue. */
  readonly request: unknown;
}

/**
 * Decodes a request frame (without its size prefix) by its API key and version. Throws ProtocolError for
 * an API key no declaration has, a version outside the declaration's range, or malformed bytes.
 */
export function decodeRequestFrame(frame: Buffer): TracedRequest {
  if (frame.length < 4) throw new ProtocolError(`request header needs 4 bytes for its api key and version, frame has ${frame.length}`);
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const api = API_BY_KEY.get(apiKey);
  if (api === undefined) throw new ProtocolError(`no declaration for api key ${apiKey}`);
  if (!inRange(version, api.request.validVersions)) throw new ProtocolError(`${api.name} v${version} is not a declared version`);
  const r = new Reader(frame);
  const header = readRequestHeader(r, (_k, v) => api.request.isFlexible(v));
  const request = api.request.decode(r, version);
  return { api: api.name, apiKey, version, correlationId: header.correlationId, clientId: header.clientId, request: traceValue(request) };
}
