/**
 * Another protocol on the Kafka port: an HTTP request (a browser, curl, a health check pointed at the wrong
 * port) or a TLS handshake (a client configured for SSL) is logged as what it is and the connection closed,
 * instead of a frame-size error about a gigabyte-sized "frame".
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server } from '../../src/server/server.js';
import type { FrameHandler } from '../../src/server/connection.js';

interface Line {
  level: number;
  msg: string;
  reason?: string;
  remote?: string;
}

const lines: Line[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const text of chunk.toString('utf8').split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as Line);
    cb();
  },
});
let handled = 0;
const handler: FrameHandler = {
  async handle() {
    handled++;
    return null;
  },
};
let server: Server;
let port: number;

beforeAll(async () => {
  // The largest frame size allowed: the "size" an HTTP method spells is then within it, and only the
  // protocol check stops the broker from allocating a gigabyte for it.
  server = new Server(handler, 0x7fffffff, pino({ level: 'info' }, sink));
  port = await server.listen('127.0.0.1', 0);
});
afterAll(async () => server.close());

/** Sends bytes and resolves once the broker closes the connection, with our local address. */
function sendUntilClosed(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let local = '';
    const s = connect(port, '127.0.0.1', () => {
      local = `${s.localAddress}:${s.localPort}`;
      s.write(bytes);
    });
    s.on('error', () => undefined);
    s.resume();
    const timer = setTimeout(() => reject(new Error('the broker did not close the connection')), 10_000);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(local);
    });
  });
}

describe('wrong protocol on the Kafka port', () => {
  for (const method of ['GET', 'POST', 'PUT', 'HEAD']) {
    it(`logs ${method} as HTTP and closes the connection`, async () => {
      const local = await sendUntilClosed(Buffer.from(`${method} /topics HTTP/1.1\r\nHost: localhost\r\n\r\n`, 'latin1'));
      const line = lines.find((l) => l.remote === local);
      expect(line, JSON.stringify(lines)).toBeDefined();
      expect(line!.level).toBe(40); // warn
      expect(line!.reason).toBe('looks like HTTP; this port speaks the Kafka protocol');
    });
  }

  it('logs a TLS ClientHello as TLS on a PLAINTEXT listener', async () => {
    const local = await sendUntilClosed(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    const line = lines.find((l) => l.remote === local);
    expect(line?.reason).toBe('looks like TLS; this listener is PLAINTEXT');
  });

  it('hands a Kafka frame whose bytes are not a protocol signature to the handler', async () => {
    const frame = Buffer.alloc(12);
    frame.writeInt32BE(8, 0);
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.end(frame));
      s.on('error', reject);
      s.resume();
      s.once('close', () => resolve());
    });
    expect(handled).toBe(1);
  });
});
