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
 * | `kafkastore.topic.replication.factor` | 3 | the topic's replication factor when created (at most the live brokers) |
 * | `kafkastore.init.timeout.ms` | 60000 | in a cluster: how long the start waits to catch up with the topic |
 * | `kafkastore.timeout.ms` | 500 | in a cluster: how long a write waits for acks=all, then for its read-back |
 * | `leader.connect.timeout.ms`, `leader.read.timeout.ms` | 60000 | in a cluster: forwarding a write to the leader |
 * | `schema.registry.group.id` | schema-registry | in a cluster: the leader election's group |
 * | `leader.eligibility` | true | in a cluster: this node may be elected leader |
 *
 * On start `_schemas` is replayed into memory before the listener opens, so the registry answers only once
 * it has caught up. On a single node (no controller.quorum.voters) the registry reads and appends the
 * local partition; on a node of a KRaft cluster it follows `_schemas` through the Kafka protocol (kafka-store.ts), joins the leader
 * election (leader-election.ts), and forwards writes to the elected leader (http.ts).
 */
import type { Logger } from 'pino';
import type { MetadataImage } from '../broker/metadata-image.js';
import { RegistryHttpServer } from './http.js';
import { KafkaSchemasStore } from './kafka-store.js';
import { RegistryLeaderElector } from './leader-election.js';
import { SchemaRegistry, type RecordLog } from './registry.js';
import { SchemasTopic, type SchemasTopicHost } from './schemas-topic.js';
import { RegistryConfigError, registryConfig, type RegistryConfig } from './config.js';

// The settings are read and checked by config.ts (which loads no schema library: app.ts reads them at every
// start, and imports this file only when the registry is on).
export { REGISTRY_PROPERTIES, RegistryConfigError, registryConfig, type RegistryConfig } from './config.js';

/** The broker as the registry sees it; `votersConfigured` means a node of a KRaft cluster of several nodes. */
export interface RegistryBrokerHost extends SchemasTopicHost {
  readonly image: MetadataImage;
  readonly config: { readonly quorum: { readonly votersConfigured: boolean } };
  readonly advertised: { readonly host: string; readonly port: number };
}

export interface RunningRegistry {
  readonly registry: SchemaRegistry;
  /** The URL clients use, e.g. http://127.0.0.1:8081 (the bound port when configured as 0). */
  readonly url: string;
  readonly port: number;
  /** In a cluster: the leader election (null on a single node, where this registry is the only writer). */
  readonly election: RegistryLeaderElector | null;
  close(): Promise<void>;
}

/** null when the registry is switched off. */
export async function startSchemaRegistry(broker: RegistryBrokerHost, props: ReadonlyMap<string, string>, clusterId: string, trace: boolean, parentLogger: Logger): Promise<RunningRegistry | null> {
  const config = registryConfig(props);
  if (!config.enabled) return null;
  const logger = parentLogger.child({ component: 'schema-registry' });
  // The single-node default (a quorum of one, no controller.quorum.voters) is the only broker and so the
  // only possible writer: no election, the local partition is read and appended directly.
  if (broker.config.quorum.votersConfigured) return startInCluster(broker, config, clusterId, trace, logger);
  const topic = new SchemasTopic(broker, config.topic, logger);
  const registry = new SchemaRegistry(topic, { defaultCompatibility: config.compatibility }, logger);
  const records = await topic.replay((r) => registry.apply(r));
  const http = new RegistryHttpServer(registry, { clusterId, trace }, logger);
  const port = await listen(http, config);
  const url = `http://${shownHost(config.host)}:${port}`;
  logger.info({ url, topic: config.topic, records }, 'schema registry started');
  return {
    registry,
    url,
    port,
    election: null,
    close: async () => {
      await http.close();
      await registry.drain();
    },
  };
}

function shownHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

async function listen(http: RegistryHttpServer, config: RegistryConfig): Promise<number> {
  try {
    return await http.listen(config.host, config.port);
  } catch (err) {
    throw new RegistryConfigError(`schema registry cannot listen on ${config.host}:${config.port} (${(err as Error).message}); set schema.registry.listeners, or samsa.schema.registry.enable=false`);
  }
}

/**
 * A node of a KRaft cluster: `_schemas` is followed through the Kafka protocol from its leader, the writer
 * is elected through the group protocol, and writes reaching other nodes are forwarded to it.
 */
async function startInCluster(broker: RegistryBrokerHost, config: RegistryConfig, clusterId: string, trace: boolean, logger: Logger): Promise<RunningRegistry> {
  // The registry and its store refer to each other: the store's reader applies records to the registry.
  let registry: SchemaRegistry | null = null;
  const store = new KafkaSchemasStore(broker, { topic: config.topic, replicationFactor: config.replicationFactor, timeoutMs: config.timeoutMs }, (r) => registry!.apply(r), logger);
  /** A newly elected leader catches up with the whole topic before its first write (ids continue from the last). */
  let caughtUpAsLeader = false;
  const log: RecordLog = {
    appliesItself: true,
    append: (records) => store.append(records),
    beforeWrite: async () => {
      if (caughtUpAsLeader) return;
      // A new writer may have the whole topic to read: bounded like the start (kafkastore.init.timeout.ms).
      await store.catchUp(config.initTimeoutMs);
      caughtUpAsLeader = true;
    },
  };
  registry = new SchemaRegistry(log, { defaultCompatibility: config.compatibility }, logger);
  store.start();
  const deadline = Date.now() + config.initTimeoutMs;
  for (;;) {
    try {
      await store.catchUp(Math.max(1, deadline - Date.now()));
      break;
    } catch (err) {
      if (Date.now() >= deadline) {
        // Confluent gives up starting here; a Samsa node keeps its broker up and serves what it has read.
        logger.error({ err: (err as Error).message, offset: store.appliedOffset }, `schema registry could not catch up with ${config.topic} within kafkastore.init.timeout.ms; serving what it has read`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  let election: RegistryLeaderElector | null = null;
  const http = new RegistryHttpServer(registry, {
    clusterId,
    trace,
    forwardTimeouts: { connectMs: config.leaderConnectTimeoutMs, readMs: config.leaderReadTimeoutMs },
    leader: {
      get isLeader() {
        return election?.isLeader ?? false;
      },
      get leaderUrl() {
        return election?.leaderUrl ?? null;
      },
    },
  }, logger);
  let port: number;
  try {
    port = await listen(http, config);
  } catch (err) {
    await store.close();
    throw err;
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? broker.advertised.host : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  election = new RegistryLeaderElector(
    {
      bootstrap: `${broker.advertised.host.includes(':') ? `[${broker.advertised.host}]` : broker.advertised.host}:${broker.advertised.port}`,
      groupId: config.groupId,
      identity: { version: 1, host, port, master_eligibility: config.leaderEligible, scheme: 'http' },
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 3_000,
    },
    logger,
  );
  election.onChange(() => {
    caughtUpAsLeader = false;
  });
  election.start();
  logger.info({ url, topic: config.topic, records: store.appliedOffset, group: config.groupId }, 'schema registry started');
  const running = election;
  return {
    registry,
    url,
    port,
    election: running,
    close: async () => {
      await http.close();
      await running.close();
      await registry.drain();
      await store.close();
    },
  };
}
