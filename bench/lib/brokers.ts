/**
 * Starting and stopping the two brokers the same way: each in a fresh directory under the same root (so
 * both logs live on the same medium), listening on 127.0.0.1 at a free port, logging warnings to a file
 * beside its data, stopped with SIGTERM (then SIGKILL after a grace period).
 *
 * Samsa runs as `node --import tsx src/cli/main.ts start --override ...`, as conformance/lib.sh starts it.
 * Kafka runs as kafka-server-start.sh would: storage formatted first with kafka.tools.StorageTool, then
 * `java <the script's default JVM options> kafka.Kafka server.properties`, KRaft, one node with both roles.
 * The process we spawn is the broker itself (no wrapper), so /proc/<pid>/status is the broker's memory.
 *
 * `--cluster` (issue 12) starts three combined nodes (process.roles=broker,controller) of each instead,
 * each with its own node.id, data directory and free client and controller ports, the controller quorum
 * named statically by controller.quorum.voters. Samsa's nodes are started as `npm run cluster` starts them
 * (scripts/cluster.mjs, Kafka's property names); Kafka's storage is formatted on every node with one shared
 * cluster id. The handle then stands for the three processes: its pids, log files, exit and stop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unusedPort as freePort } from '../../faults/ports.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { KafkaDist } from './kafka-dist.js';
import { CACHE_DIR, REPO_ROOT } from './kafka-dist.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { SINGLE_NODE_TOPIC, VERSIONS, WireConnection, createTopic, produceOne, sleep, type TopicShape } from './wire.js';

export type BrokerKind = 'samsa' | 'kafka';

/** The JVM options kafka-server-start.sh and kafka-run-class.sh use by default (Kafka 4.x). */
export const KAFKA_JVM_OPTS = [
  '-Xmx1G', '-Xms1G',
  ...kafkaJvmFlags(),
];

/**
 * A cluster node's heap (KAFKA_HEAP_OPTS in kafka-server-start.sh's terms): three JVMs of 1 GiB each do not
 * belong on a 2-core machine shared with other work; 512 MiB is plenty for these workloads.
 */
export const KAFKA_CLUSTER_HEAP = ['-Xmx512m', '-Xms512m'];

function kafkaJvmFlags(): string[] {
  return [
  '-server', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent', '-XX:MaxInlineLevel=15', '-Djava.awt.headless=true',
  ];
}

export interface BrokerHandle {
  kind: BrokerKind;
  /** The first node's process (the only one outside a cluster run). */
  pid: number;
  /** Every node's process. */
  pids: number[];
  /** The first node's client port. */
  port: number;
  /** Every node's client listener, comma-separated. */
  bootstrap: string;
  dir: string;
  logFile: string;
  /** Every node's log file. */
  logFiles: string[];
  /** process.hrtime.bigint() just before spawn. */
  spawnedAt: bigint;
  /** Kafka only: how long `kafka-storage format` took (not part of the start time). */
  formatMs: number | null;
  /** Kafka only: the CONTROLLER listener's port (the quorum's and the controller RPCs' listener). */
  controllerPort?: number;
  exited(): boolean;
  stop(): Promise<void>;
}

/** A port for a broker process to bind a moment later: below the ephemeral range (faults/ports.ts says why). */
export { freePort };

export interface MemoryKb {
  rssKb: number;
  hwmKb: number;
}

/** VmRSS and VmHWM of a live process, or null once it is gone. */
export function readMemory(pid: number): MemoryKb | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (!rss || !hwm) return null;
    return { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) };
  } catch {
    return null;
  }
}

function handleFor(kind: BrokerKind, child: ChildProcess, port: number, dir: string, logFile: string, spawnedAt: bigint, formatMs: number | null): BrokerHandle {
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  return {
    kind,
    pid: child.pid!,
    pids: [child.pid!],
    port,
    bootstrap: `127.0.0.1:${port}`,
    dir,
    logFile,
    logFiles: [logFile],
    spawnedAt,
    formatMs,
    exited: () => exited,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const grace = sleep(30_000).then(() => 'timeout' as const);
        if ((await Promise.race([exit.then(() => 'exited' as const), grace])) === 'timeout' && !exited) {
          child.kill('SIGKILL');
          await exit;
        }
      }
    },
  };
}

export interface StartOptions {
  /** Directory under which the broker's own temp directory is made (same medium for both brokers). */
  root: string;
  /** Samsa: extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /**
   * Samsa: 'tsx' runs src/cli/main.ts through tsx, as conformance/lib.sh does (TypeScript compiled at
   * start-up); 'bundle' runs one JavaScript file built with esbuild (see samsaBundle), as a release would.
   */
  samsaEntry?: 'tsx' | 'bundle';
  /** Samsa cluster nodes: overrides after the bench's own (e.g. samsa.log.level=info to see ISR changes). */
  overrides?: Record<string, string>;
}

/**
 * Builds bench/.cache/samsa-bundle.mjs from src/cli/main.ts with esbuild (a dependency of tsx), every
 * package included, so the broker starts without compiling TypeScript or resolving node_modules.
 */
export function samsaBundle(): string {
  const out = join(CACHE_DIR, 'samsa-bundle.mjs');
  mkdirSync(CACHE_DIR, { recursive: true });
  const r = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'esbuild'), [
    'src/cli/main.ts', '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`, '--log-level=error',
    // CommonJS packages inside an ES module bundle may call require().
    "--banner:js=import { createRequire as __samsaCreateRequire } from 'node:module'; const require = __samsaCreateRequire(import.meta.url);",
  ], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild failed: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  return out;
}

export async function startSamsa(opts: StartOptions): Promise<BrokerHandle> {
  const dir = mkdtempSync(join(opts.root, 'samsa-bench-samsa-'));
  const port = await freePort();
  const logFile = join(dir, 'broker.log');
  const out = openSync(logFile, 'a');
  const entry = opts.samsaEntry === 'bundle' ? [samsaBundle()] : ['--import', 'tsx', 'src/cli/main.ts'];
  const args = [
    ...(opts.nodeFlags ?? []),
    ...entry, 'start',
    '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`,
    '--override', `log.dirs=${join(dir, 'data')}`,
    '--override', 'samsa.log.level=warn',
    '--override', 'group.initial.rebalance.delay.ms=0',
  ];
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', out, out] });
  closeSync(out);
  return handleFor('samsa', child, port, dir, logFile, spawnedAt, null);
}

/**
 * A random cluster id for kafka-storage format -t. Base64url may begin with '-', which the tool's argument
 * parser takes for an option ("argument --cluster-id/-t: expected one argument"): Kafka's own
 * Uuid.randomUuid() draws again in that case, and so does this.
 */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function startKafka(opts: StartOptions, dist: KafkaDist): Promise<BrokerHandle> {
  const dir = mkdtempSync(join(opts.root, 'samsa-bench-kafka-'));
  const port = await freePort();
  const controllerPort = await freePort();
  const logFile = join(dir, 'broker.log');
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
  ];
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, props.join('\n') + '\n');
  const clusterId = kafkaClusterId();
  const jvmBase = [`-Dlog4j2.configurationFile=${dist.log4jConfig}`, '-cp', dist.classpath];
  const f0 = process.hrtime.bigint();
  const format = spawnSync('java', [...jvmBase, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile], { encoding: 'utf8' });
  const formatMs = Number(process.hrtime.bigint() - f0) / 1e6;
  if (format.status !== 0) throw new Error(`kafka-storage format failed:\n${format.stdout}${format.stderr}`);
  const out = openSync(logFile, 'a');
  const spawnedAt = process.hrtime.bigint();
  const child = spawn('java', [...KAFKA_JVM_OPTS, ...jvmBase, 'kafka.Kafka', propsFile], { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  return { ...handleFor('kafka', child, port, dir, logFile, spawnedAt, formatMs), controllerPort };
}

/**
 * Milliseconds from spawning the broker to the first acknowledged produce: connect (retrying until the
 * port answers), create a one-partition topic, produce one record with acks=1 (retrying while the broker
 * is not ready for it).
 */
export interface FirstProduce {
  /** Spawn to the first acknowledged produce. */
  firstProduceMs: number;
  /** Spawn to the first accepted TCP connection. */
  connectMs: number;
  /** Spawn to the CreateTopics answer. */
  topicCreatedMs: number;
}

export async function timeToFirstProduce(b: BrokerHandle, timeoutMs = 180_000): Promise<FirstProduce> {
  const deadline = Date.now() + timeoutMs;
  const since = (): number => Number(process.hrtime.bigint() - b.spawnedAt) / 1e6;
  // A cluster's first produce is to a topic replicated on every node, sent to the partition's leader.
  const shape: TopicShape = b.pids.length > 1 ? { replicationFactor: b.pids.length, configs: [] } : SINGLE_NODE_TOPIC;
  let conn: WireConnection | null = null;
  let leader: WireConnection | null = null;
  let connectMs = -1;
  let topicCreatedMs = -1;
  let lastError = '';
  while (Date.now() < deadline) {
    if (b.exited()) throw new Error(`${b.kind} exited during start; see ${b.logFiles.join(', ')}`);
    try {
      if (conn === null) {
        conn = await WireConnection.open(b.port, '127.0.0.1', 1000);
        if (connectMs < 0) connectMs = since();
      }
      if (topicCreatedMs < 0) {
        await createTopic(conn, 'bench-first-produce', 1, shape);
        topicCreatedMs = since();
      }
      if (leader === null || leader.closed) {
        const port: number | null = shape.replicationFactor > 1 ? await leaderPort(conn, 'bench-first-produce', 0) : b.port;
        if (port === null) throw new Error('no leader yet');
        leader = port === b.port ? conn : await WireConnection.open(port, '127.0.0.1', 1000);
      }
      const code = await produceOne(leader, 'bench-first-produce');
      if (code === ErrorCode.NONE) {
        const firstProduceMs = since();
        if (leader !== conn) leader.close();
        conn.close();
        return { firstProduceMs, connectMs, topicCreatedMs };
      }
      lastError = `produce error ${code}`;
      if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER) {
        // The leader moved (or the metadata was early): ask the metadata again.
        if (leader !== conn) leader.close();
        leader = null;
      }
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      if (conn?.closed) conn = null;
    }
    await sleep(10);
  }
  if (leader !== conn) leader?.close();
  conn?.close();
  throw new Error(`${b.kind} did not accept a produce within ${timeoutMs} ms (last: ${lastError})`);
}

/** The client port of a partition's leader from Metadata, or null while it has none. */
async function leaderPort(conn: WireConnection, topic: string, partition: number): Promise<number | null> {
  const md = await conn.request(Metadata, VERSIONS.metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  const p = md.topics[0]?.partitions.find((x) => x.partitionIndex === partition);
  if (!p || p.leaderId < 0) return null;
  return md.brokers.find((x) => x.nodeId === p.leaderId)?.port ?? null;
}

/** The nodes of a cluster as one handle: the first node's port, every node's pid, log and exit. */
function clusterHandle(kind: BrokerKind, nodes: BrokerHandle[], dir: string, spawnedAt: bigint, formatMs: number | null): BrokerHandle {
  const first = nodes[0]!;
  return {
    kind,
    pid: first.pid,
    pids: nodes.map((n) => n.pid),
    port: first.port,
    bootstrap: nodes.map((n) => n.bootstrap).join(','),
    dir,
    logFile: first.logFile,
    logFiles: nodes.map((n) => n.logFile),
    spawnedAt,
    formatMs,
    exited: () => nodes.some((n) => n.exited()),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

interface ClusterPorts {
  client: number[];
  controller: number[];
  /** controller.quorum.voters: id@host:port of every node (ids 1..n). */
  voters: string;
}

async function clusterPorts(count: number): Promise<ClusterPorts> {
  const client: number[] = [];
  const controller: number[] = [];
  for (let i = 0; i < count; i++) {
    client.push(await freePort());
    controller.push(await freePort());
  }
  return { client, controller, voters: controller.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(',') };
}

/**
 * `count` combined Samsa nodes, each started with the overrides scripts/cluster.mjs gives it (Kafka's
 * names), its HTTP listeners off (they would all want the same well-known ports, and Kafka has none).
 */
export async function startSamsaCluster(opts: StartOptions, count: number): Promise<BrokerHandle> {
  const dir = mkdtempSync(join(opts.root, 'samsa-bench-samsa-cluster-'));
  const ports = await clusterPorts(count);
  const entry = opts.samsaEntry === 'bundle' ? [samsaBundle()] : ['--import', 'tsx', 'src/cli/main.ts'];
  const spawnedAt = process.hrtime.bigint();
  const nodes: BrokerHandle[] = [];
  for (let i = 0; i < count; i++) {
    const id = i + 1;
    const logFile = join(dir, `node-${id}.log`);
    const overrides = {
      'node.id': String(id),
      'process.roles': 'broker,controller',
      'controller.quorum.voters': ports.voters,
      listeners: `PLAINTEXT://127.0.0.1:${ports.client[i]},CONTROLLER://127.0.0.1:${ports.controller[i]}`,
      'controller.listener.names': 'CONTROLLER',
      'log.dirs': join(dir, `node-${id}`),
      'samsa.schema.registry.enable': 'false',
      'samsa.http.listeners': '',
      'samsa.log.level': 'warn',
      'group.initial.rebalance.delay.ms': '0',
      ...opts.overrides,
    };
    const args = [...(opts.nodeFlags ?? []), ...entry, 'start', ...Object.entries(overrides).flatMap(([k, v]) => ['--override', `${k}=${v}`])];
    const out = openSync(logFile, 'a');
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', out, out] });
    closeSync(out);
    nodes.push(handleFor('samsa', child, ports.client[i]!, dir, logFile, spawnedAt, null));
  }
  return clusterHandle('samsa', nodes, dir, spawnedAt, null);
}

/**
 * `count` combined Kafka nodes (KRaft, static quorum: controller.quorum.voters), Kafka's defaults for
 * everything else (internal topics with replication factor 3, min.insync.replicas 2 for the transaction
 * log), `KAFKA_CLUSTER_HEAP` each. Every node's storage is formatted with the same cluster id before any
 * starts; formatMs is the sum of the three formats.
 */
export async function startKafkaCluster(opts: StartOptions, dist: KafkaDist, count: number): Promise<BrokerHandle> {
  const dir = mkdtempSync(join(opts.root, 'samsa-bench-kafka-cluster-'));
  const ports = await clusterPorts(count);
  const clusterId = kafkaClusterId();
  const jvmBase = [`-Dlog4j2.configurationFile=${dist.log4jConfig}`, '-cp', dist.classpath];
  const propsFiles: string[] = [];
  let formatMs = 0;
  for (let i = 0; i < count; i++) {
    const id = i + 1;
    const props = [
      'process.roles=broker,controller',
      `node.id=${id}`,
      `controller.quorum.voters=${ports.voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${ports.client[i]},CONTROLLER://127.0.0.1:${ports.controller[i]}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.client[i]}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, `node-${id}`)}`,
      'group.initial.rebalance.delay.ms=0',
    ];
    const propsFile = join(dir, `server-${id}.properties`);
    writeFileSync(propsFile, props.join('\n') + '\n');
    propsFiles.push(propsFile);
    const f0 = process.hrtime.bigint();
    const format = spawnSync('java', [...jvmBase, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile], { encoding: 'utf8' });
    formatMs += Number(process.hrtime.bigint() - f0) / 1e6;
    if (format.status !== 0) throw new Error(`kafka-storage format (node ${id}) failed:\n${format.stdout}${format.stderr}`);
  }
  const spawnedAt = process.hrtime.bigint();
  const nodes: BrokerHandle[] = [];
  for (let i = 0; i < count; i++) {
    const logFile = join(dir, `node-${i + 1}.log`);
    const out = openSync(logFile, 'a');
    const child = spawn('java', [...KAFKA_CLUSTER_HEAP, ...kafkaJvmFlags(), ...jvmBase, 'kafka.Kafka', propsFiles[i]!], { cwd: dir, stdio: ['ignore', out, out] });
    closeSync(out);
    nodes.push(handleFor('kafka', child, ports.client[i]!, dir, logFile, spawnedAt, formatMs));
  }
  return clusterHandle('kafka', nodes, dir, spawnedAt, formatMs);
}

export function removeBrokerDir(b: BrokerHandle): void {
  rmSync(b.dir, { recursive: true, force: true });
}
