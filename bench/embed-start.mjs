// `npm run bench:embed [-- --runs N]`: how long `import { startSamsa } from 'samsa'` plus startSamsa()
// take, and the memory it adds, each in a fresh Node process (a test file's cold start), from the bundle
// dist/embed.mjs (built first). Targets (issue 15): under 0.2 s and under 60 MiB. Prints medians with the
// machine's load average, and writes bench/results/embed-start.md. Never a timed assertion in tests.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;

execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });

// One run: an empty process's RSS first (Node itself), then the import and the start (startSamsa resolves
// once the Kafka listener is bound), RSS and heap after a GC, then stop(). CPU time (user + system) is
// reported beside wall time: on a loaded machine it is the steadier of the two.
const child = `
globalThis.gc?.();
const base = process.memoryUsage().rss;
const c0 = process.cpuUsage();
const t0 = performance.now();
const { startSamsa } = await import(${JSON.stringify(new URL('dist/embed.mjs', `file://${ROOT}`).href)});
const t1 = performance.now();
const s = await startSamsa();
const t2 = performance.now();
const c2 = process.cpuUsage(c0);
globalThis.gc?.();
const m = process.memoryUsage();
const t3 = performance.now();
await s.stop();
const t4 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, startMs: t2 - t1, cpuMs: (c2.user + c2.system) / 1000, stopMs: t4 - t3, baseRss: base, rss: m.rss, heapUsed: m.heapUsed }));
`;

const runs = [];
const loadBefore = loadavg()[0];
for (let i = 0; i < RUNS; i++) {
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child], { cwd: ROOT, encoding: 'utf8' });
  runs.push(JSON.parse(out.trim().split('\n').pop()));
}
const loadAfter = loadavg()[0];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const MiB = 2 ** 20;
const r = {
  importMs: median(runs.map((x) => x.importMs)),
  startMs: median(runs.map((x) => x.startMs)),
  totalMs: median(runs.map((x) => x.importMs + x.startMs)),
  cpuMs: median(runs.map((x) => x.cpuMs)),
  stopMs: median(runs.map((x) => x.stopMs)),
  rssMiB: median(runs.map((x) => x.rss / MiB)),
  addedRssMiB: median(runs.map((x) => (x.rss - x.baseRss) / MiB)),
  heapMiB: median(runs.map((x) => x.heapUsed / MiB)),
};
const f = (n) => n.toFixed(1);
const md = `# Embedded start (bench/embed-start.mjs)

${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after, ${RUNS} runs (medians), each a fresh process.

| measure | median | target |
|---|---|---|
| import dist/embed.mjs | ${f(r.importMs)} ms | |
| startSamsa() | ${f(r.startMs)} ms | |
| import + start | ${f(r.totalMs)} ms | < 200 ms |
| CPU time of import + start (user + system) | ${f(r.cpuMs)} ms | |
| stop() | ${f(r.stopMs)} ms | |
| process RSS after start (after GC) | ${f(r.rssMiB)} MiB | |
| RSS added over an empty Node process | ${f(r.addedRssMiB)} MiB | < 60 MiB |
| JS heap used after start (after GC) | ${f(r.heapMiB)} MiB | |
`;
writeFileSync(new URL('results/embed-start.md', import.meta.url), md);
console.log(md);
