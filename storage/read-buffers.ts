/**
 * Pooled read buffers for the fetch path (ARCHITECTURE.md: "serve fetches from large pooled buffers and
 * reuse a buffer only after its write callback").
 *
 * A fresh `Buffer.allocUnsafe(~1 MiB)` per partition per fetch is external memory V8 must collect: under a
 * fetch load most of the main thread's time went to "external memory pressure" garbage collections. Here a
 * fetch takes its read buffers from a `ReadLease`; the buffers go back to the `BufferPool` only when the
 * lease is released, which the fetch handler does from the socket write callback of the response that
 * carried them (see src/server/connection.ts `releaseAfterWrite`). A lease that is never released (the
 * connection closed, the write failed, the handler threw) simply leaves its buffers to the garbage
 * collector: a buffer is reused only on positive evidence that nothing references it any more.
 *
 * Small reads (below `POOL_MIN_BYTES`) use `Buffer.allocUnsafe` as before. Pooled buffers come in size
 * classes (multiples of 64 KiB) and the pool keeps at most `maxFreeBytes` of free ones.
 */

/** Allocates a buffer of exactly `size` bytes (its contents are unspecified). */
export type ReadAlloc = (size: number) => Buffer;

const CLASS_BYTES = 64 * 1024;
export const POOL_MIN_BYTES = 64 * 1024;

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private freeBytes = 0;
  /** Counters for tests and profiling. */
  allocated = 0;
  reused = 0;

  constructor(
    readonly maxFreeBytes: number,
    /** Requests above this size are not pooled. */
    readonly maxBufferBytes = 64 * 1024 * 1024,
  ) {}

  get freeByteCount(): number {
    return this.freeBytes;
  }

  /** A whole pooled buffer of at least `size` bytes (its class size). */
  take(size: number): Buffer {
    const cls = Math.ceil(size / CLASS_BYTES) * CLASS_BYTES;
    const list = this.free.get(cls);
    const b = list?.pop();
    if (b) {
      this.freeBytes -= b.length;
      this.reused++;
      return b;
    }
    this.allocated++;
    // Not from Node's shared 8 KiB pool: the whole ArrayBuffer is ours to reuse.
    return Buffer.allocUnsafeSlow(cls);
  }

  /** Returns a buffer obtained from `take` (whole, not a view). Kept unless the pool is full. */
  give(b: Buffer): void {
    if (this.freeBytes + b.length > this.maxFreeBytes) return;
    let list = this.free.get(b.length);
    if (!list) this.free.set(b.length, (list = []));
    list.push(b);
    this.freeBytes += b.length;
  }

  lease(): ReadLease {
    return new ReadLease(this);
  }
}

/**
 * The read buffers of one fetch response. `alloc` hands out views of pooled buffers; `release` returns
 * them all to the pool and must be called only once nothing references any of those views.
 */
export class ReadLease {
  private held: Buffer[] = [];
  private released = false;

  constructor(private readonly pool: BufferPool) {}

  readonly alloc: ReadAlloc = (size: number): Buffer => {
    if (this.released) throw new Error('read lease already released');
    if (size < POOL_MIN_BYTES || size > this.pool.maxBufferBytes) return Buffer.allocUnsafe(size);
    const b = this.pool.take(size);
    this.held.push(b);
    return b.subarray(0, size);
  };

  get pooledBuffers(): number {
    return this.held.length;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const held = this.held;
    this.held = [];
    for (const b of held) this.pool.give(b);
  }
}
