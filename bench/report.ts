/**
 * Re-renders the markdown table and the SVG plot of a bench result: `node --import tsx bench/report.ts
 * bench/results/full.json` writes full.md and full.svg beside it (the summary is recomputed from the runs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdown, summarize, type BenchResult } from './lib/report.js';
import { renderSvg } from './lib/plot.js';

const file = process.argv[2];
if (!file || !file.endsWith('.json')) {
  process.stderr.write('usage: node --import tsx bench/report.ts RESULT.json\n');
  process.exit(2);
}
const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
result.summary = summarize(result);
const base = file.slice(0, -'.json'.length);
writeFileSync(`${base}.md`, renderMarkdown(result));
writeFileSync(`${base}.svg`, renderSvg(result));
process.stdout.write(renderMarkdown(result) + '\n');
