import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatCheckpoint, LeaderEpochCache, parseCheckpoint } from '../../storage/leader-epoch-cache.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let leo = 0;
const logger = pino({ level: 'silent' });

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('samsa-epoch-'));
  leo = 0;
});
const caches: LeaderEpochCache[] = [];
afterEach(async () => {
  for (const c of caches.splice(0)) await c.flush(); // checkpoint writes are asynchronous
  await cleanup();
});

async function load(at = dir): Promise<LeaderEpochCache> {
  const cache = await LeaderEpochCache.load(at, () => leo, logger);
  caches.push(cache);
  return cache;
}

describe('LeaderEpochCache', () => {
  it('assigns monotonic entries and ignores repeats of the latest epoch', async () => {
    const cache = await load();
    expect(cache.latestEpoch()).toBe(-1);
    expect(cache.assign(1, 11)).toBe(true);
    expect(cache.assign(1, 12)).toBe(false);
    expect(cache.assign(2, 13)).toBe(true);
    expect(cache.assign(2, 14)).toBe(false);
    expect(cache.assign(3, 15)).toBe(true);
    expect(cache.entries()).toEqual([
      { epoch: 1, startOffset: 11 },
      { epoch: 2, startOffset: 13 },
      { epoch: 3, startOffset: 15 },
    ]);
    expect(cache.latestEpoch()).toBe(3);
    // A lower epoch or an earlier start offset removes the entries it contradicts (Kafka's behaviour).
    cache.assign(2, 14);
    expect(cache.entries()).toEqual([
      { epoch: 1, startOffset: 11 },
      { epoch: 2, startOffset: 14 },
    ]);
    cache.assign(4, 12);
    expect(cache.entries()).toEqual([
      { epoch: 1, startOffset: 11 },
      { epoch: 4, startOffset: 12 },
    ]);
    expect(() => cache.assign(-1, 0)).toThrow(RangeError);
  });

  it('answers endOffsetFor as Kafka does', async () => {
    const cache = await load();
    expect(cache.endOffsetFor(0)).toEqual({ epoch: -1, endOffset: -1 });
    cache.assign(0, 10);
    cache.assign(2, 13);
    cache.assign(4, 17);
    leo = 20;
    expect(cache.endOffsetFor(-1)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache.endOffsetFor(4)).toEqual({ epoch: 4, endOffset: 20 }); // latest epoch: the LEO
    expect(cache.endOffsetFor(0)).toEqual({ epoch: 0, endOffset: 13 });
    expect(cache.endOffsetFor(1)).toEqual({ epoch: 0, endOffset: 13 }); // unknown epoch: the previous one
    expect(cache.endOffsetFor(3)).toEqual({ epoch: 2, endOffset: 17 });
    expect(cache.endOffsetFor(5)).toEqual({ epoch: -1, endOffset: -1 }); // newer than any we know
    await mkdir(join(dir, 'x'));
    const early = await load(join(dir, 'x'));
    early.assign(2, 100);
    early.assign(3, 200);
    expect(early.endOffsetFor(1)).toEqual({ epoch: 1, endOffset: 100 }); // older than any we know
  });

  it('truncates from the end and from the start', async () => {
    const cache = await load();
    cache.assign(1, 0);
    cache.assign(2, 10);
    cache.assign(3, 20);
    cache.truncateFromEnd(20);
    expect(cache.entries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
    ]);
    cache.truncateFromStart(15);
    expect(cache.entries()).toEqual([{ epoch: 2, startOffset: 15 }]);
    cache.truncateFromStart(3);
    expect(cache.entries()).toEqual([{ epoch: 2, startOffset: 15 }]);
    cache.clear();
    expect(cache.entries()).toEqual([]);
  });

  it('persists to leader-epoch-checkpoint in Kafka format and reloads it', async () => {
    const cache = await load();
    cache.assign(0, 0);
    cache.assign(3, 1042);
    await cache.flush();
    expect(await readFile(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n0 0\n3 1042\n');
    const again = await load();
    expect(again.entries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1042 },
    ]);
    cache.truncateFromEnd(0);
    await cache.flush();
    expect(await readFile(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n0\n');
  });

  it('parses and rejects checkpoint text', async () => {
    expect(parseCheckpoint('0\n1\n5 7\n')).toEqual([{ epoch: 5, startOffset: 7 }]);
    expect(parseCheckpoint(formatCheckpoint([]))).toEqual([]);
    expect(typeof parseCheckpoint('1\n0\n')).toBe('string');
    expect(typeof parseCheckpoint('0\n2\n5 7\n')).toBe('string');
    expect(typeof parseCheckpoint('0\n1\n5\n')).toBe('string');
    await writeFile(join(dir, 'leader-epoch-checkpoint'), 'garbage');
    const cache = await load();
    expect(cache.entries()).toEqual([]);
  });
});
