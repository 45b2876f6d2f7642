/**
 * The Schema Registry's properties (Confluent's names where they exist), read from the broker's own
 * configuration sources; src/config.ts knows them so they are not reported as unknown.
 */
export const REGISTRY_PROPERTIES = [
  { name: 'samsa.schema.registry.enable', default: 'true', doc: 'Serve the built-in Schema Registry.' },
  { name: 'schema.registry.listeners', default: 'http://127.0.0.1:8081', doc: "The registry's HTTP listener (port 0 picks a free port)." },
  { name: 'schema.compatibility.level', default: 'backward', doc: 'Global compatibility level until PUT /config sets one.' },
  { name: 'kafkastore.topic', default: '_schemas', doc: "Compacted topic holding the registry's schemas, configs and modes." },
] as const;

export type RegistryPropertyName = (typeof REGISTRY_PROPERTIES)[number]['name'];
