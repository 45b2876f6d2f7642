/**
 * Starting and stopping a whole broker: storage, handlers, listeners. Used by the CLI and by tests
 * (which start brokers in-process on port 0).
 */
import pino, { type Logger } from 'pino';
import { Broker } from './broker/broker.js';
import { LogDirFailureError } from '../storage/errors.js';
import type { BrokerConfig } from './config.js';
import { HANDLERS } from './handlers/index.js';
import { Dispatcher } from './server/dispatcher.js';
import { Server } from './server/server.js';

export interface RunningBroker {
  readonly broker: Broker;
  readonly port: number;
  readonly host: string;
  stop(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'samsa' } });
}

export async function startBroker(config: BrokerConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningBroker> {
  let broker: Broker;
  try {
    broker = await Broker.start(config, logger);
  } catch (err) {
    // A log dir that cannot be used safely: one fatal line naming the file, then the caller exits 1.
    if (err instanceof LogDirFailureError) logger.fatal({ path: err.path, cause: err.cause instanceof Error ? err.cause.message : undefined }, err.message);
    throw err;
  }
  const dispatcher = new Dispatcher(broker, HANDLERS, logger, config.protocolTrace);
  broker.advertisedApis = dispatcher.apiVersionsList();
  if (config.protocolCaptureDir !== '') dispatcher.captureDir = config.protocolCaptureDir;
  const server = new Server(dispatcher, config.socketRequestMaxBytes, logger);
  const listener = config.listeners[0]!;
  const port = await server.listen(listener.host, listener.port);
  const advertised = config.advertisedListeners[0]!;
  broker.advertised = { host: advertised.host === '0.0.0.0' || advertised.host === '' ? '127.0.0.1' : advertised.host, port: advertised.port === 0 ? port : advertised.port };
  logger.info({ host: listener.host, port, nodeId: config.nodeId, logDirs: config.logDirs }, 'Samsa broker started');
  let stopping: Promise<void> | null = null;
  return {
    broker,
    port,
    host: listener.host,
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        await broker.shutdown();
        logger.info('Samsa broker stopped');
      })();
      return stopping;
    },
  };
}
