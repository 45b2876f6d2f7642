/**
 * A metadata fault on a KRaft node (a committed record that does not apply; the metadata log's disk
 * failing takes the same path) stops the node through its shutdown path and reports the error
 * (RunningBroker.onFault; the CLI turns it into exit 1, startSamsa into `error`/`onError`): it no longer
 * sends SIGTERM to its own process, which ended the host of an embedded broker (and a test runner's worker).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/broker-process.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker | null = null;
afterEach(async () => {
  await broker?.destroy();
  broker = null;
});

describe('a metadata fault on a KRaft node', () => {
  it('stops the node and is reported, without ending the process', async () => {
    const controllerPort = await freePort();
    broker = await startTestBroker({
      'node.id': '1',
      'process.roles': 'broker,controller',
      'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${controllerPort}`,
      'controller.listener.names': 'CONTROLLER',
    });
    const b = broker;
    const reported = new Promise<Error>((resolve) => b.onFault(resolve));
    let killed = false;
    const onSignal = (): void => {
      killed = true;
    };
    process.on('SIGTERM', onSignal);
    try {
      // A committed record that does not decode: the loader must stop rather than serve a wrong image.
      await b.kraft!.raft.propose([Buffer.from([0x01, 0x7f, 0x00])]).catch(() => undefined);
      const err = await reported;
      expect(err.name).toBe('MetadataLoadError');
      expect(b.fault).toBe(err);
      expect(killed).toBe(false);
      // The listener is closed: the node no longer serves.
      await expect(RawClient.connect(b.port)).rejects.toThrow();
    } finally {
      process.off('SIGTERM', onSignal);
    }
  }, 60_000);
});
