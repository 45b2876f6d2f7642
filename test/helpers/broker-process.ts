/**
 * A real broker process for tests that need one (kill -9, restarts over a damaged directory): runs
 * `node --import tsx src/cli/main.ts start --override ...` from the repository root, collects its pino log
 * lines (JSON, one per line) and waits for the listener.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { unusedPort as freePort } from '../../faults/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface BrokerProcess {
  readonly port: number;
  readonly bootstrap: string;
  readonly dataDir: string;
  readonly proc: ChildProcess;
  /** Parsed log lines so far (non-JSON output is kept as { msg: line }). */
  readonly lines: LogLine[];
  /** Resolves with the first log line matching `match` (already seen or future), or rejects after timeoutMs. */
  waitForLine(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGKILL, then wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (clean shutdown), then wait for the exit. */
  stop(): Promise<void>;
}

/** A port for a broker process to bind a moment later: below the ephemeral range (faults/ports.ts says why). */
export { freePort };

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** `startTimeoutMs`: how long the client listener may take to bind (tsx compiles the sources at start). */
export async function startBrokerProcess(dataDir: string, overrides: Record<string, string> = {}, port?: number, startTimeoutMs = 30_000): Promise<BrokerProcess> {
  const p = port ?? (await freePort());
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'start'];
  const props: Record<string, string> = { listeners: `PLAINTEXT://127.0.0.1:${p}`, 'log.dirs': dataDir, 'group.initial.rebalance.delay.ms': '0', 'samsa.schema.registry.enable': 'false', 'samsa.http.listeners': '', ...overrides };
  for (const [k, v] of Object.entries(props)) args.push('--override', `${k}=${v}`);
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const onText = (stream: NodeJS.ReadableStream): void => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (text.trim() === '') continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { level: 0, msg: text };
        }
        lines.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.match(line)) {
            waiters[i]!.resolve(line);
            waiters.splice(i, 1);
          }
        }
      }
    });
  };
  onText(proc.stdout!);
  onText(proc.stderr!);
  let exited = false;
  const exit = new Promise<void>((res) => proc.once('exit', () => {
    exited = true;
    res();
  }));
  const deadline = Date.now() + startTimeoutMs;
  while (!(await canConnect(p))) {
    if (exited || Date.now() > deadline) {
      // A process too slow to bind would otherwise outlive the test (nobody holds it to stop it).
      if (!exited) proc.kill('SIGKILL');
      throw new Error(`broker process did not start:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port: p,
    bootstrap: `127.0.0.1:${p}`,
    dataDir,
    proc,
    lines,
    waitForLine(match, timeoutMs = 30_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no matching broker log line within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            res(l);
          },
        });
      });
    },
    async kill9() {
      if (!exited) proc.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (!exited) proc.kill('SIGTERM');
      await exit;
    },
  };
}

/**
 * Runs `samsa start` on `dataDir` expecting it to refuse to start: resolves with its exit code and log
 * lines once it exits; if it is still running (listening) after `timeoutMs`, kills it and rejects.
 */
export async function runBrokerProcessExpectingExit(dataDir: string, overrides: Record<string, string> = {}, timeoutMs = 30_000): Promise<{ code: number | null; lines: LogLine[] }> {
  const p = await freePort();
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'start'];
  const props: Record<string, string> = { listeners: `PLAINTEXT://127.0.0.1:${p}`, 'log.dirs': dataDir, 'samsa.http.listeners': '', ...overrides };
  for (const [k, v] of Object.entries(props)) args.push('--override', `${k}=${v}`);
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (text += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (text += c));
  const code = await new Promise<number | null>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`broker process did not exit within ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    // 'close', not 'exit': every line the process wrote has been read by then.
    proc.once('close', (c) => {
      clearTimeout(timer);
      res(c);
    });
  });
  const lines = text
    .split('\n')
    .filter((t) => t.trim() !== '')
    .map((t): LogLine => {
      try {
        return JSON.parse(t) as LogLine;
      } catch {
        return { level: 0, msg: t };
      }
    });
  return { code, lines };
}
