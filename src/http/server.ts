/**
 * The broker's own HTTP listener (`samsa.http.listeners`, default http://127.0.0.1:8080, off when empty):
 * `GET /metrics` in Prometheus text format (metrics.ts), `GET /health` for readiness probes, and the web
 * console (`/` and its JSON API under `/api/`, docs/console.md; off with samsa.console.enable=false). It is
 * started after the broker has loaded its logs and opened its Kafka listener, so a 200 from /health means
 * the broker answers clients; on a KRaft node /health is 503 while no quorum leader is known. The Schema Registry keeps its own listener (8081), as Confluent's does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { BrokerMetrics } from './metrics.js';
import { handleConsoleApi } from './console-api.js';
import { sendJson, type ConsoleContext } from './console-common.js';
import { serveConsoleAsset } from './console-static.js';

// Read at every broker start; apart in listener.ts so that a broker with the listener off loads none of this.
export { HttpConfigError, parseHttpListener } from './listener.js';

export class BrokerHttpServer {
  private readonly server: Server;

  constructor(
    private readonly broker: Broker,
    private readonly metrics: BrokerMetrics,
    private readonly logger: Logger,
    /** The web console's context, or null when it is off. */
    private readonly consoleContext: ConsoleContext | null = null,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (this.consoleContext !== null && (path === '/api' || path.startsWith('/api/'))) {
        let url: URL;
        try {
          url = new URL(req.url ?? '/', 'http://localhost');
        } catch {
          sendJson(res, 400, { error: 'bad request URL' });
          return;
        }
        await handleConsoleApi(this.consoleContext, req, res, url);
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      } else if (path === '/metrics') {
        const body = await this.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
      } else if (path === '/health') {
        let partitions = 0;
        for (const t of this.broker.image.topics()) partitions += t.partitions.length;
        // Ready means the logs are loaded (this listener starts after) and, on a KRaft node, a quorum
        // leader is known: without one no metadata change (topic creation, ISR change, leader election)
        // can be made, so a readiness probe should take the node out of rotation until one is elected.
        const leaderId = this.broker.quorum?.leaderId() ?? this.broker.nodeId;
        const body = { status: leaderId < 0 ? 'DOWN' : 'UP', nodeId: this.broker.nodeId, topics: this.broker.image.topicCount, partitions, ...(this.broker.quorum === null ? {} : { quorumLeaderId: leaderId }) };
        res.writeHead(leaderId < 0 ? 503 : 200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      } else if (this.consoleContext === null || !(await serveConsoleAsset(path, req, res))) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end(this.consoleContext === null ? 'not found: try /metrics or /health\n' : 'not found: try / (the console), /metrics or /health\n');
      }
    } catch (err) {
      this.logger.error({ err, path }, 'http request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'internal error\n');
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
