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
 * Back-pressure (Kafka mutes a channel while its response is unsent): a client that pipelines requests and
 * never reads its responses must not make the broker build response after response in memory. Before each
 * request is handled, if the socket's unsent output is over MAX_UNSENT_BYTES the connection is muted: it
 * stops reading and stops handling the frames it already read until the socket drains. A connection thus
 * holds at most MAX_UNSENT_BYTES plus one response of output, and at most MAX_QUEUED_FRAMES /
 * MAX_QUEUED_BYTES (or one frame, if larger) of read-ahead.
 *
 * Wrong protocol: a first frame whose size bytes spell an HTTP method or a TLS handshake is not a Kafka
 * request (its "size" would be about a gigabyte); the connection is closed with a log line saying what the
 * client probably is, rather than a frame-size error.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

export interface FrameHandler {
  /** Handles one request frame; returns the response chunks (without the size prefix) or null for none. */
  handle(frame: Buffer, conn: Connection): Promise<Buffer[] | null>;
}

const MAX_QUEUED_FRAMES = 32;
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Unsent output above which the connection is muted until the socket drains (exported for tests). */
export const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/** The first four bytes of requests in other protocols that reach the Kafka port by mistake. */
const HTTP_METHODS = ['GET ', 'POST', 'PUT ', 'HEAD', 'DELE', 'OPTI', 'PATC', 'CONN', 'TRAC', 'PRI '];

/** Names the protocol a first frame's size bytes belong to, if they are not a Kafka size. */
function foreignProtocol(sizeBytes: Buffer): string | null {
  const ascii = sizeBytes.toString('latin1');
  if (HTTP_METHODS.includes(ascii)) return 'HTTP';
  // A TLS record header: content type 22 (handshake), version 3.x (TLS 1.0-1.3 all send 3.1-3.3 here).
  if (sizeBytes[0] === 0x16 && sizeBytes[1] === 0x03 && sizeBytes[2]! <= 0x04) return 'TLS';
  return null;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  private sizeBuf = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private processing = false;
  private closed = false;
  /** Reading is paused (read-ahead full, or muted). */
  private paused = false;
  /** Muted: waiting for the socket to drain before handling another request. */
  private mutedForOutput = false;
  private sawFirstFrame = false;
  /** Requests handed to the handler so far (tests check that a muted connection takes no more). */
  requestsHandled = 0;
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
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => this.logger.debug({ conn: this.id, err: err.message }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.dropQueue();
      this.onDrain();
      this.onClose(this);
    });
  }

  /** Closes the connection, logging why (bad input never crashes the broker; it ends this connection). */
  close(reason: string, level: 'warn' | 'info' | 'debug' = 'warn'): void {
    if (this.closed) return;
    this.closed = true;
    this.logger[level]({ conn: this.id, remote: this.remote, reason }, 'closing connection');
    this.dropQueue();
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True while the connection waits for its unsent output to drain before taking another request. */
  get muted(): boolean {
    return this.mutedForOutput;
  }

  private dropQueue(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
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
        if (!this.sawFirstFrame) {
          this.sawFirstFrame = true;
          const foreign = foreignProtocol(this.sizeBuf);
          if (foreign !== null) {
            const detail = foreign === 'TLS' ? 'this listener is PLAINTEXT' : 'this port speaks the Kafka protocol';
            this.close(`looks like ${foreign}; ${detail}`);
            return;
          }
        }
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
    this.queuedBytes += frame.length;
    if (this.queue.length >= MAX_QUEUED_FRAMES || this.queuedBytes >= MAX_QUEUED_BYTES) this.pause();
    if (!this.processing) void this.processQueue();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (
      this.paused &&
      !this.mutedForOutput &&
      this.queue.length < MAX_QUEUED_FRAMES / 2 &&
      this.queuedBytes < MAX_QUEUED_BYTES / 2 &&
      this.socket.writableLength < MAX_UNSENT_BYTES
    ) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private drainWaiter: (() => void) | null = null;

  private onDrain(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = null;
    if (waiter) waiter();
    else this.maybeResume();
  }

  /**
   * Mutes the connection until the socket has written its output. Node emits 'drain' once a write that
   * returned false has been flushed completely; 'close' ends the wait too.
   */
  private waitForDrain(): Promise<void> {
    this.mutedForOutput = true;
    this.pause();
    return new Promise<void>((resolve) => {
      this.drainWaiter = resolve;
      if (this.closed) this.onDrain();
      // Cannot happen while over the limit (a write that left that much unsent returned false), but a wait
      // for a 'drain' that will never come would hang the connection: look again on the next turn.
      else if (!this.socket.writableNeedDrain) setImmediate(() => this.onDrain());
    }).finally(() => {
      this.mutedForOutput = false;
      if (!this.closed) this.maybeResume();
    });
  }

  private async processQueue(): Promise<void> {
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        // The check comes before each request, not only after a response: frames already read (a whole
        // pipeline can arrive in one chunk) must wait too, or each would still build its response.
        if (this.socket.writableLength >= MAX_UNSENT_BYTES) {
          await this.waitForDrain();
          continue;
        }
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        this.sentHooks = null;
        this.requestsHandled++;
        const response = await this.handler.handle(frame, this);
        const hooks = this.sentHooks;
        this.sentHooks = null;
        if (response !== null && !this.closed) this.write(response, hooks);
        this.maybeResume();
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
