/**
 * The `samsa` commands that talk the Kafka protocol to a running broker (Samsa or Apache Kafka):
 * topic, group, produce, consume and cluster. Tables for people, `--json` for scripts, and exit codes
 * scripts can rely on (ExitCode below, documented in README.md "CLI").
 */
import { createInterface } from 'node:readline';
import { Command, CommanderError, Option } from 'commander';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DeleteGroups } from '../../protocol/messages/delete-groups.js';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { DescribeGroups } from '../../protocol/messages/describe-groups.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { ListGroups } from '../../protocol/messages/list-groups.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { Record, RecordHeader, RecordInput } from '../../protocol/records/record.js';
import { BrokerError, KafkaClient, brokerError, type TopicInfo } from '../client/client.js';
import { ConnectionError, UnsupportedApiError, type BrokerConnection } from '../client/connection.js';
import { GroupMember, decodeAssignment } from '../client/group-member.js';
import { registryValueEncoder } from '../client/avro-values.js';
import { EARLIEST, LATEST, commitOffsets, fetchCommitted, fetchOnce, listOffsets, produce, type CommittedOffset } from '../client/operations.js';
import { partitionForKey } from '../client/partitioner.js';

/** Exit statuses: stable, so scripts can branch on them. */
export const ExitCode = {
  /** Done as asked. */
  OK: 0,
  /** The broker refused or failed the request (unknown topic, topic exists, group not empty, ...). */
  ERROR: 1,
  /** The command line is wrong (unknown command or option, a bad value); nothing was sent. */
  USAGE: 2,
  /** No broker could be reached, or it stopped answering (connection refused, closed, timed out). */
  UNREACHABLE: 3,
} as const;

export interface CliIO {
  stdin: NodeJS.ReadableStream;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Stops a running `consume` (SIGINT in the real command line). */
  signal?: AbortSignal;
}

/** A wrong value on the command line, found after parsing (commander finds the rest). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface GlobalOpts {
  bootstrapServer: string;
  json?: boolean;
  timeout: string;
}

// ------------------------------------------------------------------------------------------------------
// Output

/** Columns padded to their widest cell, two spaces apart, as kafka-consumer-groups.sh and rpk print. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | bigint)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x));
}

function keyValue(s: string, what: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new UsageError(`${what} '${s}' is not key=value`);
  return [s.slice(0, i), s.slice(i + 1)];
}

function intArg(s: string, what: string, min = 0): number {
  if (!/^-?\d+$/.test(s) || Number(s) < min || !Number.isSafeInteger(Number(s))) throw new UsageError(`${what} must be an integer >= ${min}, not '${s}'`);
  return Number(s);
}

/** A time as epoch milliseconds or an ISO-8601 date-time. */
function timeArg(s: string, what: string): bigint {
  if (/^\d+$/.test(s)) return BigInt(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new UsageError(`${what} must be epoch milliseconds or an ISO-8601 time, not '${s}'`);
  return BigInt(t);
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

// ------------------------------------------------------------------------------------------------------
// Registration

/**
 * Adds the client commands to `program`. Each action reports its status through `setExit` instead of
 * exiting, so tests can run them in-process.
 */
export function registerClientCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .option('-b, --bootstrap-server <host:port>', 'broker to connect to (comma-separated list)', '127.0.0.1:9092')
    .option('--json', 'machine-readable output: one JSON document (consume: one per record)')
    .option('--timeout <ms>', 'request timeout in milliseconds', '30000');

  const run =
    <A extends unknown[]>(fn: (client: KafkaClient, g: GlobalOpts, ...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const g = cmd.optsWithGlobals<GlobalOpts>();
      let client: KafkaClient | null = null;
      try {
        client = new KafkaClient({ bootstrap: g.bootstrapServer, timeoutMs: intArg(g.timeout, '--timeout', 1) });
        await fn(client, g, ...args);
      } catch (err) {
        const code =
          err instanceof UsageError ? ExitCode.USAGE : err instanceof ConnectionError ? ExitCode.UNREACHABLE : ExitCode.ERROR;
        const msg = err instanceof Error ? err.message : String(err);
        if (g.json === true) io.stderr.write(`${jsonText({ error: err instanceof BrokerError ? err.code : null, message: msg })}\n`);
        else io.stderr.write(`samsa: ${msg}\n`);
        if (!(err instanceof BrokerError || err instanceof UsageError || err instanceof ConnectionError || err instanceof UnsupportedApiError)) {
          if (err instanceof Error && err.stack !== undefined && process.env.SAMSA_DEBUG === '1') io.stderr.write(`${err.stack}\n`);
        }
        setExit(code);
      } finally {
        await client?.close();
      }
    };
  const out = (s: string): void => void io.stdout.write(s);

  // ---------------------------------------------------------------------------------------------- topic
  const topic = program.command('topic').description('list, create, describe, delete topics and alter their configs');

  topic
    .command('list')
    .description('list topics')
    .option('-i, --internal', 'include internal topics (__consumer_offsets, ...)')
    .action(
      run(async (client, g, opts: { internal?: boolean }) => {
        const md = await client.metadata(null);
        const topics = md.topics
          .filter((t) => opts.internal === true || !t.internal)
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, internal: t.internal }));
        if (g.json === true) out(`${jsonText(topics)}\n`);
        else out(table(['NAME', 'PARTITIONS', 'REPLICAS', 'ID'], topics.map((t) => [t.name, t.partitions, t.replicationFactor, t.topicId])));
      }),
    );

  topic
    .command('create')
    .description('create a topic')
    .argument('<name>')
    .option('-p, --partitions <n>', 'partition count (default: the broker\'s num.partitions)')
    .option('-r, --replication-factor <n>', "replication factor (default: the broker's default.replication.factor)")
    .option('-c, --config <key=value>', 'a topic config, repeatable', collect, [] as string[])
    .option('--validate-only', 'ask the broker to check the request without creating the topic')
    .action(
      run(async (client, g, name: string, opts: { partitions?: string; replicationFactor?: string; config: string[]; validateOnly?: boolean }) => {
        const numPartitions = opts.partitions === undefined ? -1 : intArg(opts.partitions, '--partitions', 1);
        const replicationFactor = opts.replicationFactor === undefined ? -1 : intArg(opts.replicationFactor, '--replication-factor', 1);
        const configs = opts.config.map((c) => keyValue(c, '--config')).map(([k, v]) => ({ name: k, value: v }));
        const conn = await client.controller();
        const { response } = await conn.request(CreateTopics, {
          topics: [{ name, numPartitions, replicationFactor, assignments: [], configs }],
          timeoutMs: client.timeoutMs,
          validateOnly: opts.validateOnly === true,
        });
        const r = response.topics[0];
        if (r === undefined) throw new BrokerError(-1, 'CreateTopics answered no topic');
        if (r.errorCode !== 0) throw brokerError(r.errorCode, `topic ${name}`, r.errorMessage);
        const result = { name, topicId: r.topicId, partitions: r.numPartitions, replicationFactor: r.replicationFactor, validateOnly: opts.validateOnly === true };
        if (g.json === true) out(`${jsonText(result)}\n`);
        else out(table(['TOPIC', 'PARTITIONS', 'REPLICAS', 'STATUS'], [[name, r.numPartitions, r.replicationFactor, opts.validateOnly === true ? 'VALID' : 'CREATED']]));
      }),
    );

  topic
    .command('describe')
    .description('partitions (leader, replicas, ISR, log start and high watermark) and configs of a topic')
    .argument('<name>')
    .option('-a, --all-configs', 'list every config, defaults included (default: only those set on the topic or broker)')
    .action(
      run(async (client, g, name: string, opts: { allConfigs?: boolean }) => {
        const t = await client.topic(name);
        const parts = t.partitions.map((p) => p.partition);
        const [starts, ends] = await Promise.all([listOffsets(client, t, parts, EARLIEST), listOffsets(client, t, parts, LATEST)]);
        const conn = await client.any();
        const { response: dc } = await conn.request(DescribeConfigs, {
          resources: [{ resourceType: 2, resourceName: name, configurationKeys: null }],
          includeSynonyms: false,
          includeDocumentation: false,
        });
        const res = dc.results[0];
        if (res !== undefined && res.errorCode !== 0) throw brokerError(res.errorCode, `configs of ${name}`, res.errorMessage);
        // ConfigSource 5 is DEFAULT_CONFIG (KIP-226): the built-in default, set nowhere.
        const configs = (res?.configs ?? [])
          .filter((c) => opts.allConfigs === true || (c.configSource !== 5 && !(c.configSource === -1 && c.isDefault)))
          .map((c) => ({ name: c.name, value: c.isSensitive ? null : c.value, source: configSourceName(c.configSource), readOnly: c.readOnly, sensitive: c.isSensitive }))
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        const partitions = t.partitions.map((p) => ({
          partition: p.partition,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offline,
          logStartOffset: starts.get(p.partition) ?? -1n,
          highWatermark: ends.get(p.partition) ?? -1n,
        }));
        if (g.json === true) {
          out(`${jsonText({ name, topicId: t.topicId, internal: t.internal, partitions, configs })}\n`);
          return;
        }
        out(`TOPIC ${name}  ID ${t.topicId}  PARTITIONS ${partitions.length}  REPLICAS ${partitions[0]?.replicas.length ?? 0}${t.internal ? '  INTERNAL' : ''}\n\n`);
        out(
          table(
            ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'HIGH-WATERMARK'],
            partitions.map((p) => [p.partition, p.leader, p.leaderEpoch, p.replicas.join(','), p.isr.join(','), p.logStartOffset, p.highWatermark]),
          ),
        );
        if (configs.length > 0) out(`\n${table(['CONFIG', 'VALUE', 'SOURCE'], configs.map((c) => [c.name, c.value ?? '(sensitive)', c.source]))}`);
      }),
    );

  topic
    .command('delete')
    .description('delete topics')
    .argument('<names...>')
    .action(
      run(async (client, g, names: string[]) => {
        const conn = await client.controller();
        const { response } = await conn.request(DeleteTopics, { topicNames: names, topics: names.map((n) => ({ name: n })), timeoutMs: client.timeoutMs });
        const results = response.responses.map((r) => ({ name: r.name ?? '', errorCode: r.errorCode, error: r.errorCode === 0 ? null : brokerError(r.errorCode, `topic ${r.name}`, r.errorMessage).message }));
        if (g.json === true) out(`${jsonText(results)}\n`);
        else out(table(['TOPIC', 'STATUS'], results.map((r) => [r.name, r.error ?? 'DELETED'])));
        if (results.some((r) => r.errorCode !== 0)) setExit(ExitCode.ERROR);
      }),
    );

  topic
    .command('alter-config')
    .description("set or remove a topic's configs (IncrementalAlterConfigs)")
    .argument('<name>')
    .option('-s, --set <key=value>', 'set a config, repeatable', collect, [] as string[])
    .option('-d, --delete <key>', 'remove a config (back to the broker default), repeatable', collect, [] as string[])
    .action(
      run(async (client, g, name: string, opts: { set: string[]; delete: string[] }) => {
        if (opts.set.length === 0 && opts.delete.length === 0) throw new UsageError('alter-config needs --set or --delete');
        const configs = [
          ...opts.set.map((s) => keyValue(s, '--set')).map(([k, v]) => ({ name: k, configOperation: 0, value: v as string | null })),
          ...opts.delete.map((k) => ({ name: k, configOperation: 1, value: null })),
        ];
        const conn = await client.any();
        const { response } = await conn.request(IncrementalAlterConfigs, { resources: [{ resourceType: 2, resourceName: name, configs }], validateOnly: false });
        const r = response.responses[0];
        if (r === undefined) throw new BrokerError(-1, 'IncrementalAlterConfigs answered no resource');
        if (r.errorCode !== 0) throw brokerError(r.errorCode, `configs of ${name}`, r.errorMessage);
        if (g.json === true) out(`${jsonText({ name, set: Object.fromEntries(opts.set.map((s) => keyValue(s, '--set'))), deleted: opts.delete })}\n`);
        else out(table(['TOPIC', 'CONFIG', 'STATUS'], configs.map((c) => [name, c.configOperation === 0 ? `${c.name}=${c.value}` : c.name, c.configOperation === 0 ? 'SET' : 'DELETED'])));
      }),
    );

  // ---------------------------------------------------------------------------------------------- group
  const group = program.command('group').description('list, describe (with lag), reset offsets of and delete consumer groups');

  group
    .command('list')
    .description('list consumer groups (asks every broker: each lists the groups it coordinates)')
    .action(
      run(async (client, g) => {
        const md = await client.metadata([]);
        const groups: { group: string; state: string; protocolType: string; coordinator: number }[] = [];
        for (const b of md.brokers) {
          const conn = await client.node(b.nodeId);
          const { response } = await conn.request(ListGroups, { statesFilter: [], typesFilter: [] });
          if (response.errorCode !== 0) throw brokerError(response.errorCode, `ListGroups on broker ${b.nodeId}`);
          for (const x of response.groups) groups.push({ group: x.groupId, state: x.groupState, protocolType: x.protocolType, coordinator: b.nodeId });
        }
        groups.sort((a, b) => (a.group < b.group ? -1 : 1));
        if (g.json === true) out(`${jsonText(groups)}\n`);
        else out(table(['GROUP', 'STATE', 'PROTOCOL-TYPE', 'COORDINATOR'], groups.map((x) => [x.group, x.state, x.protocolType, x.coordinator])));
      }),
    );

  group
    .command('describe')
    .description('state, members, and per partition the committed offset, log end offset and lag')
    .argument('<group>')
    .action(
      run(async (client, g, groupId: string) => {
        const d = await describeGroup(client, groupId);
        if (d.state === 'Dead' && d.offsets.length === 0) throw brokerError(69, `group ${groupId}`, `consumer group '${groupId}' does not exist`);
        if (g.json === true) {
          out(`${jsonText(d)}\n`);
          return;
        }
        out(`GROUP ${groupId}  STATE ${d.state}  PROTOCOL ${d.protocol || '-'}  MEMBERS ${d.members.length}\n\n`);
        out(
          table(
            ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
            d.offsets.map((o) => [o.topic, o.partition, o.committedOffset ?? '-', o.logEndOffset, o.lag ?? '-', o.memberId ?? '-', o.host ?? '-', o.clientId ?? '-']),
          ),
        );
      }),
    );

  group
    .command('reset-offsets')
    .description("set an inactive group's committed offsets (dry run unless --execute, as kafka-consumer-groups)")
    .argument('<group>')
    .option('-t, --topic <topic>', 'a topic whose offsets to reset, repeatable', collect, [] as string[])
    .option('--all-topics', 'every topic the group has committed offsets for')
    .option('-p, --partition <n>', 'only this partition, repeatable', collect, [] as string[])
    .addOption(new Option('--to-earliest', 'to the log start offset'))
    .addOption(new Option('--to-latest', 'to the log end offset'))
    .option('--to-offset <n>', 'to this offset (clamped to the log start and end, as Kafka does)')
    .option('--to-datetime <time>', 'to the first offset at or after this time (ISO-8601 or epoch ms)')
    .option('--shift-by <n>', 'move the committed offset by n (negative: back), clamped')
    .option('--execute', 'commit the new offsets (without it, only print them)')
    .action(
      run(
        async (
          client,
          g,
          groupId: string,
          opts: { topic: string[]; allTopics?: boolean; partition: string[]; toEarliest?: boolean; toLatest?: boolean; toOffset?: string; toDatetime?: string; shiftBy?: string; execute?: boolean },
        ) => {
          const modes = [opts.toEarliest, opts.toLatest, opts.toOffset, opts.toDatetime, opts.shiftBy].filter((x) => x !== undefined);
          if (modes.length !== 1) throw new UsageError('reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by');
          if (opts.topic.length === 0 && opts.allTopics !== true) throw new UsageError('reset-offsets needs --topic or --all-topics');
          const onlyPartitions = opts.partition.map((p) => intArg(p, '--partition'));
          const d = await describeGroup(client, groupId);
          if (d.state !== 'Empty' && d.state !== 'Dead') {
            throw brokerError(68, `group ${groupId}`, `assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${d.state}`);
          }
          const committed = await fetchCommitted(client, groupId);
          const topics = opts.allTopics === true ? [...new Set(committed.map((c) => c.topic))] : opts.topic;
          const plan: { topic: string; partition: number; offset: bigint }[] = [];
          for (const name of topics) {
            const t = await client.topic(name);
            const parts = t.partitions.map((p) => p.partition).filter((p) => onlyPartitions.length === 0 || onlyPartitions.includes(p));
            const [starts, ends] = await Promise.all([listOffsets(client, t, parts, EARLIEST), listOffsets(client, t, parts, LATEST)]);
            const byTime = opts.toDatetime !== undefined ? await listOffsets(client, t, parts, timeArg(opts.toDatetime, '--to-datetime')) : null;
            for (const p of parts) {
              const lo = starts.get(p)!;
              const hi = ends.get(p)!;
              const current = committed.find((c) => c.topic === name && c.partition === p)?.offset;
              let target: bigint;
              if (opts.toEarliest === true) target = lo;
              else if (opts.toLatest === true) target = hi;
              else if (opts.toOffset !== undefined) target = BigInt(intArg(opts.toOffset, '--to-offset'));
              else if (byTime !== null) target = byTime.get(p)!;
              else target = (current ?? lo) + BigInt(intArg(opts.shiftBy!, '--shift-by', Number.MIN_SAFE_INTEGER));
              plan.push({ topic: name, partition: p, offset: target < lo ? lo : target > hi ? hi : target });
            }
          }
          if (opts.execute === true && plan.length > 0) await commitOffsets(client, groupId, plan);
          if (g.json === true) out(`${jsonText({ group: groupId, executed: opts.execute === true, offsets: plan })}\n`);
          else {
            out(table(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], plan.map((x) => [groupId, x.topic, x.partition, x.offset])));
            if (opts.execute !== true) io.stderr.write('(dry run: add --execute to commit these offsets)\n');
          }
        },
      ),
    );

  group
    .command('delete')
    .description('delete consumer groups (they must have no members)')
    .argument('<groups...>')
    .action(
      run(async (client, g, groups: string[]) => {
        const results: { group: string; errorCode: number; error: string | null }[] = [];
        for (const id of groups) {
          const response = await client.withCoordinator(id, async (conn) => {
            const { response: r } = await conn.request(DeleteGroups, { groupsNames: [id] });
            const code = r.results[0]?.errorCode ?? 0;
            if (code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR) throw brokerError(code, `group ${id}`);
            return r;
          });
          for (const r of response.results) results.push({ group: r.groupId, errorCode: r.errorCode, error: r.errorCode === 0 ? null : brokerError(r.errorCode, `group ${r.groupId}`).message });
        }
        if (g.json === true) out(`${jsonText(results)}\n`);
        else out(table(['GROUP', 'STATUS'], results.map((r) => [r.group, r.error ?? 'DELETED'])));
        if (results.some((r) => r.errorCode !== 0)) setExit(ExitCode.ERROR);
      }),
    );

  // -------------------------------------------------------------------------------------------- produce
  program
    .command('produce')
    .description('produce stdin lines as records, one per line')
    .argument('<topic>')
    .option('-k, --key-separator <sep>', 'split each line at the first <sep>: key before, value after')
    .option('-H, --header <key=value>', 'a header on every record, repeatable', collect, [] as string[])
    .option('-p, --partition <n>', 'produce to this partition (default: by key hash as Kafka, keyless round-robin per batch)')
    .option('--acks <acks>', '0, 1 or -1 (all)', '-1')
    .option('--batch-size <n>', 'records per produce request', '1000')
    .option('--schema-registry <url>', 'encode each value with a schema from this registry, in Confluent\'s wire format: a line of Avro JSON (AVRO schema) or of JSON (JSON schema, validated)')
    .option('--value-subject <subject>', 'with --schema-registry: the subject whose latest schema encodes values (default: <topic>-value)')
    .option('--value-schema-id <id>', 'with --schema-registry: the schema id that encodes values')
    .action(
      run(async (client, g, topicName: string, opts: { keySeparator?: string; header: string[]; partition?: string; acks: string; batchSize: string; schemaRegistry?: string; valueSubject?: string; valueSchemaId?: string }) => {
        if (opts.schemaRegistry === undefined && (opts.valueSubject !== undefined || opts.valueSchemaId !== undefined)) throw new UsageError('--value-subject and --value-schema-id need --schema-registry');
        if (opts.valueSubject !== undefined && opts.valueSchemaId !== undefined) throw new UsageError('give --value-subject or --value-schema-id, not both');
        const encoder =
          opts.schemaRegistry === undefined
            ? null
            : await registryValueEncoder(opts.schemaRegistry, opts.valueSchemaId !== undefined ? { id: intArg(opts.valueSchemaId, '--value-schema-id', 1) } : { subject: opts.valueSubject ?? `${topicName}-value` });
        let lineNumber = 0;
        const headers: RecordHeader[] = opts.header.map((h) => keyValue(h, '--header')).map(([k, v]) => ({ key: k, value: Buffer.from(v, 'utf8') }));
        const acks = Number(opts.acks);
        if (![0, 1, -1].includes(acks) || !/^-?\d$/.test(opts.acks)) throw new UsageError(`--acks must be 0, 1 or -1, not '${opts.acks}'`);
        const batchSize = intArg(opts.batchSize, '--batch-size', 1);
        const fixed = opts.partition === undefined ? null : intArg(opts.partition, '--partition');
        if (opts.keySeparator === '') throw new UsageError('--key-separator must not be empty');
        const t = await client.topic(topicName);
        const count = t.partitions.length;
        if (fixed !== null && !t.partitions.some((p) => p.partition === fixed)) throw brokerError(3, `partition ${topicName}-${fixed}`);
        let roundRobin = 0;
        let produced = 0;
        let pending: RecordInput[] = [];
        const flush = async (): Promise<void> => {
          if (pending.length === 0) return;
          const byPartition = new Map<number, RecordInput[]>();
          // Keyless records of one flush go to one partition, the next flush to the next (a sticky
          // partitioner, KIP-480, in its simplest form).
          const sticky = roundRobin++ % count;
          for (const r of pending) {
            const p = fixed ?? (r.key != null ? partitionForKey(r.key, count) : sticky);
            const list = byPartition.get(p) ?? [];
            list.push(r);
            byPartition.set(p, list);
          }
          pending = [];
          const results = await produce(client, t, byPartition, { acks, timeoutMs: client.timeoutMs });
          for (const r of results) {
            produced += r.count;
            if (g.json === true) out(`${jsonText({ topic: topicName, partition: r.partition, baseOffset: r.baseOffset, count: r.count })}\n`);
          }
        };
        const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
        for await (const line of lines) {
          let key: Buffer | null = null;
          let value = line;
          if (opts.keySeparator !== undefined) {
            const i = line.indexOf(opts.keySeparator);
            if (i >= 0) {
              key = Buffer.from(line.slice(0, i), 'utf8');
              value = line.slice(i + opts.keySeparator.length);
            }
          }
          lineNumber++;
          pending.push({ key, value: encoder === null ? Buffer.from(value, 'utf8') : encoder.encode(value, lineNumber), headers });
          if (pending.length >= batchSize) await flush();
        }
        await flush();
        if (g.json !== true) io.stderr.write(`produced ${produced} records to ${topicName}\n`);
      }),
    );

  // -------------------------------------------------------------------------------------------- consume
  program
    .command('consume')
    .description('print records of a topic (kcat-style format templates)')
    .argument('<topic>')
    .option('-o, --offset <where>', 'start at earliest, latest, an offset N, or -N (N before the end)', 'earliest')
    .option('--from-timestamp <time>', 'start at the first record at or after this time (ISO-8601 or epoch ms)')
    .option('-g, --group <group>', 'consume as a member of this group: partitions assigned by it, start at its committed offsets, commit as it goes')
    .option('-p, --partition <n>', 'read only this partition, repeatable (assign mode, no group)', collect, [] as string[])
    .option('-f, --format <template>', 'per record: %t topic, %p partition, %o offset, %k key, %s value, %K/%S their lengths, %T timestamp, %h headers, %%, \\n, \\t', '%s\\n')
    .option('-e, --exit', 'exit when the end of every partition is reached')
    .option('-c, --count <n>', 'exit after n records')
    .action(
      run(async (client, g, topicName: string, opts: { offset: string; fromTimestamp?: string; group?: string; partition: string[]; format: string; exit?: boolean; count?: string }) => {
        const limit = opts.count === undefined ? Infinity : intArg(opts.count, '--count', 1);
        const start = parseStart(opts.offset, opts.fromTimestamp);
        if (opts.group !== undefined && opts.partition.length > 0) throw new UsageError('--group and --partition do not go together (a group assigns partitions)');
        const t = await client.topic(topicName);
        const member = opts.group === undefined ? null : new GroupMember(client, opts.group, topicName, t.partitions.length);
        let printed = 0;
        const positions = new Map<number, bigint>();
        const uncommitted = new Map<number, bigint>();
        const assign = async (): Promise<void> => {
          let parts: number[];
          positions.clear();
          if (member !== null) {
            parts = await member.join();
            const committed = (await fetchCommitted(client, member.group)).filter((c) => c.topic === topicName);
            for (const c of committed) if (parts.includes(c.partition)) positions.set(c.partition, c.offset);
            parts = parts.filter((p) => !positions.has(p));
          } else {
            parts = opts.partition.length > 0 ? opts.partition.map((p) => intArg(p, '--partition')) : t.partitions.map((p) => p.partition);
            for (const p of parts) if (!t.partitions.some((x) => x.partition === p)) throw brokerError(3, `partition ${topicName}-${p}`);
          }
          for (const [p, o] of await startOffsets(client, t, parts, start)) positions.set(p, o);
        };
        const commit = async (): Promise<void> => {
          if (member === null || uncommitted.size === 0) return;
          const offsets = [...uncommitted].map(([partition, offset]) => ({ topic: topicName, partition, offset }));
          uncommitted.clear();
          await commitOffsets(client, member.group, offsets, { generationId: member.generationId, memberId: member.memberId });
        };
        await assign();
        const atEnd = new Set<number>();
        let lastCommit = Date.now();
        try {
          while (printed < limit && io.signal?.aborted !== true) {
            if (member?.rebalanceNeeded === true) {
              await commit().catch(() => undefined);
              await assign();
              atEnd.clear();
            }
            if (positions.size === 0) {
              if (opts.exit === true) break;
              // A member with no partitions waits for a rebalance that may give it some.
              await new Promise((r) => setTimeout(r, 500));
              continue;
            }
            const fetched = await fetchOnce(client, t, positions, { maxWaitMs: opts.exit === true ? 100 : 500 });
            fetched.sort((a, b) => a.partition - b.partition);
            for (const f of fetched) {
              for (const r of f.records) {
                if (printed >= limit) break;
                out(g.json === true ? `${jsonText(recordJson(topicName, f.partition, r))}\n` : formatRecord(opts.format, topicName, f.partition, r));
                printed++;
                positions.set(f.partition, BigInt(r.offset) + 1n);
                uncommitted.set(f.partition, BigInt(r.offset) + 1n);
              }
              if (printed < limit) positions.set(f.partition, f.nextOffset > positions.get(f.partition)! ? f.nextOffset : positions.get(f.partition)!);
              if (positions.get(f.partition)! >= f.highWatermark) atEnd.add(f.partition);
              else atEnd.delete(f.partition);
            }
            if (opts.exit === true && [...positions.keys()].every((p) => atEnd.has(p))) break;
            if (Date.now() - lastCommit >= 5000) {
              await commit();
              lastCommit = Date.now();
            }
          }
          await commit();
        } finally {
          await member?.leave().catch(() => undefined);
        }
      }),
    );

  // -------------------------------------------------------------------------------------------- cluster
  const cluster = program.command('cluster').description('the cluster: brokers, controller, cluster id, KRaft quorum');
  cluster
    .command('info')
    .description('cluster id, controller, brokers and the KRaft metadata quorum')
    .action(
      run(async (client, g) => {
        const md = await client.metadata([]);
        let clusterId = md.clusterId;
        let controllerId = md.controllerId;
        let brokers = md.brokers;
        const conn = await client.any();
        // DescribeCluster (KIP-700) names the active controller where Metadata may name any broker (KRaft).
        let describe: boolean;
        try {
          conn.versionFor(DescribeCluster);
          describe = true;
        } catch {
          describe = false;
        }
        if (describe) {
          const { response } = await conn.request(DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 });
          if (response.errorCode !== 0) throw brokerError(response.errorCode, 'DescribeCluster', response.errorMessage);
          clusterId = response.clusterId;
          controllerId = response.controllerId;
          brokers = response.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId);
        }
        const quorum = await describeQuorum(conn);
        if (g.json === true) out(`${jsonText({ clusterId, controllerId, brokers, quorum })}\n`);
        else {
          out(`CLUSTER ${clusterId ?? '-'}  CONTROLLER ${controllerId}\n\n`);
          out(table(['ID', 'HOST', 'PORT', 'RACK', 'CONTROLLER'], brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? '-', b.nodeId === controllerId ? 'yes' : ''])));
          if (quorum === null) out('\nQUORUM none (the broker does not describe a KRaft quorum)\n');
          else {
            // The columns of kafka-metadata-quorum.sh describe --status and --replication.
            out(`\nQUORUM LEADER ${quorum.leaderId}  EPOCH ${quorum.leaderEpoch}  HIGH-WATERMARK ${quorum.highWatermark}\n\n`);
            const row = (r: QuorumReplica): (string | number)[] => [r.nodeId, r.status, r.logEndOffset, r.lag, r.lastFetchTimestamp < 0 ? '-' : r.lastFetchTimestamp, r.lastCaughtUpTimestamp < 0 ? '-' : r.lastCaughtUpTimestamp];
            out(table(['NODE-ID', 'STATUS', 'LOG-END-OFFSET', 'LAG', 'LAST-FETCH-TIMESTAMP', 'LAST-CAUGHT-UP-TIMESTAMP'], [...quorum.voters, ...quorum.observers].map(row)));
          }
        }
      }),
    );
}

export interface QuorumReplica {
  nodeId: number;
  /** Leader, Follower or Observer, as kafka-metadata-quorum.sh describe --replication prints it. */
  status: 'Leader' | 'Follower' | 'Observer';
  logEndOffset: number;
  /** The leader's log end offset minus this replica's (kafka-metadata-quorum.sh's Lag). */
  lag: number;
  /** Epoch ms; -1 when unknown (DescribeQuorum v0, or never fetched). */
  lastFetchTimestamp: number;
  lastCaughtUpTimestamp: number;
}

export interface QuorumInfo {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  voters: QuorumReplica[];
  observers: QuorumReplica[];
}

/**
 * The KRaft quorum of __cluster_metadata-0 (DescribeQuorum, KIP-595/836, what kafka-metadata-quorum.sh
 * --bootstrap-server sends; a broker forwards it to the controllers). Null from a broker without one: not
 * advertising the API, or answering UNSUPPORTED_VERSION. Samsa's single node is a quorum of one voter.
 */
async function describeQuorum(conn: BrokerConnection): Promise<QuorumInfo | null> {
  try {
    conn.versionFor(DescribeQuorum);
  } catch (err) {
    if (err instanceof UnsupportedApiError) return null;
    throw err;
  }
  const { response } = await conn.request(DescribeQuorum, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
  if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) return null;
  if (response.errorCode !== 0) throw brokerError(response.errorCode, 'DescribeQuorum', response.errorMessage);
  const p = response.topics[0]?.partitions[0];
  if (p === undefined) throw new Error('DescribeQuorum: no __cluster_metadata-0 in the answer');
  if (p.errorCode !== 0) throw brokerError(p.errorCode, 'DescribeQuorum __cluster_metadata-0', p.errorMessage);
  const leaderEnd = Number(p.currentVoters.find((v) => v.replicaId === p.leaderId)?.logEndOffset ?? -1n);
  const replica = (status: QuorumReplica['status']) => (r: (typeof p.currentVoters)[number]): QuorumReplica => ({
    nodeId: r.replicaId,
    status: status === 'Follower' && r.replicaId === p.leaderId ? 'Leader' : status,
    logEndOffset: Number(r.logEndOffset),
    lag: leaderEnd < 0 || r.logEndOffset < 0n ? -1 : leaderEnd - Number(r.logEndOffset),
    lastFetchTimestamp: Number(r.lastFetchTimestamp),
    lastCaughtUpTimestamp: Number(r.lastCaughtUpTimestamp),
  });
  return {
    leaderId: p.leaderId,
    leaderEpoch: p.leaderEpoch,
    highWatermark: Number(p.highWatermark),
    voters: p.currentVoters.map(replica('Follower')).sort((a, b) => a.nodeId - b.nodeId),
    observers: p.observers.map(replica('Observer')).sort((a, b) => a.nodeId - b.nodeId),
  };
}

function configSourceName(source: number): string {
  // DescribeConfigsResponse ConfigSource values (KIP-226).
  return ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG', 'GROUP_CONFIG'][source] ?? String(source);
}

// ------------------------------------------------------------------------------------------------------
// Group description with lag

export interface GroupOffsetRow {
  topic: string;
  partition: number;
  committedOffset: bigint | null;
  logEndOffset: bigint;
  lag: bigint | null;
  memberId: string | null;
  host: string | null;
  clientId: string | null;
}

export interface GroupDescription {
  group: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; clientId: string; host: string; assignment: { topic: string; partitions: number[] }[] }[];
  offsets: GroupOffsetRow[];
}

/**
 * DescribeGroups and OffsetFetch at the coordinator, then ListOffsets (latest) at each leader: lag is the
 * log end offset minus the committed offset, as kafka-consumer-groups.sh computes it. Partitions assigned to
 * a member without a commit are listed with no offset and no lag.
 */
async function describeGroup(client: KafkaClient, groupId: string): Promise<GroupDescription> {
  const dg = await client.withCoordinator(groupId, async (conn) => {
    const { response } = await conn.request(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
    const d = response.groups[0];
    if (d === undefined) throw new BrokerError(-1, 'DescribeGroups answered no group');
    if (d.errorCode !== 0) throw brokerError(d.errorCode, `group ${groupId}`);
    return d;
  });
  const members = dg.members.map((m) => {
    let assignment: Map<string, number[]>;
    try {
      assignment = dg.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : new Map();
    } catch {
      assignment = new Map();
    }
    return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: [...assignment].map(([topic, partitions]) => ({ topic, partitions })) };
  });
  const committed: CommittedOffset[] = await fetchCommitted(client, groupId);
  const rows = new Map<string, GroupOffsetRow>();
  const keyOf = (topic: string, p: number): string => `${topic}\u0000${p}`;
  for (const c of committed) rows.set(keyOf(c.topic, c.partition), { topic: c.topic, partition: c.partition, committedOffset: c.offset, logEndOffset: -1n, lag: null, memberId: null, host: null, clientId: null });
  for (const m of members) {
    for (const a of m.assignment) {
      for (const p of a.partitions) {
        const row = rows.get(keyOf(a.topic, p)) ?? { topic: a.topic, partition: p, committedOffset: null, logEndOffset: -1n, lag: null, memberId: null, host: null, clientId: null };
        row.memberId = m.memberId;
        row.host = m.host;
        row.clientId = m.clientId;
        rows.set(keyOf(a.topic, p), row);
      }
    }
  }
  const byTopic = new Map<string, GroupOffsetRow[]>();
  for (const r of rows.values()) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  for (const [name, list] of byTopic) {
    let t: TopicInfo;
    try {
      t = await client.topic(name);
    } catch (err) {
      if (err instanceof BrokerError) continue; // offsets of a deleted topic: no end offset, no lag
      throw err;
    }
    const existing = list.filter((r) => t.partitions.some((p) => p.partition === r.partition)).map((r) => r.partition);
    const ends = await listOffsets(client, t, existing, LATEST);
    for (const r of list) {
      const end = ends.get(r.partition);
      if (end === undefined) continue;
      r.logEndOffset = end;
      if (r.committedOffset !== null) r.lag = end > r.committedOffset ? end - r.committedOffset : 0n;
    }
  }
  const offsets = [...rows.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return { group: groupId, state: dg.groupState, protocolType: dg.protocolType, protocol: dg.protocolData, members, offsets };
}

// ------------------------------------------------------------------------------------------------------
// Consume helpers

type Start = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'fromEnd'; back: bigint } | { kind: 'time'; ms: bigint };

function parseStart(offset: string, fromTimestamp: string | undefined): Start {
  if (fromTimestamp !== undefined) return { kind: 'time', ms: timeArg(fromTimestamp, '--from-timestamp') };
  if (offset === 'earliest' || offset === 'beginning') return { kind: 'earliest' };
  if (offset === 'latest' || offset === 'end') return { kind: 'latest' };
  if (/^\d+$/.test(offset)) return { kind: 'offset', offset: BigInt(offset) };
  if (/^-\d+$/.test(offset)) return { kind: 'fromEnd', back: -BigInt(offset) };
  throw new UsageError(`--offset must be earliest, latest, N or -N, not '${offset}'`);
}

async function startOffsets(client: KafkaClient, t: TopicInfo, parts: number[], start: Start): Promise<Map<number, bigint>> {
  if (parts.length === 0) return new Map();
  switch (start.kind) {
    case 'earliest':
      return listOffsets(client, t, parts, EARLIEST);
    case 'latest':
      return listOffsets(client, t, parts, LATEST);
    case 'time':
      return listOffsets(client, t, parts, start.ms);
    case 'offset':
    case 'fromEnd': {
      const [lo, hi] = await Promise.all([listOffsets(client, t, parts, EARLIEST), listOffsets(client, t, parts, LATEST)]);
      const out = new Map<number, bigint>();
      for (const p of parts) {
        const want = start.kind === 'offset' ? start.offset : hi.get(p)! - start.back;
        out.set(p, want < lo.get(p)! ? lo.get(p)! : want > hi.get(p)! ? hi.get(p)! : want);
      }
      return out;
    }
  }
}

function text(b: Buffer | null): string {
  return b === null ? '' : b.toString('utf8');
}

function recordJson(topic: string, partition: number, r: Record): object {
  return {
    topic,
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('utf8'),
    value: r.value === null ? null : r.value.toString('utf8'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
  };
}

/** kcat's -f tokens: %t %p %o %k %s %K %S %T %h %%, and the escapes \n \t \r \\. */
export function formatRecord(template: string, topic: string, partition: number, r: Record): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    const n = template[i + 1];
    if (c === '%' && n !== undefined) {
      i++;
      switch (n) {
        case 't': out += topic; break;
        case 'p': out += String(partition); break;
        case 'o': out += String(r.offset); break;
        case 'k': out += text(r.key); break;
        case 's': out += text(r.value); break;
        case 'K': out += String(r.key === null ? -1 : r.key.length); break;
        case 'S': out += String(r.value === null ? -1 : r.value.length); break;
        case 'T': out += String(r.timestamp); break;
        case 'h': out += r.headers.map((h) => `${h.key}=${text(h.value)}`).join(','); break;
        case '%': out += '%'; break;
        default: out += `%${n}`;
      }
    } else if (c === '\\' && n !== undefined) {
      i++;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '\\' ? '\\' : `\\${n}`;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Runs the client commands in-process with `argv` (without the node and script names) and returns the exit
 * status: the entry point tests use, and what `samsa` itself runs for these commands.
 */
export async function runClientCli(argv: readonly string[], io: CliIO): Promise<number> {
  const program = new Command();
  let status: number = ExitCode.OK;
  program
    .name('samsa')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
  registerClientCommands(program, io, (code) => {
    status = code;
  });
  applyExitOverride(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return usageStatus(err);
    throw err;
  }
  return status;
}

/** Commander's own errors (unknown option, missing argument) are usage errors; help and version are not. */
export function usageStatus(err: CommanderError): number {
  return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' || err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
}

/** exitOverride on every subcommand, so a usage error anywhere reaches the caller instead of exiting. */
export function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const c of cmd.commands) applyExitOverride(c);
}
