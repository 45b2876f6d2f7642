/**
 * One client connection: framing, in-order request processing, response writing.
 *
 * Framing: each request is an int32 size then that many bytes. The size is checked against
 * `socket.request.max.bytes` before anything is allocated (a hostile length must not become a huge
 * allocation); the frame buffer is allocated once its size is known and filled from the socket chunks,
 * without concatenating every chunk.
 *
 * Ordering: like Kafka's SocketServer, which mutes a channel while one of its requests is in flight, a
 * connection's requests are handled one at a time, in arrival order, so responses leave in request order
 * (the Java client throws on a correlation id mismatch) and a client's pipelined produces are appended in
 * the order it sent them. Many connections run concurrently.
 *
 * Back-pressure: reading pauses while too many frames wait or the socket's unsent output is large, and
 * resumes when they drain.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

export interface FrameHandler {
  /** Handles one request frame; returns the response chunks (without the size prefix) or null for none. */
  handle(frame: Buffer, conn: Connection): Promise<Buffer[] | null>;
}

const MAX_QUEUED_FRAMES = 32;
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  private sizeBuf = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;
  private readonly queue: Buffer[] = [];
  private processing = false;
  private closed = false;
  private paused = false;
  /** Hooks of the request being handled, run once its response is written (see afterResponseSent). */
  private sentHooks: (() => void)[] | null = null;

  constructor(
    readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly maxFrameBytes: number,
    readonly logger: Logger,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.logger.debug({ conn: this.id, err: err.message }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.queue.length = 0;
      this.onClose(this);
    });
  }

  /** Closes the connection, logging why (bad input never crashes the broker; it ends this connection). */
  close(reason: string, level: 'warn' | 'info' | 'debug' = 'warn'): void {
    if (this.closed) return;
    this.closed = true;
    this.logger[level]({ conn: this.id, remote: this.remote, reason }, 'closing connection');
    this.queue.length = 0;
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.closed) {
      if (this.frame === null) {
        const take = Math.min(4 - this.sizeFilled, chunk.length - pos);
        chunk.copy(this.sizeBuf, this.sizeFilled, pos, pos + take);
        this.sizeFilled += take;
        pos += take;
        if (this.sizeFilled < 4) break;
        this.sizeFilled = 0;
        const size = this.sizeBuf.readInt32BE(0);
        if (size < 0) {
          this.close(`invalid frame size ${size}`);
          return;
        }
        if (size > this.maxFrameBytes) {
          this.close(`frame of ${size} bytes exceeds socket.request.max.bytes (${this.maxFrameBytes})`);
          return;
        }
        if (size < 8) {
          this.close(`frame of ${size} bytes is too short for a request header`);
          return;
        }
        // A whole frame inside this chunk is used in place (no copy); otherwise allocate it once.
        if (chunk.length - pos >= size) {
          this.enqueue(chunk.subarray(pos, pos + size));
          pos += size;
          continue;
        }
        this.frame = Buffer.allocUnsafe(size);
        this.frameFilled = 0;
      }
      const take = Math.min(this.frame.length - this.frameFilled, chunk.length - pos);
      chunk.copy(this.frame, this.frameFilled, pos, pos + take);
      this.frameFilled += take;
      pos += take;
      if (this.frameFilled === this.frame.length) {
        const done = this.frame;
        this.frame = null;
        this.enqueue(done);
      }
    }
  }

  private enqueue(frame: Buffer): void {
    this.queue.push(frame);
    if (this.queue.length >= MAX_QUEUED_FRAMES) this.pause();
    if (!this.processing) void this.processQueue();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (this.paused && this.queue.length < MAX_QUEUED_FRAMES / 2 && this.socket.writableLength < MAX_UNSENT_BYTES) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private async processQueue(): Promise<void> {
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift()!;
        this.sentHooks = null;
        const response = await this.handler.handle(frame, this);
        const hooks = this.sentHooks;
        this.sentHooks = null;
        if (response !== null && !this.closed) this.write(response, hooks);
        if (this.socket.writableLength >= MAX_UNSENT_BYTES) this.pause();
        else this.maybeResume();
      }
    } catch (err) {
      this.close(`request handling failed: ${err instanceof Error ? err.message : String(err)}`, 'warn');
    } finally {
      this.processing = false;
    }
  }

  /**
   * Registers `fn` to run once the response to the request now being handled has been written: every
   * chunk's socket.write callback has fired without error, so the socket no longer references any of its
   * buffers (the fetch path then reuses its read buffers). Never runs if there is no response, the
   * connection closes before it is written or any write fails.
   */
  afterResponseSent(fn: () => void): void {
    (this.sentHooks ??= []).push(fn);
  }

  /** Writes one response: size prefix then the chunks, corked so small pieces leave in one packet. */
  private write(chunks: Buffer[], hooks: (() => void)[] | null): void {
    let size = 0;
    for (const c of chunks) size += c.length;
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(size, 0);
    this.socket.cork();
    if (hooks === null) {
      this.socket.write(prefix);
      for (const c of chunks) this.socket.write(c);
    } else {
      let pending = chunks.length + 1;
      let failed = false;
      const done = (err?: Error | null): void => {
        if (err) failed = true;
        if (--pending > 0 || failed) return;
        for (const fn of hooks) fn();
      };
      this.socket.write(prefix, done);
      for (const c of chunks) this.socket.write(c, done);
    }
    this.socket.uncork();
  }
}
