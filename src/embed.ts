/**
 * Samsa embedded: `import { startSamsa } from 'samsa'` starts a single-node broker inside the calling
 * process, for tests (README "Use it from your tests"). It replaces the Kafka container per test suite:
 * a free port on 127.0.0.1, a temporary data directory removed by stop(), the schema registry and the
 * HTTP listener (console, /metrics) off unless asked, logs silent unless asked. Like `npm start` it is a
 * KRaft quorum of one voter; a fault that stops it is reported (onError, stop() rejecting), never by
 * ending the host process.
 *
 * Bundled by scripts/bundle.mjs into dist/embed.mjs; its types are the hand-written types/samsa.d.ts
 * (type assertions in test/embed/embed.test.ts keep the two in step), so users need no TypeScript toolchain.
 *
 * Importing it does no work beyond defining what it exports, and loads none of the optional parts (schema
 * registry, console, metrics, KRaft): app.ts imports those when switched on (bench/embed-start.mjs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startBroker, type RunningBroker } from './app.js';
import { buildConfig } from './config.js';
import { isInternalTopic } from './broker/internal-topics.js';
import { registryConfig } from './registry/config.js';

export interface StartSamsaOptions {
  /** Data directory (log.dirs). Default: a new temporary directory, removed by stop(). A given one is kept. */
  dataDir?: string;
  /** Kafka listener port on 127.0.0.1. Default 0: a free port. */
  port?: number;
  /** Serve the schema registry: true for a free port, or a port number. Default false. */
  schemaRegistry?: boolean | number;
  /** Serve the HTTP listener (web console, /metrics, /health): true for a free port, or a port. Default false. */
  http?: boolean | number;
  /** pino level for the broker's logs (to stdout). Default 'silent'. */
  logLevel?: 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Further broker properties (server.properties names), applied last. */
  properties?: Record<string, string>;
}

export interface Samsa {
  /** host:port for clients' bootstrap.servers / kafkajs `brokers`, e.g. 127.0.0.1:40123. */
  readonly bootstrap: string;
  readonly port: number;
  readonly dataDir: string;
  /** http://127.0.0.1:port of the schema registry, or null when off. */
  readonly schemaRegistryUrl: string | null;
  /** http://127.0.0.1:port of the console and /metrics, or null when off. */
  readonly httpUrl: string | null;
  /**
   * Stops the broker (and removes the data directory when startSamsa made it). Safe to call twice. Rejects
   * with `error` when the broker had stopped on its own after a fault (the directory is removed first).
   */
  stop(): Promise<void>;
  /**
   * The fault that made the broker stop on its own (a committed metadata record that does not apply, the
   * metadata log's disk failing), null while it runs. The host process is never ended for it.
   */
  readonly error: Error | null;
  /** Called once, after the broker has stopped, if it stops on its own because of a fault. */
  onError(listener: (err: Error) => void): void;
  /**
   * Deletes every topic (but the internal ones and the schema registry's) and every consumer group, and
   * resolves once they are gone. Consumers must be disconnected first: a group with members cannot be
   * deleted (Kafka's NON_EMPTY_GROUP), and reset() rejects naming it.
   */
  reset(): Promise<void>;
}

/** A reset that could not finish: the groups still having members, or a topic that would not go. */
export class SamsaResetError extends Error {
  override readonly name = 'SamsaResetError';
}

/** How long reset() waits for a group to become empty (a consumer's LeaveGroup still in flight). */
const RESET_GROUP_WAIT_MS = 5_000;

export async function startSamsa(options: StartSamsaOptions = {}): Promise<Samsa> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'samsa-')));
  const listen = (opt: boolean | number | undefined): string | null => (opt === undefined || opt === false ? null : `http://127.0.0.1:${opt === true ? 0 : opt}`);
  const registryListener = listen(options.schemaRegistry);
  const httpListener = listen(options.http);
  const props = new Map<string, string>(
    Object.entries({
      listeners: `PLAINTEXT://127.0.0.1:${options.port ?? 0}`,
      'log.dirs': dataDir,
      'samsa.log.level': options.logLevel ?? 'silent',
      'samsa.schema.registry.enable': registryListener === null ? 'false' : 'true',
      ...(registryListener === null ? {} : { 'schema.registry.listeners': registryListener }),
      'samsa.http.listeners': httpListener ?? '',
      // A test's consumer joins at once: Kafka's 3 s wait for more members helps no test (testcontainers'
      // Kafka module sets the same).
      'group.initial.rebalance.delay.ms': '0',
      // A quorum of one gains nothing from gathering metadata records for 25 ms before writing them (Kafka's
      // default, for a leader with followers): at start and at each CreateTopics a test would wait for it.
      'controller.quorum.append.linger.ms': '0',
      ...options.properties,
    }),
  );
  let running: RunningBroker;
  try {
    const config = buildConfig(props);
    running = await startBroker(config, pino({ level: options.logLevel ?? 'silent' }));
  } catch (err) {
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const keptTopic = running.registry === null ? null : registryConfig(props).topic;
  let stopped: Promise<void> | null = null;
  return {
    bootstrap: `127.0.0.1:${running.port}`,
    port: running.port,
    dataDir,
    schemaRegistryUrl: running.registry?.url ?? null,
    httpUrl: running.httpPort === null ? null : `http://127.0.0.1:${running.httpPort}`,
    get error() {
      return running.fault;
    },
    onError: (listener) => running.onFault(listener),
    stop: () => {
      stopped ??= (async () => {
        await running.stop();
        if (ownDir) await rm(dataDir, { recursive: true, force: true });
        // A broker that stopped on a fault fails its test's teardown rather than passing silently.
        if (running.fault !== null) throw running.fault;
      })();
      return stopped;
    },
    reset: () => reset(running, keptTopic),
  };
}

async function reset(running: RunningBroker, keptTopic: string | null): Promise<void> {
  const { broker } = running;
  const coordinator = broker.groupCoordinator;
  // Groups first: a group's committed offsets name topics, and an Empty group is deleted with them.
  const deadline = Date.now() + RESET_GROUP_WAIT_MS;
  for (;;) {
    const groups = coordinator.listGroups().map((g) => g.groupId);
    if (groups.length === 0) break;
    const results = await coordinator.deleteGroups(groups);
    const left = results.filter((r) => r.errorCode !== 0 && coordinator.listGroups().some((g) => g.groupId === r.groupId));
    if (left.length === 0) continue;
    if (Date.now() >= deadline) {
      throw new SamsaResetError(`reset(): consumer groups still have members after ${RESET_GROUP_WAIT_MS} ms (disconnect their consumers first): ${left.map((r) => r.groupId).join(', ')}`);
    }
    // A consumer that just disconnected has its LeaveGroup in flight; the group empties within a few ms.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const topic of [...broker.image.topics()].map((t) => t.name)) {
    if (isInternalTopic(topic) || topic === keptTopic) continue;
    await broker.deleteTopic(topic);
  }
  const still = [...broker.image.topics()].filter((t) => !isInternalTopic(t.name) && t.name !== keptTopic).map((t) => t.name);
  if (still.length > 0) throw new SamsaResetError(`reset(): topics still present: ${still.join(', ')}`);
}
