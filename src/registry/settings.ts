/**
 * The registry's compatibility levels and modes (Confluent's names, as `PUT /config` and `PUT /mode` take
 * them). Apart from registry.ts so that the broker can check `schema.compatibility.level` at start
 * (config.ts) without loading the schema libraries (avsc, ajv, protobufjs) when the registry is off.
 */
import { invalidCompatibilityLevel, invalidMode } from './errors.js';

export const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
export type Mode = (typeof MODES)[number];

export function parseCompatibilityLevel(s: unknown): CompatibilityLevel {
  const up = typeof s === 'string' ? s.toUpperCase() : '';
  const found = COMPATIBILITY_LEVELS.find((l) => l === up);
  if (!found) throw invalidCompatibilityLevel();
  return found;
}

export function parseMode(s: unknown): Mode {
  const up = typeof s === 'string' ? s.toUpperCase() : '';
  const found = MODES.find((m) => m === up);
  if (!found) throw invalidMode();
  return found;
}
