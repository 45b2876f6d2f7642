/**
 * Starts the broker's built-in Schema Registry from the broker's properties (Confluent's names where
 * they exist) and stops it.
 *
 * | property | default | meaning |
 * |---|---|---|
 * | `samsa.schema.registry.enable` | true | serve the registry at all |
 * | `schema.registry.listeners` | `http://127.0.0.1:8081` | where (Confluent: `listeners`); port 0 picks a free one |
 * | `schema.compatibility.level` | backward | the global compatibility level until `PUT /config` sets one |
 * | `kafkastore.topic` | `_schemas` | the compacted topic holding schemas, configs and modes |
 *
 * On start `_schemas` is replayed into memory before the listener opens, so the registry answers only once
 * it has caught up.
 */
import type { Logger } from 'pino';
import { RegistryHttpServer } from './http.js';
import { parseCompatibilityLevel, SchemaRegistry } from './registry.js';
import { SchemasTopic, type SchemasTopicHost } from './schemas-topic.js';
import { REGISTRY_PROPERTIES, type RegistryPropertyName } from './properties.js';

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
  return { enabled: enable === 'true', host: host === '' ? '0.0.0.0' : host, port: m ? Number(m[2]) : 0, compatibility, topic: get('kafkastore.topic') };
}

export interface RunningRegistry {
  readonly registry: SchemaRegistry;
  /** The URL clients use, e.g. http://127.0.0.1:8081 (the bound port when configured as 0). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** null when the registry is switched off. */
export async function startSchemaRegistry(broker: SchemasTopicHost, props: ReadonlyMap<string, string>, clusterId: string, trace: boolean, parentLogger: Logger): Promise<RunningRegistry | null> {
  const config = registryConfig(props);
  if (!config.enabled) return null;
  const logger = parentLogger.child({ component: 'schema-registry' });
  const topic = new SchemasTopic(broker, config.topic, logger);
  const registry = new SchemaRegistry(topic, { defaultCompatibility: config.compatibility }, logger);
  const records = await topic.replay((r) => registry.apply(r));
  const http = new RegistryHttpServer(registry, { clusterId, trace }, logger);
  let port: number;
  try {
    port = await http.listen(config.host, config.port);
  } catch (err) {
    throw new RegistryConfigError(`schema registry cannot listen on ${config.host}:${config.port} (${(err as Error).message}); set schema.registry.listeners, or samsa.schema.registry.enable=false`);
  }
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${shownHost}:${port}`;
  logger.info({ url, topic: config.topic, records }, 'schema registry started');
  return {
    registry,
    url,
    port,
    close: async () => {
      await http.close();
      await registry.drain();
    },
  };
}
