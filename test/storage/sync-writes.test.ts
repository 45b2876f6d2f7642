import { describe, expect, it } from 'vitest';

describe('synchronous appends', () => {
  it('writeFullyAtSync writes every buffer at the position; a slow write switches to async for a while', async () => {
    const { mkdtemp, open, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeFullyAtSync } = await import('../../storage/file-util.js');
    const { syncWrites } = await import('../../storage/segment.js');
    const dir = await mkdtemp(join(tmpdir(), 'samsa-sync-'));
    try {
      const fh = await open(join(dir, 'f'), 'w+');
      expect(writeFullyAtSync(fh.fd, [Buffer.from('abc'), Buffer.from('def')], 2)).toBe(6);
      await fh.close();
      expect((await readFile(join(dir, 'f'))).subarray(2).toString()).toBe('abcdef');
      expect(() => writeFullyAtSync(fh.fd, [Buffer.from('x')], 0)).toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const saved = syncWrites.asyncUntil;
    try {
      syncWrites.record(1000, 1001);
      expect(syncWrites.enabled(1002)).toBe(syncWrites.allowed);
      syncWrites.record(1000, 1100);
      expect(syncWrites.enabled(1200)).toBe(false);
      expect(syncWrites.enabled(1100 + syncWrites.backoffMs)).toBe(syncWrites.allowed);
    } finally {
      syncWrites.asyncUntil = saved;
    }
  });
});
