// Types of `import { startSamsa } from 'samsa'` (dist/embed.mjs, built from src/embed.ts). Written by hand
// so users need no TypeScript toolchain and the package ships no declarations of the broker's internals;
// the type assertions at the end of test/embed/embed.test.ts fail `npm run typecheck` when these and src/embed.ts drift apart.

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
export declare class SamsaResetError extends Error {
  readonly name: 'SamsaResetError';
}

/** Starts a single-node broker in this process on 127.0.0.1 (README "Use it from your tests"). */
export declare function startSamsa(options?: StartSamsaOptions): Promise<Samsa>;
