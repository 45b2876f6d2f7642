/**
 * A `.log.swap` left by an interrupted compaction swap is verified before it replaces anything: garbage, a
 * truncated file, an empty one without its index swaps, one reaching into the active segment are moved aside as
 * `.log.swap.invalid`, the original segments are kept (restored from `.deleted` when the swap had got that
 * far) and an error is logged; a valid one still completes the swap.
 */
import { copyFile, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logConfig } from '../../storage/log-config.js';
import { Log } from '../../storage/log.js';
import { Segment } from '../../storage/segment.js';
import { batchSet, makeBatch, parseBatches, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const opened: Log[] = [];
let lines: { level: number; msg: string; [k: string]: unknown }[] = [];
const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
  lines = [];
});
afterEach(async () => {
  for (const log of opened.splice(0)) await log.close().catch(() => undefined);
  await cleanup();
});

const config = logConfig({ segmentBytes: 1200, fileDeleteDelayMs: 0 });

async function open(): Promise<Log> {
  const log = await Log.open(join(dir, 'topic-0'), config, { logger });
  opened.push(log);
  return log;
}

/** A closed log with several segments of 10-record batches; returns the offsets it holds. */
async function logWithSegments(): Promise<{ bases: number[]; offsets: number[] }> {
  const log = await open();
  for (let i = 0; i < 12; i++) {
    const { buf, positions } = batchSet([makeBatch({ records: 10, payloadBytes: 300, fill: i })]);
    await log.append(buf, positions, 0);
  }
  const bases = log.segmentBaseOffsets();
  const offsets = await allOffsets(log);
  await log.close();
  opened.splice(opened.indexOf(log), 1);
  expect(bases.length).toBeGreaterThanOrEqual(4);
  return { bases, offsets };
}

async function allOffsets(log: Log): Promise<number[]> {
  const out = await log.read(log.logStartOffset, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  return parseBatches(out.records).flatMap((b) => Array.from({ length: b.lastOffset - b.baseOffset + 1 }, (_, i) => b.baseOffset + i));
}

/** Deterministic garbage (xorshift32 from `seed`). */
function garbage(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const partitionDir = (): string => join(dir, 'topic-0');
const logPath = (base: number): string => Segment.paths(partitionDir(), base).log;
const rejected = (): { level: number; msg: string; [k: string]: unknown } | undefined => lines.find((l) => l.msg.startsWith('a .log.swap file failed verification'));

describe('an unverifiable .log.swap keeps the original segments', () => {
  for (const seed of [1, 0x5eed, 0xdeadbeef]) {
    it(`garbage (seed ${seed}) named after the first segment`, async () => {
      const { bases, offsets } = await logWithSegments();
      await writeFile(`${logPath(bases[0]!)}.swap`, garbage(2450, seed));
      const log = await open();
      expect(await allOffsets(log)).toEqual(offsets);
      expect(rejected(), `seed ${seed}`).toMatchObject({ level: 50, segment: bases[0] });
      expect(await readdir(partitionDir())).toContain(`${Segment.paths(partitionDir(), bases[0]!).log.split('/').pop()}.swap.invalid`);
    });
  }

  it('a truncated copy of a valid segment (cut in the middle of a batch)', async () => {
    const { bases, offsets } = await logWithSegments();
    const bytes = await readFile(logPath(bases[1]!));
    await writeFile(`${logPath(bases[1]!)}.swap`, bytes.subarray(0, bytes.length - 100));
    const log = await open();
    expect(await allOffsets(log)).toEqual(offsets);
    expect(rejected()?.reason).toMatch(/runs past the end of the file/);
  });

  it('an empty swap without its index swaps (a truncated file)', async () => {
    const { bases, offsets } = await logWithSegments();
    await writeFile(`${logPath(bases[0]!)}.swap`, Buffer.alloc(0));
    const log = await open();
    expect(await allOffsets(log)).toEqual(offsets);
    expect(rejected()?.reason).toBe('it holds no batch, and no index swaps were written with it');
  });

  it('garbage after the originals were already renamed .deleted: they are restored', async () => {
    const { bases, offsets } = await logWithSegments();
    for (const base of bases.slice(0, 2)) {
      const paths = Segment.paths(partitionDir(), base);
      for (const p of [paths.log, paths.index, paths.timeIndex]) await rename(p, `${p}.deleted`);
    }
    await writeFile(`${logPath(bases[0]!)}.swap`, garbage(3000, 7));
    const log = await open();
    expect(await allOffsets(log)).toEqual(offsets);
    expect(rejected()).toMatchObject({ restoredSegments: bases.slice(0, 2) });
  });

  it('a valid-looking swap that would reach into the active segment', async () => {
    const { bases, offsets } = await logWithSegments();
    const all = Buffer.concat(await Promise.all(bases.map((b) => readFile(logPath(b)))));
    await writeFile(`${logPath(bases[0]!)}.swap`, all);
    const log = await open();
    expect(await allOffsets(log)).toEqual(offsets);
    expect(rejected()?.reason).toMatch(/would replace the active segment/);
  });

  it('a swap whose batches start below the offset it is named after', async () => {
    const { bases, offsets } = await logWithSegments();
    const bytes = await readFile(logPath(bases[1]!));
    // Offsets of segment 1, named as if it started one offset later.
    await copyFile(logPath(bases[1]!), `${Segment.paths(partitionDir(), bases[1]! + 1).log}.swap`);
    expect(bytes.length).toBeGreaterThan(0);
    const log = await open();
    expect(await allOffsets(log)).toEqual(offsets);
    expect(rejected()?.reason).toMatch(/expected >= /);
  });
});

describe('a verified .log.swap', () => {
  it('an empty one written with its index swaps (a group the cleaner emptied) replaces its segment', async () => {
    const { bases, offsets } = await logWithSegments();
    const swap = `${logPath(bases[0]!)}.swap`;
    await writeFile(swap, Buffer.alloc(0));
    const paths = Segment.paths(partitionDir(), bases[0]!);
    await writeFile(`${paths.index}.swap`, Buffer.alloc(0));
    await writeFile(`${paths.timeIndex}.swap`, Buffer.alloc(0));
    const log = await open();
    expect(await allOffsets(log)).toEqual(offsets.filter((o) => o >= bases[1]!));
    expect(rejected()).toBeUndefined();
  });

  it('replaces the segments it covers (here: a cleaned segment 0 holding its first batch only)', async () => {
    const { bases, offsets } = await logWithSegments();
    const first = makeBatch({ records: 10, payloadBytes: 300, fill: 0, baseOffset: bases[0]! });
    await writeFile(`${logPath(bases[0]!)}.swap`, first);
    const log = await open();
    const segmentZeroEnd = bases[1]!;
    expect(await allOffsets(log)).toEqual([...offsets.filter((o) => o < 10), ...offsets.filter((o) => o >= segmentZeroEnd)]);
    expect(rejected()).toBeUndefined();
    expect(lines.some((l) => l.msg.startsWith('completed an interrupted compaction swap'))).toBe(true);
  });
});
