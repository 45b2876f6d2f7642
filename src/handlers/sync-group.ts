/**
 * SyncGroup (14), versions 0-5: the leader hands in the assignment of the generation; every member gets
 * its own part back.
 * - Followers wait until the leader's assignment has arrived and has been written to
 *   `__consumer_offsets`; a rebalance starting meanwhile answers them REBALANCE_IN_PROGRESS (27).
 * - Errors: UNKNOWN_MEMBER_ID (25), ILLEGAL_GENERATION (22), REBALANCE_IN_PROGRESS while the group is
 *   joining, FENCED_INSTANCE_ID (82) for a replaced static member.
 * - v3+ carries groupInstanceId (KIP-345). v5 (KIP-559) sends the protocol type and name, which must
 *   match the group's (else INCONSISTENT_GROUP_PROTOCOL), and gets them back.
 */
import { SyncGroup } from '../../protocol/messages/sync-group.js';
import { defineHandler } from './types.js';

export const syncGroupHandler = defineHandler(SyncGroup, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const r = await ctx.broker.groupCoordinator.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: v >= 3 ? req.groupInstanceId : null,
      protocolType: v >= 5 ? req.protocolType : null,
      protocolName: v >= 5 ? req.protocolName : null,
      assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      protocolType: v >= 5 ? r.protocolType : null,
      protocolName: v >= 5 ? r.protocolName : null,
      assignment: r.assignment,
    };
  },
});
