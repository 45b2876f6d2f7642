/**
 * A minimal Kafka client over a raw socket, built from our own codecs: sends request frames and reads
 * response frames in order. Tests use it to send exactly the bytes they mean, including broken ones.
 */
import { connect, type Socket } from 'node:net';
import { readResponseHeader, responseHeaderVersion, writeRequestHeader } from '../../protocol/headers.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';

export class RawClient {
  private buffered = Buffer.alloc(0);
  private waiters: ((frame: Buffer | null) => void)[] = [];
  private frames: Buffer[] = [];
  private correlationId = 1;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) break;
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const w = this.waiters.shift();
        if (w) w(frame);
        else this.frames.push(frame);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Resolves with the next response frame, or null when the broker closed the connection. */
  nextFrame(timeoutMs = 10_000): Promise<Buffer | null> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a response')), timeoutMs);
      this.waiters.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  encodeRequest<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>, correlationId = this.correlationId++): Buffer {
    const w = new Writer();
    w.int32(0);
    writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: 'raw-test' }, api.request.isFlexible(version));
    api.request.encode(w, body, version);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return frame;
  }

  async request<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>): Promise<MessageValue<Res>> {
    const correlationId = this.correlationId++;
    this.sendRaw(this.encodeRequest(api, version, body, correlationId));
    const frame = await this.nextFrame();
    if (frame === null) throw new Error('connection closed by broker');
    const r = new Reader(frame);
    const header = readResponseHeader(r, responseHeaderVersion(api.apiKey, api.response.isFlexible(version)));
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`);
    const value = api.response.decode(r, version);
    if (r.remaining() !== 0) throw new Error(`${r.remaining()} trailing bytes in ${api.name} v${version} response`);
    return value;
  }

  close(): void {
    this.socket.destroy();
  }
}
