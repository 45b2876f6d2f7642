import { describe, expect, it } from 'vitest';
import { BufferPool, POOL_MIN_BYTES } from '../../storage/read-buffers.js';

describe('BufferPool / ReadLease', () => {
  it('hands out exact-size views and reuses buffers only after release', () => {
    const pool = new BufferPool(8 * 1024 * 1024);
    const a = pool.lease();
    const x = a.alloc(1024 * 1024 + 100);
    expect(x.length).toBe(1024 * 1024 + 100);
    const b = pool.lease();
    const y = b.alloc(1024 * 1024 + 100);
    expect(y.buffer).not.toBe(x.buffer);
    a.release();
    const c = pool.lease();
    const z = c.alloc(1024 * 1024 + 50);
    expect(z.buffer).toBe(x.buffer);
    expect(pool.reused).toBe(1);
    expect(() => {
      a.alloc(POOL_MIN_BYTES);
    }).toThrow();
  });

  it('does not pool small buffers and keeps at most maxFreeBytes', () => {
    const pool = new BufferPool(2 * 1024 * 1024);
    const a = pool.lease();
    a.alloc(100);
    expect(a.pooledBuffers).toBe(0);
    for (let i = 0; i < 4; i++) a.alloc(1024 * 1024);
    a.release();
    a.release();
    expect(pool.freeByteCount).toBe(2 * 1024 * 1024);
  });
});
