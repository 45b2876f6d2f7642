/**
 * Starting and stopping a whole broker: storage, handlers, listeners. Used by the CLI, by the embedded
 * broker (embed.ts) and by tests (which start brokers in-process on port 0).
 *
 * The optional parts are imported when switched on, not at the top: the Schema Registry (with avsc, ajv
 * and protobufjs), the HTTP listener (console, prom-client) and pino-pretty. A broker without them (the
 * embedded default, a test's broker) neither compiles nor runs their modules: that was most of the
 * embedded start's time (bench/results/embed-start.md). KRaft (src/kraft.ts, src/controller/) runs on every
 * node, a single one being a quorum of one voter; it is imported at start rather than at the top too, so
 * that importing the library (embed.ts) still compiles the core only. The bundle (scripts/bundle.mjs)
 * splits each into its own file, loaded at the import.
 */
import pino, { type Logger } from 'pino';
import { Broker, loadFailure } from './broker/broker.js';
import { LogDirFailureError } from '../storage/errors.js';
import type { BrokerConfig } from './config.js';
import { HANDLERS } from './handlers/index.js';
import { Dispatcher } from './server/dispatcher.js';
import { ListenerError, Server } from './server/server.js';
import { registryConfig } from './registry/config.js';
import type { RunningRegistry } from './registry/start.js';
import type { BrokerHttpServer } from './http/server.js';
import { parseHttpListener } from './http/listener.js';
import type { KRaftNode } from './kraft.js';
import { systemClock } from './util/clock.js';

export interface RunningBroker {
  readonly broker: Broker;
  readonly port: number;
  readonly host: string;
  /** The built-in Schema Registry (src/registry/), null when switched off. */
  readonly registry: RunningRegistry | null;
  /** The port of the /metrics and /health listener (samsa.http.listeners), null when switched off. */
  readonly httpPort: number | null;
  /** The KRaft parts (Raft node, controller, lifecycle); a single node is a quorum of one voter. */
  readonly kraft: KRaftNode;
  /** The fault that stopped this broker (see onFault), null while it runs or after an ordinary stop(). */
  readonly fault: Error | null;
  /**
   * Called once if the node stops itself on a fault (a committed metadata record that does not apply, the
   * metadata log's disk failing): by then the broker has stopped. The CLI exits 1; startSamsa reports it.
   */
  onFault(listener: (err: Error) => void): void;
  stop(): Promise<void>;
}

/** `json`: one JSON object per line (for log shippers); `pretty`: aligned, coloured text for a terminal. */
export type LogFormat = 'json' | 'pretty';

/**
 * The broker's pino logger. Pretty output is formatted in this thread, synchronously (pino-pretty as a
 * stream, not as a pino transport): a transport's worker thread would need its module resolved by name at
 * run time, which the single-file bundle cannot do, and lines written just before process.exit would be lost.
 */
export async function createLogger(level: string, format: LogFormat = 'json'): Promise<Logger> {
  if (format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    return pino({ level, base: { name: 'samsa' } }, pretty({ sync: true, colorize: process.stdout.isTTY === true, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return jsonLogger(level);
}

function jsonLogger(level: string): Logger {
  return pino({ level, base: { name: 'samsa' } });
}

/** The one line logged once a broker is up (the per-partition lines are at debug). */
export function startedSummary(broker: Broker, listeners: readonly string[], logDirs: string): string {
  let partitions = 0;
  for (const t of broker.image.topics()) partitions += t.partitions.length;
  const topics = broker.image.topicCount;
  return `Samsa broker started: ${topics} topic${topics === 1 ? '' : 's'}, ${partitions} partition${partitions === 1 ? '' : 's'}, listening on ${listeners.join(', ')}, log.dirs ${logDirs}`;
}

export async function startBroker(config: BrokerConfig, logger: Logger = jsonLogger(config.logLevel), options: { signal?: AbortSignal } = {}): Promise<RunningBroker> {
  for (const warning of config.warnings) logger.warn(warning);
  // Checked before anything starts: a bad value is a configuration error, not a half-started broker.
  const httpListener = parseHttpListener(config.props.get('samsa.http.listeners') ?? 'http://127.0.0.1:8080');
  const registryEnabled = registryConfig(config.props).enabled;
  // Every node runs the KRaft path (src/kraft.ts): with controller.quorum.voters (or, broker-only, with
  // controller.quorum.bootstrap.servers) it is one of a cluster; without, the single-node default, a quorum
  // of one voter (config.ts derives it), as Kafka's quickstart.
  const { createControllerChannel, startKRaft } = await import('./kraft.js');
  const cluster = createControllerChannel(config, systemClock, logger);
  // A log dir that cannot be used safely: one fatal line naming the file, then the caller exits 1.
  const logDirFailure = (err: unknown): void => {
    if (err instanceof LogDirFailureError) logger.fatal({ path: err.path, cause: err.cause instanceof Error ? err.cause.message : undefined }, err.message);
  };
  let broker: Broker;
  try {
    broker = await Broker.start(config, logger, systemClock, { channel: cluster.channel, requestTimeoutMs: Number(config.props.get('request.timeout.ms') ?? 30000) });
  } catch (err) {
    cluster.channel.close();
    logDirFailure(err);
    throw err;
  }
  // A fault after start-up stops the node (without a controlled shutdown: its metadata cannot be trusted
  // or written) and is reported to the onFault listeners; one during start-up fails the start.
  let fault: Error | null = null;
  const faultListeners: ((err: Error) => void)[] = [];
  let stopNode: ((controlled: boolean) => Promise<void>) | null = null;
  const onFault = (err: Error): void => {
    if (fault !== null) return;
    fault = err;
    if (stopNode === null) return;
    void stopNode(false)
      .catch((e: unknown) => logger.error({ err: e }, 'stopping after a fault failed'))
      .finally(() => {
        for (const l of faultListeners) l(err);
      });
  };
  // The metadata log's directory failing while it loads is a log dir failure like a partition's.
  const asLoadFailure = (err: unknown): unknown => loadFailure(err, [...config.logDirList, config.metadataLog.dir]);
  let kraft: KRaftNode;
  try {
    kraft = await startKRaft(config, broker, cluster.channel, cluster.setLeaderHint, systemClock, logger, onFault);
  } catch (err) {
    cluster.channel.close();
    await broker.shutdown();
    const failure = asLoadFailure(err);
    logDirFailure(failure);
    throw failure;
  }
  const dispatcher = new Dispatcher(broker, HANDLERS, logger, config.protocolTrace);
  // A node answers clients only once registered and unfenced (its metadata loaded), as Kafka's broker.
  const openRequests = dispatcher.holdRequests();
  const httpModules = httpListener === null ? null : await loadHttpModules(config.props.get('samsa.console.enable')?.trim().toLowerCase() !== 'false');
  const metrics = httpModules === null ? null : new httpModules.BrokerMetrics(broker);
  dispatcher.observer = metrics;
  broker.advertisedApis = dispatcher.apiVersionsList();
  if (config.protocolCaptureDir !== '') dispatcher.captureDir = config.protocolCaptureDir;
  const server = new Server(dispatcher, config.socketRequestMaxBytes, logger);
  const listener = config.listeners[0]!;
  let port: number;
  try {
    port = await server.listen(listener.host, listener.port, listener.name);
  } catch (err) {
    // Nothing may stay open (storage, timers, the cleaner thread): the caller reports and exits.
    openRequests();
    await server.close();
    await kraft.close();
    await broker.shutdown();
    throw err;
  }
  const advertised = config.advertisedListeners[0]!;
  broker.advertised = { host: advertised.host === '0.0.0.0' || advertised.host === '' ? '127.0.0.1' : advertised.host, port: advertised.port === 0 ? port : advertised.port };
  const bound = `${listener.name}://${listener.host.includes(':') ? `[${listener.host}]` : listener.host}:${port}`;
  try {
    await kraft.startBroker({ name: listener.name, host: broker.advertised.host, port: broker.advertised.port }, options.signal);
    openRequests();
  } catch (err) {
    openRequests();
    await server.close();
    await kraft.close({ controlled: fault === null });
    await broker.shutdown();
    const failure = asLoadFailure(err);
    logDirFailure(failure);
    throw failure;
  }
  // The single-node default's CONTROLLER listener (an ephemeral loopback port only this node dials) is
  // not an address for users: the start line names the client listener only, as before.
  const controllerBound = kraft.controllerPort !== null && config.quorum.votersConfigured ? [`${config.controllerListener!.name}://${config.controllerListener!.host}:${kraft.controllerPort}`] : [];
  logger.info({ nodeId: config.nodeId, port }, startedSummary(broker, [bound, ...controllerBound], config.logDirList.join(',')));
  let registry: RunningRegistry | null;
  try {
    registry = registryEnabled ? await (await import('./registry/start.js')).startSchemaRegistry(broker, config.props, config.clusterId, config.protocolTrace, logger) : null;
  } catch (err) {
    await server.close();
    await kraft.close();
    await broker.shutdown();
    throw err;
  }
  let http: BrokerHttpServer | null = null;
  let httpPort: number | null = null;
  if (httpListener !== null && httpModules !== null && metrics !== null) {
    // The web console (docs/console.md) shares the listener; its trace view records only while watched.
    let web = null;
    if (httpModules.console !== null) {
      const trace = new httpModules.console.ProtocolTrace(200, 16_384, 60_000, Date.now, (id) => broker.image.topicById(id)?.name);
      dispatcher.traceSink = trace;
      web = httpModules.console.consoleContext(broker, registry, trace, logger.child({ component: 'console' }));
    }
    http = new httpModules.BrokerHttpServer(broker, metrics, logger, web);
    try {
      httpPort = await http.listen(httpListener.host, httpListener.port);
    } catch (err) {
      await http.close();
      await registry?.close();
      await server.close();
      await kraft.close();
      await broker.shutdown();
      throw new ListenerError(`http://${httpListener.host.includes(':') ? `[${httpListener.host}]` : httpListener.host}:${httpListener.port} (samsa.http.listeners)`, (err as NodeJS.ErrnoException).code, err as Error);
    }
    const base = `http://${httpListener.host.includes(':') ? `[${httpListener.host}]` : httpListener.host}:${httpPort}`;
    logger.info({ port: httpPort }, web === null ? `metrics at ${base}/metrics` : `console at ${base}/, metrics at ${base}/metrics`);
  }
  let stopping: Promise<void> | null = null;
  stopNode = (controlled) => {
    stopping ??= (async () => {
      await http?.close();
      await registry?.close();
      // Controlled shutdown first: the controller moves this node's leaderships away while it still serves.
      if (controlled) await kraft.lifecycle.controlledShutdown(Math.max(config.brokerSessionTimeoutMs / 2, 1000));
      await server.close();
      await kraft.close({ controlled });
      await broker.shutdown();
      logger.info(controlled ? 'Samsa broker stopped' : 'Samsa broker stopped after a fault');
    })();
    return stopping;
  };
  const running: RunningBroker = {
    broker,
    port,
    host: listener.host,
    registry,
    httpPort,
    kraft,
    get fault() {
      return fault;
    },
    onFault: (listener) => {
      faultListeners.push(listener);
    },
    stop: () => stopNode!(true),
  };
  // A fault that came while the registry or the HTTP listener started (stopNode was not set yet): stop now.
  const early = fault as Error | null;
  if (early !== null) {
    fault = null;
    onFault(early);
  }
  return running;
}

/** The HTTP listener's modules (metrics.ts loads prom-client), and the console's when it is on. */
async function loadHttpModules(consoleOn: boolean) {
  const [{ BrokerMetrics }, { BrokerHttpServer }, consoleModules] = await Promise.all([
    import('./http/metrics.js'),
    import('./http/server.js'),
    consoleOn ? Promise.all([import('./http/console-api.js'), import('./http/protocol-trace.js')]).then(([api, trace]) => ({ consoleContext: api.consoleContext, ProtocolTrace: trace.ProtocolTrace })) : null,
  ]);
  return { BrokerMetrics, BrokerHttpServer, console: consoleModules };
}
