/** CRC-32C (Castagnoli) for record batches: the check value, native against JavaScript, and which one is used. */
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { crc32c, crc32cImplementation, crc32cJs } from '../../../protocol/records/crc32c.js';

describe('crc32c', () => {
  it('gives the standard check value and agrees with the JavaScript implementation on views of any size and offset', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const big = Buffer.allocUnsafe(70_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    for (const [start, len] of [[0, 0], [1, 1], [3, 1023], [5, 1024], [7, 1025], [13, 16_384], [100, 65_000]] as const) {
      const view = big.subarray(start, start + len);
      expect(crc32c(view)).toBe(crc32cJs(view));
    }
  });

  // Whether the native addon loads is decided here independently of crc32c.ts, so the assertion can fail:
  // on a platform where @node-rs/crc32 has a working binary, crc32c.ts must use it.
  it('uses the native implementation exactly when @node-rs/crc32 loads and is correct', () => {
    let nativeWorks = false;
    try {
      const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: (b: Buffer) => number };
      nativeWorks = mod.crc32c(Buffer.from('123456789')) >>> 0 === 0xe3069283;
    } catch (err) {
      console.warn(`@node-rs/crc32 does not load here (${(err as Error).message}): the JavaScript CRC-32C is in use`);
    }
    const expected = process.env['SAMSA_CRC32C'] === 'js' || !nativeWorks ? 'js' : 'native';
    expect(crc32cImplementation).toBe(expected);
  });

  it('SAMSA_CRC32C=js forces the JavaScript implementation', async () => {
    vi.stubEnv('SAMSA_CRC32C', 'js');
    try {
      vi.resetModules();
      const fresh = await import('../../../protocol/records/crc32c.js');
      expect(fresh.crc32cImplementation).toBe('js');
      const big = Buffer.alloc(4096, 7);
      expect(fresh.crc32c(big)).toBe(crc32cJs(big));
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
