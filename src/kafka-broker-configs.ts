/**
 * Kafka broker config names that Samsa accepts without acting on them, so that a server.properties
 * written for Kafka starts Samsa with a note instead of an unknown-name warning, and so that the per-broker
 * dynamic configs Kafka can change at runtime (DynamicBrokerConfig.AllDynamicConfigs) are accepted, kept
 * and described (src/broker/dynamic-broker-config.ts).
 *
 * The dynamic names are transcribed from Kafka 4.x: DynamicListenerConfig.ReconfigurableConfigs,
 * SslConfigs.RECONFIGURABLE_CONFIGS, LogCleaner.RECONFIGURABLE_CONFIGS, DynamicThreadPool,
 * SocketServer.ReconfigurableConfigs, DynamicProducerStateManagerConfig, DynamicRemoteLogConfig,
 * metric.reporters and config.providers. The broker synonyms of topic configs (DynamicLogConfig) live with
 * the topic configs (src/broker/topic-config.ts).
 */

export interface KafkaConfigDef {
  readonly name: string;
  readonly type: 'string' | 'int' | 'long' | 'double' | 'boolean' | 'list' | 'password' | 'class';
  /** Kafka's default, as DescribeConfigs reports it (null: none). */
  readonly default: string | null;
  readonly atLeast?: number;
}

const d = (name: string, type: KafkaConfigDef['type'], dflt: string | null, atLeast?: number): KafkaConfigDef => ({ name, type, default: dflt, ...(atLeast !== undefined ? { atLeast } : {}) });

/** SslConfigs.RECONFIGURABLE_CONFIGS: dynamic only with a listener prefix (listener.name.<l>.<config>). */
export const DYNAMIC_SECURITY_CONFIGS: ReadonlySet<string> = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.truststore.type',
  'ssl.truststore.location', 'ssl.truststore.password', 'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
]);

/** DynamicListenerConfig.ReconfigurableConfigs (per broker, but for the three cluster-level ones below). */
const LISTENER_CONFIGS: readonly KafkaConfigDef[] = [
  d('listeners', 'list', null), d('listener.security.protocol.map', 'string', 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT'),
  d('principal.builder.class', 'class', 'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder'),
  d('ssl.protocol', 'string', 'TLSv1.3'), d('ssl.provider', 'string', null), d('ssl.cipher.suites', 'list', ''),
  d('ssl.enabled.protocols', 'list', 'TLSv1.2,TLSv1.3'), d('ssl.keystore.type', 'string', 'JKS'), d('ssl.keystore.location', 'string', null),
  d('ssl.keystore.password', 'password', null), d('ssl.key.password', 'password', null), d('ssl.truststore.type', 'string', 'JKS'),
  d('ssl.truststore.location', 'string', null), d('ssl.truststore.password', 'password', null), d('ssl.keymanager.algorithm', 'string', 'SunX509'),
  d('ssl.trustmanager.algorithm', 'string', 'PKIX'), d('ssl.endpoint.identification.algorithm', 'string', 'https'),
  d('ssl.secure.random.implementation', 'string', null), d('ssl.client.auth', 'string', 'none'), d('ssl.engine.factory.class', 'class', null),
  d('sasl.mechanism.inter.broker.protocol', 'string', 'GSSAPI'), d('sasl.jaas.config', 'password', null), d('sasl.enabled.mechanisms', 'list', 'GSSAPI'),
  d('sasl.kerberos.service.name', 'string', null), d('sasl.kerberos.kinit.cmd', 'string', '/usr/bin/kinit'),
  d('sasl.kerberos.ticket.renew.window.factor', 'double', '0.8'), d('sasl.kerberos.ticket.renew.jitter', 'double', '0.05'),
  d('sasl.kerberos.min.time.before.relogin', 'long', '60000'), d('sasl.kerberos.principal.to.local.rules', 'list', 'DEFAULT'),
  d('sasl.login.refresh.window.factor', 'double', '0.8'), d('sasl.login.refresh.window.jitter', 'double', '0.05'),
  d('sasl.login.refresh.min.period.seconds', 'int', '60'), d('sasl.login.refresh.buffer.seconds', 'int', '300'),
  d('max.connections', 'int', '2147483647', 0), d('max.connection.creation.rate', 'int', '2147483647', 0), d('num.network.threads', 'int', '3', 1),
];

/** Listener configs that are cluster-wide (DynamicBrokerConfig.ClusterLevelListenerConfigs). */
const CLUSTER_LEVEL_LISTENER_CONFIGS: ReadonlySet<string> = new Set(['max.connections', 'max.connection.creation.rate', 'num.network.threads']);

/** The other dynamic broker configs Samsa keeps without applying. */
const OTHER_DYNAMIC_CONFIGS: readonly KafkaConfigDef[] = [
  // LogCleaner.RECONFIGURABLE_CONFIGS (the ones Samsa does not use; backoff, dedupe buffer and io rate are its own)
  d('log.cleaner.threads', 'int', '1', 0), d('log.cleaner.io.buffer.load.factor', 'double', '0.9'), d('log.cleaner.io.buffer.size', 'int', '524288', 0),
  // DynamicThreadPool.RECONFIGURABLE_CONFIGS
  d('num.io.threads', 'int', '8', 1), d('num.replica.fetchers', 'int', '1', 1), d('num.recovery.threads.per.data.dir', 'int', '2', 1), d('background.threads', 'int', '10', 1),
  // SocketServer.ReconfigurableConfigs
  d('max.connections.per.ip', 'int', '2147483647', 0), d('max.connections.per.ip.overrides', 'string', ''),
  // DynamicProducerStateManagerConfig (producer.id.expiration.ms is Samsa's own)
  d('transaction.partition.verification.enable', 'boolean', 'true'),
  // DynamicRemoteLogConfig
  d('remote.log.index.file.cache.total.size.bytes', 'long', '1073741824', 1), d('remote.log.manager.copy.max.bytes.per.second', 'long', '9223372036854775807', 1),
  d('remote.log.manager.fetch.max.bytes.per.second', 'long', '9223372036854775807', 1), d('remote.log.reader.threads', 'int', '10', 1),
  d('metric.reporters', 'list', ''), d('config.providers', 'list', ''),
];

/** Every dynamic broker config Samsa keeps without applying, by name. */
export const KEPT_DYNAMIC_CONFIGS: ReadonlyMap<string, KafkaConfigDef> = new Map([...LISTENER_CONFIGS, ...OTHER_DYNAMIC_CONFIGS].map((c) => [c.name, c]));

/** Names only a node's own resource may set (DynamicBrokerConfig.PerBrokerConfigs), not the cluster default. */
export function isPerBrokerOnly(name: string): boolean {
  const listenerPrefixed = LISTENER_PREFIXED.exec(name);
  if (listenerPrefixed) return !CLUSTER_LEVEL_LISTENER_CONFIGS.has(listenerPrefixed[1]!);
  return DYNAMIC_SECURITY_CONFIGS.has(name) || (LISTENER_CONFIGS.some((c) => c.name === name) && !CLUSTER_LEVEL_LISTENER_CONFIGS.has(name));
}

/** `listener.name.<listener>.<config>` (DynamicBrokerConfig.ListenerConfigRegex): group 1 is the config. */
export const LISTENER_PREFIXED = /^listener\.name\.[^.]*\.(.*)$/;

/** Passwords: DescribeConfigs reports them sensitive, with a null value. */
export function isSensitiveConfig(name: string): boolean {
  const base = LISTENER_PREFIXED.exec(name)?.[1] ?? name;
  return KEPT_DYNAMIC_CONFIGS.get(base)?.type === 'password' || base.endsWith('sasl.jaas.config') || base === 'ssl.keystore.key';
}

/** Static Kafka broker configs found in Kafka's own server.properties examples, which Samsa has no use for. */
export const IGNORED_STATIC_CONFIGS: ReadonlySet<string> = new Set([
  'socket.send.buffer.bytes', 'socket.receive.buffer.bytes', 'offsets.topic.replication.factor', 'transaction.state.log.replication.factor',
  'transaction.state.log.min.isr', 'zookeeper.connect', 'zookeeper.connection.timeout.ms', 'group.coordinator.rebalance.protocols',
  'share.coordinator.state.topic.replication.factor', 'share.coordinator.state.topic.min.isr',
]);
