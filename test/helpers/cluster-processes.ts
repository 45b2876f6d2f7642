/**
 * A Samsa cluster of real processes for tests (issue 11): N combined nodes (process.roles=broker,controller)
 * on free ports, each started exactly as `npm run cluster` starts one (Kafka's property names only), with
 * kill -9, clean stop and restart of a single node on its own data directory. `brokerOnly` adds nodes with
 * process.roles=broker (observers of the quorum, ids after the voters', no CONTROLLER listener);
 * `deferBrokerOnly` leaves them unstarted (a fresh node joining later: `start(id)`); `brokerOnlyBootstrap`
 * gives them controller.quorum.bootstrap.servers (those voters' CONTROLLER listeners) instead of
 * controller.quorum.voters (KIP-853).
 */
import { join } from 'node:path';
import { freePort, startBrokerProcess, type BrokerProcess } from './broker-process.js';

export interface ClusterNode {
  readonly id: number;
  readonly clientPort: number;
  /** The CONTROLLER listener's port; -1 on a broker-only node. */
  readonly controllerPort: number;
  readonly brokerOnly: boolean;
  readonly dataDir: string;
  process: BrokerProcess | null;
}

export interface ClusterProcesses {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client listener, comma-separated. */
  readonly bootstrap: string;
  /** The controller.quorum.voters value. */
  readonly voters: string;
  node(id: number): ClusterNode;
  start(id: number): Promise<BrokerProcess>;
  kill9(id: number): Promise<void>;
  stop(id: number): Promise<void>;
  stopAll(): Promise<void>;
}

export interface ClusterProcessOptions {
  readonly brokerOnly?: number;
  readonly deferBrokerOnly?: boolean;
  /** The voter ids whose CONTROLLER listeners the broker-only nodes get as bootstrap servers, in place of the voters. */
  readonly brokerOnlyBootstrap?: readonly number[];
  readonly startTimeoutMs?: number;
}

/** `extra`: overrides for every node, or per node (e.g. each node's own schema.registry.listeners port). */
export async function startClusterProcesses(
  count: number,
  baseDir: string,
  extra: Record<string, string> | ((id: number) => Record<string, string>) = {},
  options: ClusterProcessOptions = {},
): Promise<ClusterProcesses> {
  // A free port is released before the node binds it, so a parallel test (or any process) may take it in
  // between: a start that fails on "address already in use" is retried on fresh ports and fresh data dirs.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(count, attempt === 1 ? baseDir : join(baseDir, `retry-${attempt}`), extra, options);
    } catch (err) {
      if (attempt >= 3 || !String((err as Error).message).includes('address already in use')) throw err;
    }
  }
}

async function startOnce(
  count: number,
  baseDir: string,
  extra: Record<string, string> | ((id: number) => Record<string, string>),
  options: ClusterProcessOptions,
): Promise<ClusterProcesses> {
  const nodes: ClusterNode[] = [];
  for (let id = 1; id <= count; id++) {
    nodes.push({ id, clientPort: await freePort(), controllerPort: await freePort(), brokerOnly: false, dataDir: join(baseDir, `node-${id}`), process: null });
  }
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  const bootstrapServers = (options.brokerOnlyBootstrap ?? []).map((id) => `127.0.0.1:${nodes.find((n) => n.id === id)!.controllerPort}`).join(',');
  for (let id = count + 1; id <= count + (options.brokerOnly ?? 0); id++) {
    nodes.push({ id, clientPort: await freePort(), controllerPort: -1, brokerOnly: true, dataDir: join(baseDir, `node-${id}`), process: null });
  }
  const node = (id: number): ClusterNode => {
    const n = nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  };
  const start = async (id: number): Promise<BrokerProcess> => {
    const n = node(id);
    n.process = await startBrokerProcess(
      n.dataDir,
      {
        'node.id': String(id),
        'process.roles': n.brokerOnly ? 'broker' : 'broker,controller',
        ...(n.brokerOnly && options.brokerOnlyBootstrap !== undefined ? { 'controller.quorum.bootstrap.servers': bootstrapServers } : { 'controller.quorum.voters': voters }),
        listeners: n.brokerOnly ? `PLAINTEXT://127.0.0.1:${n.clientPort}` : `PLAINTEXT://127.0.0.1:${n.clientPort},CONTROLLER://127.0.0.1:${n.controllerPort}`,
        'controller.listener.names': 'CONTROLLER',
        ...(typeof extra === 'function' ? extra(id) : extra),
      },
      n.clientPort,
      options.startTimeoutMs,
    );
    return n.process;
  };
  const cluster: ClusterProcesses = {
    nodes,
    bootstrap: nodes.map((n) => `127.0.0.1:${n.clientPort}`).join(','),
    voters,
    node,
    start,
    async kill9(id) {
      await node(id).process?.kill9();
      node(id).process = null;
    },
    async stop(id) {
      await node(id).process?.stop();
      node(id).process = null;
    },
    async stopAll() {
      await Promise.all(nodes.map(async (n) => {
        await n.process?.stop();
        n.process = null;
      }));
    },
  };
  try {
    // The voters first, then the broker-only nodes (fewer processes compiling at once on a busy machine).
    // allSettled: when one start fails, the others must have finished starting before they are killed,
    // or a node still starting would be left running (seen as orphaned processes after a failed start).
    const voters = await Promise.allSettled(nodes.filter((n) => !n.brokerOnly).map((n) => start(n.id)));
    const failed = voters.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (!options.deferBrokerOnly) for (const n of nodes) if (n.brokerOnly) await start(n.id);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.process?.kill9()));
    throw err;
  }
  return cluster;
}
