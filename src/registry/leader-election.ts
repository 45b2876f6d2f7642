/**
 * Which registry of a cluster writes: Confluent's Kafka-based leader election (KafkaGroupLeaderElector,
 * SchemaRegistryCoordinator). Every registry joins the consumer group `schema.registry.group.id` (default
 * `schema-registry`) with protocol type `sr` and one protocol `v0` whose metadata is its identity as JSON:
 *
 *   {"version":1,"host":"127.0.0.1","port":8181,"master_eligibility":true,"scheme":"http"}
 *
 * The group's leader picks the writer (the eligible member with the smallest member id, as Confluent's
 * coordinator) and hands every member the same assignment:
 *
 *   {"version":1,"error":0,"master":"<member id>","master_identity":{...identity...}}
 *
 * so each node learns the writer's URL and forwards writes there; Confluent's registries and Samsa's could
 * share one group. Members heartbeat; a heartbeat answered REBALANCE_IN_PROGRESS (a member joined or left),
 * an error or a lost coordinator makes the member rejoin, and until the new assignment arrives the writer
 * is unknown. A dead writer leaves the group after `session.timeout.ms` and another one is elected.
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

export const identityUrl = (i: RegistryIdentity): string => `${i.scheme}://${i.host.includes(':') ? `[${i.host}]` : i.host}:${i.port}`;

function parseIdentity(buf: Buffer | null): RegistryIdentity | null {
  if (buf === null) return null;
  try {
    const o = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (typeof o.host !== 'string' || typeof o.port !== 'number') return null;
    // Newer Confluent releases also write leader_eligibility; either one counts.
    const eligible = o.master_eligibility ?? o.leader_eligibility;
    return { version: 1, host: o.host, port: o.port, master_eligibility: eligible !== false, scheme: typeof o.scheme === 'string' ? o.scheme : 'http' };
  } catch {
    return null;
  }
}

/** The writer's assignment as the group leader computes it (exported for tests). */
export function assignLeader(members: readonly { memberId: string; identity: RegistryIdentity | null }[]): { error: number; master: string | null; master_identity: RegistryIdentity | null } {
  const urls = new Set<string>();
  for (const m of members) {
    if (m.identity === null) continue;
    const url = identityUrl(m.identity);
    // Confluent's DUPLICATE_URLS: two registries claiming one URL would make forwarding ambiguous.
    if (urls.has(url)) return { error: 1, master: null, master_identity: null };
    urls.add(url);
  }
  let chosen: { memberId: string; identity: RegistryIdentity } | null = null;
  for (const m of members) {
    if (m.identity === null || !m.identity.master_eligibility) continue;
    if (chosen === null || m.memberId < chosen.memberId) chosen = { memberId: m.memberId, identity: m.identity };
  }
  return { error: 0, master: chosen?.memberId ?? null, master_identity: chosen?.identity ?? null };
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
    const metadata = Buffer.from(JSON.stringify(this.options.identity));
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
        const body = Buffer.from(JSON.stringify({ version: 1, ...a }));
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
      let leader: RegistryIdentity | null = null;
      try {
        const o = JSON.parse(synced.assignment.toString('utf8')) as Record<string, unknown>;
        if (o.error === 0 || o.error === undefined) leader = parseIdentity(Buffer.from(JSON.stringify(o.master_identity ?? o.leader_identity ?? null)));
      } catch {
        leader = null;
      }
      this.setLeader(leader);
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
