/**
 * Small helpers over fs/promises shared by the storage files: v2 batch header field offsets, exact int64
 * reads as JS numbers, full positional reads and writes, directory fsync and atomic text-file replacement.
 */
import { randomBytes } from 'node:crypto';
import { writeSync, writevSync } from 'node:fs';
import { constants, type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';

/** Byte offsets of the RecordBatch v2 header fields this layer reads (KIP-98). */
export const BASE_OFFSET_POS = 0;
export const BATCH_LENGTH_POS = 8;
export const MAGIC_POS = 16;
export const LAST_OFFSET_DELTA_POS = 23;
export const MAX_TIMESTAMP_POS = 35;
export const PARTITION_LEADER_EPOCH_POS = 12;

/** A signed int64 (big-endian) as a number; exact within the safe-integer range. */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 4294967296, pos + 4);
}

/** Reads up to `length` bytes at `position`; returns fewer only at end of file. `alloc` supplies the buffer. */
export async function readAt(fh: FileHandle, position: number, length: number, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Promise<Buffer> {
  const buf = alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Writes every byte of `buffers` at `position` (one writev in the normal case; loops on short writes). */
export async function writeFullyAt(fh: FileHandle, buffers: Buffer[], position: number): Promise<number> {
  let total = 0;
  for (const b of buffers) total += b.length;
  let written = 0;
  let pending = buffers;
  while (written < total) {
    const { bytesWritten } =
      pending.length === 1
        ? await fh.write(pending[0]!, 0, pending[0]!.length, position + written)
        : await fh.writev(pending, position + written);
    if (bytesWritten <= 0) throw new Error(`short write: wrote ${written} of ${total} bytes`);
    written += bytesWritten;
    if (written < total) pending = dropBytes(pending, bytesWritten);
  }
  return total;
}

/**
 * writeFullyAt, synchronously (pwritev into the page cache, as Kafka's FileChannel.write): an async
 * FileHandle.write costs about 33 us of CPU in dispatch to the libuv pool and back, a synchronous one
 * about 8 us for a 16 KiB append. Throws what the write throws.
 */
export function writeFullyAtSync(fd: number, buffers: Buffer[], position: number): number {
  let total = 0;
  for (const b of buffers) total += b.length;
  let written = 0;
  let pending = buffers;
  while (written < total) {
    const bytesWritten = pending.length === 1 ? writeSync(fd, pending[0]!, 0, pending[0]!.length, position + written) : writevSync(fd, pending, position + written);
    if (bytesWritten <= 0) throw new Error(`short write: wrote ${written} of ${total} bytes`);
    written += bytesWritten;
    if (written < total) pending = dropBytes(pending, bytesWritten);
  }
  return total;
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** Opens for read and write, creating the file if needed (not O_APPEND: positional writes must be honoured). */
export function openReadWrite(path: string, exclusive = false): Promise<FileHandle> {
  let flags = constants.O_RDWR | constants.O_CREAT;
  if (exclusive) flags |= constants.O_EXCL;
  return open(path, flags, 0o644);
}

/** fsync a directory so that file creations, renames and deletions in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    // Some filesystems refuse fsync on directories (EINVAL/EISDIR); that is not a data error.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await fh?.close();
  }
}

/** Replace `path` with `content` atomically: write `<path>.tmp`, fsync, rename over, fsync the directory. */
export async function writeFileAtomic(path: string, content: string | Buffer, dir: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The 20-digit zero-padded file name stem Kafka uses for a segment's base offset. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * The name a partition directory `<topic>-<partition>` is renamed to before deletion (`-delete`) or when
 * moved aside (`-stray`): `<topic>-<partition>.<uuid without dashes><suffix>`, the topic cut short so the
 * name stays within 255 bytes (Kafka's LocalLog.logDirNameWithSuffixCappedLength; a 249-character topic
 * would otherwise fail with ENAMETOOLONG).
 */
export function partitionDirNameWithSuffix(dirName: string, suffix: '-delete' | '-stray'): string {
  const uid = randomBytes(16).toString('hex');
  const dash = dirName.lastIndexOf('-');
  const topic = dash > 0 ? dirName.slice(0, dash) : dirName;
  const rest = `${dash > 0 ? dirName.slice(dash) : ''}.${uid}${suffix}`;
  return `${topic.slice(0, Math.max(0, Math.min(topic.length, 255 - Buffer.byteLength(rest))))}${rest}`;
}
