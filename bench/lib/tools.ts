/**
 * The load generators, run as child processes with a time limit, and the parsing of what they print:
 * Kafka's ProducerPerformance and ConsumerPerformance (kafka-tools), the bench's OpenLoopLatency (Java
 * client), and the replayer (bench/replayer.ts). The same commands run against either broker.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { KafkaDist } from './kafka-dist.js';
import { BENCH_DIR, REPO_ROOT } from './kafka-dist.js';
import type { ReplayResult } from '../replayer.js';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  wallMs: number;
}

export function runProcess(cmd: string, args: string[], timeoutMs: number, cwd = REPO_ROOT): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 200_000) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

function failure(what: string, r: ProcessResult): Error {
  const tail = (r.stdout + '\n' + r.stderr).trim().split('\n').slice(-15).join('\n');
  return new Error(`${what} ${r.timedOut ? 'timed out' : `exited ${r.code}`}:\n${tail}`);
}

const TOOL_HEAP = '-Xmx512M';

function javaArgs(dist: KafkaDist, main: string, args: string[]): string[] {
  return [TOOL_HEAP, `-Dlog4j2.configurationFile=${dist.log4jConfig}`, '-cp', dist.classpath, main, ...args];
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** org.apache.kafka.tools.ProducerPerformance, unthrottled, fixed record count. */
export async function producerPerformance(dist: KafkaDist, o: { bootstrap: string; topic: string; records: number; recordSize: number; acks: string; props: string[]; timeoutMs: number }): Promise<ProducerPerfResult> {
  const r = await runProcess('java', javaArgs(dist, 'org.apache.kafka.tools.ProducerPerformance', [
    '--bootstrap-server', o.bootstrap, '--topic', o.topic, '--num-records', String(o.records), '--record-size', String(o.recordSize),
    '--throughput', '-1', '--command-property', `acks=${o.acks}`, ...o.props,
  ]), o.timeoutMs);
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(r.stdout);
  if (r.code !== 0 || !m) throw failure('ProducerPerformance', r);
  const res = {
    records: Number(m[1]), recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), avgLatencyMs: Number(m[4]), maxLatencyMs: Number(m[5]),
    p50Ms: Number(m[6]), p95Ms: Number(m[7]), p99Ms: Number(m[8]), p999Ms: Number(m[9]),
  };
  if (res.records !== o.records) throw new Error(`ProducerPerformance acknowledged ${res.records} of ${o.records} records:\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  return res;
}

export interface ConsumerPerfResult {
  records: number;
  /** Throughput while fetching (fetch.MB.sec / fetch.nMsg.sec: the group join excluded). */
  mbPerSec: number;
  recordsPerSec: number;
  /** Including the group join. */
  overallMbPerSec: number;
  rebalanceMs: number;
  fetchMs: number;
}

/** org.apache.kafka.tools.ConsumerPerformance: a group consumer reading a backlog from the start. */
export async function consumerPerformance(dist: KafkaDist, o: { bootstrap: string; topic: string; records: number; group: string; props: string[]; timeoutMs: number }): Promise<ConsumerPerfResult> {
  const r = await runProcess('java', javaArgs(dist, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', o.bootstrap, '--topic', o.topic, '--num-records', String(o.records), '--group', o.group,
    '--hide-header', '--timeout', '30000', ...(o.props.length > 0 ? ['--command-property', ...o.props] : []),
  ]), o.timeoutMs);
  const line = r.stdout.trim().split('\n').filter((l) => /^\d{4}-/.test(l)).pop();
  if (r.code !== 0 || !line) throw failure('ConsumerPerformance', r);
  const f = line.split(/,\s*/);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const res = {
    records: Number(f[4]), overallMbPerSec: Number(f[3]), rebalanceMs: Number(f[6]), fetchMs: Number(f[7]),
    mbPerSec: Number(f[8]), recordsPerSec: Number(f[9]),
  };
  if (!(res.records >= o.records)) throw new Error(`ConsumerPerformance read ${res.records} of ${o.records} records: ${line}`);
  return res;
}

export interface OpenLoopResult {
  sent: number;
  received: number;
  measured: number;
  errors: number;
  targetRate: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** bench/java/OpenLoopLatency: end-to-end latency at a fixed rate, open loop. */
export async function openLoopLatency(dist: KafkaDist, o: { bootstrap: string; topic: string; partitions: number; rate: number; seconds: number; warmupSeconds: number; recordSize: number; acks: string; props: string[]; timeoutMs: number }): Promise<OpenLoopResult> {
  const r = await runProcess('java', javaArgs(dist, 'OpenLoopLatency', [
    o.bootstrap, o.topic, String(o.partitions), String(o.rate), String(o.seconds), String(o.warmupSeconds), String(o.recordSize), o.acks, ...o.props,
  ]), o.timeoutMs);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw failure('OpenLoopLatency', r);
  const res = JSON.parse(line) as OpenLoopResult;
  if (r.code !== 0) throw new Error(`OpenLoopLatency: ${res.received}/${res.sent} records came back, ${res.errors} send errors: ${line}`);
  return res;
}

/** bench/replayer.ts in its own process (so it never shares an event loop with the orchestrator). */
export async function replayer(args: string[], timeoutMs: number): Promise<ReplayResult> {
  const r = await runProcess(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'replayer.ts'), ...args, '--json'], timeoutMs);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw failure('replayer', r);
  const res = JSON.parse(line) as ReplayResult;
  if (res.errors > 0) throw new Error(`replayer: ${res.errors} partition errors, first: ${res.firstError}`);
  return res;
}
