/**
 * The fault-injection suite's TCP proxy: one `LinkProxy` per directed link (a client to a node, or node i
 * to node j), listening on loopback and forwarding to the link's target port. The harness cuts a link one
 * way or both ways, delays it, refuses its connections or resets them, and heals it; no root, no iptables.
 *
 * A cut holds bytes instead of discarding them: the proxy stops reading the sending socket (so the
 * sender's kernel buffers fill, as when packets are dropped and TCP keeps retransmitting) and delivers what
 * it already read when the link heals. Discarding bytes mid-stream would corrupt the Kafka framing, which
 * no real network partition does: TCP either delivers the stream intact after the partition or the
 * connection times out and is closed by an endpoint (Kafka clients close a connection whose request timed
 * out, and the proxy then closes the other side).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Flow = 'up' | 'down';

/** What one direction of a link does with bytes right now. */
interface FlowState {
  cut: boolean;
  delayMs: number;
}

interface Pipe {
  readonly from: Socket;
  readonly to: Socket;
  readonly flow: Flow;
  /** Chunks read but not yet written (held by a cut or a delay), oldest first, with their release time. */
  readonly queue: { at: number; chunk: Buffer }[];
  timer: NodeJS.Timeout | null;
  ended: boolean;
}

interface Connection {
  readonly client: Socket;
  readonly server: Socket;
  readonly pipes: [Pipe, Pipe];
}

export interface LinkProxyOptions {
  /** Name in logs and in the history, e.g. `c->2` or `1->3/ctl`. */
  name: string;
  targetPort: number;
  targetHost?: string;
  /** Port to listen on (0: a free one). */
  listenPort?: number;
  /** For drop(p): a random source in [0, 1), seeded by the harness so a run replays. */
  random?: () => number;
}

/**
 * One directed link. `up` is the direction from the connecting side to the target, `down` the answers.
 */
export class LinkProxy {
  readonly name: string;
  private readonly targetPort: number;
  private readonly targetHost: string;
  private readonly listenPort: number;
  private readonly random: () => number;
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly flows: Record<Flow, FlowState> = { up: { cut: false, delayMs: 0 }, down: { cut: false, delayMs: 0 } };
  /** Refuse: every new connection is closed at once, as a port with nothing listening would. */
  private refusing = false;
  /** Probability that a new connection is closed at once (a lossy link that drops handshakes). */
  private dropProbability = 0;
  /** Counters, for the harness's log and for tests. */
  readonly stats = { accepted: 0, refused: 0, bytesUp: 0, bytesDown: 0 };
  private _port = 0;

  constructor(opts: LinkProxyOptions) {
    this.name = opts.name;
    this.targetPort = opts.targetPort;
    this.targetHost = opts.targetHost ?? '127.0.0.1';
    this.listenPort = opts.listenPort ?? 0;
    this.random = opts.random ?? Math.random;
  }

  /** The port this proxy listens on (after start). */
  get port(): number {
    return this._port;
  }

  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.listenPort, '127.0.0.1', () => {
        server.off('error', rej);
        res();
      });
    });
    const addr = server.address();
    this._port = typeof addr === 'object' && addr ? addr.port : 0;
    return this._port;
  }

  /** Stops forwarding in one or both directions; bytes are held, not lost (see the file comment). */
  cut(which: Flow | 'both' = 'both'): void {
    for (const f of which === 'both' ? (['up', 'down'] as const) : [which]) this.flows[f].cut = true;
  }

  /** Holds every chunk for `ms` in both directions (order kept). */
  delay(ms: number): void {
    this.flows.up.delayMs = ms;
    this.flows.down.delayMs = ms;
  }

  /** Closes every new connection at once with probability p (0 stops dropping). */
  drop(p: number): void {
    this.dropProbability = p;
  }

  /** Closes the current connections and refuses new ones until heal(). */
  refuse(): void {
    this.refusing = true;
    this.reset();
  }

  /** Closes every current connection (both sides), as a connection reset would. */
  reset(): void {
    for (const c of [...this.connections]) this.closeConnection(c);
  }

  /** Back to a plain pipe: no cut, no delay, no drop, no refusal; held bytes are delivered. */
  heal(): void {
    this.flows.up = { cut: false, delayMs: 0 };
    this.flows.down = { cut: false, delayMs: 0 };
    this.refusing = false;
    this.dropProbability = 0;
    for (const c of this.connections) for (const p of c.pipes) this.pump(p);
  }

  /** A short description of the link's state for the event log. */
  describe(): string {
    const parts: string[] = [];
    if (this.refusing) parts.push('refusing');
    if (this.flows.up.cut) parts.push('up cut');
    if (this.flows.down.cut) parts.push('down cut');
    if (this.flows.up.delayMs) parts.push(`delay ${this.flows.up.delayMs} ms`);
    if (this.dropProbability) parts.push(`drop ${this.dropProbability}`);
    return parts.length ? parts.join(', ') : 'ok';
  }

  get openConnections(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.reset();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((res) => server.close(() => res()));
  }

  private accept(client: Socket): void {
    if (this.refusing || (this.dropProbability > 0 && this.random() < this.dropProbability)) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.accepted++;
    client.setNoDelay(true);
    const server = connect({ host: this.targetHost, port: this.targetPort });
    server.setNoDelay(true);
    const up: Pipe = { from: client, to: server, flow: 'up', queue: [], timer: null, ended: false };
    const down: Pipe = { from: server, to: client, flow: 'down', queue: [], timer: null, ended: false };
    const conn: Connection = { client, server, pipes: [up, down] };
    this.connections.add(conn);
    for (const p of conn.pipes) {
      p.from.on('data', (chunk: Buffer) => {
        p.queue.push({ at: Date.now() + this.flows[p.flow].delayMs, chunk });
        this.pump(p);
      });
      p.from.on('end', () => {
        p.ended = true;
        this.pump(p);
      });
    }
    // An error is a reset: both sides go at once. A close after an orderly end lets the other direction
    // deliver what it still holds (a delayed answer) before ending its target.
    const onError = (): void => this.closeConnection(conn);
    client.on('error', onError);
    server.on('error', onError);
    for (const p of conn.pipes) {
      p.from.on('close', () => {
        p.ended = true;
        this.pump(p);
        if (client.destroyed && server.destroyed) this.closeConnection(conn);
      });
    }
  }

  /** Writes what the pipe's state allows, pausing the source while held or while the target is full. */
  private pump(p: Pipe): void {
    if (p.timer) {
      clearTimeout(p.timer);
      p.timer = null;
    }
    const state = this.flows[p.flow];
    if (state.cut) {
      p.from.pause();
      return;
    }
    const now = Date.now();
    while (p.queue.length > 0) {
      const head = p.queue[0]!;
      if (head.at > now) {
        p.timer = setTimeout(() => this.pump(p), head.at - now);
        return;
      }
      p.queue.shift();
      if (p.flow === 'up') this.stats.bytesUp += head.chunk.length;
      else this.stats.bytesDown += head.chunk.length;
      if (!p.to.destroyed && !p.to.write(head.chunk)) {
        p.from.pause();
        p.to.once('drain', () => this.pump(p));
        return;
      }
    }
    if (p.ended) {
      if (!p.to.destroyed) p.to.end();
      return;
    }
    if (p.to.destroyed) {
      p.queue.length = 0;
      return;
    }
    p.from.resume();
  }

  private closeConnection(c: Connection): void {
    if (!this.connections.delete(c)) return;
    for (const p of c.pipes) if (p.timer) clearTimeout(p.timer);
    c.client.destroy();
    c.server.destroy();
  }
}
