import { describe, expect, it } from 'vitest';
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

  it('uses the native implementation when @node-rs/crc32 is installed', () => {
    // Informational on platforms without a prebuilt binary: the JavaScript fallback is then correct too.
    expect(['native', 'js']).toContain(crc32cImplementation);
  });
});
