/**
 * Which registry of a cluster writes: Confluent's Kafka-based leader election (KafkaGroupLeaderElector,
 * SchemaRegistryCoordinator, SchemaRegistryProtocol). Every registry joins the consumer group
 * `schema.registry.group.id` (default `schema-registry`) with protocol type `sr` and one protocol `v0` whose
 * metadata is its identity (SchemaRegistryIdentity) as Jackson writes it: creator properties first, then
 * `version`, then `leader` (the sticky-election flag of current releases; always false here):
 *
 *   {"host":"127.0.0.1","port":8181,"master_eligibility":true,"scheme":"http","version":1,"leader":false}
 *
 * The group's leader picks the writer as Confluent's coordinator does: the eligible member whose URL
 * (`scheme://host:port`) is the smallest string. Every member gets the same assignment
 * (SchemaRegistryProtocol.Assignment, null fields omitted by `@JsonInclude(NON_EMPTY)`):
 *
 *   {"error":0,"master":"<member id>","master_identity":{...identity...},"version":1}
 *
 * `error` 1 (DUPLICATE_URLS) when two members advertise one URL; a member receiving a non-zero error
 * knows no leader (Confluent's onAssigned throws and the member rejoins). So each node learns the writer's
 * URL and forwards writes there; Confluent's registries and Samsa's could share one group. Members
 * heartbeat; a heartbeat answered REBALANCE_IN_PROGRESS (a member joined or left), an error or a lost
 * coordinator makes the member rejoin, and until the new assignment arrives the writer is unknown. A dead
 * writer leaves the group after `session.timeout.ms` and another one is elected.
 */
import type { Logger } from 'pino';
import { ErrorCode, errorName } from '../../protocol/errors.js';
import { Heartbeat } from '../../protocol/messages/heartbeat.js';
import { JoinGroup } from '../../protocol/messages/join-group.js';
import { LeaveGroup } from '../../protocol/messages/leave-group.js';
import { SyncGroup } from '../../protocol/messages/sync-group.js';
import { KafkaClient } from '../client/client.js';
import type { BrokerConnection } from '../client/connection.js';

export interface RegistryIdentity {
  readonly version: 1;
  readonly host: string;
  readonly port: number;
  readonly master_eligibility: boolean;
  readonly scheme: string;
}

export interface LeaderElectionOptions {
  /** This node's client listener (host:port): the election talks Kafka to its own broker first. */
  readonly bootstrap: string;
  readonly groupId: string;
  readonly identity: RegistryIdentity;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

/** The URL to forward writes to (an IPv6 host in brackets). */
export const identityUrl = (i: RegistryIdentity): string => `${i.scheme}://${i.host.includes(':') ? `[${i.host}]` : i.host}:${i.port}`;

/** SchemaRegistryIdentity.getUrl(): `String.format("%s://%s:%d", scheme, host, port)`, what the election compares. */
const confluentUrl = (i: RegistryIdentity): string => `${i.scheme}://${i.host}:${i.port}`;

/** The member metadata, byte for byte as Confluent's Jackson writes it (property order included). */
export function encodeIdentity(i: RegistryIdentity): Buffer {
  return Buffer.from(JSON.stringify({ host: i.host, port: i.port, master_eligibility: i.master_eligibility, scheme: i.scheme, version: i.version, leader: false }));
}

/**
 * A member's metadata; null when it is not an identity. Unknown properties are ignored
 * (`@JsonIgnoreProperties(ignoreUnknown = true)`); a missing `scheme` is Confluent's default `http`, a
 * missing `master_eligibility` counts as not eligible (Confluent would fail the rebalance on it).
 */
export function parseIdentity(buf: Buffer | null): RegistryIdentity | null {
  if (buf === null) return null;
  try {
    const o = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (typeof o.host !== 'string' || typeof o.port !== 'number') return null;
    return { version: 1, host: o.host, port: o.port, master_eligibility: o.master_eligibility === true, scheme: typeof o.scheme === 'string' ? o.scheme : 'http' };
  } catch {
    return null;
  }
}

export interface Assignment {
  readonly error: number;
  readonly master: string | null;
  readonly master_identity: RegistryIdentity | null;
}

/** Confluent's DUPLICATE_URLS assignment error. */
export const DUPLICATE_URLS = 1;

/**
 * The assignment as the group leader computes it (SchemaRegistryCoordinator.onLeaderElected without sticky
 * election): the eligible member with the smallest URL; DUPLICATE_URLS when two members share a URL (the
 * chosen leader is still named, as Confluent does, but members treat the error as "no leader").
 */
export function assignLeader(members: readonly { memberId: string; identity: RegistryIdentity | null }[]): Assignment {
  const urls = new Set<string>();
  let chosen: { memberId: string; identity: RegistryIdentity } | null = null;
  let counted = 0;
  for (const m of members) {
    if (m.identity === null) continue;
    counted++;
    urls.add(confluentUrl(m.identity));
    if (!m.identity.master_eligibility) continue;
    if (chosen === null || confluentUrl(m.identity) < confluentUrl(chosen.identity)) chosen = { memberId: m.memberId, identity: m.identity };
  }
  return { error: urls.size !== counted ? DUPLICATE_URLS : 0, master: chosen?.memberId ?? null, master_identity: chosen?.identity ?? null };
}

/** The assignment bytes as Confluent's Jackson writes them: creator properties, then `version`; nulls omitted. */
export function encodeAssignment(a: Assignment): Buffer {
  const o: Record<string, unknown> = { error: a.error };
  if (a.master !== null) o.master = a.master;
  if (a.master_identity !== null) o.master_identity = JSON.parse(encodeIdentity(a.master_identity).toString('utf8')) as unknown;
  o.version = 1;
  return Buffer.from(JSON.stringify(o));
}

/** The writer named by an assignment; null when there is none or the assignment carries an error. */
export function leaderOf(buf: Buffer): RegistryIdentity | null {
  try {
    const o = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (o.error !== undefined && o.error !== 0) return null;
    if (typeof o.master_identity !== 'object' || o.master_identity === null) return null;
    return parseIdentity(Buffer.from(JSON.stringify(o.master_identity)));
  } catch {
    return null;
  }
}

export class RegistryLeaderElector {
  private closed = false;
  private memberId = '';
  private generationId = -1;
  private client: KafkaClient | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private leaderIdentity: RegistryIdentity | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly options: LeaderElectionOptions,
    private readonly logger: Logger,
  ) {}

  /** The writer's URL, null while unknown (no assignment yet, or a rebalance in progress). */
  get leaderUrl(): string | null {
    return this.leaderIdentity === null ? null : identityUrl(this.leaderIdentity);
  }

  get isLeader(): boolean {
    return this.leaderIdentity !== null && identityUrl(this.leaderIdentity) === identityUrl(this.options.identity);
  }

  /** Called after every change of the writer (a new one elected, or unknown). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private setLeader(identity: RegistryIdentity | null): void {
    const before = this.leaderUrl;
    this.leaderIdentity = identity;
    if (this.leaderUrl !== before) {
      this.logger.info({ leader: this.leaderUrl, self: identityUrl(this.options.identity) }, this.leaderUrl === null ? 'schema registry leader unknown' : 'schema registry leader elected');
      for (const l of this.listeners) l();
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    // A JoinGroup may be parked at the coordinator for a whole rebalance: give LeaveGroup a moment, then
    // closing the client fails whatever is still pending.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)))]);
    clearTimeout(timer);
    await this.client?.close().catch(() => undefined);
    await this.loop;
    const client = this.client;
    this.client = null;
    if (client) await client.close().catch(() => undefined);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        this.client ??= new KafkaClient({ bootstrap: this.options.bootstrap, clientId: 'schema-registry', timeoutMs: this.options.sessionTimeoutMs + 5_000 });
        const conn = await this.client.coordinator(this.options.groupId);
        await this.joinAndSync(conn);
        await this.heartbeats(conn);
      } catch (err) {
        if (this.closed) break;
        this.setLeader(null);
        this.logger.debug({ err: (err as Error).message }, 'schema registry group membership failed; rejoining');
        const client = this.client;
        this.client = null;
        await client?.close().catch(() => undefined);
        await this.pause(this.options.heartbeatIntervalMs);
      }
    }
    await this.leave();
  }

  private async joinAndSync(conn: BrokerConnection): Promise<void> {
    const metadata = encodeIdentity(this.options.identity);
    for (;;) {
      if (this.closed) return;
      const { response: joined } = await conn.request(JoinGroup, {
        groupId: this.options.groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.sessionTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'sr',
        protocols: [{ name: 'v0', metadata }],
        reason: null,
      });
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (joined.errorCode !== ErrorCode.NONE) throw new Error(`JoinGroup ${this.options.groupId}: ${errorName(joined.errorCode)}`);
      this.memberId = joined.memberId;
      this.generationId = joined.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (joined.leader === joined.memberId) {
        const a = assignLeader(joined.members.map((m) => ({ memberId: m.memberId, identity: parseIdentity(m.metadata) })));
        if (a.error !== 0) this.logger.error('two schema registries of the group share one URL: no leader elected (set distinct schema.registry.listeners)');
        const body = encodeAssignment(a);
        assignments = joined.members.map((m) => ({ memberId: m.memberId, assignment: body }));
      }
      const { response: synced } = await conn.request(SyncGroup, {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'sr',
        protocolName: 'v0',
        assignments,
      });
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (synced.errorCode !== ErrorCode.NONE) throw new Error(`SyncGroup ${this.options.groupId}: ${errorName(synced.errorCode)}`);
      this.setLeader(leaderOf(synced.assignment));
      return;
    }
  }

  /** Heartbeats until the group rebalances or the coordinator fails (then the caller rejoins). */
  private async heartbeats(conn: BrokerConnection): Promise<void> {
    while (!this.closed) {
      await this.pause(this.options.heartbeatIntervalMs);
      if (this.closed) return;
      const { response } = await conn.request(Heartbeat, { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null });
      if (response.errorCode === ErrorCode.NONE) continue;
      if (response.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
      if (response.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
        // Rejoin at once on the same connection: the writer stays known until the new assignment.
        await this.joinAndSync(conn);
        continue;
      }
      throw new Error(`Heartbeat ${this.options.groupId}: ${errorName(response.errorCode)}`);
    }
  }

  private async leave(): Promise<void> {
    if (this.memberId === '' || this.client === null) return;
    try {
      const conn = await this.client.coordinator(this.options.groupId);
      const version = conn.versionFor(LeaveGroup);
      const body = version >= 3 ? { groupId: this.options.groupId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'schema registry stopping' }] } : { groupId: this.options.groupId, memberId: this.memberId };
      await conn.send(LeaveGroup, version, body);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'LeaveGroup failed');
    }
  }
}
