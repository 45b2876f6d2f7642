/**
 * The layering rule of ARCHITECTURE.md: `protocol/` imports nothing of ours outside itself; `storage/` may
 * use `protocol/records` and `protocol/primitives` but never `src/`; nothing outside `src/` imports `src/`
 * except tests, conformance tools and benchmarks.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative imports of a file, resolved to repository paths (e.g. "protocol/records/batch.ts"). */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"]([^'"]+)['"]/g)]
    .map((m) => m[1] ?? m[2] ?? m[3]!)
    .filter((s) => s.startsWith('.'));
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

function violations(layer: string, allowed: (target: string) => boolean): string[] {
  const bad: string[] = [];
  for (const f of tsFiles(join(ROOT, layer))) {
    for (const target of localImports(f)) if (!allowed(target)) bad.push(`${relative(ROOT, f)} -> ${target}`);
  }
  return bad;
}

describe('architecture', () => {
  it('protocol/ imports nothing of ours outside protocol/', () => {
    expect(violations('protocol', (t) => t.startsWith('protocol/'))).toEqual([]);
  });

  it('storage/ imports only storage/ and protocol/records, protocol/primitives', () => {
    expect(violations('storage', (t) => t.startsWith('storage/') || t.startsWith('protocol/records/') || t === 'protocol/primitives.ts')).toEqual([]);
  });

  it('src/ does not reach into tests, conformance or benchmarks', () => {
    expect(violations('src', (t) => !t.startsWith('test/') && !t.startsWith('conformance/') && !t.startsWith('bench/'))).toEqual([]);
  });

  it('the checker sees imports (it would catch a violation)', () => {
    const sample = join(ROOT, 'src/handlers/produce.ts');
    expect(localImports(sample)).toContain('protocol/messages/produce.ts');
  });
});
