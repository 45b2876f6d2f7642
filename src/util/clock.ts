/**
 * The one clock and scheduler of the broker: the current time and one-shot timers, for everything that
 * times out (the purgatory's delayed fetches and produces, group session and rebalance timers, offsets
 * expiration, retention scheduling, producer-id expiry). The broker runs on `systemClock`; tests and
 * simulations pass a `ManualClock` and move time by hand, so timeouts are tested without waiting and a
 * simulated cluster stays deterministic (../shared/design/cluster.md: "timers everywhere must take the
 * injected clock").
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after delayMs (0 runs it on a later tick, never synchronously). */
  schedule(delayMs: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // Broker timers must not keep a stopping process alive.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock whose time moves only when told to (tests, simulations). */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): Timer {
    const id = this.seq++;
    this.pending.set(id, { at: this.time + Math.max(0, delayMs), fn });
    return { cancel: () => this.pending.delete(id) };
  }

  /** Moves the clock forward by ms, running every timer that falls due, in time order (ties: first scheduled first). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= target && (t.at < nextAt || (t.at === nextAt && id < nextId))) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.time = Math.max(this.time, t.at);
      t.fn();
    }
    this.time = target;
  }

  get timerCount(): number {
    return this.pending.size;
  }
}
