/**
 * DeleteGroups (42), versions 0-2 (KIP-229): delete Empty groups with their committed offsets. Tombstones
 * for the offsets and the group metadata are written to `__consumer_offsets`.
 * - Per group: GROUP_ID_NOT_FOUND (69) for an unknown group, NON_EMPTY_GROUP (68) while it has members,
 *   INVALID_GROUP_ID (24) for an empty id.
 * - v1 answers before throttling (KIP-219); v2 is flexible.
 */
import { DeleteGroups } from '../../protocol/messages/delete-groups.js';
import { defineHandler } from './types.js';

export const deleteGroupsHandler = defineHandler(DeleteGroups, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const results = await ctx.broker.groupCoordinator.deleteGroups(req.groupsNames);
    return { throttleTimeMs: 0, results };
  },
});
