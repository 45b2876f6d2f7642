/**
 * ListGroups (16), versions 0-5: the groups this broker coordinates (all of them, on a single node),
 * except Dead ones.
 * - v0 must stay advertised: librdkafka's list_groups uses it.
 * - v4+ statesFilter (KIP-518): only groups in one of the given states (names compared case-insensitively);
 *   the state is returned per group.
 * - v5+ typesFilter (KIP-848): every group here is "classic"; a filter without it lists nothing.
 */
import { ListGroups } from '../../protocol/messages/list-groups.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

const CLASSIC = 'classic';

export const listGroupsHandler = defineHandler(ListGroups, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const types = v >= 5 ? req.typesFilter.map((t) => t.toLowerCase()) : [];
    if (types.length > 0 && !types.includes(CLASSIC)) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups: [] };
    const groups = ctx.broker.groupCoordinator.listGroups(v >= 4 ? req.statesFilter : []);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState, groupType: CLASSIC })),
    };
  },
});
