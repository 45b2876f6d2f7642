/**
 * The pool the fetch path reads into (storage/read-buffers.ts): no 1 MiB allocation per partition per
 * fetch for the GC to chase. 32 MiB of free buffers at most (a handful of fetch responses of 6 partitions
 * x 1 MiB). A lease's buffers are reused only after `release`, which the Fetch handler calls from the
 * response's socket write callbacks.
 */
import { BufferPool, type ReadLease } from '../../storage/read-buffers.js';

const readPool = new BufferPool(32 * 1024 * 1024);

export type FetchBufferLease = ReadLease;

export function leaseFetchBuffers(): FetchBufferLease {
  return readPool.lease();
}
