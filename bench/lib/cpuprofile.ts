/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums it per function: self time (samples whose top frame is
 * the function) and total time (samples with the function anywhere on the stack, counted once per sample).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  where: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Samples in (idle), (program) and (garbage collector), in ms. */
  idleMs: number;
  gcMs: number;
  programMs: number;
  functions: FunctionTime[];
  /** Self time per file (or category: node:internal, native), for a coarser view. */
  files: { file: string; selfMs: number }[];
}

function whereOf(url: string, line: number, root: string): string {
  if (url === '') return '(native)';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith('/')) u = relative(root, u);
  return `${u}:${line + 1}`;
}

function fileOf(url: string, root: string): string {
  if (url === '') return '(native/builtin)';
  if (url.startsWith('node:')) return 'node: internals';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith('/')) u = relative(root, u);
  if (u.startsWith('node_modules/')) return u.split('/').slice(0, u.split('/')[1]!.startsWith('@') ? 3 : 2).join('/');
  return u;
}

/**
 * `window` keeps only the samples taken between two CLOCK_MONOTONIC times in microseconds (what
 * process.hrtime.bigint() / 1000n gives in any process: V8 stamps samples with the same clock), so the
 * broker's start-up and warm-up can be left out.
 */
export function summarizeProfile(path: string, root: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const key = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\u0000${whereOf(n.callFrame.url, n.callFrame.lineNumber, root)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  let idleMs = 0;
  let gcMs = 0;
  let programMs = 0;
  let totalMs = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    totalMs += dt;
    const n = byId.get(p.samples[i]!);
    if (!n) continue;
    const fn = n.callFrame.functionName;
    if (fn === '(idle)') {
      idleMs += dt;
      continue;
    }
    if (fn === '(garbage collector)') gcMs += dt;
    if (fn === '(program)') programMs += dt;
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + dt);
    const f = fileOf(n.callFrame.url, root);
    files.set(f, (files.get(f) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      if (node.callFrame.functionName === '(root)') break;
      const kk = key(node);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + dt);
    }
  }
  const functions = [...total.entries()].map(([k, t]) => {
    const [name, where] = k.split('\u0000') as [string, string];
    return { name, where, selfMs: self.get(k) ?? 0, totalMs: t };
  });
  return {
    totalMs,
    idleMs,
    gcMs,
    programMs,
    functions,
    files: [...files.entries()].map(([file, selfMs]) => ({ file, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

export function renderProfile(title: string, s: ProfileSummary, top = 25): string {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number): string => `${((100 * ms) / busy).toFixed(1)}%`;
  const lines: string[] = [];
  lines.push(`### ${title}`, '');
  lines.push(`${(s.totalMs / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy (${((100 * busy) / s.totalMs).toFixed(0)}% of the main thread); GC ${pct(s.gcMs)} of busy, (program) ${pct(s.programMs)}. Percentages below are of busy time.`, '');
  lines.push('Self time by file:', '');
  lines.push('| file | self | % |', '| --- | ---: | ---: |');
  for (const f of s.files.slice(0, 12)) lines.push(`| ${f.file} | ${f.selfMs.toFixed(0)} ms | ${pct(f.selfMs)} |`);
  lines.push('', 'Top functions by self time:', '');
  lines.push('| function | where | self | total |', '| --- | --- | ---: | ---: |');
  for (const f of [...s.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) lines.push(`| ${f.name} | ${f.where} | ${pct(f.selfMs)} | ${pct(f.totalMs)} |`);
  lines.push('', 'Top functions by total time (on the stack):', '');
  lines.push('| function | where | total | self |', '| --- | --- | ---: | ---: |');
  for (const f of [...s.functions].filter((f) => !f.name.startsWith('(')).sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) lines.push(`| ${f.name} | ${f.where} | ${pct(f.totalMs)} | ${pct(f.selfMs)} |`);
  lines.push('');
  return lines.join('\n');
}
