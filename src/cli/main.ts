/**
 * The `samsa` command line: `samsa start` runs a broker; more commands join as their issues land.
 */
import { Command } from 'commander';
import { startBroker } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';

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
    const running = await startBroker(config);
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

await program.parseAsync(process.argv);
