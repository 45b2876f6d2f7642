/**
 * The fault suite's nemesis: carries out one scheduled step (faults/schedule.ts) on the cluster and records
 * its start and end in the history. Disk faults: a log directory made read-only (the nodes run as `nobody`
 * when the harness is root, see cluster.ts), a full disk (each node on its own size-limited tmpfs, filled by
 * a filler file; needs root to mount), and segment files corrupted or cut short while the node is down
 * (`truncate` models a power loss taking the page cache's unflushed tail; on one node, or with acks=1, that
 * loses acknowledged records for certain, which makes it the suite's negative control).
 */
import { chmodSync, openSync, readSync, writeSync, closeSync, readdirSync, statSync, truncateSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import type { Cluster, Node } from './cluster.js';
import type { History } from './history.js';
import type { Step, Target } from './schedule.js';
import { activeController } from './quorum.js';
import { describeStep } from './schedule.js';
import { TOPIC, leaderOf } from './workload.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls Metadata until every partition of the test topic has its whole replica set in sync; ms waited, or null after `timeoutMs`. */
async function untilFullyReplicated(ctx: NemesisContext, timeoutMs: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    try {
      const md = await ctx.admin.fetchTopicMetadata({ topics: [TOPIC] });
      const parts = md.topics[0]?.partitions ?? [];
      if (parts.length > 0 && parts.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)) return Date.now() - start;
    } catch {
      // not answering yet
    }
    await sleep(250);
  }
  return null;
}

/** Polls a node's log from byte `from` until a line contains `text`; ms waited, or null after `timeoutMs`. */
async function untilLogged(file: string, from: number, text: string, timeoutMs: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (existsSync(file)) {
      const size = statSync(file).size;
      if (size > from) {
        const fd = openSync(file, 'r');
        try {
          const buf = Buffer.alloc(size - from);
          readSync(fd, buf, 0, buf.length, from);
          if (buf.toString('utf8').includes(text)) return Date.now() - start;
        } finally {
          closeSync(fd);
        }
      }
    }
    await sleep(250);
  }
  return null;
}

export interface NemesisContext {
  cluster: Cluster;
  history: History;
  admin: Admin;
  random: () => number;
  log: (msg: string) => void;
}

function record(ctx: NemesisContext, nemesis: string, phase: 'start' | 'end', detail: string): void {
  // a fault on the leader of partition 0 (see resolveTarget) is measured on partition 0
  const partition = nemesis.endsWith('-leader') ? 0 : undefined;
  ctx.history.push({ type: 'fault', t: Date.now(), nemesis, phase, detail, ...(partition === undefined ? {} : { partition }) });
  ctx.log(`${phase === 'start' ? 'fault' : 'healed'} ${nemesis}: ${detail}`);
}

/**
 * The node a step targets, and the name its fault is recorded under: `kill-leader` (etc.) when the step
 * asked for the leader of partition 0 and Metadata named one, so that unavailability after a leader
 * failure is reported on its own.
 */
async function resolveTarget(ctx: NemesisContext, nemesis: string, target: Target, fallback: number): Promise<{ id: number; name: string }> {
  if (typeof target === 'number') return { id: target, name: nemesis };
  const found =
    target === 'leader'
      ? await Promise.race([leaderOf(ctx.admin, 0), sleep(5000).then(() => null)])
      : await activeController(ctx.cluster.nodes.map((n) => ctx.cluster.network.clientPort(n.id)));
  if (found !== null && ctx.cluster.nodes.some((n) => n.id === found)) return { id: found, name: `${nemesis}-${target}` };
  ctx.log(`${nemesis}: no ${target === 'leader' ? 'leader of partition 0' : 'active controller'} known; node ${fallback} instead`);
  return { id: fallback, name: nemesis };
}

/** Every directory and file under `dir` made read-only (0555/0444), or writable again (0755/0644). */
export function setWritable(dir: string, writable: boolean): void {
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      if (writable) chmodSync(p, 0o755);
      for (const e of readdirSync(p)) walk(join(p, e));
      if (!writable) chmodSync(p, 0o555);
    } else {
      chmodSync(p, writable ? 0o644 : 0o444);
    }
  };
  if (existsSync(dir)) walk(dir);
}

/** The newest non-empty segment (.log) of each of the suite topic's partition directories on a node. */
export function activeSegments(dataDir: string): string[] {
  if (!existsSync(dataDir)) return [];
  const out: string[] = [];
  for (const d of readdirSync(dataDir)) {
    if (!d.startsWith(`${TOPIC}-`)) continue;
    const logs = readdirSync(join(dataDir, d)).filter((f) => f.endsWith('.log') && statSync(join(dataDir, d, f)).size > 0).sort();
    const last = logs.at(-1);
    if (last) out.push(join(dataDir, d, last));
  }
  return out.sort();
}

/** Flips 16 bytes inside the last quarter of a segment (a torn or rotten sector). Returns what it did. */
export function corruptTail(file: string, random: () => number): string {
  const size = statSync(file).size;
  if (size < 64) return `${file}: ${size} bytes, left alone`;
  const from = Math.floor(size * 0.75);
  const at = from + Math.floor(random() * Math.max(1, size - from - 16));
  const fd = openSync(file, 'r+');
  try {
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, at);
    for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! ^ 0xff;
    writeSync(fd, buf, 0, 16, at);
  } finally {
    closeSync(fd);
  }
  return `${file}: 16 bytes flipped at ${at} of ${size}`;
}

/** Cuts a segment to between 50% and 90% of its size (the unflushed tail lost). */
export function truncateTail(file: string, random: () => number): string {
  const size = statSync(file).size;
  const keep = Math.floor(size * (0.5 + 0.4 * random()));
  truncateSync(file, keep);
  return `${file}: cut from ${size} to ${keep} bytes`;
}

async function restart(ctx: NemesisContext, node: Node): Promise<void> {
  try {
    await node.start();
  } catch (e) {
    ctx.log(`node ${node.id} did not come back: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function runStep(ctx: NemesisContext, step: Step): Promise<void> {
  const { cluster } = ctx;
  const plan = describeStep(step);
  switch (step.nemesis) {
    case 'kill': {
      const t = await resolveTarget(ctx, 'kill', step.target, step.fallback);
      const n = cluster.node(t.id);
      record(ctx, t.name, 'start', `kill -9 node ${n.id} (pid ${n.pid}); ${plan}`);
      await n.kill9();
      await sleep(step.seconds * 1000);
      await restart(ctx, n);
      record(ctx, t.name, 'end', `node ${n.id} restarted (pid ${n.pid})`);
      return;
    }
    case 'pause': {
      const t = await resolveTarget(ctx, 'pause', step.target, step.fallback);
      const n = cluster.node(t.id);
      record(ctx, t.name, 'start', `SIGSTOP node ${n.id} (pid ${n.pid}); ${plan}`);
      n.pause();
      await sleep(step.seconds * 1000);
      n.resume();
      record(ctx, t.name, 'end', `SIGCONT node ${n.id}`);
      return;
    }
    case 'disk-ro': {
      const t = await resolveTarget(ctx, 'disk-ro', step.target, step.fallback);
      const n = cluster.node(t.id);
      record(ctx, t.name, 'start', `log dir of node ${n.id} read-only; ${plan}`);
      setWritable(n.dataDir, false);
      await sleep(step.seconds * 1000);
      setWritable(n.dataDir, true);
      const crashed = n.state === 'down';
      if (crashed) await restart(ctx, n);
      record(ctx, t.name, 'end', `log dir of node ${n.id} writable${crashed ? '; the node had stopped and was restarted' : ''}`);
      return;
    }
    case 'disk-full': {
      const t = await resolveTarget(ctx, 'disk-full', step.target, step.fallback);
      const n = cluster.node(t.id);
      const taken = n.fillDisk();
      record(ctx, t.name, 'start', `disk of node ${n.id} filled (${(taken / 2 ** 20).toFixed(0)} MiB filler, 0 bytes free); ${plan}`);
      await sleep(step.seconds * 1000);
      n.freeDisk();
      const crashed = n.state === 'down';
      if (crashed) await restart(ctx, n);
      record(ctx, t.name, 'end', `disk of node ${n.id} freed${crashed ? '; the node had stopped and was restarted' : ''}`);
      return;
    }
    case 'corrupt':
    case 'truncate': {
      if (cluster.nodes.length > 1) {
        // A replica's lost tail is restored from the other replicas, which is what these faults check on
        // several nodes; destroying data on the only in-sync copy is a second fault on top of the one
        // that shrank the ISR (after a stop-all the ISR keeps one member until the others catch up), and
        // no ISR-based system, Kafka included, survives it (faults/README.md, seed 424242). So the data of
        // a node is damaged only once every partition of the test topic has its whole replica set in sync
        // (nemesis rules 2), and the fault lasts until the other replicas have restored it (rules 3, below).
        const waited = await untilFullyReplicated(ctx, 90_000);
        if (waited === null) {
          ctx.log(`${step.nemesis}: skipped, partitions still under-replicated after 90 s (no fault recorded)`);
          return;
        }
        if (waited > 0) ctx.log(`${step.nemesis}: every ISR full after ${(waited / 1000).toFixed(1)} s`);
      }
      const t = await resolveTarget(ctx, step.nemesis, step.target, step.fallback);
      const n = cluster.node(t.id);
      await n.kill9();
      const segs = activeSegments(n.dataDir);
      const what: string[] = [];
      if (step.nemesis === 'corrupt') {
        const seg = segs[Math.floor(ctx.random() * segs.length)];
        if (seg) what.push(corruptTail(seg, ctx.random));
      } else {
        for (const seg of segs) what.push(truncateTail(seg, ctx.random));
      }
      record(ctx, t.name, 'start', `node ${n.id} killed; ${what.join('; ') || 'no segment found'}; ${plan}`);
      await sleep(step.seconds * 1000);
      const logFrom = existsSync(n.logFile) ? statSync(n.logFile).size : 0;
      await restart(ctx, n);
      if (cluster.nodes.length === 1) {
        record(ctx, t.name, 'end', `node ${n.id} restarted`);
        return;
      }
      // Nemesis rules 3: the damage is healed once the other replicas have restored it, not when the node
      // listens. Until its new process registers, the controller still counts the previous one in every
      // ISR (its session has not expired), so a second fault meanwhile (a stop-all, after which the ISR
      // keeps one member) can elect the damaged copy: a double fault Kafka loses data on too (seed 1311).
      // The registration takes the node out of every ISR; back in all of them, it holds the data again.
      const registered = await untilLogged(n.logFile, logFrom, 'registered with the controller as broker', 90_000);
      const full = registered === null ? null : await untilFullyReplicated(ctx, 90_000);
      record(
        ctx,
        t.name,
        'end',
        registered === null
          ? `node ${n.id} restarted; its new process did not register within 90 s`
          : `node ${n.id} restarted, registered after ${(registered / 1000).toFixed(1)} s, ${full === null ? 'partitions still under-replicated 90 s later' : `every ISR full again ${(full / 1000).toFixed(1)} s later`}`,
      );
      return;
    }
    case 'partition': {
      const v = step.variant;
      const net = cluster.network;
      let detail = plan;
      switch (v.kind) {
        case 'clients':
          if (v.oneWay) net.clientLinks.get(v.node)?.cut('up');
          else net.isolateFromClients(v.node);
          break;
        case 'halves':
          net.partition(v.groups);
          break;
        case 'isolate':
          net.partition([[v.node], cluster.nodes.map((n) => n.id).filter((id) => id !== v.node)]);
          break;
        case 'bridge':
          net.bridge(v.left, v.right);
          break;
        case 'one-way':
          net.cutOneWay(v.from, v.to);
          break;
        case 'leader-from-quorum': {
          const { id: leader } = await resolveTarget(ctx, 'partition', 'leader', v.fallback);
          net.partition([[leader], cluster.nodes.map((n) => n.id).filter((id) => id !== leader)]);
          detail = `${plan}: node ${leader}`;
          break;
        }
        case 'isolate-controller': {
          const { id: controller } = await resolveTarget(ctx, 'partition', 'controller', v.fallback);
          net.partition([[controller], cluster.nodes.map((n) => n.id).filter((id) => id !== controller)]);
          detail = `${plan}: node ${controller}`;
          break;
        }
      }
      record(ctx, 'partition', 'start', `${detail} (${net.describe()})`);
      await sleep(step.seconds * 1000);
      net.heal();
      record(ctx, 'partition', 'end', 'all links healed');
      return;
    }
    case 'slow': {
      record(ctx, 'slow', 'start', plan);
      cluster.network.delayAll(step.delayMs);
      await sleep(step.seconds * 1000);
      cluster.network.heal();
      record(ctx, 'slow', 'end', 'delays removed');
      return;
    }
    case 'rolling': {
      record(ctx, 'rolling', 'start', plan);
      for (const id of step.order) {
        const n = cluster.node(id);
        const how = await n.stop(30_000);
        ctx.log(`rolling: node ${id} stopped (${how})`);
        await restart(ctx, n);
        // As an operator restarts Kafka: the next node goes down only once no partition is
        // under-replicated (bounded, so a node that cannot catch up does not stall the run).
        const waited = await untilFullyReplicated(ctx, 30_000);
        ctx.log(`rolling: node ${id} back${waited === null ? '; partitions still under-replicated after 30 s' : `, every ISR full after ${(waited / 1000).toFixed(1)} s`}`);
      }
      record(ctx, 'rolling', 'end', 'every node restarted');
      return;
    }
    case 'lag-kill': {
      const t = await resolveTarget(ctx, 'lag-kill', 'leader', step.fallback);
      const leader = cluster.node(t.id);
      const others = cluster.nodes.filter((n) => n.id !== leader.id && n.state === 'up');
      // recorded as a fault on partition 0's leader: its unavailability is measured on partition 0
      record(ctx, 'lag-kill-leader', 'start', `SIGSTOP nodes ${others.map((n) => n.id).join(',')}, leader node ${leader.id} alone; ${plan}`);
      for (const n of others) n.pause();
      await sleep(step.pauseSeconds * 1000);
      await leader.kill9();
      for (const n of others) n.resume();
      ctx.log(`lag-kill: node ${leader.id} killed, nodes ${others.map((n) => n.id).join(',')} resumed`);
      await sleep(step.downSeconds * 1000);
      await restart(ctx, leader);
      record(ctx, 'lag-kill-leader', 'end', `node ${leader.id} restarted (pid ${leader.pid})`);
      return;
    }
    case 'stop-all': {
      record(ctx, 'stop-all', 'start', plan);
      await Promise.all(cluster.nodes.map((n) => n.kill9()));
      await sleep(step.seconds * 1000);
      await Promise.all(cluster.nodes.map((n) => restart(ctx, n)));
      record(ctx, 'stop-all', 'end', 'every node restarted');
      return;
    }
  }
}
