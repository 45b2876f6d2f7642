/**
 * The TCP listeners. One Connection per socket; shutdown stops accepting, closes idle sockets and
 * waits briefly for in-flight responses.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { Connection, type FrameHandler } from './connection.js';

/** A listener could not be bound; the message is the one line an operator needs ("... address already in use"). */
export class ListenerError extends Error {
  constructor(
    readonly listener: string,
    readonly code: string | undefined,
    cause: Error,
  ) {
    super(`listener ${listener}: ${describeBindError(code, cause)}`, { cause });
    this.name = 'ListenerError';
  }
}

function describeBindError(code: string | undefined, err: Error): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'address not available on this machine';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name does not resolve';
    default:
      return err.message;
  }
}

export class Server {
  private readonly servers: NetServer[] = [];
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly handler: FrameHandler,
    private readonly maxFrameBytes: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Binds a listener; returns the bound port (useful with port 0). A bind failure rejects with a
   * ListenerError naming the listener (`name://host:port`).
   */
  listen(host: string, port: number, name = 'PLAINTEXT'): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket: Socket) => {
        const conn = new Connection(socket, this.handler, this.maxFrameBytes, this.logger, (c) => this.connections.delete(c));
        this.connections.add(conn);
        this.logger.debug({ conn: conn.id, remote: conn.remote }, 'connection accepted');
      });
      const failed = (err: NodeJS.ErrnoException): void => {
        reject(new ListenerError(`${name}://${host.includes(':') ? `[${host}]` : host}:${port}`, err.code, err));
      };
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
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
