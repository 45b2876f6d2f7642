/**
 * One client connection to a Kafka broker (Samsa or Apache Kafka), built on our own protocol codecs: frames
 * requests, pipelines them by correlation id, and negotiates each API's version from the broker's
 * ApiVersions answer (KIP-35): the highest version both sides know, capped where the caller's code only
 * speaks older field layouts.
 */
import { connect, type Socket } from 'node:net';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { readResponseHeader, responseHeaderVersion, writeRequestHeader } from '../../protocol/headers.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { type ApiMessages, type MessageDecl, type MessageInput, type MessageValue } from '../../protocol/schema.js';
import type { Logger } from 'pino';
import { decodeRequestFrame, traceValue } from '../server/trace-decode.js';

/** The broker could not be reached, closed the connection, or did not answer in time. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

/** The broker and this client share no version of an API this command needs. */
export class UnsupportedApiError extends Error {
  override readonly name = 'UnsupportedApiError';
}

interface Pending {
  correlationId: number;
  resolve: (frame: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The largest response frame accepted: a fetch answer is bounded by the request's maxBytes, well below. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export class BrokerConnection {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closedReason: string | null = null;
  private versions = new Map<number, { min: number; max: number }>();

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    private readonly clientId: string,
    private readonly timeoutMs: number,
    private readonly trace: Logger | null,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.fail(`connection to ${address} closed`));
    socket.on('error', (err) => this.fail(`connection to ${address} failed: ${err.message}`));
  }

  /**
   * `trace`: log every request and response sent on this connection as decoded JSON (the protocol trace,
   * samsa.protocol.trace, from the client side: `side: 'client'`).
   */
  static async open(host: string, port: number, opts: { clientId: string; timeoutMs: number; trace?: Logger | null; signal?: AbortSignal }): Promise<BrokerConnection> {
    const address = `${host}:${port}`;
    const { signal } = opts;
    const aborted = (): ConnectionError => new ConnectionError(`connecting to ${address} was abandoned`);
    if (signal?.aborted) throw aborted();
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        settle();
        s.destroy();
        reject(aborted());
      };
      const timer = setTimeout(() => {
        settle();
        s.destroy();
        reject(new ConnectionError(`could not connect to ${address} within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        settle();
        resolve(s);
      });
      s.once('error', (err) => {
        settle();
        reject(new ConnectionError(`could not connect to ${address}: ${err.message}`));
      });
    });
    socket.setNoDelay(true);
    const conn = new BrokerConnection(socket, address, opts.clientId, opts.timeoutMs, opts.trace ?? null);
    // An abandoned open must not wait for the handshake: a broker still starting holds every request
    // until it is serving (the dispatcher), which may be long.
    const onAbort = (): void => conn.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // ApiVersions v0 is understood by every broker since 0.10 and answered with header v0 at any version
      // (KIP-511), so v3 works too; a broker older than v3 answers UNSUPPORTED_VERSION with its own range.
      let res = await conn.send(ApiVersions, 3, { clientSoftwareName: 'samsa-cli', clientSoftwareVersion: '0.1.0' });
      if (res.errorCode === 35) res = await conn.send(ApiVersions, 0, {});
      if (res.errorCode !== 0) throw new ConnectionError(`${address} answered ApiVersions with error ${res.errorCode}`);
      for (const k of res.apiKeys) conn.versions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
    } catch (err) {
      conn.close();
      throw signal?.aborted ? aborted() : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return conn;
  }

  /** The version to use for `api`: the highest both sides support, at most `cap`. */
  versionFor<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, cap?: number): number {
    const broker = this.versions.get(api.apiKey);
    const ours = api.request.validVersions;
    if (broker === undefined) throw new UnsupportedApiError(`${this.address} does not support ${api.name}`);
    const max = Math.min(broker.max, ours.max, cap ?? Number.MAX_SAFE_INTEGER);
    const min = Math.max(broker.min, ours.min);
    if (max < min) throw new UnsupportedApiError(`${this.address} supports ${api.name} v${broker.min}-${broker.max}, this client v${ours.min}-${Math.min(ours.max, cap ?? ours.max)}`);
    return max;
  }

  /** Sends at the negotiated version (see versionFor) and returns the decoded response with that version. */
  async request<Req extends MessageDecl, Res extends MessageDecl>(
    api: ApiMessages<Req, Res>,
    body: MessageInput<Req>,
    cap?: number,
  ): Promise<{ version: number; response: MessageValue<Res> }> {
    const version = this.versionFor(api, cap);
    return { version, response: await this.send(api, version, body) };
  }

  private frame<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>, correlationId: number): Buffer {
    const w = new Writer();
    w.int32(0);
    writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.clientId }, api.request.isFlexible(version));
    api.request.encode(w, body, version);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return frame;
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0): resolves once the bytes are handed
   * to the socket, at the negotiated version.
   */
  async sendWithoutResponse<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, body: MessageInput<Req>, cap?: number): Promise<void> {
    if (this.closedReason !== null) throw new ConnectionError(this.closedReason);
    const frame = this.frame(api, this.versionFor(api, cap), body, this.nextCorrelationId++);
    this.traceRequest(frame);
    await new Promise<void>((resolve, reject) => this.socket.write(frame, (err) => (err ? reject(new ConnectionError(`write to ${this.address} failed: ${err.message}`)) : resolve())));
  }

  async send<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>): Promise<MessageValue<Res>> {
    if (this.closedReason !== null) throw new ConnectionError(this.closedReason);
    const correlationId = this.nextCorrelationId++;
    const frame = this.frame(api, version, body, correlationId);
    this.traceRequest(frame);
    const response = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new ConnectionError(`${this.address} did not answer ${api.name} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(correlationId, { correlationId, resolve, reject, timer });
      this.socket.write(frame);
    });
    const r = new Reader(response);
    readResponseHeader(r, responseHeaderVersion(api.apiKey, api.response.isFlexible(version)));
    const decoded = api.response.decode(r, version);
    if (this.trace !== null) {
      this.trace.info({ side: 'client', peer: this.address, api: api.name, version, correlationId, response: traceValue(decoded) }, 'response');
    }
    return decoded;
  }

  /** Logs a request frame (with its size prefix) as the server would decode it. */
  private traceRequest(frame: Buffer): void {
    if (this.trace === null) return;
    const t = decodeRequestFrame(frame.subarray(4));
    this.trace.info({ side: 'client', peer: this.address, api: t.api, version: t.version, correlationId: t.correlationId, clientId: t.clientId, request: t.request }, 'request');
  }

  /** The connection failed or was closed: every further request throws ConnectionError. */
  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  close(): void {
    this.fail('connection closed by the client');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bufferedBytes);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (size < 4 || size > MAX_FRAME_BYTES) {
        this.fail(`${this.address} sent a frame of ${size} bytes`);
        this.socket.destroy();
        return;
      }
      if (buf.length < 4 + size) break;
      const frame = buf.subarray(4, 4 + size);
      buf = buf.subarray(4 + size);
      const p = this.pending.get(frame.readInt32BE(0));
      if (p === undefined) continue; // the answer to a request that already timed out
      this.pending.delete(p.correlationId);
      clearTimeout(p.timer);
      p.resolve(frame);
    }
    this.chunks = buf.length > 0 ? [buf] : [];
    this.bufferedBytes = buf.length;
  }

  private fail(reason: string): void {
    if (this.closedReason === null) this.closedReason = reason;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError(reason));
    }
    this.pending.clear();
  }
}
