/**
 * Turns a request frame into a response: header, version check, decode, handler, encode.
 *
 * Rules (see ../shared/PROTOCOL-NOTES.md):
 * - An unknown api key cannot be parsed further (its header version is unknown): close the connection.
 * - ApiVersions at a version we do not support: answer in the v0 body layout with UNSUPPORTED_VERSION
 *   and our full range, with response header v0 (KIP-511), so the client can retry lower.
 * - Any other API at an unadvertised version: close the connection with a logged reason, as Kafka does
 *   (it cannot build a response in a layout the client may not understand).
 * - Malformed bytes (ProtocolError) close the connection; the broker keeps serving others.
 * - An unexpected handler failure is logged and closes the connection rather than sending a guess.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { peekRequestHeader, readRequestHeader, responseHeaderVersion, writeResponseHeader } from '../../protocol/headers.js';
import { ProtocolError, Reader, Writer } from '../../protocol/primitives.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { Broker } from '../broker/broker.js';
import type { AnyHandler } from '../handlers/types.js';
import type { RequestObserver } from '../http/metrics.js';
import type { ProtocolTraceSink } from './trace-sink.js';
import type { Connection, FrameHandler } from './connection.js';
import { decodeRequestFrame, traceValue } from './trace-decode.js';

export { traceValue };

export class Dispatcher implements FrameHandler {
  private readonly byKey = new Map<number, AnyHandler>();
  private readonly captured = new Set<string>();
  /** Where to save sample frames (samsa.protocol.capture.dir), or null. */
  captureDir: string | null = null;
  /** Told of every answered request with its time (the /metrics counters), or null. */
  observer: RequestObserver | null = null;
  /** The web console's live trace (src/http/protocol-trace.ts), or null; records only while `active`. */
  traceSink: ProtocolTraceSink | null = null;
  /**
   * Requests wait here until the broker is unfenced (Kafka's BrokerServer enables request processing only
   * then): a cluster node binds its client listener first, because its registration names the port, but a
   * client must not reach it before its metadata is loaded (it would answer UNKNOWN_TOPIC_OR_PARTITION for
   * topics that exist). null once open.
   */
  private opening: Promise<void> | null = null;

  /** Holds every request until the returned function is called. */
  holdRequests(): () => void {
    let release!: () => void;
    this.opening = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.opening = null;
      release();
    };
  }

  constructor(
    private readonly broker: Broker,
    handlers: readonly AnyHandler[],
    private readonly logger: Logger,
    private readonly trace: boolean,
  ) {
    for (const h of handlers) this.byKey.set(h.api.apiKey, h);
  }

  get handlers(): readonly AnyHandler[] {
    return [...this.byKey.values()].sort((a, b) => a.api.apiKey - b.api.apiKey);
  }

  async handle(frame: Buffer, conn: Connection): Promise<Buffer[] | null> {
    if (this.opening !== null) await this.opening;
    const peek = peekRequestHeader(frame);
    const handler = this.byKey.get(peek.apiKey);
    if (!handler) {
      this.traceUnserved(frame, conn);
      conn.close(`unknown or unsupported api key ${peek.apiKey} (version ${peek.apiVersion}, correlation id ${peek.correlationId})`);
      return null;
    }
    if (peek.apiVersion < handler.minVersion || peek.apiVersion > handler.maxVersion) {
      if (peek.apiKey === ApiVersions.apiKey) return this.apiVersionsFallback(peek.correlationId);
      this.traceUnserved(frame, conn);
      conn.close(`${handler.api.name} version ${peek.apiVersion} is not supported (supported ${handler.minVersion}-${handler.maxVersion})`);
      return null;
    }
    const codec = handler.api.request;
    const sink = this.traceSink !== null && this.traceSink.active ? this.traceSink : null;
    const started = this.observer === null && sink === null ? 0 : performance.now();
    try {
      const r = new Reader(frame);
      const header = readRequestHeader(r, (_k, v) => codec.isFlexible(v));
      const request = codec.decode(r, header.apiVersion);
      if (this.trace) {
        this.logger.info({ conn: conn.id, api: handler.api.name, version: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, request: traceValue(request) }, 'request');
      }
      const captureName = this.captureName(handler.api.name, header.apiVersion, header.clientId);
      if (captureName) this.capture(`${captureName}-request.bin`, frame);
      const response = await handler.handle(
        { broker: this.broker, header, apiVersion: header.apiVersion, connectionId: conn.id, clientAddress: conn.socket.remoteAddress, logger: this.logger, closeConnection: (reason: string) => conn.close(reason), afterResponseSent: (fn: () => void) => conn.afterResponseSent(fn) },
        request,
      );
      // acks=0 produce answers nothing but was still served.
      if (response === null) {
        this.observer?.requestDone(peek.apiKey, handler.api.name, request, null, (performance.now() - started) / 1000);
        sink?.record({ connection: conn.id, apiKey: peek.apiKey, api: handler.api.name, version: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, durationMs: performance.now() - started, request, response: null });
        return null;
      }
      const w = new Writer(256);
      const flexible = handler.api.response.isFlexible(header.apiVersion);
      writeResponseHeader(w, header.correlationId, responseHeaderVersion(peek.apiKey, flexible));
      handler.api.response.encode(w, response as never, header.apiVersion);
      if (this.trace) {
        this.logger.info({ conn: conn.id, api: handler.api.name, version: header.apiVersion, correlationId: header.correlationId, response: traceValue(response) }, 'response');
      }
      const chunks = w.toChunks();
      this.observer?.requestDone(peek.apiKey, handler.api.name, request, response, (performance.now() - started) / 1000);
      sink?.record({ connection: conn.id, apiKey: peek.apiKey, api: handler.api.name, version: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, durationMs: performance.now() - started, request, response });
      if (captureName) this.capture(`${captureName}-response.bin`, Buffer.concat(chunks));
      return chunks;
    } catch (err) {
      if (err instanceof ProtocolError) {
        conn.close(`malformed ${handler.api.name} v${peek.apiVersion} request: ${err.message}`);
        return null;
      }
      this.logger.error({ conn: conn.id, api: handler.api.name, version: peek.apiVersion, err }, 'request failed');
      conn.close(`internal error handling ${handler.api.name}`, 'warn');
      return null;
    }
  }

  /**
   * Traces a request this listener does not serve (no handler, or a version it does not advertise), when
   * its API is declared: what a client asked for is the interesting part of such a refusal.
   */
  private traceUnserved(frame: Buffer, conn: Connection): void {
    if (!this.trace) return;
    try {
      const t = decodeRequestFrame(frame);
      this.logger.info({ conn: conn.id, api: t.api, version: t.version, correlationId: t.correlationId, clientId: t.clientId, served: false, request: t.request }, 'request');
    } catch {
      // An undeclared API or bytes that do not decode: the close reason logged next says what arrived.
    }
  }

  /** The first request of each api/version/client is captured; later ones are not. */
  private captureName(api: string, version: number, clientId: string | null): string | null {
    if (this.captureDir === null) return null;
    const client = (clientId ?? 'null').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40) || 'empty';
    const name = `${api}-v${version}-${client}`;
    if (this.captured.has(name)) return null;
    this.captured.add(name);
    return name;
  }

  private capture(file: string, bytes: Buffer): void {
    try {
      mkdirSync(this.captureDir!, { recursive: true });
      writeFileSync(join(this.captureDir!, file), bytes);
    } catch (err) {
      this.logger.warn({ err, file }, 'protocol capture failed');
    }
  }

  /** ApiVersions v0 body: errorCode, apiKeys; the client re-sends at a version it can find here. */
  private apiVersionsFallback(correlationId: number): Buffer[] {
    const w = new Writer(256);
    writeResponseHeader(w, correlationId, 0);
    ApiVersions.response.encode(w, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: this.apiVersionsList() }, 0);
    return w.toChunks();
  }

  apiVersionsList(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return this.handlers.map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
  }
}
