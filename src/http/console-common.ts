/**
 * What the web console's API route files (src/http/console-*.ts) share: the context they read from, the
 * error they throw for a refused request, and parameter and response helpers.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { Partition } from '../broker/partition.js';
import type { SchemaRegistry } from '../registry/registry.js';
import { ConsoleDecoder } from './console-decode.js';
import type { ProtocolTrace } from './protocol-trace.js';

/** An answer the routes give for a request they refuse: the status and the message. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ConsoleContext {
  readonly broker: Broker;
  readonly registry: SchemaRegistry | null;
  /** Where the registry's own HTTP API answers, for the page to show. */
  readonly registryUrl: string | null;
  readonly trace: ProtocolTrace;
  readonly decoder: ConsoleDecoder;
  readonly logger: Logger;
}

export function consoleContext(broker: Broker, registry: { registry: SchemaRegistry; url: string } | null, trace: ProtocolTrace, logger: Logger): ConsoleContext {
  return { broker, registry: registry?.registry ?? null, registryUrl: registry?.url ?? null, trace, decoder: new ConsoleDecoder(registry?.registry ?? null), logger };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(head ? undefined : text);
}

export function intParam(query: URLSearchParams, name: string, fallback: number | null, min = 0, max = Number.MAX_SAFE_INTEGER): number | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ApiError(400, `${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ApiError(400, `${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/** The partition led here, or a 404 naming what is missing. */
export function localPartition(ctx: ConsoleContext, topic: string, index: number): Partition {
  if (ctx.broker.image.topic(topic) === undefined) throw new ApiError(404, `topic ${topic} does not exist`);
  const p = ctx.broker.getPartition(topic, index);
  if (p === undefined) throw new ApiError(404, `partition ${topic}-${index} is not hosted on this broker`);
  return p;
}
