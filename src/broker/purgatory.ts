/**
 * Delayed operations waiting on partitions (Kafka's DelayedOperationPurgatory, reduced to what a single
 * node needs): a long-polling Fetch waits until enough bytes are available or `max.wait.ms` passes.
 * Appends and high-watermark moves call `notify(key)`; each waiter re-checks its own condition, so a
 * wake-up is cheap and a missed one is impossible as long as the check reads current state.
 */

import { systemClock, type Clock, type Timer } from '../util/clock.js';

export interface Waiter {
  readonly keys: readonly string[];
  /** Returns true when the operation can complete now. */
  readonly tryComplete: () => boolean;
  readonly complete: () => void;
  timer: Timer | null;
  done: boolean;
}

export class Purgatory {
  private readonly watchers = new Map<string, Set<Waiter>>();

  /** Timeouts run on the broker's clock (src/util/clock.ts): a manual clock drives them in tests. */
  constructor(private readonly clock: Clock = systemClock) {}

  /** Resolves when `tryComplete` returns true (checked now and on every notify) or after timeoutMs. */
  wait(keys: readonly string[], timeoutMs: number, tryComplete: () => boolean): Promise<void> {
    if (tryComplete() || timeoutMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        keys,
        tryComplete,
        timer: null,
        done: false,
        complete: () => {
          if (waiter.done) return;
          waiter.done = true;
          waiter.timer?.cancel();
          for (const k of keys) {
            const set = this.watchers.get(k);
            set?.delete(waiter);
            if (set && set.size === 0) this.watchers.delete(k);
          }
          resolve();
        },
      };
      waiter.timer = this.clock.schedule(timeoutMs, waiter.complete);
      for (const k of keys) {
        let set = this.watchers.get(k);
        if (!set) this.watchers.set(k, (set = new Set()));
        set.add(waiter);
      }
    });
  }

  notify(key: string): void {
    const set = this.watchers.get(key);
    if (!set) return;
    for (const w of [...set]) if (!w.done && w.tryComplete()) w.complete();
  }

  /** Completes every waiter (shutdown). */
  completeAll(): void {
    for (const set of [...this.watchers.values()]) for (const w of [...set]) w.complete();
  }

  get size(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }
}
