/**
 * The `samsa` command line: `samsa start` runs a broker; `samsa dump-log <file...>` prints log directory
 * files (dump-log.ts); `topic`, `group`, `produce`, `consume` and `cluster` talk the Kafka protocol to a
 * running broker (client-commands.ts, exit codes documented there and in README.md "CLI").
 */
import { Command, CommanderError } from 'commander';
import { createLogger, startBroker, type LogFormat, type RunningBroker } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { ListenerError } from '../server/server.js';
import { RegistryConfigError } from '../registry/config.js';
import { HttpConfigError } from '../http/listener.js';
import { applyExitOverride, registerClientCommands, usageStatus } from './client-commands.js';

/** How long a shutdown may take before the process gives up on it and exits with status 1. */
const SHUTDOWN_DEADLINE_MS = 30_000;

await runCli();

async function runCli(): Promise<void> {
  const program = new Command();
  program.name('samsa').description('A Kafka-compatible broker in TypeScript');

  program
    .command('start')
    .description('run a broker (single node: broker and controller roles in one process)')
    .option('-c, --config <file>', 'a server.properties-style file')
    .option('-o, --override <key=value...>', 'set a property, e.g. --override log.dirs=/tmp/samsa', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--log-format <format>', 'json or pretty (default: pretty when stdout is a terminal, json otherwise)')
    .action(async (opts: { config?: string; override: string[]; logFormat?: string }) => {
      let config;
      try {
        config = loadConfig({ configFile: opts.config, overrides: opts.override });
      } catch (err) {
        if (err instanceof ConfigError) {
          // Kafka exits with 1 when its configuration is refused (KafkaConfig's ConfigException).
          process.stderr.write(`samsa: ${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
      const format = opts.logFormat ?? (process.stdout.isTTY === true ? 'pretty' : 'json');
      if (format !== 'json' && format !== 'pretty') {
        process.stderr.write(`samsa: --log-format must be json or pretty, not '${format}'\n`);
        process.exit(2);
      }
      const logger = await createLogger(config.logLevel, format as LogFormat);
      let running: RunningBroker | null = null;
      let stopping = false;
      // A stop asked for while the node is still starting (e.g. waiting for the controller quorum to
      // register it) ends the start-up instead of waiting for it.
      const startAbort = new AbortController();
      const finish = (broker: RunningBroker): void => {
        broker.stop().then(
          () => process.exit(broker.fault === null ? 0 : 1),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      const stop = (reason: string): void => {
        // A terminal's Ctrl-C reaches both npm and this process, and npm forwards it: the second signal
        // must not kill a shutdown that is writing producer snapshots and clean-shutdown markers.
        if (stopping) return;
        stopping = true;
        logger.info({ reason }, 'shutting down');
        setTimeout(() => {
          logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
          process.exit(1);
        }, SHUTDOWN_DEADLINE_MS).unref();
        if (running !== null) finish(running);
        else startAbort.abort();
      };
      // Registered before start-up: until a handler exists the signal's default action kills the process at
      // once, even while it recovers logs or just after it said "started". A signal during start-up stops
      // the broker as soon as it is up.
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // Run by `npx samsa start` / `npm exec`, there is a shell between npm and this process: a SIGTERM to
      // npm ends npm and that shell, and this process would be left holding the port. Being re-parented
      // means whoever started it is gone, so stop. Only for npm exec and npm start (npm_command, npm 7+):
      // a broker started with `nohup ... &`, or put in the background by a script that `npm run` or
      // `npm test` runs, may outlive its shell on purpose.
      if (process.env.npm_command === 'exec' || process.env.npm_command === 'start') {
        const parent = process.ppid;
        setInterval(() => {
          if (process.ppid !== parent) stop('parent process exited');
        }, 500).unref();
      }
      try {
        running = await startBroker(config, logger, { signal: startAbort.signal });
      } catch (err) {
        if (startAbort.signal.aborted) {
          logger.info('stopped during start-up');
          process.exit(0);
        }
        // startBroker has closed what it opened; what is left is to say why, once, and fail.
        if (err instanceof ListenerError || err instanceof RegistryConfigError || err instanceof HttpConfigError) process.stderr.write(`samsa: ${err.message}\n`);
        // Already logged by the broker with the file it is about; no stack trace for an operator's problem.
        else if (!(err instanceof LogDirFailureError)) logger.fatal({ err }, 'start-up failed');
        process.exit(1);
      }
      // A fault stops the node by itself (already logged at fatal with its reason): exit 1, as Kafka's
      // fault handler does, once the broker has closed what it opened.
      running.onFault(() => process.exit(1));
      if (stopping) finish(running);
    });

  program
    .command('dump-log')
    .description("print a log directory file: a segment's batches and records, an .index / .timeindex, a producer .snapshot, leader-epoch-checkpoint, cleaner-offset-checkpoint or replication-offset-checkpoint (as kafka-dump-log.sh)")
    .argument('<files...>', 'files to dump')
    .option('--print-data-log', 'print record keys, payloads and headers')
    .option('--deep-iteration', 'print one line per record (without its data)')
    .option('--offsets-decoder', 'decode __consumer_offsets keys and values as JSON')
    .option('--cluster-metadata-decoder', 'decode KRaft metadata records as JSON (implied in a __cluster_metadata-0 directory)')
    .action(async (files: string[], opts: { printDataLog?: boolean; deepIteration?: boolean; offsetsDecoder?: boolean; clusterMetadataDecoder?: boolean }) => {
      const { dumpFiles } = await import('./dump-log.js');
      const lines: string[] = [];
      const flush = (): void => {
        if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
        lines.length = 0;
      };
      await dumpFiles(files, opts, (line) => {
        lines.push(line);
        if (lines.length >= 1000) flush();
      });
      flush();
    });

  // Added last: their global options (-b, --json, --timeout) are declared on the program itself.
  registerClientCommands(program, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: interruptSignal() }, (code) => {
    process.exitCode = code;
  });
  // Usage errors exit with 2 (ExitCode.USAGE), as getopt-style tools do, not commander's default 1.
  applyExitOverride(program);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(usageStatus(err));
    throw err;
  }
}

/** Aborted on the first SIGINT or SIGTERM seen by a client command (a running `consume` stops and commits). */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  if (process.argv.slice(2).includes('consume')) {
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
  }
  return controller.signal;
}
