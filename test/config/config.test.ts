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
    const c = build({ 'num.io.threads': '8', 'socket.send.buffer.bytes': '102400', 'controller.quorum.voters': '1@localhost:9093', 'listener.name.plaintext.ssl.keystore.location': '/x', 'offsets.topic.replication.factor': '1' });
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
  it('a controller listener (controller.listener.names) is noted as not opened; the client listener is served', () => {
    const c = build({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:9093', 'controller.listener.names': 'CONTROLLER' });
    expect(c.listeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }]);
    expect(c.warnings.some((w) => w.startsWith('listener CONTROLLER://127.0.0.1:9093 is a controller listener'))).toBe(true);
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
    expect(build({ listeners: 'CLIENT://127.0.0.1:0', 'listener.security.protocol.map': 'CLIENT:PLAINTEXT' }).listeners[0]!.name).toBe('CLIENT');
    expect(refused({ 'advertised.listeners': 'OTHER://example.com:9092' })).toMatch(/^advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found OTHER/);
    expect(refused({ listeners: 'PLAINTEXT://127.0.0.1:70000' })).toMatch(/port 70000 is not between 0 and 65535/);
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
