/**
 * One task at a time, in call order: the broker's write queues (metadata images applied in commit order,
 * producer-id blocks, dynamic broker configs, each `__consumer_offsets` partition's appends) share this
 * one helper on fastq (the project's queue library) instead of each hand-writing a promise chain.
 *
 * A task's place is taken synchronously by `run`, so tasks start in call order even when the callers
 * await other things meanwhile. A failed task rejects only its own caller; the next one still runs.
 */
import fastq from 'fastq';

type Task = () => Promise<unknown>;

export class SerialQueue {
  private readonly queue = fastq.promise<unknown, Task, unknown>((task) => task(), 1);

  /** Runs `fn` after every task queued before it has settled; resolves or rejects with its outcome. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.push(fn) as Promise<T>;
  }

  /** Resolves once every task queued so far has settled (shutdown). */
  async drained(): Promise<void> {
    if (!this.queue.idle()) await this.queue.drained();
  }

  /** Tasks queued or running. */
  get length(): number {
    return this.queue.length() + this.queue.running();
  }
}

/** One SerialQueue per key (e.g. per partition), created on first use and dropped when it runs empty. */
export class KeyedSerialQueue<K> {
  private readonly queues = new Map<K, SerialQueue>();

  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new SerialQueue()));
    const queue = q;
    return queue.run(fn).finally(() => {
      if (queue.length === 0 && this.queues.get(key) === queue) this.queues.delete(key);
    });
  }

  async drained(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.drained()));
  }
}
