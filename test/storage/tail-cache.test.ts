/**
 * The tail cache (storage/tail-cache.ts): reads at the end of the log are answered from memory without a
 * segment read, give exactly the bytes a file read gives (checked against a log without the cache over
 * random appends and reads), and never serve stale bytes after a roll or a truncation.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logConfig, type LogConfig } from '../../storage/log-config.js';
import { Log } from '../../storage/log.js';
import { Segment } from '../../storage/segment.js';
import { batchSet, makeBatch, parseBatches, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Log[] = [];

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('samsa-tail-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const log of open.splice(0)) await log.close().catch(() => undefined);
  await cleanup();
});

async function openLog(name: string, config: Partial<LogConfig> = {}): Promise<Log> {
  const log = await Log.open(join(dir, name), logConfig({ fileDeleteDelayMs: 0, ...config }));
  open.push(log);
  return log;
}

async function appendMany(log: Log, specs: { records: number; payloadBytes: number; fill: number }[]): Promise<void> {
  const { buf, positions } = batchSet(specs.map((s) => makeBatch(s)));
  await log.append(buf, positions, 0);
}

function bytesOf(records: Buffer[]): Buffer {
  return Buffer.concat(records);
}

/** A tiny deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('tail cache', () => {
  it('serves reads at the end of the log from memory, without a segment read', async () => {
    const log = await openLog('t-0', { tailCacheBytes: 1 << 20 });
    await appendMany(log, [{ records: 3, payloadBytes: 100, fill: 1 }]);
    await appendMany(log, [{ records: 2, payloadBytes: 50, fill: 2 }, { records: 1, payloadBytes: 20, fill: 3 }]);
    const segmentRead = vi.spyOn(Segment.prototype, 'read');
    const r = await log.read(3, 1 << 20, log.logEndOffset, true);
    expect(segmentRead).not.toHaveBeenCalled();
    expect(parseBatches(r.records).map((b) => [b.baseOffset, b.lastOffset, b.fill])).toEqual([
      [3, 4, 2],
      [5, 5, 3],
    ]);
    // An offset inside a batch gets the whole batch; the high watermark bounds the read.
    expect(parseBatches((await log.read(4, 1 << 20, 5, true)).records).map((b) => b.baseOffset)).toEqual([3]);
    expect((await log.read(5, 1 << 20, 5, true)).sizeInBytes).toBe(0);
    expect(segmentRead).not.toHaveBeenCalled();
    expect(log.tailCache.hits).toBe(2);
  });

  it('falls back to the file for offsets the cache no longer holds', async () => {
    const log = await openLog('t-0', { tailCacheBytes: 4096 });
    for (let i = 0; i < 20; i++) await appendMany(log, [{ records: 1, payloadBytes: 900, fill: i }]);
    expect(log.tailCache.size).toBeLessThanOrEqual(4096);
    expect(log.tailCache.firstOffset).toBeGreaterThan(0);
    const segmentRead = vi.spyOn(Segment.prototype, 'read');
    const all = await log.read(0, 1 << 20, log.logEndOffset, true);
    expect(segmentRead).toHaveBeenCalled();
    expect(parseBatches(all.records).map((b) => b.fill)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('never serves stale bytes after a roll or a truncation', async () => {
    const log = await openLog('t-0', { tailCacheBytes: 1 << 20 });
    await appendMany(log, [{ records: 2, payloadBytes: 30, fill: 0xa1 }, { records: 2, payloadBytes: 30, fill: 0xa2 }]);
    expect(parseBatches((await log.read(2, 1 << 20, 4, true)).records)[0]!.fill).toBe(0xa2);
    await log.truncateTo(2);
    expect(log.tailCache.size).toBe(0);
    await appendMany(log, [{ records: 2, payloadBytes: 30, fill: 0xb2 }]);
    expect(parseBatches((await log.read(2, 1 << 20, 4, true)).records).map((b) => b.fill)).toEqual([0xb2]);
    await log.roll();
    expect(log.tailCache.size).toBe(0);
    await appendMany(log, [{ records: 1, payloadBytes: 30, fill: 0xc1 }]);
    expect(parseBatches((await log.read(0, 1 << 20, 5, true)).records).map((b) => b.fill)).toEqual([0xa1, 0xb2, 0xc1]);
  });

  it('copies a small run out of a large buffer so the cache does not pin it', async () => {
    const log = await openLog('t-0', { tailCacheBytes: 64 * 1024 });
    const batch = makeBatch({ records: 1, payloadBytes: 100 });
    const big = Buffer.alloc(512 * 1024);
    batch.copy(big, 1000);
    const view = big.subarray(1000, 1000 + batch.length);
    await log.append(view, [{ pos: 0, size: batch.length, lastOffsetDelta: 0, maxTimestamp: batch.readInt32BE(35) * 4294967296 + batch.readUInt32BE(39) }], 0);
    expect(log.tailCache.size).toBe(batch.length);
    const r = await log.read(0, 1 << 20, 1, true);
    expect(r.records[0]!.buffer).not.toBe(big.buffer);
  });

  it('returns the same bytes as a log without the cache, over random appends and reads', async () => {
    for (const seed of [1, 2, 3]) {
      const rand = prng(seed);
      const cached = await openLog(`c${seed}-0`, { tailCacheBytes: 6000, segmentBytes: 20000 });
      const plain = await openLog(`p${seed}-0`, { tailCacheBytes: 0, segmentBytes: 20000 });
      for (let step = 0; step < 300; step++) {
        if (rand() < 0.5) {
          const specs = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({ records: 1 + Math.floor(rand() * 4), payloadBytes: Math.floor(rand() * 400), fill: Math.floor(rand() * 256) }));
          await appendMany(cached, specs);
          await appendMany(plain, specs);
        } else {
          const leo = plain.logEndOffset;
          const offset = Math.floor(rand() * (leo + 1));
          const maxBytes = Math.floor(rand() * 3000);
          const hw = offset + Math.floor(rand() * (leo - offset + 1));
          const minOne = rand() < 0.5;
          const a = await cached.read(offset, maxBytes, hw, minOne);
          const b = await plain.read(offset, maxBytes, hw, minOne);
          expect(bytesOf(a.records), `seed ${seed} step ${step}`).toEqual(bytesOf(b.records));
          expect(a.sizeInBytes).toBe(b.sizeInBytes);
        }
      }
      expect(cached.tailCache.hits, `seed ${seed}`).toBeGreaterThan(10);
    }
  });
});
