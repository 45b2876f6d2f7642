/**
 * LeaveGroup (13), versions 0-5: members leave a group, which then rebalances (or becomes Empty).
 * - v0-2: one memberId; its error is the top-level error.
 * - v3+ (KIP-345): a batch of members, each by member id and/or groupInstanceId, each with its own error
 *   (UNKNOWN_MEMBER_ID, or FENCED_INSTANCE_ID when the instance is held by another member id); an empty
 *   member id with a groupInstanceId removes whichever member holds that instance (admin removal).
 * - v5 adds a per-member reason (KIP-800), not used.
 */
import { LeaveGroup } from '../../protocol/messages/leave-group.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const leaveGroupHandler = defineHandler(LeaveGroup, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const coordinator = ctx.broker.groupCoordinator;
    if (ctx.apiVersion < 3) {
      const r = coordinator.leaveGroup(req.groupId, [{ memberId: req.memberId, groupInstanceId: null }]);
      const errorCode = r.errorCode !== ErrorCode.NONE ? r.errorCode : r.members[0]?.errorCode ?? ErrorCode.NONE;
      return { throttleTimeMs: 0, errorCode };
    }
    const r = coordinator.leaveGroup(
      req.groupId,
      req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })),
    );
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: m.errorCode })),
    };
  },
});
