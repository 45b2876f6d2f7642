/**
 * The Schema Registry's properties (Confluent's names where they exist), read from the broker's own
 * configuration sources; src/config.ts knows them so they are not reported as unknown.
 */
export const REGISTRY_PROPERTIES = [
  { name: 'samsa.schema.registry.enable', default: 'true', doc: 'Serve the built-in Schema Registry.' },
  { name: 'schema.registry.listeners', default: 'http://127.0.0.1:8081', doc: "The registry's HTTP listener (port 0 picks a free port)." },
  { name: 'schema.compatibility.level', default: 'backward', doc: 'Global compatibility level until PUT /config sets one.' },
  { name: 'kafkastore.topic', default: '_schemas', doc: "Compacted topic holding the registry's schemas, configs and modes." },
  { name: 'kafkastore.topic.replication.factor', default: '3', doc: 'Replication factor of the schemas topic when the registry creates it (at most the live brokers).' },
  { name: 'kafkastore.init.timeout.ms', default: '60000', doc: 'In a cluster, how long a starting registry waits to catch up with the schemas topic.' },
  { name: 'kafkastore.timeout.ms', default: '500', doc: 'In a cluster, how long a write waits for acks=all, and again for this node to read it back (50002 beyond).' },
  { name: 'leader.connect.timeout.ms', default: '60000', doc: 'In a cluster, the timeout for connecting to the leader when forwarding a write.' },
  { name: 'leader.read.timeout.ms', default: '60000', doc: "In a cluster, the timeout for reading the leader's answer to a forwarded write." },
  { name: 'schema.registry.group.id', default: 'schema-registry', doc: 'In a cluster, the group whose members elect the registry leader (the writer).' },
  { name: 'leader.eligibility', default: 'true', doc: 'In a cluster, whether this registry may be elected leader.' },
  { name: 'master.eligibility', default: '', doc: 'Deprecated name of leader.eligibility; when set it wins, as in Confluent.' },
] as const;

export type RegistryPropertyName = (typeof REGISTRY_PROPERTIES)[number]['name'];
