/**
 * The exclusive `.lock` file of a log directory (Kafka's LogManager.lockLogDirs): one process at a time
 * may use a log dir; a second one refuses to start instead of overwriting the first one's segments.
 *
 * Kafka holds a FileChannel lock (flock) on `<log dir>/.lock`. Node has no flock in core, and the native
 * modules that add it would need build tools at install time, so this is the PostgreSQL postmaster.pid
 * scheme: the file is created with O_CREAT|O_EXCL and holds the owner's pid and host; it is removed on a
 * clean stop. A file left by a process that died (kill -9, power loss) is stale: its pid no longer runs
 * on this host (or is a zombie: exited, not yet reaped), or it is this process's own pid (a container
 * restarted as pid 1) while this process does not hold the lock. A stale file is removed and creation retried. A lock written on another host (a
 * shared filesystem) is never taken over: the message says how to remove it.
 *
 * Residual risk, as in PostgreSQL: a dead owner's pid reused by an unrelated live process makes the lock
 * look held; the message names the pid and file so an operator can check and remove it.
 */
import { hostname } from 'node:os';
import { constants, mkdir, open, readFile, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LogDirLockedError } from './errors.js';

export const LOCK_FILE = '.lock';

/** Log dirs this process holds, by real path: a second broker in the same process must be refused too. */
const heldHere = new Set<string>();

interface LockOwner {
  pid: number;
  host: string;
}

function parseOwner(text: string): LockOwner | null {
  const [pidText, host] = text.split('\n');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { pid, host: host ?? '' };
}

async function processRuns(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A killed broker whose parent has not reaped it yet is a zombie: kill(pid, 0) still succeeds, but it
  // has exited and closed its files, so it holds nothing (Kafka's flock is released at exit too, and a
  // restart right after kill -9 must not be refused). Linux's /proc says so; elsewhere the pid counts.
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    // ENOENT on Linux: it exited meanwhile; no /proc at all (macOS): the pid counts
    return !((err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux');
  }
}

export class LogDirLock {
  private released = false;

  private constructor(
    readonly logDir: string,
    private readonly key: string,
  ) {}

  /** Takes the lock of `logDir` (which must exist); throws LogDirLockedError when another process holds it. */
  static async acquire(logDir: string): Promise<LogDirLock> {
    const key = await realpath(logDir);
    const path = join(logDir, LOCK_FILE);
    if (heldHere.has(key)) {
      throw new LogDirLockedError(`Failed to acquire lock on file ${LOCK_FILE} in ${logDir}. A Kafka instance in another process or thread is using this directory (this process already uses it).`, logDir);
    }
    const content = `${process.pid}\n${hostname()}\n`;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
        try {
          await fh.writeFile(content);
          await fh.sync();
        } catch (err) {
          // A full disk: no half-written lock is left to puzzle the next start.
          await fh.close();
          await unlink(path).catch(() => undefined);
          throw err;
        }
        await fh.close();
        heldHere.add(key);
        return new LogDirLock(logDir, key);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let owner: LockOwner | null;
      try {
        owner = parseOwner(await readFile(path, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      // An empty or unreadable file is what Kafka itself leaves (its .lock is always empty) or a crash
      // between create and write: nobody can be proven to hold it, and Kafka would take it (flock).
      const stale = owner === null || (owner.host === hostname() && (owner.pid === process.pid || !(await processRuns(owner.pid))));
      if (!stale) {
        const where = owner!.host === hostname() ? `process ${owner!.pid}` : `process ${owner!.pid} on host ${owner!.host}`;
        throw new LogDirLockedError(
          `Failed to acquire lock on file ${LOCK_FILE} in ${logDir}. A Kafka instance in another process or thread is using this directory (${where}). If no broker uses it, remove ${path}.`,
          logDir,
        );
      }
      await unlink(path).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
    throw new LogDirLockedError(`Failed to acquire lock on file ${LOCK_FILE} in ${logDir}: other processes keep taking it`, logDir);
  }

  /** Removes the lock file (clean stop). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.key);
    await unlink(join(this.logDir, LOCK_FILE)).catch(() => undefined);
  }
}

/**
 * Creates (if needed) and locks every directory of a `log.dirs` value, in order; on failure releases the
 * ones already taken and throws.
 */
export async function lockLogDirs(logDirs: string | readonly string[]): Promise<LogDirLock[]> {
  const dirs = (typeof logDirs === 'string' ? logDirs.split(',') : [...logDirs]).map((d) => d.trim()).filter((d) => d.length > 0);
  const locks: LogDirLock[] = [];
  try {
    for (const dir of dirs) {
      await mkdir(dir, { recursive: true });
      locks.push(await LogDirLock.acquire(dir));
    }
  } catch (err) {
    await Promise.all(locks.map((l) => l.release()));
    throw err;
  }
  return locks;
}
