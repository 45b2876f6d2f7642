/**
 * JoinGroup (11), versions 0-9: join a classic group and wait for the join phase to complete
 * (src/group/coordinator.ts has the rebalance rules).
 * - v0 has no rebalance timeout: the session timeout serves as both, as in Kafka.
 * - v4+ (KIP-394): a member without an id gets MEMBER_ID_REQUIRED (79) and its new id, and must join
 *   again with it; the join phase counts it from the first request on.
 * - v5+ (KIP-345): groupInstanceId makes a static member; a restarted instance takes over its slot (and,
 *   when the group is Stable and nothing changed, its assignment) without a rebalance; a stale member id
 *   for a known instance is FENCED_INSTANCE_ID.
 * - v7+ echoes the protocol type (KIP-559); before v7 the protocol name cannot be null, so "" is sent.
 * - v8 carries a reason (KIP-800), logged. v9 (KIP-814): skipAssignment is always false here.
 * - The leader's response lists every member with its metadata for the chosen protocol: the first
 *   protocol of the leader's list that all members support.
 */
import { JoinGroup } from '../../protocol/messages/join-group.js';
import { defineHandler, type RequestContext } from './types.js';

/** Kafka's clientHost form: "/" and the address (IPv4-mapped IPv6 addresses shown as IPv4). */
export function clientHostOf(ctx: RequestContext): string {
  const address = ctx.clientAddress;
  if (address === undefined) return '';
  return `/${address.startsWith('::ffff:') ? address.slice(7) : address}`;
}

export const joinGroupHandler = defineHandler(JoinGroup, {
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const r = await ctx.broker.groupCoordinator.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: v >= 5 ? req.groupInstanceId : null,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx),
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: v >= 1 && req.rebalanceTimeoutMs >= 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      requireKnownMemberId: v >= 4,
      reason: v >= 8 ? req.reason : null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: v >= 7 ? r.protocolType : null,
      protocolName: r.protocolName ?? (v >= 7 ? null : ''),
      leader: r.leader,
      skipAssignment: false,
      memberId: r.memberId,
      members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: v >= 5 ? m.groupInstanceId : null, metadata: m.metadata })),
    };
  },
});
