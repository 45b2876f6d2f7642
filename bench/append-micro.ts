/**
 * Micro-benchmark of the append path alone (storage/log.ts Log.append): 6 logs, one 16 KiB batch each per
 * round (as one produce request to 6 partitions), sequential rounds; prints process CPU per append with
 * synchronous and asynchronous file writes (storage/segment.ts syncWrites), alternating.
 *   node --import tsx bench/append-micro.ts [rounds]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logConfig } from '../storage/log-config.js';
import { Log } from '../storage/log.js';
import { syncWrites } from '../storage/segment.js';
import { batchSet, makeBatch } from '../test/storage/helpers.js';

const rounds = Number(process.argv[2] ?? 3000);
const batch = makeBatch({ records: 16, payloadBytes: 1000 });

async function run(sync: boolean): Promise<number> {
  syncWrites.allowed = sync;
  const dir = await mkdtemp(join(tmpdir(), 'samsa-append-micro-'));
  const logs: Log[] = [];
  for (let p = 0; p < 6; p++) logs.push(await Log.open(join(dir, `t-${p}`), logConfig({ fileDeleteDelayMs: 0, flushMessages: Number.MAX_SAFE_INTEGER, flushMs: Number.MAX_SAFE_INTEGER })));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    await Promise.all(logs.map((log) => {
      const { buf, positions } = batchSet([Buffer.from(batch)]);
      return log.append(buf, positions, 0);
    }));
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const l of logs) await l.close();
  await rm(dir, { recursive: true, force: true });
  const us = (cpu.user + cpu.system) / (rounds * 6);
  console.log(`${sync ? 'sync ' : 'async'}: ${us.toFixed(1)} us CPU per 16 KiB append, ${((rounds * 6 * batch.length) / 1048576 / (wall / 1000)).toFixed(0)} MiB/s wall (sync writes so far ${syncWrites.count}, slow ${syncWrites.slow})`);
  return us;
}

const results: Record<string, number[]> = { sync: [], async: [] };
for (let i = 0; i < 3; i++) {
  results.async!.push(await run(false));
  results.sync!.push(await run(true));
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`median: async ${med(results.async!).toFixed(1)} us, sync ${med(results.sync!).toFixed(1)} us per append`);
