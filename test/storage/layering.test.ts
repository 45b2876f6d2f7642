import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** ARCHITECTURE.md: storage may use protocol/records batch headers (and primitives), nothing else of ours. */
const ALLOWED_OUTSIDE = new Set(['../protocol/records/batch.js', '../protocol/primitives.js']);

describe('storage layering', () => {
  it('imports only itself, node:, npm packages, batch.ts and primitives.ts', async () => {
    const dir = join(import.meta.dirname, '../../storage');
    const bad: string[] = [];
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.ts')) continue;
      const text = await readFile(join(dir, name), 'utf8');
      for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) continue;
        if (spec.startsWith('./') && !spec.includes('..')) continue;
        if (!ALLOWED_OUTSIDE.has(spec)) bad.push(`${name}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
