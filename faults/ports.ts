/**
 * Loopback ports for processes the fault harness and the tests start. A port is chosen now and bound by
 * another process later (a node starting, or restarting after a kill), so it is taken from below the
 * kernel's ephemeral range: in that range any outgoing connection or listen(0) on the machine may take it
 * in between, and the node then fails with EADDRINUSE (seen in a CI run of the harness and in a clean-clone
 * run of test/cli/process.test.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port the kernel hands out now (from the ephemeral range): the fallback when none below it is free. */
function ephemeralPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** The first port of the kernel's ephemeral range (where connect() and listen(0) take ports from). */
function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 12_000) return first;
  } catch {
    // not Linux: the IANA range
  }
  return 49_152;
}

/**
 * A port for a node's own listener, below the ephemeral range and not in `taken`. Not drawn from the fault
 * schedule's seeded random: ports do not change what a seed replays.
 */
export async function nodePort(taken: ReadonlySet<number>): Promise<number> {
  const high = ephemeralRangeStart() - 1;
  const low = Math.max(10_000, high - 20_000);
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!taken.has(port) && (await bindable(port))) return port;
  }
  return ephemeralPort();
}

const handedOut = new Set<number>();

/**
 * A port below the ephemeral range that this process has not handed out before, for callers that pick
 * several ports before anything binds them (a test's or the bench's cluster).
 */
export async function unusedPort(): Promise<number> {
  const port = await nodePort(handedOut);
  handedOut.add(port);
  return port;
}
