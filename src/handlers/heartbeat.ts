/**
 * Heartbeat (12), versions 0-4: keeps a group member's session alive.
 * - NONE in Stable and CompletingRebalance; REBALANCE_IN_PROGRESS (27) while the group is joining (the
 *   member must send JoinGroup); ILLEGAL_GENERATION (22) for another generation; UNKNOWN_MEMBER_ID (25) for
 *   a member (or group) the coordinator does not know; FENCED_INSTANCE_ID (82) for a replaced static
 *   member (v3+ carries groupInstanceId, KIP-345).
 */
import { Heartbeat } from '../../protocol/messages/heartbeat.js';
import { defineHandler } from './types.js';

export const heartbeatHandler = defineHandler(Heartbeat, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const errorCode = ctx.broker.groupCoordinator.heartbeat({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: ctx.apiVersion >= 3 ? req.groupInstanceId : null,
    });
    return { throttleTimeMs: 0, errorCode };
  },
});
