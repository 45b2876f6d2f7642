/**
 * Broker configuration (src/config.ts) is validated as Kafka's ConfigDef validates it: every property
 * parsed by its type and range with Kafka's messages, unknown names warned about with the closest known
 * one, Kafka's older spellings honoured, every log.dirs entry used and every listener served or refused.
 * The command line exits 1 with the message, as Kafka does on a ConfigException.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError, envToProperties } from '../../src/config.js';

const ROOT = resolve(import.meta.dirname, '../..');
const base = { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': '/tmp/samsa-config-test' };

function build(props: Record<string, string>) {
  return buildConfig(new Map(Object.entries({ ...base, ...props })));
}

function refused(props: Record<string, string>): string {
  try {
    build(props);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(props)}`);
}

describe('typed properties', () => {
  it('a LONG that is not a number is refused with Kafka\'s message (the "5m" typo that used to be a 1 ms loop)', () => {
    expect(refused({ 'log.retention.check.interval.ms': '5m' })).toBe('Invalid value 5m for configuration log.retention.check.interval.ms: Not a number of type LONG');
  });

  it('INT: not a number, a fraction, out of the 32-bit range', () => {
    expect(refused({ 'num.partitions': 'three' })).toBe('Invalid value three for configuration num.partitions: Not a number of type INT');
    expect(refused({ 'num.partitions': '1.5' })).toBe('Invalid value 1.5 for configuration num.partitions: Not a number of type INT');
    expect(refused({ 'message.max.bytes': '2147483648' })).toBe('Invalid value 2147483648 for configuration message.max.bytes: Not a number of type INT');
  });

  it('LONG out of the 64-bit range; the largest long is accepted', () => {
    expect(refused({ 'log.flush.interval.ms': '9223372036854775808' })).toBe('Invalid value 9223372036854775808 for configuration log.flush.interval.ms: Not a number of type LONG');
    expect(build({ 'log.flush.interval.ms': '9223372036854775807' }).props.get('log.flush.interval.ms')).toBe('9223372036854775807');
  });

  it('ranges: Kafka\'s "Value must be at least" / "no more than"', () => {
    expect(refused({ 'log.retention.check.interval.ms': '0' })).toBe('Invalid value 0 for configuration log.retention.check.interval.ms: Value must be at least 1');
    expect(refused({ 'num.partitions': '0' })).toBe('Invalid value 0 for configuration num.partitions: Value must be at least 1');
    expect(refused({ 'log.segment.bytes': '13' })).toBe('Invalid value 13 for configuration log.segment.bytes: Value must be at least 14');
    expect(refused({ 'log.cleaner.min.cleanable.ratio': '1.5' })).toBe('Invalid value 1.5 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1');
  });

  it('BOOLEAN, DOUBLE and enumerations', () => {
    expect(refused({ 'auto.create.topics.enable': 'yes' })).toBe('Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false');
    expect(build({ 'auto.create.topics.enable': 'FALSE' }).autoCreateTopicsEnable).toBe(false);
    expect(refused({ 'log.cleaner.io.max.bytes.per.second': 'fast' })).toBe('Invalid value fast for configuration log.cleaner.io.max.bytes.per.second: Not a number of type DOUBLE');
    expect(refused({ 'log.cleanup.policy': 'delete,archive' })).toBe('Invalid value archive for configuration log.cleanup.policy: String must be one of: compact, delete');
    expect(refused({ 'log.message.timestamp.type': 'BrokerTime' })).toBe('Invalid value BrokerTime for configuration log.message.timestamp.type: String must be one of: CreateTime, LogAppendTime');
  });

  it('values are trimmed as Kafka parses them', () => {
    const c = build({ 'num.partitions': ' 3 ', 'log.retention.ms': '1000 ' });
    expect(c.numPartitions).toBe(3);
    expect(c.props.get('log.retention.ms')).toBe('1000');
  });

  it('Kafka\'s older spellings count when the newer one is not set: log.retention.hours/minutes, log.roll.hours, log.dir, broker.id', () => {
    expect(build({ 'log.retention.hours': '2' }).props.get('log.retention.ms')).toBe('7200000');
    expect(build({ 'log.retention.minutes': '3' }).props.get('log.retention.ms')).toBe('180000');
    expect(build({ 'log.retention.hours': '2', 'log.retention.minutes': '3' }).props.get('log.retention.ms')).toBe('180000');
    expect(build({ 'log.retention.hours': '2', 'log.retention.ms': '5' }).props.get('log.retention.ms')).toBe('5');
    expect(build({ 'log.roll.hours': '1' }).props.get('log.roll.ms')).toBe('3600000');
    expect(refused({ 'log.retention.hours': '1d' })).toBe('Invalid value 1d for configuration log.retention.hours: Not a number of type LONG');
    const { 'log.dirs': _dirs, ...noDirs } = base;
    expect(buildConfig(new Map(Object.entries({ ...noDirs, 'log.dir': '/tmp/samsa-one-dir' }))).logDirs).toBe('/tmp/samsa-one-dir');
    expect(build({ 'broker.id': '7' }).nodeId).toBe(7);
  });
});

describe('unknown properties', () => {
  it('a misspelled name is a warning naming the closest known property; it does not stop the broker', () => {
    const c = build({ 'log.retention.check.interval.msec': '1000', 'num.partition': '3', 'totally.unrelated.thing': 'x' });
    expect(c.warnings).toContain("The configuration 'log.retention.check.interval.msec' was supplied but isn't a known config. Did you mean 'log.retention.check.interval.ms'?");
    expect(c.warnings).toContain("The configuration 'num.partition' was supplied but isn't a known config. Did you mean 'num.partitions'?");
    expect(c.warnings).toContain("The configuration 'totally.unrelated.thing' was supplied but isn't a known config.");
    expect(c.numPartitions).toBe(1);
  });

  it('Kafka\'s own broker properties (a stock server.properties) and listener-prefixed ones are known: no warning', () => {
    const c = build({
      'num.io.threads': '8', 'socket.send.buffer.bytes': '102400', 'node.id': '1', 'controller.quorum.voters': '1@localhost:9093', listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://localhost:9093',
      'listener.name.plaintext.ssl.keystore.location': '/x', 'offsets.topic.replication.factor': '1',
    });
    expect(c.warnings).toEqual([]);
  });
});

describe('environment variables', () => {
  it('SAMSA_<NAME> sets a property; other SAMSA_ switches are left out; a near miss is kept so that it is warned about', () => {
    const env = envToProperties({ SAMSA_NUM_PARTITIONS: '4', SAMSA_CRC32C: 'js', SAMSA_TEST_LOG: 'debug', SAMSA_NUM_PARTITION: '5', PATH: '/bin' });
    expect([...env]).toEqual([['num.partitions', '4'], ['num.partition', '5']]);
    const c = buildConfig(new Map(Object.entries(base)), env);
    expect(c.numPartitions).toBe(4);
    expect(c.warnings).toEqual(["The configuration 'num.partition' was supplied but isn't a known config. Did you mean 'num.partitions'?"]);
  });
});

describe('log.dirs', () => {
  it('every entry is used: all directories in logDirList, metadata in the first', () => {
    const c = build({ 'log.dirs': '/tmp/samsa-a, /tmp/samsa-b' });
    expect(c.logDirList).toEqual(['/tmp/samsa-a', '/tmp/samsa-b']);
    expect(c.logDirs).toBe('/tmp/samsa-a');
  });

  it('a directory named twice or none at all is refused', () => {
    expect(refused({ 'log.dirs': '/tmp/x,/tmp/x' })).toBe('Invalid value /tmp/x,/tmp/x for configuration log.dirs: a directory is named twice');
    expect(refused({ 'log.dirs': ' , ' })).toMatch(/log\.dirs: no directory given/);
  });
});

describe('listeners', () => {
  it('the CONTROLLER listener named in listeners is the controller listener, not a client one', () => {
    const c = build({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:9093', 'controller.listener.names': 'CONTROLLER' });
    expect(c.listeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }]);
    expect(c.controllerListener).toEqual({ name: 'CONTROLLER', host: '127.0.0.1', port: 9093 });
    expect(c.warnings).toEqual([]);
  });

  it('a second client listener is refused, not silently dropped', () => {
    expect(refused({ listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT' })).toMatch(/names 2 client listeners \(PLAINTEXT, INTERNAL\): Samsa serves one/);
  });

  it('SSL / SASL listeners are refused; a name with no security protocol gets Kafka\'s message', () => {
    expect(refused({ listeners: 'SSL://127.0.0.1:0' })).toBe('listener SSL uses security protocol SSL: Samsa serves PLAINTEXT only');
    expect(refused({ listeners: 'SASL_PLAINTEXT://127.0.0.1:0' })).toBe('listener SASL_PLAINTEXT uses security protocol SASL_PLAINTEXT: Samsa serves PLAINTEXT only');
    expect(refused({ listeners: 'EXTERNAL://127.0.0.1:0' })).toBe('No security protocol defined for listener EXTERNAL');
  });

  it('a named listener mapped to PLAINTEXT is served; advertised.listeners must name a listener', () => {
    expect(build({ listeners: 'CLIENT://127.0.0.1:0', 'listener.security.protocol.map': 'CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT', 'inter.broker.listener.name': 'CLIENT' }).listeners[0]!.name).toBe('CLIENT');
    expect(refused({ 'advertised.listeners': 'OTHER://example.com:9092', 'inter.broker.listener.name': 'OTHER' })).toBe(
      'advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found OTHER. The valid options based on the current configuration are PLAINTEXT',
    );
    expect(refused({ listeners: 'PLAINTEXT://127.0.0.1:70000' })).toMatch(/port 70000 is not between 0 and 65535/);
  });
});

describe('cluster (KRaft) properties', () => {
  const voters3 = '1@127.0.0.1:19091,2@127.0.0.1:19092,3@127.0.0.1:19093';
  // Node 2 of `npm run cluster`, as issue 11 starts it by hand.
  const node2 = { 'node.id': '2', 'process.roles': 'broker,controller', 'controller.quorum.voters': voters3, listeners: 'PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:19092', 'controller.listener.names': 'CONTROLLER' };

  it('single-node default: roles broker,controller, node 1 the only voter, CONTROLLER listener on 127.0.0.1:0, Kafka\'s quorum defaults', () => {
    const c = build({});
    expect(c.processRoles).toEqual(['broker', 'controller']);
    expect(c.nodeId).toBe(1);
    expect(c.controllerListener).toEqual({ name: 'CONTROLLER', host: '127.0.0.1', port: 0 });
    expect(c.controllerListenerNames).toEqual(['CONTROLLER']);
    expect(c.interBrokerListenerName).toBe('PLAINTEXT');
    expect(c.quorum).toEqual({
      voters: [{ id: 1, host: '127.0.0.1', port: 0 }], votersConfigured: false, bootstrapServers: [],
      electionTimeoutMs: 1000, fetchTimeoutMs: 2000, electionBackoffMaxMs: 1000, requestTimeoutMs: 2000, retryBackoffMs: 20, appendLingerMs: 25,
    });
    expect([c.brokerSessionTimeoutMs, c.brokerHeartbeatIntervalMs]).toEqual([9000, 2000]);
    expect(c.metadataLog).toEqual({
      dir: '/tmp/samsa-config-test', segmentBytes: 1073741824, segmentMs: 604800000, maxRetentionBytes: 104857600, maxRetentionMs: 604800000,
      snapshotMaxNewRecordBytes: 20971520, snapshotMaxIntervalMs: 3600000, maxIdleIntervalMs: 500,
    });
    expect(c.warnings).toEqual([]);
  });

  it('single node: a CONTROLLER listener named in listeners is used as given, and the single voter sits on it', () => {
    const c = build({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:19099', 'node.id': '4' });
    expect(c.controllerListener).toEqual({ name: 'CONTROLLER', host: '127.0.0.1', port: 19099 });
    expect(c.quorum.voters).toEqual([{ id: 4, host: '127.0.0.1', port: 19099 }]);
  });

  it('node 2 of a three-voter cluster: voters parsed in order, its own CONTROLLER listener, the client listener apart', () => {
    const c = build(node2);
    expect(c.nodeId).toBe(2);
    expect(c.listeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9093 }]);
    expect(c.advertisedListeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9093 }]);
    expect(c.controllerListener).toEqual({ name: 'CONTROLLER', host: '127.0.0.1', port: 19092 });
    expect(c.quorum.votersConfigured).toBe(true);
    expect(c.quorum.voters).toEqual([{ id: 1, host: '127.0.0.1', port: 19091 }, { id: 2, host: '127.0.0.1', port: 19092 }, { id: 3, host: '127.0.0.1', port: 19093 }]);
  });

  it('the timeouts and metadata log properties are read, typed and range-checked', () => {
    const c = build({ 'controller.quorum.election.timeout.ms': '500', 'controller.quorum.fetch.timeout.ms': '900', 'controller.quorum.append.linger.ms': '5', 'broker.session.timeout.ms': '6000', 'broker.heartbeat.interval.ms': '1000', 'metadata.log.dir': '/tmp/samsa-meta', 'metadata.max.idle.interval.ms': '0' });
    expect([c.quorum.electionTimeoutMs, c.quorum.fetchTimeoutMs, c.quorum.appendLingerMs, c.brokerSessionTimeoutMs, c.brokerHeartbeatIntervalMs]).toEqual([500, 900, 5, 6000, 1000]);
    expect(c.metadataLog.dir).toBe('/tmp/samsa-meta');
    expect(c.metadataLog.maxIdleIntervalMs).toBe(0);
    expect(refused({ 'controller.quorum.election.timeout.ms': 'soon' })).toBe('Invalid value soon for configuration controller.quorum.election.timeout.ms: Not a number of type INT');
    expect(refused({ 'controller.quorum.fetch.timeout.ms': '-1' })).toBe('Invalid value -1 for configuration controller.quorum.fetch.timeout.ms: Value must be at least 0');
    expect(refused({ 'metadata.log.max.record.bytes.between.snapshots': '0' })).toBe('Invalid value 0 for configuration metadata.log.max.record.bytes.between.snapshots: Value must be at least 1');
    expect(refused({ 'metadata.log.segment.bytes': '11' })).toBe('Invalid value 11 for configuration metadata.log.segment.bytes: Value must be at least 12');
  });

  it('a heartbeat interval above half the session timeout is Kafka\'s logged error, not a refusal', () => {
    const c = build({ 'broker.heartbeat.interval.ms': '5000' });
    expect(c.warnings).toEqual([
      'broker.heartbeat.interval.ms (5000 ms) must be less than or equal to half of the broker.session.timeout.ms (9000 ms). The broker.session.timeout.ms is configured on controller. ' +
        "The broker.heartbeat.interval.ms is configured on broker. If a broker doesn't send heartbeat request within broker.session.timeout.ms, it loses broker lease. Please increase broker.session.timeout.ms or decrease broker.heartbeat.interval.ms.",
    ]);
  });

  it('process.roles: unknown role, empty, duplicated (Kafka\'s ValidList messages)', () => {
    expect(refused({ 'process.roles': 'broker,zookeeper' })).toBe('Invalid value zookeeper for configuration process.roles: String must be one of: broker, controller');
    expect(refused({ 'process.roles': ' ' })).toBe("Configuration 'process.roles' must not be empty. Valid values include: [broker, controller]");
    expect(refused({ 'process.roles': 'broker,broker' })).toBe("Configuration 'process.roles' values must not be duplicated.");
    expect(build({ 'process.roles': 'controller, broker' }).processRoles).toEqual(['broker', 'controller']);
  });

  it('controller.quorum.voters: malformed entries get Kafka\'s QuorumConfig messages; a voter id given twice is refused', () => {
    const n = { 'node.id': '1', listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:19091' };
    expect(refused({ ...n, 'controller.quorum.voters': '1-127.0.0.1:19091' })).toBe('Invalid configuration value for controller.quorum.voters. Each entry should be in the form `{id}@{host}:{port}`.');
    expect(refused({ ...n, 'controller.quorum.voters': 'one@127.0.0.1:19091' })).toBe('Failed to parse voter ID as an integer from one');
    expect(refused({ ...n, 'controller.quorum.voters': '1@127.0.0.1' })).toBe('Failed to parse host name from entry 1@127.0.0.1 for the configuration controller.quorum.voters. Each entry should be in the form `{id}@{host}:{port}`.');
    expect(refused({ ...n, 'controller.quorum.voters': '1@127.0.0.1:19091,1@127.0.0.1:19092' })).toBe('Duplicate voter id 1 in controller.quorum.voters');
    expect(build({ ...n, 'controller.quorum.voters': '1@[::1]:19091' }).quorum.voters).toEqual([{ id: 1, host: '::1', port: 19091 }]);
  });

  it('controller.quorum.bootstrap.servers: a malformed entry gets Kafka\'s message', () => {
    expect(refused({ 'node.id': '5', 'process.roles': 'broker', 'controller.quorum.bootstrap.servers': 'localhost' })).toBe(
      'Failed to parse host name from localhost for the configuration controller.quorum.bootstrap.servers. Each entry should be in the form "{host}:{port}"',
    );
  });

  it('node.id is required once the node belongs to a cluster (voters or bootstrap servers given)', () => {
    const { 'node.id': _id, ...noId } = node2;
    expect(refused(noId)).toBe('Missing required configuration "node.id" which has no default value.');
    expect(build({ ...noId, 'broker.id': '2' }).nodeId).toBe(2);
  });

  it('a controller must be one of the voters (Kafka\'s message, voter ids as a Scala Set)', () => {
    expect(refused({ ...node2, 'node.id': '4' })).toBe("If process.roles contains the 'controller' role, the node id 4 must be included in the set of voters controller.quorum.voters=Set(1, 2, 3)");
  });

  it('a controller of a configured quorum must have its controller listener in listeners (any name controller.listener.names gives)', () => {
    expect(refused({ ...node2, listeners: 'PLAINTEXT://127.0.0.1:9093' })).toBe("controller.listener.names must contain at least one value appearing in the 'listeners' configuration when running the KRaft controller role");
    expect(build({ ...node2, listeners: 'PLAINTEXT://127.0.0.1:9093,QUORUM://127.0.0.1:19092', 'controller.listener.names': 'QUORUM' }).controllerListener).toEqual({ name: 'QUORUM', host: '127.0.0.1', port: 19092 });
  });

  it('two listeners on one port are refused with Kafka\'s message (port 0 and an IPv4/IPv6 pair excepted)', () => {
    expect(refused({ ...node2, listeners: 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19092' })).toBe(
      'Each listener must have a different port unless exactly one listener has an IPv4 address and the other IPv6 address, listeners: PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19092, port: 19092',
    );
    expect(build({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0' }).controllerListener?.port).toBe(0);
    expect(build({ ...node2, listeners: 'PLAINTEXT://127.0.0.1:9093,CONTROLLER://[::1]:9093' }).controllerListener).toEqual({ name: 'CONTROLLER', host: '::1', port: 9093 });
  });

  it('a voter address that is not the node\'s own controller listener is a start-up warning (the other voters would not reach it)', () => {
    const c = build({ ...node2, listeners: 'PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:19099' });
    expect(c.warnings).toEqual(['controller.quorum.voters gives node 2 the address 127.0.0.1:19092, but its CONTROLLER listener is 127.0.0.1:19099: the other voters will not reach it there']);
    expect(build(node2).warnings).toEqual([]);
  });

  it('a controller has one controller listener name (Samsa\'s limit)', () => {
    expect(refused({ 'controller.listener.names': 'CONTROLLER,QUORUM' })).toBe("controller.listener.names names 2 listeners (CONTROLLER, QUORUM): Samsa's controller serves one");
  });

  it('a controller without voters whose bootstrap servers name other controllers is refused: Samsa runs a static quorum', () => {
    expect(refused({ 'node.id': '1', 'controller.quorum.bootstrap.servers': '127.0.0.1:19091,127.0.0.1:19092', listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:19091' })).toMatch(
      /^controller\.quorum\.voters is empty: Samsa's controllers form a static quorum \(KIP-595\)/,
    );
    expect(refused({ 'node.id': '1', 'controller.quorum.bootstrap.servers': '127.0.0.1:19092', listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:19091' })).toMatch(/^controller\.quorum\.voters is empty/);
  });

  it("Kafka 4's quickstart server.properties (bootstrap servers = the node's own controller listener) is a quorum of one", () => {
    // config/server.properties of Kafka 4.x, as `kafka-storage format --standalone` expects it.
    const c = build({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.bootstrap.servers': 'localhost:9093',
      listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      'advertised.listeners': 'PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093',
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    });
    expect(c.quorum.voters).toEqual([{ id: 1, host: '', port: 9093 }]);
    expect(c.quorum.votersConfigured).toBe(false);
    expect(c.controllerListener).toMatchObject({ name: 'CONTROLLER', port: 9093 });
  });

  it('a broker-only node: accepted with voters (bootstrap servers besides them parsed), no controller listener of its own', () => {
    const c = build({ 'node.id': '4', 'process.roles': 'broker', 'controller.quorum.voters': voters3, listeners: 'PLAINTEXT://127.0.0.1:9095' });
    expect(c.processRoles).toEqual(['broker']);
    expect(c.controllerListener).toBeNull();
    expect(c.quorum.voters.map((v) => v.id)).toEqual([1, 2, 3]);
    const b = build({ 'node.id': '4', 'process.roles': 'broker', 'controller.quorum.voters': voters3, 'controller.quorum.bootstrap.servers': '127.0.0.1:19091,127.0.0.1:19092', listeners: 'PLAINTEXT://127.0.0.1:9095' });
    expect(b.quorum.bootstrapServers).toEqual([{ host: '127.0.0.1', port: 19091 }, { host: '127.0.0.1', port: 19092 }]);
    expect(b.quorum.votersConfigured).toBe(true);
  });

  it('a broker-only node with bootstrap servers alone (KIP-853) is accepted: a node of a cluster, with no voters and no controller listener of its own', () => {
    const c = build({ 'node.id': '4', 'process.roles': 'broker', 'controller.quorum.bootstrap.servers': '127.0.0.1:19091, [::1]:19092', listeners: 'PLAINTEXT://127.0.0.1:9095' });
    expect(c.processRoles).toEqual(['broker']);
    expect(c.controllerListener).toBeNull();
    expect(c.quorum.voters).toEqual([]);
    expect(c.quorum.bootstrapServers).toEqual([{ host: '127.0.0.1', port: 19091 }, { host: '::1', port: 19092 }]);
    // Not the single-node default: the node logs its quorum steps and waits for other brokers as a cluster member.
    expect(c.quorum.votersConfigured).toBe(true);
    // Kafka's rules still hold: node.id required, a controller listener name that is not among its listeners.
    expect(refused({ 'process.roles': 'broker', 'controller.quorum.bootstrap.servers': '127.0.0.1:19091', listeners: 'PLAINTEXT://127.0.0.1:9095' })).toBe('Missing required configuration "node.id" which has no default value.');
    expect(refused({ 'node.id': '4', 'process.roles': 'broker', 'controller.quorum.bootstrap.servers': '127.0.0.1:19091', listeners: 'PLAINTEXT://127.0.0.1:9095,CONTROLLER://127.0.0.1:19094' })).toBe(
      "controller.listener.names must not contain a value appearing in the 'listeners' configuration when running KRaft with just the broker role",
    );
    expect(refused({ 'node.id': '4', 'process.roles': 'broker', 'controller.quorum.bootstrap.servers': '127.0.0.1', listeners: 'PLAINTEXT://127.0.0.1:9095' })).toMatch(/^Failed to parse host name from 127.0.0.1 for the configuration controller.quorum.bootstrap.servers/);
  });

  it('a broker-only node: Kafka\'s refusals', () => {
    const broker = { 'node.id': '4', 'process.roles': 'broker', 'controller.quorum.voters': voters3, listeners: 'PLAINTEXT://127.0.0.1:9095' };
    expect(refused({ 'process.roles': 'broker' })).toBe('If using process.roles, either controller.quorum.bootstrap.servers must contain the set of bootstrap controllers or controller.quorum.voters must contain a parseable set of controllers.');
    expect(refused({ ...broker, 'node.id': '3' })).toBe("If process.roles contains just the 'broker' role, the node id 3 must not be included in the set of voters controller.quorum.voters=Set(1, 2, 3)");
    expect(refused({ ...broker, listeners: 'PLAINTEXT://127.0.0.1:9095,CONTROLLER://127.0.0.1:19094' })).toBe(
      "controller.listener.names must not contain a value appearing in the 'listeners' configuration when running KRaft with just the broker role",
    );
    expect(refused({ ...broker, 'controller.listener.names': '' })).toBe('controller.listener.names must contain at least one value when running KRaft with just the broker role');
    expect(refused({ ...broker, 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT' })).toMatch(/^Controller listener with name CONTROLLER defined in controller.listener.names not found in listener.security.protocol.map /);
  });

  it('an explicit listener.security.protocol.map must map the CONTROLLER listener; unset, it maps to PLAINTEXT', () => {
    expect(refused({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT' })).toBe('No security protocol defined for listener CONTROLLER');
    expect(build({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT' }).controllerListener?.name).toBe('CONTROLLER');
    expect(refused({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:SSL' })).toBe('listener CONTROLLER uses security protocol SSL: Samsa serves PLAINTEXT only');
  });

  it('a broker needs a client listener, and inter.broker.listener.name must be an advertised one', () => {
    expect(refused({ listeners: 'CONTROLLER://127.0.0.1:0' })).toBe('There must be at least one broker advertised listener. Perhaps all listeners appear in controller.listener.names?');
    expect(refused({ 'inter.broker.listener.name': 'INTERNAL' })).toBe('inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are PLAINTEXT');
    expect(refused({ listeners: 'CLIENT://127.0.0.1:0', 'listener.security.protocol.map': 'CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT' })).toBe(
      'inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are CLIENT',
    );
  });

  it('a controller-only node passes Kafka\'s checks first, then is refused as not supported yet', () => {
    const ctl = { 'node.id': '1', 'process.roles': 'controller', 'controller.quorum.voters': '1@127.0.0.1:19091' };
    expect(refused({ ...ctl, listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:19091' })).toBe('The listeners config must only contain KRaft controller listeners from controller.listener.names when process.roles=controller');
    expect(refused({ ...ctl, listeners: 'CONTROLLER://127.0.0.1:19091' })).toBe('process.roles=controller (a controller-only node) is not supported yet: use process.roles=broker,controller');
  });
});

describe('samsa start with a bad property', () => {
  it('exits 1 with Kafka\'s message on stderr, before binding anything', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--override', 'listeners=PLAINTEXT://127.0.0.1:0', '--override', 'log.dirs=/tmp/samsa-never-created', '--override', 'log.retention.check.interval.ms=5m'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((res) => proc.on('exit', res));
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid value 5m for configuration log.retention.check.interval.ms: Not a number of type LONG');
  });
});
