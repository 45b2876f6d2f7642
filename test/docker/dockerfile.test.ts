/**
 * The Dockerfile (README "Container image"), checked without a Docker engine (none in this environment, so
 * the image itself is never built here): parsed into instructions (line continuations, comments, JSON and
 * shell forms), it has two named stages from node:20-slim, bundles in the first and copies the bundle into
 * the second, exposes 9092 8080 8081 with a /data volume, runs `samsa start`, and each file it copies from
 * the build context exists and is not excluded by .dockerignore. Its SAMSA_* variables must name the broker
 * properties meant (envToProperties), so a renamed property breaks this test, not the image.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { envToProperties } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

const KEYWORDS = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

/** Dockerfile syntax: `#` comment lines, `\` continuing a line, one instruction keyword per logical line. */
function parse(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending !== '' && line.trimStart().startsWith('#')) return; // comments inside a continuation
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(full);
    if (m === null) throw new Error(`Dockerfile line ${start}: no instruction in "${full}"`);
    const keyword = m[1]!.toUpperCase();
    if (!KEYWORDS.has(keyword)) throw new Error(`Dockerfile line ${start}: unknown instruction ${m[1]}`);
    out.push({ keyword, args: m[2]!.trim(), line: start });
  });
  if (pending !== '') throw new Error('Dockerfile ends inside a line continuation');
  return out;
}

/** A JSON-array (exec form) argument, e.g. CMD ["start"]. */
function execForm(args: string): string[] {
  const v = JSON.parse(args) as unknown;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Error(`not an exec form: ${args}`);
  return v as string[];
}

/** .dockerignore patterns as path prefixes (all this file uses: names and directories, no wildcards but *.ext). */
function ignored(path: string, patterns: string[]): boolean {
  const p = path.replace(/\/$/, '');
  return patterns.some((pat) => (pat.startsWith('*.') ? p.endsWith(pat.slice(1)) : p === pat || p.startsWith(`${pat}/`)));
}

const instructions = parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stages: { name: string; image: string; body: Instruction[] }[] = [];
for (const ins of instructions) {
  if (ins.keyword === 'FROM') {
    const m = /^(\S+)\s+AS\s+(\S+)$/i.exec(ins.args);
    if (m === null) throw new Error(`Dockerfile line ${ins.line}: unnamed stage "${ins.args}"`);
    stages.push({ image: m[1]!, name: m[2]!, body: [] });
  } else {
    if (stages.length === 0) throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before FROM`);
    stages.at(-1)!.body.push(ins);
  }
}
const [build, runtime] = stages;
const find = (body: Instruction[], keyword: string): Instruction[] => body.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage, both node:20-slim', () => {
    expect(stages.map((s) => [s.name, s.image])).toEqual([['build', 'node:20-slim'], ['runtime', 'node:20-slim']]);
  });

  it('bundles in the build stage and copies only the bundle from it; the runtime installs no dev dependencies', () => {
    expect(find(build!.body, 'RUN').map((r) => r.args)).toContain('node scripts/bundle.mjs');
    const fromBuild = find(runtime!.body, 'COPY').filter((c) => c.args.startsWith('--from='));
    // dist/ holds only the bundle's files (scripts/bundle.mjs: entries and the chunks they share or load lazily).
    expect(fromBuild.map((c) => c.args)).toEqual(['--from=build /src/dist/ ./dist/']);
    expect(find(runtime!.body, 'RUN').some((r) => r.args.includes('npm ci --omit=dev'))).toBe(true);
  });

  it('copies only files that exist in the build context and that .dockerignore keeps', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const sources: string[] = [];
    for (const stage of stages) {
      for (const c of find(stage.body, 'COPY')) {
        if (c.args.startsWith('--from=')) continue;
        const parts = c.args.split(/\s+/);
        sources.push(...parts.slice(0, -1));
      }
    }
    expect(sources.length).toBeGreaterThan(5);
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), `${s} exists`).toBe(true);
      expect(ignored(s, patterns), `${s} not in .dockerignore`).toBe(false);
    }
    // What the bundle is built from is in the context.
    for (const dir of ['src', 'protocol', 'storage', 'scripts']) expect(sources).toContain(`${dir}/`);
  });

  it('exposes Kafka, HTTP and the registry, keeps data in /data, and listens on 0.0.0.0 with an advertised address from the environment', () => {
    expect(find(runtime!.body, 'EXPOSE').flatMap((e) => e.args.split(/\s+/)).sort()).toEqual(['8080', '8081', '9092']);
    expect(find(runtime!.body, 'VOLUME').map((v) => v.args)).toEqual(['/data']);
    const env = new Map<string, string>();
    for (const e of find(runtime!.body, 'ENV')) for (const m of e.args.matchAll(/(\w+)=(\S+)/g)) env.set(m[1]!, m[2]!);
    const props = envToProperties(Object.fromEntries(env));
    expect(Object.fromEntries(props)).toEqual({
      listeners: 'PLAINTEXT://0.0.0.0:9092',
      'advertised.listeners': 'PLAINTEXT://localhost:9092',
      'log.dirs': '/data',
      'samsa.http.listeners': 'http://0.0.0.0:8080',
      'schema.registry.listeners': 'http://0.0.0.0:8081',
    });
  });

  it('runs `samsa start` as the unprivileged node user', () => {
    const entrypoint = find(runtime!.body, 'ENTRYPOINT').map((e) => execForm(e.args));
    const cmd = find(runtime!.body, 'CMD').map((c) => execForm(c.args));
    expect(entrypoint).toEqual([['node', '/opt/samsa/bin/samsa.js']]);
    expect(cmd).toEqual([['start']]);
    // The entry point is the package's bin (package.json "bin": samsa -> bin/samsa.js), copied to WORKDIR.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.samsa).toBe('bin/samsa.js');
    expect(find(runtime!.body, 'WORKDIR').map((w) => w.args)).toEqual(['/opt/samsa']);
    expect(find(runtime!.body, 'USER').map((u) => u.args)).toEqual(['node']);
  });
});
