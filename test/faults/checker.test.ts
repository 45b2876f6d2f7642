/**
 * The fault suite's checker (faults/checker.ts) on hand-built histories: a clean one passes, and each
 * anomaly the suite must catch is flagged (lost, divergent, duplicated, gone, nonmonotonic, skipped,
 * committed offsets backwards, unseen), with the unavailability after each fault measured.
 */
import { describe, it, expect } from 'vitest';
import { check, summaryLine } from '../../faults/checker.js';
import { parseHistory, type History, type Op } from '../../faults/history.js';

/** A small history builder: a clock that advances 10 ms per op. */
class H {
  readonly ops: Op[] = [];
  t = 1_000_000;
  private tick(): number {
    return (this.t += 10);
  }
  send(client: string, partition: number, value: string, idempotent = true, workload = idempotent ? 'kafkajs-idempotent' : 'kafkajs'): this {
    this.ops.push({ type: 'send', t: this.tick(), client, workload, idempotent, partition, value });
    return this;
  }
  ack(client: string, partition: number, offset: number | null, value: string): this {
    this.ops.push({ type: 'ack', t: this.tick(), client, partition, offset, value });
    return this;
  }
  /** send + ack */
  write(client: string, partition: number, offset: number, value: string, idempotent = true): this {
    return this.send(client, partition, value, idempotent).ack(client, partition, offset, value);
  }
  read(client: string, partition: number, offset: number, value: string, mode: 'group' | 'assign' = 'assign'): this {
    this.ops.push({ type: 'read', t: this.tick(), client, mode, partition, offset, value });
    return this;
  }
  rebalance(client: string): this {
    this.ops.push({ type: 'rebalance', t: this.tick(), client, partitions: [0] });
    return this;
  }
  committed(group: string, partition: number, offset: number): this {
    this.ops.push({ type: 'committed', t: this.tick(), client: 'observer', group, partition, offset });
    return this;
  }
  fault(nemesis: string, phase: 'start' | 'end' = 'start'): this {
    this.ops.push({ type: 'fault', t: this.tick(), nemesis, phase, detail: '' });
    return this;
  }
  wait(ms: number): this {
    this.t += ms;
    return this;
  }
  /** The final reader's view of a partition: values at offsets logStart.. and its end. */
  final(partition: number, values: string[], logStart = 0): this {
    values.forEach((v, i) => this.ops.push({ type: 'read', t: this.tick(), client: 'final', mode: 'final', partition, offset: logStart + i, value: v }));
    this.ops.push({ type: 'final-end', t: this.tick(), partition, logStart, end: logStart + values.length });
    return this;
  }
  get h(): History {
    return this.ops;
  }
}

describe('checker', () => {
  it('a clean history: nothing flagged, ok', () => {
    const h = new H()
      .write('p1', 0, 0, 'p1:0')
      .write('p1', 0, 1, 'p1:1')
      .write('p2', 1, 0, 'p2:0', false)
      .read('c1', 0, 0, 'p1:0')
      .read('c1', 0, 1, 'p1:1')
      .committed('g', 0, 1)
      .committed('g', 0, 2)
      .final(0, ['p1:0', 'p1:1'])
      .final(1, ['p2:0']);
    const r = check(h.h);
    expect(r).toMatchObject({ acked: 3, lost: 0, gone: 0, divergent: 0, duplicated: 0, nonmonotonic: 0, skipped: 0, committedBackwards: 0, unseen: 0, ok: true });
    expect(r.anomalies).toEqual([]);
    expect(summaryLine(r)).toBe('faults: 0 events, acked 3, lost 0, duplicated 0, divergent 0');
  });

  it('flags an acknowledged write missing from the final log as lost', () => {
    const h = new H().write('p1', 0, 0, 'p1:0').write('p1', 0, 1, 'p1:1').final(0, ['p1:0']);
    const r = check(h.h);
    expect(r.lost).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.anomalies[0]).toMatchObject({ kind: 'lost', partition: 0 });
    expect(r.anomalies[0]!.detail).toContain('p1:1 acknowledged at offset 1');
    expect(r.perWorkload['kafkajs-idempotent']).toMatchObject({ acked: 2, lost: 1 });
    expect(summaryLine(r)).toBe('faults: 0 events, acked 2, lost 1, duplicated 0, divergent 0');
  });

  it('a lost write whose offset was refilled by another value is lost AND divergent', () => {
    // The classic truncation: the old leader acknowledged p1:1 at offset 1, a new leader wrote p2:0 there.
    const h = new H().write('p1', 0, 0, 'p1:0').write('p1', 0, 1, 'p1:1').write('p2', 0, 1, 'p2:0').final(0, ['p1:0', 'p2:0']);
    const r = check(h.h);
    expect(r.lost).toBe(1);
    expect(r.divergent).toBe(1);
    expect(r.anomalies.map((a) => a.kind).sort()).toEqual(['divergent', 'lost']);
  });

  it('flags two consumers reading different values at one offset as divergent', () => {
    const h = new H().read('c1', 0, 5, 'a:1').read('c2', 0, 5, 'b:1');
    const r = check(h.h);
    expect(r.divergent).toBe(1);
    expect(r.ok).toBe(false);
  });

  it('flags an ack whose offset is empty in the final log while the value sits elsewhere', () => {
    const h = new H().write('p1', 0, 3, 'p1:0').final(0, ['p1:0']);
    const r = check(h.h);
    expect(r.lost).toBe(0);
    expect(r.divergent).toBe(1);
    // and the value has two places (3 from the ack, 0 from the final read): a duplicate for an idempotent producer
    expect(r.duplicated).toBe(1);
  });

  it('flags an idempotent producer\'s value at two offsets as duplicated, and only reports a plain producer\'s', () => {
    const h = new H()
      .write('idem', 0, 0, 'idem:0')
      .send('plain', 0, 'plain:0', false)
      .ack('plain', 0, 1, 'plain:0')
      .final(0, ['idem:0', 'plain:0', 'idem:0', 'plain:0']);
    const r = check(h.h);
    expect(r.duplicated).toBe(1);
    expect(r.duplicatedAllowed).toBe(1);
    expect(r.perWorkload['kafkajs-idempotent']!.duplicated).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.anomalies.find((a) => a.kind === 'duplicated')!.detail).toBe('idem:0 at 0:0, 0:2');
  });

  it('a plain producer\'s duplicates alone keep the run ok', () => {
    const h = new H().send('plain', 0, 'plain:0', false).ack('plain', 0, 0, 'plain:0').final(0, ['plain:0', 'plain:0']);
    const r = check(h.h);
    expect(r).toMatchObject({ duplicated: 0, duplicatedAllowed: 1, ok: true });
  });

  it('flags a record read by a consumer and later gone (never acknowledged) as gone and lost', () => {
    const h = new H().send('p1', 0, 'p1:0').read('c1', 0, 0, 'p1:0').final(0, []);
    const r = check(h.h);
    expect(r.gone).toBe(1);
    expect(r.lost).toBe(1);
    expect(r.acked).toBe(0);
  });

  it('an acknowledged write in a partition the final reader could not finish is unseen, not lost', () => {
    const h = new H().write('p1', 0, 0, 'p1:0').write('p1', 1, 0, 'p1:1').final(1, ['p1:1']);
    const r = check(h.h);
    expect(r).toMatchObject({ lost: 0, unseen: 1, ok: true });
  });

  it('values below the final log start (retention) are not counted lost', () => {
    const h = new H().write('p1', 0, 0, 'p1:0').write('p1', 0, 1, 'p1:1').final(0, ['p1:1'], 1);
    expect(check(h.h)).toMatchObject({ lost: 0, divergent: 0, ok: true });
  });

  it('flags a consumer going back without a rebalance, and allows it after one', () => {
    const bad = new H().read('c1', 0, 0, 'a').read('c1', 0, 1, 'b').read('c1', 0, 1, 'b').read('c1', 0, 0, 'a');
    expect(check(bad.h).nonmonotonic).toBe(2);
    const fine = new H().read('c1', 0, 0, 'a', 'group').read('c1', 0, 1, 'b', 'group').rebalance('c1').read('c1', 0, 0, 'a', 'group');
    expect(check(fine.h).nonmonotonic).toBe(0);
    // another consumer's rebalance does not excuse c1
    const other = new H().read('c1', 0, 1, 'b').rebalance('c2').read('c1', 0, 0, 'a');
    expect(check(other.h).nonmonotonic).toBe(1);
  });

  it('flags a consumer skipping offsets the final log holds', () => {
    const h = new H().read('c1', 0, 0, 'a').read('c1', 0, 2, 'c').final(0, ['a', 'b', 'c']);
    const r = check(h.h);
    expect(r.skipped).toBe(1);
    expect(r.anomalies.find((a) => a.kind === 'skipped')!.detail).toContain('over 1');
  });

  it('flags committed offsets going backwards', () => {
    const h = new H().committed('g', 0, 5).committed('g', 0, 7).committed('g', 0, 6).committed('g', 1, 1).committed('h', 0, 2);
    const r = check(h.h);
    expect(r.committedBackwards).toBe(1);
    expect(r.anomalies[0]!.detail).toBe('group g committed 6 after 7');
  });

  it('measures unavailability from each fault to the first ack of a send begun after it', () => {
    const h = new H()
      .write('p1', 0, 0, 'p1:0')
      .fault('kill') // t = 1_000_030
      .send('p1', 0, 'p1:1') // begun after the fault...
      .wait(2_000)
      .ack('p1', 0, 1, 'p1:1') // ...acknowledged 2.02 s after it
      .fault('pause') // never followed by an ack
      .send('p1', 0, 'p1:2')
      .wait(5_000)
      .ops;
    h.push({ type: 'error', t: 1_000_030 + 2_020 + 10 + 10 + 5_000, client: 'p1', error: 'timeout' });
    const r = check(h);
    expect(r.events).toBe(2);
    expect(r.unavailability[0]).toEqual({ nemesis: 'kill', faultAt: 1_000_030, seconds: 2.02, recovered: true });
    expect(r.unavailability[1]).toMatchObject({ nemesis: 'pause', recovered: false });
    expect(r.unavailability[1]!.seconds).toBeCloseTo(5.01, 5);
    expect(r.unavailabilityByNemesis['kill']).toEqual({ faults: 1, medianSeconds: 2.02, maxSeconds: 2.02, unrecovered: 0 });
  });

  it('an ack of a send begun before the fault does not end its unavailability', () => {
    const h = new H().send('p1', 0, 'early').fault('kill').ack('p1', 0, 0, 'early').send('p1', 0, 'late').wait(1000).ack('p1', 0, 1, 'late');
    const r = check(h.h);
    expect(r.unavailability[0]!.seconds).toBeCloseTo(1.03, 5);
  });

  it('a fault on a partition leader is over when that partition takes a write, not another one', () => {
    const h = new H().write('p1', 0, 0, 'a').ops;
    h.push({ type: 'fault', t: 2_000_000, nemesis: 'kill-leader', phase: 'start', detail: '', partition: 0 });
    h.push({ type: 'send', t: 2_000_010, client: 'p1', workload: 'w', idempotent: true, partition: 1, value: 'other' });
    h.push({ type: 'ack', t: 2_000_020, client: 'p1', partition: 1, offset: 0, value: 'other' });
    h.push({ type: 'send', t: 2_000_030, client: 'p1', workload: 'w', idempotent: true, partition: 0, value: 'mine' });
    h.push({ type: 'ack', t: 2_004_000, client: 'p1', partition: 0, offset: 1, value: 'mine' });
    const r = check(h);
    expect(r.unavailability[0]).toEqual({ nemesis: 'kill-leader', faultAt: 2_000_000, seconds: 4, recovered: true });
    // without the partition, the other partition's write would have ended it after 0.02 s
    const h2 = h.map((op) => (op.type === 'fault' ? { ...op, partition: undefined } : op));
    expect(check(h2).unavailability[0]!.seconds).toBeCloseTo(0.02, 5);
  });

  it('an ack without an offset (librdkafka\'s implicit ack) is committed but names no offset: neither divergent nor duplicated', () => {
    // seed 301, 3 nodes, kill: py-idem's batch answer was lost in a leader kill, a later batch succeeded and
    // librdkafka acknowledged the earlier messages with offset -1 (None in Python)
    const h = new H().write('p', 0, 0, 'a').send('p', 0, 'b').ack('p', 0, null, 'b').write('p', 0, 2, 'c').final(0, ['a', 'x', 'c']);
    // 'b' is nowhere in the final log: an implicitly acknowledged value still counts as lost
    const r = check(h.h);
    expect(r).toMatchObject({ acked: 3, lost: 1, divergent: 0, duplicated: 0 });
    const ok = check(new H().write('p', 0, 0, 'a').send('p', 0, 'b').ack('p', 0, null, 'b').final(0, ['a', 'b']).h);
    expect(ok).toMatchObject({ acked: 2, lost: 0, divergent: 0, duplicated: 0, ok: true });
  });

  it('round-trips through JSON lines', () => {
    const h = new H().write('p1', 0, 0, 'p1:0').final(0, ['p1:0']);
    const text = h.h.map((o) => JSON.stringify(o)).join('\n') + '\n\n';
    expect(check(parseHistory(text))).toEqual(check(h.h));
    expect(() => parseHistory('{"nope":1}')).toThrow(/not a history op/);
  });
});
