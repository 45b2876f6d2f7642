/**
 * A real Raft quorum for tests that need one to look at (the web console's quorum view): three RaftCores
 * (src/controller/raft/raft-core.ts) wired to each other directly, one simulated millisecond per message,
 * on a virtual clock, with links that can be cut. The same loop as raft-core.test.ts's loss-free cluster.
 */
import { quorumConfig } from '../../src/controller/raft/config.js';
import type { RaftMessage } from '../../src/controller/raft/messages.js';
import { RaftCore, type RaftEffect } from '../../src/controller/raft/raft-core.js';
import { SeededRandom } from '../../src/controller/raft/random.js';

export interface TestQuorum {
  readonly cores: ReadonlyMap<number, RaftCore>;
  /** Nodes cut off from the others. */
  readonly isolated: Set<number>;
  /** The virtual time now. */
  now(): number;
  runUntil(until: number): void;
  leader(): RaftCore | undefined;
  /** Proposes one record per value on the leader. */
  propose(values: number): void;
}

export function startTestQuorum(voters: readonly number[] = [1, 2, 3], seed = 100): TestQuorum {
  const cores = new Map(voters.map((id) => [id, new RaftCore(quorumConfig({ nodeId: id, clusterId: 'console-test', voters: [...voters] }), null, [], 0, new SeededRandom(seed + id))]));
  const isolated = new Set<number>();
  let now = 0;
  let inFlight: { at: number; m: RaftMessage }[] = [];
  const take = (effects: RaftEffect[]): void => {
    for (const e of effects) if (e.type === 'send' && !isolated.has(e.message.source) && !isolated.has(e.message.destination)) inFlight.push({ at: now + 1, m: e.message });
  };
  for (const c of cores.values()) take(c.drain());
  const leader = (): RaftCore | undefined => [...cores.values()].find((c) => c.stateName === 'Leader');
  return {
    cores,
    isolated,
    now: () => now,
    leader,
    runUntil(until: number): void {
      while (now < until) {
        const nextMsg = inFlight.reduce((t, x) => Math.min(t, x.at), Infinity);
        const nextTick = Math.min(...[...cores.values()].map((c) => c.nextWakeupMs()));
        now = Math.min(until, nextMsg, Math.max(now, nextTick));
        const due = inFlight.filter((x) => x.at <= now);
        inFlight = inFlight.filter((x) => x.at > now);
        for (const { m } of due) if (!isolated.has(m.destination) && !isolated.has(m.source)) take(cores.get(m.destination)!.handle(now, m));
        for (const c of cores.values()) if (c.nextWakeupMs() <= now) take(c.tick(now));
      }
    },
    propose(values: number): void {
      const l = leader();
      if (l === undefined) throw new Error('no leader to propose to');
      const { result, effects } = l.propose(now, Array.from({ length: values }, (_, i) => new Uint8Array([i])));
      if (!result.ok) throw new Error(`proposal refused: ${JSON.stringify(result)}`);
      take(effects);
    },
  };
}
