/**
 * DescribeGroups (15), versions 0-5: state, protocol and members of classic groups.
 * - An unknown group is described as Dead with no error, as Kafka's classic coordinator does.
 * - protocolData (the chosen protocol) and each member's metadata and assignment are filled only when
 *   the group is Stable, as in Kafka; members are listed in every state.
 * - v0 is used by librdkafka's list_groups. v3+ includeAuthorizedOperations (KIP-430): without ACLs every
 *   group operation is allowed (READ, DELETE, DESCRIBE); otherwise the "not requested" marker INT32_MIN.
 * - v4+ returns members' groupInstanceId (KIP-345).
 */
import { DescribeGroups } from '../../protocol/messages/describe-groups.js';
import { defineHandler } from './types.js';

const AUTHORIZED_OPERATIONS_NOT_REQUESTED = -2147483648;
/** Bits of AclOperation READ (3), DELETE (6) and DESCRIBE (8): what a group supports. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export const describeGroupsHandler = defineHandler(DescribeGroups, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const authorizedOperations = v >= 3 && req.includeAuthorizedOperations ? GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_NOT_REQUESTED;
    const groups = req.groups.map((groupId) => {
      const d = ctx.broker.groupCoordinator.describeGroup(groupId);
      return {
        errorCode: d.errorCode,
        groupId: d.groupId,
        groupState: d.groupState,
        protocolType: d.protocolType,
        protocolData: d.protocolData,
        members: d.members.map((m) => ({ ...m, groupInstanceId: v >= 4 ? m.groupInstanceId : null })),
        authorizedOperations,
      };
    });
    return { throttleTimeMs: 0, groups };
  },
});
