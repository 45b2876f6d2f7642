/**
 * The bench's result file (JSON) and what is derived from it: medians per figure, the Samsa/Kafka ratio,
 * the targets of issue 6, and the markdown report.
 */
import { median } from './stats.js';
import { figuresFor, type ClusterShape, type Figure, type Workload } from './workloads.js';

export interface WorkloadRun {
  ok: boolean;
  error: string | null;
  metrics: Record<string, number>;
  wallMs: number;
  /** CPU seconds (user + system) the broker process used during the workload. */
  brokerCpuSec: number | null;
  /** Peak VmRSS of the broker during the workload. */
  rssPeakMb: number;
  /** 1-minute load average when the workload started (a hint of other work on the machine). */
  loadavg1: number;
}

export interface BrokerRun {
  rep: number;
  broker: 'samsa' | 'kafka';
  startup: { firstProduceMs: number; connectMs?: number; topicCreatedMs?: number; formatMs: number | null } | null;
  memory: { idleRssMb: number; loadRssMb: number; hwmMb: number } | null;
  workloads: Record<string, WorkloadRun>;
  error: string | null;
}

export interface SummaryRow {
  figure: Figure;
  samsa: number | null;
  kafka: number | null;
  samsaRuns: number;
  kafkaRuns: number;
  /** Samsa / Kafka. */
  ratio: number | null;
  met: boolean | null;
}

export interface BenchResult {
  meta: {
    name: string;
    mode: string;
    startedAt: string;
    finishedAt: string;
    repetitions: number;
    gitCommit: string;
    node: string;
    java: string;
    kafkaVersion: string;
    cpu: string;
    cores: number;
    loadavgStart: number[];
    loadavgEnd: number[];
    dataRoot: string;
    producerIdempotence: boolean;
    /** How Samsa ran: through tsx (default) or as an esbuild bundle. */
    samsaEntry?: 'tsx' | 'bundle';
    /** A `--cluster` run's shape (absent or null: one broker each side). */
    cluster?: ClusterShape | null;
    notes: string[];
  };
  workloads: Workload[];
  runs: BrokerRun[];
  summary: SummaryRow[];
}

export function valueOf(run: BrokerRun, f: Figure): number | null {
  if (f.source === 'broker') {
    if (f.metric === 'firstProduceMs') return run.startup?.firstProduceMs ?? null;
    const m = run.memory as Record<string, number> | null;
    return m?.[f.metric] ?? null;
  }
  const w = run.workloads[f.source];
  if (!w || !w.ok) return null;
  return w.metrics[f.metric] ?? null;
}

export function summarize(result: Pick<BenchResult, 'workloads' | 'runs'> & { meta?: Pick<BenchResult['meta'], 'cluster'> }): SummaryRow[] {
  return figuresFor(result.workloads, (result.meta?.cluster ?? null) !== null).map((figure) => {
    const of = (broker: string): (number | null)[] => result.runs.filter((r) => r.broker === broker).map((r) => valueOf(r, figure));
    const s = of('samsa');
    const k = of('kafka');
    const samsa = median(s);
    const kafka = median(k);
    const ratio = samsa !== null && kafka !== null && kafka !== 0 ? samsa / kafka : null;
    let met: boolean | null = null;
    if (figure.target && ratio !== null) met = figure.target.op === '>=' ? ratio >= figure.target.ratio : ratio <= figure.target.ratio;
    return { figure, samsa, kafka, samsaRuns: s.filter((v) => v !== null).length, kafkaRuns: k.filter((v) => v !== null).length, ratio, met };
  });
}

export function fmt(v: number | null, unit = ''): string {
  if (v === null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const s = a >= 1000 ? Math.round(v).toLocaleString('en-US') : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

function ratioText(r: SummaryRow): string {
  return r.ratio === null ? '–' : `${r.ratio.toFixed(2)}x`;
}

export function renderMarkdown(result: BenchResult): string {
  const m = result.meta;
  const lines: string[] = [];
  const shape = m.cluster ? `, ${m.cluster.nodes}-node clusters (RF=${m.cluster.replicationFactor}, min.insync.replicas=${m.cluster.minInsyncReplicas}, acks=all)` : '';
  lines.push(`# Samsa vs Apache Kafka ${m.kafkaVersion}: ${m.mode} run${shape}`, '');
  lines.push(
    `${m.startedAt.slice(0, 16).replace('T', ' ')} UTC, Samsa ${m.gitCommit} (${m.samsaEntry === 'bundle' ? 'esbuild bundle' : 'via tsx'}), Node ${m.node}, ${m.java}, ${m.cores} x ${m.cpu}. ` +
      `Medians of ${m.repetitions} repetition(s), brokers alternating. Load average (1/5/15 min) ${m.loadavgStart.map((x) => x.toFixed(2)).join('/')} at the start, ` +
      `${m.loadavgEnd.map((x) => x.toFixed(2)).join('/')} at the end; broker data under ${m.dataRoot}.`,
    '',
  );
  if (m.notes.length > 0) {
    for (const n of m.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push('Samsa/Kafka: above 1 means Samsa is faster for throughput; below 1 means Samsa is lower (better) for latency, memory and start time. "Target" is the ratio asked of Samsa.', '');
  lines.push('| figure | unit | Samsa | Kafka | Samsa/Kafka | target | met |');
  lines.push('| --- | --- | ---: | ---: | ---: | --- | --- |');
  for (const r of result.summary) {
    const target = r.figure.target ? `${r.figure.target.op} ${r.figure.target.ratio}` : '';
    const met = r.met === null ? '' : r.met ? 'yes' : 'no';
    lines.push(`| ${r.figure.label} | ${r.figure.unit} | ${fmt(r.samsa)} | ${fmt(r.kafka)} | ${ratioText(r)} | ${target} | ${met} |`);
  }
  lines.push('');

  // Broker CPU per workload: on a small machine the load generator competes for the same cores, so the
  // CPU the broker itself spent is a second, steadier view of its cost.
  lines.push(`Broker CPU time per workload (median seconds of user+system CPU used by the broker process${m.cluster ? `es (the ${m.cluster.nodes} nodes summed)` : ''} while the workload ran; lower is cheaper):`, '');
  lines.push('| workload | Samsa CPU s | Kafka CPU s | Samsa/Kafka | Samsa peak RSS MiB | Kafka peak RSS MiB |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const w of result.workloads) {
    const cpu = (b: string): number | null => median(result.runs.filter((r) => r.broker === b).map((r) => (r.workloads[w.id]?.ok ? r.workloads[w.id]!.brokerCpuSec : null)));
    const rss = (b: string): number | null => median(result.runs.filter((r) => r.broker === b).map((r) => (r.workloads[w.id]?.ok ? r.workloads[w.id]!.rssPeakMb : null)));
    const s = cpu('samsa');
    const k = cpu('kafka');
    lines.push(`| ${w.id} | ${fmt(s)} | ${fmt(k)} | ${s !== null && k ? (s / k).toFixed(2) + 'x' : '–'} | ${fmt(rss('samsa'))} | ${fmt(rss('kafka'))} |`);
  }
  lines.push('');

  lines.push('## Every run', '');
  lines.push('| rep | broker | first produce ms | RSS idle / load / HWM MiB | ' + result.workloads.map((w) => w.id).join(' | ') + ' |');
  lines.push('| --- | --- | ---: | --- | ' + result.workloads.map(() => '---:').join(' | ') + ' |');
  for (const r of result.runs) {
    const cells = result.workloads.map((w) => {
      const wr = r.workloads[w.id];
      if (!wr) return '–';
      if (!wr.ok) return 'failed';
      const x = wr.metrics;
      const v = w.kind === 'e2e' ? `p99 ${fmt(x.p99Ms ?? null)} ms` : `${fmt(x.mbPerSec ?? null)} MB/s`;
      return `${v} (load ${wr.loadavg1.toFixed(1)})`;
    });
    const mem = r.memory ? `${fmt(r.memory.idleRssMb)} / ${fmt(r.memory.loadRssMb)} / ${fmt(r.memory.hwmMb)}` : '–';
    lines.push(`| ${r.rep} | ${r.broker} | ${fmt(r.startup?.firstProduceMs ?? null)} | ${mem} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const failures = result.runs.flatMap((r) => [
    ...(r.error ? [`rep ${r.rep} ${r.broker}: ${r.error}`] : []),
    ...Object.entries(r.workloads).filter(([, w]) => !w.ok).map(([id, w]) => `rep ${r.rep} ${r.broker} ${id}: ${(w.error ?? '').split('\n')[0]}`),
  ]);
  if (failures.length > 0) {
    lines.push('## Failures', '');
    for (const f of failures) lines.push(`- ${f}`);
    lines.push('');
  }
  return lines.join('\n');
}
