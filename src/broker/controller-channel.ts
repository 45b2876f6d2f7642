/**
 * The broker's channel to the active controller (Kafka's NodeToControllerChannelManager): requests a
 * broker cannot answer alone (its own registration and heartbeats, and the admin requests it forwards:
 * CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs, AllocateProducerIds,
 * AlterPartition, DescribeQuorum, ElectLeaders) go to the Raft leader's CONTROLLER listener, whichever node that is.
 *
 * The leader comes from the quorum (`leaderHint`: the local Raft node's view), at the voter's configured
 * address or, on a broker-only node that knows only controller.quorum.bootstrap.servers, at the endpoint its
 * Raft node learnt from the leader's Fetch answers (`leaderAddress`, KIP-853: Kafka's
 * RaftControllerNodeProvider asks its raft client for the leader's node the same way); when it is
 * unknown, or the node answers NOT_CONTROLLER (the leadership moved between our look and its answer) or
 * cannot be reached, the request is sent again to the next candidate after a short backoff, until the
 * caller's deadline. A request is never sent twice to a node that answered it: only NOT_CONTROLLER and a
 * connection that failed before the answer retry, as Kafka's channel does.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';
import { BrokerConnection, ConnectionError } from '../client/connection.js';
import type { Clock } from '../util/clock.js';

export interface ControllerAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface ControllerChannelOptions {
  readonly nodeId: number;
  /** The voters' CONTROLLER listeners (controller.quorum.voters). */
  readonly controllers: readonly ControllerAddress[];
  /** The leader the quorum knows of, -1 when none. */
  readonly leaderHint: () => number;
  /** Where a controller that is not among `controllers` listens (null: not known). */
  readonly leaderAddress?: (id: number) => { readonly host: string; readonly port: number } | null;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Per attempt (controller.quorum.request.timeout.ms). */
  readonly requestTimeoutMs?: number;
  /** samsa.protocol.trace: log the requests sent to the controller and their answers (side: client). */
  readonly trace?: Logger | null;
}

/** No controller answered before the deadline. */
export class ControllerUnavailableError extends Error {
  override readonly name = 'ControllerUnavailableError';
}

export class ControllerChannel {
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private nextGuess = 0;
  private closed = false;

  /** The voters' addresses; a voter given with port 0 (the single-node default) is bound later (bindLocal). */
  private controllers: ControllerAddress[];

  constructor(private readonly options: ControllerChannelOptions) {
    this.controllers = [...options.controllers];
  }

  /**
   * The port this node's own CONTROLLER listener was bound to, when it was configured as port 0 (the
   * single-node default, a quorum of one whose listener nobody else dials).
   */
  bindLocal(id: number, host: string, port: number): void {
    this.controllers = this.controllers.map((c) => (c.id === id ? { id, host, port } : c));
  }

  /**
   * Sends `body` to the active controller at the highest version both sides support (at most `cap`) and
   * returns its answer. `notController(response)` tells a NOT_CONTROLLER answer (whose shape differs per
   * API); such an answer, or a failed connection, is retried on the next candidate until `deadlineMs`.
   */
  async send<Req extends MessageDecl, Res extends MessageDecl>(
    api: ApiMessages<Req, Res>,
    body: MessageInput<Req>,
    opts: { deadlineMs: number; cap?: number; notController?: (response: MessageValue<Res>) => boolean; /** Forwarding: the client's own version, exactly. */ version?: number },
  ): Promise<{ version: number; response: MessageValue<Res>; controllerId: number }> {
    const { clock } = this.options;
    const deadline = clock.now() + opts.deadlineMs;
    let backoffMs = 20;
    let lastProblem = 'no controller is known';
    for (;;) {
      if (this.closed) throw new ControllerUnavailableError('the controller channel is closed');
      const target = this.pickController();
      if (target !== null) {
        try {
          const conn = await this.connection(target);
          const { version, response } = opts.version !== undefined ? { version: opts.version, response: await conn.send(api, opts.version, body) } : await conn.request(api, body, opts.cap);
          if (!opts.notController?.(response)) return { version, response, controllerId: target.id };
          lastProblem = `node ${target.id} is not the active controller`;
          this.guessAfter(target.id);
        } catch (err) {
          if (!(err instanceof ConnectionError)) throw err;
          lastProblem = err.message;
          this.drop(target.id);
          this.guessAfter(target.id);
        }
      }
      if (clock.now() + backoffMs > deadline) {
        throw new ControllerUnavailableError(`${api.name} could not reach the active controller within ${opts.deadlineMs} ms: ${lastProblem}`);
      }
      await new Promise<void>((resolve) => clock.schedule(backoffMs, resolve));
      backoffMs = Math.min(backoffMs * 2, 500);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) void c.then((conn) => conn.close(), () => undefined);
    this.connections.clear();
  }

  private pickController(): ControllerAddress | null {
    const { leaderHint, leaderAddress } = this.options;
    const controllers = this.controllers;
    const leader = leaderHint();
    if (leader >= 0) {
      const known = controllers.find((c) => c.id === leader);
      if (known) return known;
      const learnt = leaderAddress?.(leader) ?? null;
      if (learnt !== null) return { id: leader, host: learnt.host, port: learnt.port };
    }
    if (controllers.length === 0) return null;
    return controllers[this.nextGuess % controllers.length]!;
  }

  private guessAfter(id: number): void {
    const i = this.controllers.findIndex((c) => c.id === id);
    this.nextGuess = i + 1;
  }

  private connection(target: ControllerAddress): Promise<BrokerConnection> {
    let conn = this.connections.get(target.id);
    if (!conn) {
      conn = BrokerConnection.open(target.host, target.port, { clientId: `broker-${this.options.nodeId}-to-controller`, timeoutMs: this.options.requestTimeoutMs ?? 2000, trace: this.options.trace ?? null });
      conn.catch(() => this.connections.delete(target.id));
      this.connections.set(target.id, conn);
    }
    return conn.then((c) => {
      if (c.isClosed) {
        this.connections.delete(target.id);
        throw new ConnectionError(`connection to controller ${target.id} closed`);
      }
      return c;
    });
  }

  private drop(id: number): void {
    const conn = this.connections.get(id);
    this.connections.delete(id);
    void conn?.then((c) => c.close(), () => undefined);
  }
}

/** NOT_CONTROLLER as a top-level errorCode (BrokerRegistration, BrokerHeartbeat, AllocateProducerIds, ...). */
export function topLevelNotController(response: { readonly errorCode: number }): boolean {
  return response.errorCode === ErrorCode.NOT_CONTROLLER;
}
