/**
 * The `samsa` command line: `samsa start` runs a broker; `samsa dump-log <file...>` prints log directory
 * files (dump-log.ts); more commands join as their issues land.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { Command } from 'commander';
import { startBroker } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { LogDirFailureError } from '../../storage/errors.js';

// Bundled into one file (esbuild), the log cleaner's worker thread runs this same file: it is then the
// cleaner worker, not the command line (see startWorker in storage/log-cleaner.ts).
if (!isMainThread && (workerData as { samsaLogCleaner?: boolean } | null)?.samsaLogCleaner === true) {
  await import('../../storage/cleaner-worker.js');
} else {
  await runCli();
}

async function runCli(): Promise<void> {
  const program = new Command();
  program.name('samsa').description('A Kafka-compatible broker in TypeScript');

  program
    .command('start')
    .description('run a broker (single node: broker and controller roles in one process)')
    .option('-c, --config <file>', 'a server.properties-style file')
    .option('-o, --override <key=value...>', 'set a property, e.g. --override log.dirs=/tmp/samsa', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (opts: { config?: string; override: string[] }) => {
      let config;
      try {
        config = loadConfig({ configFile: opts.config, overrides: opts.override });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`samsa: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const running = await startBroker(config).catch((err: unknown) => {
        // Already logged by startBroker with the file it is about; no stack trace for an operator's problem.
        if (err instanceof LogDirFailureError) process.exit(1);
        throw err;
      });
      const stop = (signal: string): void => {
        running.broker.logger.info({ signal }, 'shutting down');
        running.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            running.broker.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });

  program
    .command('dump-log')
    .description("print a log directory file: a segment's batches and records, an .index / .timeindex, a producer .snapshot, leader-epoch-checkpoint or cleaner-offset-checkpoint (as kafka-dump-log.sh)")
    .argument('<files...>', 'files to dump')
    .option('--print-data-log', 'print record keys, payloads and headers')
    .option('--deep-iteration', 'print one line per record (without its data)')
    .option('--offsets-decoder', 'decode __consumer_offsets keys and values as JSON')
    .action(async (files: string[], opts: { printDataLog?: boolean; deepIteration?: boolean; offsetsDecoder?: boolean }) => {
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

  await program.parseAsync(process.argv);
}
