/**
 * Time for the group coordinator: the current time and one-shot timers. The broker uses the system clock;
 * the state-machine tests drive a FakeScheduler and advance time by hand, so session timeouts, rebalance
 * timeouts and the initial rebalance delay are tested without waiting.
 */

export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  now(): number;
  /** Runs fn once after delayMs (0 runs it on a later tick, never synchronously). */
  schedule(delayMs: number, fn: () => void): Timer;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // Group timers must not keep a stopping process alive.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A scheduler whose clock moves only when told to (tests). */
export class FakeScheduler implements Scheduler {
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

  /** Moves the clock forward by ms, running every timer that falls due, in time order. */
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
