/**
 * The TCP listeners. One Connection per socket; shutdown stops accepting, closes idle sockets and
 * waits briefly for in-flight responses.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { Connection, type FrameHandler } from './connection.js';

export class Server {
  private readonly servers: NetServer[] = [];
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly handler: FrameHandler,
    private readonly maxFrameBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Binds a listener; returns the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket: Socket) => {
        const conn = new Connection(socket, this.handler, this.maxFrameBytes, this.logger, (c) => this.connections.delete(c));
        this.connections.add(conn);
        this.logger.debug({ conn: conn.id, remote: conn.remote }, 'connection accepted');
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err }, 'listener error'));
        this.servers.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const c of this.connections) c.close('broker shutting down', 'debug');
    await Promise.all(closing);
  }
}
