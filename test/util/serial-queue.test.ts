/**
 * The serial queue behind the broker's write queues: tasks run one at a time in call order, a failure
 * rejects only its caller, and drained() waits for what is queued.
 */
import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue, SerialQueue } from '../../src/util/serial-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('SerialQueue', () => {
  it('runs tasks one at a time, in call order; a failed task rejects only its caller', async () => {
    const q = new SerialQueue();
    const events: string[] = [];
    const gate = deferred();
    let running = 0;
    const task = (name: string, wait?: Promise<void>, fail = false) => async () => {
      running++;
      expect(running).toBe(1);
      events.push(`start ${name}`);
      await wait;
      events.push(`end ${name}`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const a = q.run(task('a', gate.promise));
    const b = q.run(task('b', undefined, true));
    const c = q.run(task('c'));
    expect(q.length).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['start a']); // b and c wait for a
    gate.resolve();
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b failed');
    await expect(c).resolves.toBe('c');
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    await q.drained();
    expect(q.length).toBe(0);
  });

  it('drained() waits for every queued task', async () => {
    const q = new SerialQueue();
    const gate = deferred();
    let done = false;
    void q.run(async () => {
      await gate.promise;
      done = true;
    });
    const drained = q.drained().then(() => done);
    gate.resolve();
    expect(await drained).toBe(true);
  });

  it('keyed: one queue per key, independent of the others, dropped when empty', async () => {
    const q = new KeyedSerialQueue<number>();
    const gate = deferred();
    const order: string[] = [];
    const slow = q.run(0, async () => {
      await gate.promise;
      order.push('0a');
    });
    const other = q.run(1, async () => void order.push('1a'));
    const next = q.run(0, async () => void order.push('0b'));
    await other;
    expect(order).toEqual(['1a']); // key 1 did not wait for key 0
    gate.resolve();
    await Promise.all([slow, next]);
    expect(order).toEqual(['1a', '0a', '0b']);
    await q.drained();
  });
});
