/**
 * The Schema Registry's settings from the broker's properties (the table in start.ts), checked at every
 * broker start, also when the registry is off (a bad value refuses the start either way). Apart from
 * start.ts, which loads the schema libraries (avsc, ajv, protobufjs): app.ts imports that only when the
 * registry is on, so a broker without it (the embedded default) does not load them.
 */
import { REGISTRY_PROPERTIES, type RegistryPropertyName } from './properties.js';
import { parseCompatibilityLevel } from './settings.js';

export { REGISTRY_PROPERTIES };

export class RegistryConfigError extends Error {
  override readonly name = 'RegistryConfigError';
}

export interface RegistryConfig {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
  readonly compatibility: ReturnType<typeof parseCompatibilityLevel>;
  readonly topic: string;
  readonly replicationFactor: number;
  readonly initTimeoutMs: number;
  readonly timeoutMs: number;
  readonly leaderConnectTimeoutMs: number;
  readonly leaderReadTimeoutMs: number;
  readonly groupId: string;
  readonly leaderEligible: boolean;
}

export function registryConfig(props: ReadonlyMap<string, string>): RegistryConfig {
  const get = (name: RegistryPropertyName): string => (props.get(name) ?? REGISTRY_PROPERTIES.find((p) => p.name === name)!.default).trim();
  const enable = get('samsa.schema.registry.enable').toLowerCase();
  if (enable !== 'true' && enable !== 'false') throw new RegistryConfigError(`samsa.schema.registry.enable must be true or false, got "${enable}"`);
  const listener = get('schema.registry.listeners').split(',')[0]!.trim();
  const m = /^http:\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/.exec(listener);
  if (enable === 'true' && !m) throw new RegistryConfigError(`bad schema.registry.listeners "${listener}": expected http://host:port`);
  let compatibility;
  try {
    compatibility = parseCompatibilityLevel(get('schema.compatibility.level'));
  } catch {
    throw new RegistryConfigError(`schema.compatibility.level "${get('schema.compatibility.level')}" is not one of none, backward, backward_transitive, forward, forward_transitive, full, full_transitive`);
  }
  const host = m ? m[1]!.replace(/^\[|\]$/g, '') : '';
  const positive = (name: RegistryPropertyName): number => {
    const v = get(name);
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new RegistryConfigError(`${name} must be a positive integer, got "${v}"`);
    return Number(v);
  };
  // Confluent reads the deprecated master.eligibility first and leader.eligibility only when it is unset.
  const eligibilityName: RegistryPropertyName = get('master.eligibility') !== '' ? 'master.eligibility' : 'leader.eligibility';
  const eligible = get(eligibilityName).toLowerCase();
  if (eligible !== 'true' && eligible !== 'false') throw new RegistryConfigError(`${eligibilityName} must be true or false, got "${eligible}"`);
  return {
    enabled: enable === 'true',
    host: host === '' ? '0.0.0.0' : host,
    port: m ? Number(m[2]) : 0,
    compatibility,
    topic: get('kafkastore.topic'),
    replicationFactor: positive('kafkastore.topic.replication.factor'),
    initTimeoutMs: positive('kafkastore.init.timeout.ms'),
    timeoutMs: positive('kafkastore.timeout.ms'),
    leaderConnectTimeoutMs: positive('leader.connect.timeout.ms'),
    leaderReadTimeoutMs: positive('leader.read.timeout.ms'),
    groupId: get('schema.registry.group.id'),
    leaderEligible: eligible === 'true',
  };
}
