/**
 * A broker's life in a KRaft cluster (Kafka's BrokerLifecycleManager, KIP-631): register with the active
 * controller (BrokerRegistration, with a fresh incarnation id per process), then heartbeat
 * (BrokerHeartbeat) carrying the highest metadata offset this node has applied. The controller registers
 * the broker fenced and unfences it once that offset reaches its registration record, i.e. once the
 * broker has caught up with the metadata that includes itself; clients are only sent to unfenced brokers.
 *
 * - While fenced, heartbeats go out every `catchUpIntervalMs` so the broker is unfenced soon after it has
 *   caught up; once unfenced, every `broker.heartbeat.interval.ms` (2000). A broker whose heartbeats stop
 *   for `broker.session.timeout.ms` (9000) is fenced by the controller and its partitions' leadership moves.
 * - An answer that the registration is unknown or stale (STALE_BROKER_EPOCH, or a heartbeat refused after
 *   the controller lost it) makes the broker register again, with a new epoch.
 * - Controlled shutdown: heartbeats with wantShutDown until the controller answers shouldShutDown (it has
 *   moved every leadership away first), bounded by a deadline, so clients fail over before the node stops.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { BrokerHeartbeat } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistration } from '../../protocol/messages/broker-registration.js';
import type { Clock, Timer } from '../util/clock.js';
import { ControllerUnavailableError, topLevelNotController, type ControllerChannel } from './controller-channel.js';

export interface BrokerLifecycleOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly rack: string | null;
  /** The client listener clients are sent to (Metadata, FindCoordinator). */
  readonly listener: () => { readonly name: string; readonly host: string; readonly port: number };
  /** metadata.version levels this broker supports (FeatureLevelRecord). */
  readonly metadataVersion: { readonly min: number; readonly max: number };
  /** The offset of the last metadata record applied to this node's image. */
  readonly appliedOffset: () => number;
  readonly channel: ControllerChannel;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly catchUpIntervalMs?: number;
  /** This process's incarnation id (default: a new uuid); the controller of a combined node knows it too. */
  readonly incarnationId?: string;
  /** Called with the broker epoch each time the controller accepts a registration of this process. */
  readonly onRegistered?: (brokerEpoch: bigint) => void;
}

export type BrokerState = 'starting' | 'registering' | 'fenced' | 'running' | 'pending-controlled-shutdown' | 'shutting-down' | 'stopped';

export class BrokerLifecycle {
  /** A new uuid per process: the controller tells a restart from a duplicate node id by it. */
  readonly incarnationId: string;
  private brokerEpoch = -1n;
  private state: BrokerState = 'starting';
  private timer: Timer | null = null;
  private inflight: Promise<void> | null = null;
  private unfencedWaiters: (() => void)[] = [];
  private shutdownWaiter: (() => void) | null = null;

  constructor(private readonly options: BrokerLifecycleOptions) {
    this.incarnationId = options.incarnationId ?? randomUUID();
  }

  get currentState(): BrokerState {
    return this.state;
  }

  get epoch(): bigint {
    return this.brokerEpoch;
  }

  /** Starts registering and heartbeating; resolves once the controller has unfenced this broker. */
  start(): Promise<void> {
    this.state = 'registering';
    this.schedule(0);
    return this.whenUnfenced();
  }

  whenUnfenced(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((resolve) => this.unfencedWaiters.push(resolve));
  }

  /**
   * Controlled shutdown: asks the controller to move this broker's leaderships away and waits for its
   * go-ahead (or `deadlineMs`), then stops heartbeating.
   */
  async controlledShutdown(deadlineMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'running' || this.state === 'fenced') {
      this.state = 'pending-controlled-shutdown';
      const done = new Promise<void>((resolve) => (this.shutdownWaiter = resolve));
      this.schedule(0);
      const timeout = new Promise<void>((resolve) => this.options.clock.schedule(deadlineMs, resolve));
      await Promise.race([done, timeout]);
    }
    this.stop();
    await this.inflight?.catch(() => undefined);
  }

  stop(): void {
    this.state = 'stopped';
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.state === 'stopped') return;
    this.timer?.cancel();
    this.timer = this.options.clock.schedule(delayMs, () => {
      this.timer = null;
      this.inflight = this.communicate().catch((err: unknown) => {
        this.options.logger.warn({ err }, 'broker lifecycle step failed');
        this.schedule(this.options.catchUpIntervalMs ?? 50);
      });
    });
  }

  private async communicate(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'registering') return this.register();
    return this.heartbeat();
  }

  private async register(): Promise<void> {
    const { options } = this;
    const listener = options.listener();
    let response;
    try {
      ({ response } = await options.channel.send(
        BrokerRegistration,
        {
          brokerId: options.nodeId,
          clusterId: options.clusterId,
          incarnationId: this.incarnationId,
          listeners: [{ name: listener.name, host: listener.host, port: listener.port, securityProtocol: 0 }],
          features: [{ name: 'metadata.version', minSupportedVersion: options.metadataVersion.min, maxSupportedVersion: options.metadataVersion.max }],
          rack: options.rack,
          isMigratingZkBroker: false,
          logDirs: [],
          previousBrokerEpoch: -1n,
        },
        { deadlineMs: options.requestTimeoutMs, notController: topLevelNotController },
      ));
    } catch (err) {
      if (!(err instanceof ControllerUnavailableError)) throw err;
      options.logger.info({ reason: err.message }, 'no active controller yet; registering again');
      this.schedule(options.catchUpIntervalMs ?? 50);
      return;
    }
    if (response.errorCode !== ErrorCode.NONE) {
      // DUPLICATE_BROKER_REGISTRATION: the previous incarnation's session has not expired yet.
      options.logger.info({ errorCode: response.errorCode }, 'broker registration refused; trying again');
      this.schedule(Math.min(options.heartbeatIntervalMs, 1000));
      return;
    }
    this.brokerEpoch = response.brokerEpoch;
    this.state = 'fenced';
    options.onRegistered?.(response.brokerEpoch);
    options.logger.info({ brokerEpoch: String(response.brokerEpoch) }, `registered with the controller as broker ${options.nodeId}, epoch ${response.brokerEpoch}`);
    this.schedule(0);
  }

  private async heartbeat(): Promise<void> {
    const { options } = this;
    const wantShutDown = this.state === 'pending-controlled-shutdown';
    let response;
    try {
      ({ response } = await options.channel.send(
        BrokerHeartbeat,
        { brokerId: options.nodeId, brokerEpoch: this.brokerEpoch, currentMetadataOffset: BigInt(options.appliedOffset()), wantFence: false, wantShutDown, offlineLogDirs: [], cordonedLogDirs: null },
        { deadlineMs: options.requestTimeoutMs, notController: topLevelNotController },
      ));
    } catch (err) {
      if (!(err instanceof ControllerUnavailableError)) throw err;
      this.schedule(options.catchUpIntervalMs ?? 50);
      return;
    }
    if (this.state === 'stopped') return;
    if (response.errorCode === ErrorCode.STALE_BROKER_EPOCH || response.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED) {
      options.logger.warn({ errorCode: response.errorCode }, 'the controller no longer knows this registration; registering again');
      this.state = wantShutDown ? 'pending-controlled-shutdown' : 'registering';
      if (wantShutDown) this.finishShutdown();
      else this.schedule(0);
      return;
    }
    if (response.errorCode !== ErrorCode.NONE) {
      this.schedule(options.catchUpIntervalMs ?? 50);
      return;
    }
    if (wantShutDown) {
      if (response.shouldShutDown) {
        this.finishShutdown();
        return;
      }
      this.schedule(options.catchUpIntervalMs ?? 50);
      return;
    }
    if (response.isFenced) {
      if (this.state === 'running') options.logger.warn('fenced by the controller');
      this.state = 'fenced';
      this.schedule(options.catchUpIntervalMs ?? 50);
      return;
    }
    if (this.state !== 'running') {
      this.state = 'running';
      options.logger.info(`unfenced by the controller: broker ${options.nodeId} is serving`);
      const waiters = this.unfencedWaiters;
      this.unfencedWaiters = [];
      for (const w of waiters) w();
    }
    this.schedule(options.heartbeatIntervalMs);
  }

  private finishShutdown(): void {
    this.state = 'shutting-down';
    this.shutdownWaiter?.();
    this.shutdownWaiter = null;
  }
}
