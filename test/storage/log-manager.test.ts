import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logConfig } from '../../storage/log-config.js';
import { LogManager, parsePartitionDir } from '../../storage/log-manager.js';
import { batchSet, makeBatch, parseBatches, tempDir } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: root, cleanup } = await tempDir('samsa-manager-'));
});
afterEach(() => cleanup());

async function appendOne(log: { append: (b: Buffer, p: never, e: number) => Promise<unknown> }, fill: number) {
  const { buf, positions } = batchSet([makeBatch({ fill })]);
  await log.append(buf, positions as never, 0);
}

describe('LogManager', () => {
  it('parses partition directory names whose topic contains dashes', () => {
    expect(parsePartitionDir('my-topic-12')).toEqual({ topic: 'my-topic', partition: 12 });
    expect(parsePartitionDir('__consumer_offsets-0')).toEqual({ topic: '__consumer_offsets', partition: 0 });
    expect(parsePartitionDir('topic')).toBeNull();
    expect(parsePartitionDir('t-0.abc-delete')).toBeNull();
  });

  it('creates logs spread over the log dirs, reloads them all, and deletes them', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const config = logConfig({ fileDeleteDelayMs: 0 });
    const manager = new LogManager(`${a}, ${b}`);
    const logs = await Promise.all([0, 1, 2, 3].map((p) => manager.getOrCreate('my-topic', p, config)));
    expect(await manager.getOrCreate('my-topic', 0, config)).toBe(logs[0]);
    const [first, again] = await Promise.all([manager.getOrCreate('other', 0, config), manager.getOrCreate('other', 0, config)]);
    expect(first).toBe(again);
    for (const [i, log] of logs.entries()) await appendOne(log, i);
    expect((await readdir(a)).length + (await readdir(b)).length).toBe(5);
    expect((await readdir(a)).length).toBeGreaterThanOrEqual(2);
    await manager.closeAll();

    await mkdir(join(a, 'gone-0.0123abcd-delete'));
    const reloaded = new LogManager([a, b], { defaultConfig: config });
    const map = await reloaded.loadAll();
    expect([...map.keys()].sort()).toEqual(['my-topic-0', 'my-topic-1', 'my-topic-2', 'my-topic-3', 'other-0']);
    expect(await readdir(a)).not.toContain('gone-0.0123abcd-delete');
    const log2 = reloaded.get('my-topic', 2)!;
    expect(parseBatches((await log2.read(0, 1000, 10, true)).records).map((x) => x.fill)).toEqual([2]);
    await reloaded.delete('my-topic', 2);
    expect(reloaded.get('my-topic', 2)).toBeUndefined();
    expect([...(await readdir(a)), ...(await readdir(b))].sort()).toEqual(['my-topic-0', 'my-topic-1', 'my-topic-3', 'other-0']);
    await reloaded.closeAll();
  });

  it('applies retention to every log (the broker schedules it on its clock)', async () => {
    let now = 0;
    const manager = new LogManager(root, { now: () => now });
    const log = await manager.getOrCreate('t', 0, logConfig({ segmentBytes: 150, retentionMs: 1000, fileDeleteDelayMs: 0 }));
    for (let i = 0; i < 4; i++) {
      const { buf, positions } = batchSet([makeBatch({ maxTimestamp: 0, payloadBytes: 39 })]);
      await log.append(buf, positions, 0);
    }
    expect(log.numberOfSegments).toBe(4);
    now = 5000;
    expect(await manager.applyRetention()).toBe(3);
    expect(log.numberOfSegments).toBe(1);
    expect(log.logStartOffset).toBe(3);
    await manager.closeAll();
  });
});
