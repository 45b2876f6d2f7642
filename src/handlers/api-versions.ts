/**
 * ApiVersions (18), versions 0-4. Lists every API this broker handles with the range it advertises,
 * straight from the handler registry. Unsupported request versions never reach this handler: the
 * dispatcher answers them in the v0 layout with UNSUPPORTED_VERSION (KIP-511).
 */
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const apiVersionsHandler = defineHandler(ApiVersions, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx) {
    return { errorCode: ErrorCode.NONE, apiKeys: ctx.broker.advertisedApis, throttleTimeMs: 0 };
  },
});
