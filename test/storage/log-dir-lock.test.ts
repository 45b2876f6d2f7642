/**
 * The log dir's `.lock` (storage/log-dir-lock.ts) against a lock whose owner is a zombie: a broker killed
 * with kill -9 whose parent has not reaped it yet. It has exited and closed its files (Kafka's flock would
 * be free), so a restart right after the kill must take the lock over. The conformance run of
 * replicated-cluster restarted a killed node within milliseconds and was refused "process N is using this
 * directory" while N was a zombie.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, LogDirLock } from '../../storage/log-dir-lock.js';

let parent: ChildProcess | null = null;
let dir: string | null = null;

afterEach(async () => {
  parent?.kill('SIGKILL');
  parent = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

/**
 * A process that forks a child which exits at once, waits for that exit without reaping it (waitid with
 * WNOWAIT), prints the child's pid and stays: the child is a zombie until this parent dies.
 */
function zombie(): Promise<number> {
  const script = [
    'import os, sys',
    'pid = os.fork()',
    'if pid == 0: os._exit(0)',
    'os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)',
    'print(pid, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  parent = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const p = parent;
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    p.once('error', reject);
    p.once('exit', (code) => reject(new Error(`zombie maker exited ${code}`)));
  });
}

describe.runIf(process.platform === 'linux')('log dir lock owned by a zombie', () => {
  it('is taken over: the owner has exited, only its exit status waits to be reaped', async () => {
    const pid = await zombie();
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    expect(stat.slice(stat.lastIndexOf(')') + 2)[0]).toBe('Z');
    // kill(pid, 0) succeeds on a zombie: the check that used to refuse the lock
    expect(process.kill(pid, 0)).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'samsa-lock-zombie-'));
    await writeFile(join(dir, LOCK_FILE), `${pid}\n${hostname()}\n`);
    const lock = await LogDirLock.acquire(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    await lock.release();
  });

  it('is still refused while the owner runs (its parent, alive)', async () => {
    await zombie();
    dir = await mkdtemp(join(tmpdir(), 'samsa-lock-zombie-'));
    await writeFile(join(dir, LOCK_FILE), `${parent!.pid}\n${hostname()}\n`);
    await expect(LogDirLock.acquire(dir)).rejects.toThrow(`process ${parent!.pid}`);
  });
});
