import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/app.js';
import { buildConfig } from '../../src/config.js';
import pino from 'pino';

export interface TestBroker extends RunningBroker {
  readonly dataDir: string;
  readonly bootstrap: string;
  /** Stops the broker and removes its data directory. */
  destroy(): Promise<void>;
  /** Starts the broker again on the same data directory (a restart). */
  restart(): Promise<TestBroker>;
}

export async function startTestBroker(props: Record<string, string> = {}, dataDir?: string): Promise<TestBroker> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'samsa-test-')));
  // The Schema Registry (port 8081 by default) and the /metrics listener (8080) run only in the tests that
  // ask for them, on a port they give.
  const config = buildConfig(new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'samsa.log.level': 'silent', 'samsa.schema.registry.enable': 'false', 'samsa.http.listeners': '', ...props })));
  const logger = pino({ level: process.env.SAMSA_TEST_LOG ?? 'silent' });
  const running = await startBroker(config, logger);
  const self: TestBroker = {
    ...running,
    // A live view, not the value at start (a spread copies a getter's value).
    get fault() {
      return running.fault;
    },
    dataDir: dir,
    bootstrap: `127.0.0.1:${running.port}`,
    destroy: async () => {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await running.stop();
      return startTestBroker(props, dir);
    },
  };
  return self;
}
