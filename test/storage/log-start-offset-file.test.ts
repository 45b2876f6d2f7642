/**
 * The `log-start-offset` file (the start set by DeleteRecords): a malformed one stops the log from opening
 * (LogDirFailureError naming it) instead of being ignored, which would serve the deleted records again.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogDirFailureError } from '../../storage/errors.js';
import { logConfig } from '../../storage/log-config.js';
import { Log, LOG_START_OFFSET_FILE } from '../../storage/log.js';
import { batchSet, makeBatch, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

describe('log-start-offset file', () => {
  it('is kept across a restart, and a malformed one refuses the open, naming the file', async () => {
    const config = logConfig({ fileDeleteDelayMs: 0 });
    const path = join(dir, 'topic-0');
    let log = await Log.open(path, config);
    for (let i = 0; i < 5; i++) {
      const { buf, positions } = batchSet([makeBatch({ records: 2 })]);
      await log.append(buf, positions, 0);
    }
    await log.deleteRecordsBefore(6);
    await log.close();
    expect(await readFile(join(path, LOG_START_OFFSET_FILE), 'utf8')).toBe('0\n6\n');
    log = await Log.open(path, config);
    expect(log.logStartOffset).toBe(6);
    await log.close();

    for (const bad of ['0\n', 'garbage', '1\n6\n', '0\n-3\n', '']) {
      await writeFile(join(path, LOG_START_OFFSET_FILE), bad);
      const err = await Log.open(path, config).then(
        async (l) => {
          await l.close();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(bad)).toBeInstanceOf(LogDirFailureError);
      expect((err as LogDirFailureError).path).toBe(join(path, LOG_START_OFFSET_FILE));
    }
  });
});
