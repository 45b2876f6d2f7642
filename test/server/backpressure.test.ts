/**
 * Back-pressure on one connection: a client that pipelines requests and never reads its responses must not
 * make the broker build response after response in memory (issue 9: ten such clients took a broker to
 * 15.7 GiB). The connection stops taking requests while its unsent output is over the limit, as Kafka mutes
 * a channel, and takes them again once the client reads.
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_UNSENT_BYTES, type Connection, type FrameHandler } from '../../src/server/connection.js';
import { Server } from '../../src/server/server.js';

const RESPONSE_BYTES = 1024 * 1024;
const PIPELINED = 200;

/** Answers every frame with RESPONSE_BYTES bytes whose first int32 is the request's sequence number. */
class BigAnswers implements FrameHandler {
  handled = 0;
  conn: Connection | null = null;
  async handle(frame: Buffer, conn: Connection): Promise<Buffer[]> {
    this.conn = conn;
    this.handled++;
    const out = Buffer.alloc(RESPONSE_BYTES);
    out.writeInt32BE(frame.readInt32BE(0), 0);
    return [out];
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: Server | null = null;
let client: Socket | null = null;
afterEach(async () => {
  client?.destroy();
  await server?.close();
});

describe('connection back-pressure', () => {
  it('stops taking pipelined requests while the client does not read, and serves them all once it does', async () => {
    const handler = new BigAnswers();
    server = new Server(handler, 1024, pino({ level: 'silent' }));
    const port = await server.listen('127.0.0.1', 0);
    const sock = (client = connect(port, '127.0.0.1'));
    sock.pause(); // never read until told
    await new Promise<void>((res) => sock.once('connect', () => res()));
    // All the requests at once: they arrive in one or a few chunks, so the broker has them all read.
    const frames = Buffer.alloc(PIPELINED * 12);
    for (let i = 0; i < PIPELINED; i++) {
      frames.writeInt32BE(8, i * 12);
      frames.writeInt32BE(i, i * 12 + 4);
    }
    sock.write(frames);

    await until(() => handler.conn?.muted === true || handler.handled === PIPELINED, 'the connection to be muted');
    expect(handler.handled, 'requests handled while the client read nothing').toBeLessThan(PIPELINED);
    const conn = handler.conn!;
    // At most the limit plus one response is held unsent.
    expect(conn.socket.writableLength).toBeLessThanOrEqual(MAX_UNSENT_BYTES + RESPONSE_BYTES + 4);
    const handledWhenMuted = handler.handled;
    // While muted nothing more is taken, however long the client waits.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(conn.muted).toBe(true);
    expect(handler.handled).toBe(handledWhenMuted);

    // The client reads: every response arrives, in order.
    let buffered: Buffer = Buffer.alloc(0);
    let next = 0;
    const allRead = new Promise<void>((res, rej) => {
      sock.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        while (buffered.length >= 8) {
          const size = buffered.readInt32BE(0);
          if (buffered.length < 4 + size) break;
          if (size !== RESPONSE_BYTES || buffered.readInt32BE(4) !== next) rej(new Error(`response ${next} is wrong`));
          next++;
          buffered = buffered.subarray(4 + size);
        }
        if (next === PIPELINED) res();
      });
      sock.once('close', () => rej(new Error(`closed after ${next} responses`)));
    });
    sock.resume();
    await allRead;
    expect(handler.handled).toBe(PIPELINED);
  });
});
