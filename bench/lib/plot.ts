/**
 * A small SVG chart of a bench result, with no plotting library: one panel per kind of figure
 * (throughput in MB/s, records/s, end-to-end latency, start time, memory), each with its own linear
 * scale, a pair of horizontal bars per figure (Samsa, Kafka) and the Samsa/Kafka ratio at the right.
 */
import { fmt, type BenchResult, type SummaryRow } from './report.js';

const SAMSA = '#2a7ab0';
const KAFKA = '#d9822b';
const WIDTH = 960;
const LABEL_W = 300;
const RATIO_W = 90;
const BAR_H = 11;
const ROW_H = 2 * BAR_H + 12;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Panel {
  title: string;
  rows: SummaryRow[];
}

function panels(result: BenchResult): Panel[] {
  const by = (pred: (r: SummaryRow) => boolean): SummaryRow[] => result.summary.filter(pred);
  return [
    { title: 'Throughput, MB/s (higher is better)', rows: by((r) => r.figure.unit === 'MB/s') },
    { title: 'Small records, records/s (higher is better)', rows: by((r) => r.figure.unit === 'records/s') },
    { title: 'End-to-end latency at a fixed rate, ms (lower is better)', rows: by((r) => r.figure.unit === 'ms' && r.figure.source !== 'broker') },
    { title: 'Start to first acknowledged produce, ms (lower is better)', rows: by((r) => r.figure.metric === 'firstProduceMs') },
    { title: 'Broker memory, MiB (lower is better)', rows: by((r) => r.figure.unit === 'MiB') },
  ].filter((p) => p.rows.length > 0);
}

export function renderSvg(result: BenchResult): string {
  const out: string[] = [];
  let y = 0;
  const body: string[] = [];
  const m = result.meta;
  body.push(`<text x="12" y="24" font-size="17" font-weight="bold">Samsa vs Apache Kafka ${esc(m.kafkaVersion)} (${esc(m.mode)} run, median of ${m.repetitions})</text>`);
  body.push(`<text x="12" y="44" font-size="11" fill="#555">${esc(`${m.startedAt.slice(0, 10)}, Samsa ${m.gitCommit}, Node ${m.node}, ${m.cores} cores, load avg ${m.loadavgStart[0]!.toFixed(1)} at start: noisy numbers unless the machine was quiet`)}</text>`);
  body.push(`<rect x="${WIDTH - 210}" y="12" width="12" height="12" fill="${SAMSA}"/><text x="${WIDTH - 193}" y="22" font-size="12">Samsa</text>`);
  body.push(`<rect x="${WIDTH - 130}" y="12" width="12" height="12" fill="${KAFKA}"/><text x="${WIDTH - 113}" y="22" font-size="12">Kafka</text>`);
  y = 60;
  const barMax = WIDTH - LABEL_W - RATIO_W - 90;
  for (const p of panels(result)) {
    y += 14;
    body.push(`<text x="12" y="${y}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
    body.push(`<text x="${WIDTH - 12}" y="${y}" font-size="11" text-anchor="end" fill="#555">Samsa/Kafka</text>`);
    y += 8;
    const max = Math.max(1e-9, ...p.rows.flatMap((r) => [r.samsa ?? 0, r.kafka ?? 0]));
    for (const r of p.rows) {
      const label = r.figure.label.replace(/ p(50|99|99\.9)$/, ' $&');
      body.push(`<text x="${LABEL_W - 8}" y="${y + BAR_H + 4}" font-size="12" text-anchor="end">${esc(label)}</text>`);
      const bars: [number | null, string][] = [[r.samsa, SAMSA], [r.kafka, KAFKA]];
      bars.forEach(([v, color], i) => {
        const by = y + i * (BAR_H + 1);
        const w = v === null ? 0 : Math.max(1, (v / max) * barMax);
        body.push(`<rect x="${LABEL_W}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"/>`);
        body.push(`<text x="${LABEL_W + w + 4}" y="${by + BAR_H - 2}" font-size="10" fill="#333">${esc(v === null ? 'n/a' : fmt(v))}</text>`);
      });
      const ratio = r.ratio === null ? '–' : `${r.ratio.toFixed(2)}x`;
      const color = r.met === null ? '#333' : r.met ? '#2e7d32' : '#c62828';
      body.push(`<text x="${WIDTH - 12}" y="${y + BAR_H + 4}" font-size="12" text-anchor="end" fill="${color}">${esc(ratio)}</text>`);
      y += ROW_H;
    }
    y += 6;
  }
  y += 10;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="${WIDTH}" height="${y}" fill="#ffffff"/>`);
  out.push(...body);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
