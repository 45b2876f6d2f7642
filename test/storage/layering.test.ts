import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * ARCHITECTURE.md: storage may use protocol/records (and primitives), nothing else of ours. Only the
 * cleaner decodes records (record.ts, compression.ts); the rest reads batch headers.
 */
const ALLOWED_OUTSIDE = new Set(['../protocol/records/batch.js', '../protocol/primitives.js']);
const CLEANER_ALLOWED = new Set(['../protocol/records/record.js', '../protocol/records/compression.js']);

describe('storage layering', () => {
  it('imports only itself, node:, npm packages, batch.ts and primitives.ts (the cleaner also record.ts, compression.ts)', async () => {
    const dir = join(import.meta.dirname, '../../storage');
    const bad: string[] = [];
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.ts')) continue;
      const text = await readFile(join(dir, name), 'utf8');
      for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) continue;
        if (spec.startsWith('./') && !spec.includes('..')) continue;
        if (!ALLOWED_OUTSIDE.has(spec) && !(name === 'cleaner.ts' && CLEANER_ALLOWED.has(spec))) bad.push(`${name}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
