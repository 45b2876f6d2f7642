/**
 * The layering rules (docs/architecture.md): `protocol/` imports nothing of ours outside itself; `storage/`
 * may use `protocol/records` and `protocol/primitives` but never `src/`; handlers never import `storage/`
 * (they read the metadata image and ask the replica manager); nothing in `src/` imports tests, conformance
 * tools or benchmarks; and no import cycles anywhere in protocol/, storage/ and src/. The checker itself
 * (imports.ts) is tested on synthetic sources below, so a rule that silently stopped matching would fail.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES, importCycles, importSpecifiers, localImports, ruleViolations } from './imports.js';

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

/** protocol/, storage/ and src/, by repository path. */
function sources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const layer of ['protocol', 'storage', 'src']) {
    for (const f of tsFiles(join(ROOT, layer))) files.set(relative(ROOT, f).split('\\').join('/'), readFileSync(f, 'utf8'));
  }
  return files;
}

describe('architecture', () => {
  const files = sources();

  for (const rule of RULES) {
    it(rule.name, () => {
      expect(ruleViolations(files, [rule])).toEqual([]);
    });
  }

  it('has no import cycles', () => {
    expect(importCycles(files)).toEqual([]);
  });

  it('the checker sees the real imports', () => {
    expect(localImports('src/handlers/produce.ts', files.get('src/handlers/produce.ts')!)).toContain('protocol/messages/produce.ts');
    expect(files.size).toBeGreaterThan(100);
  });
});

describe('the import checker', () => {
  it('reads every import form, and nothing in comments, strings or templates', () => {
    const source = [
      "import { a } from './a.js';",
      "import b, {\n  c,\n  type D,\n} from './b.js';",
      "import * as e from './e.js';",
      "import type { F } from './f.js';",
      "import '../storage/log.js';",
      "export { g } from './g.js';",
      "export * from './h.js';",
      "export * as i from './i.js';",
      "export type { J } from './j.js';",
      "const k = await import('./k.js');",
      "const l = require('./l.js');",
      "new Worker(new URL('./m.js', import.meta.url));",
      "// import './comment.js';",
      "/* import x from './block.js'; */",
      "const s = \"import './string.js'\";",
      "const t = `import './template.js' ${x ? '1' : `import './nested.js'`}`;",
      "const r = /import '.\\/regex.js'/;",
      'export const n = 1;',
      'export function f() { return import.meta.url; }',
      "export default 'x';",
      "obj.require('./method.js');",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./a.js', './b.js', './e.js', './f.js', '../storage/log.js', './g.js', './h.js', './i.js', './j.js', './k.js', './l.js', './m.js']);
  });

  it('reports a side-effect import of storage in a protocol file', () => {
    const files = new Map([['protocol/messages/produce.ts', "import { x } from '../schema.js';\nimport '../../storage/log.js';\n"]]);
    expect(ruleViolations(files)).toEqual(['protocol/ imports nothing of ours outside protocol/: protocol/messages/produce.ts -> storage/log.ts']);
  });

  it('reports a dynamic import of src/ in storage', () => {
    const files = new Map([['storage/log.ts', "const m = await import('../src/broker/broker.js');\n"]]);
    expect(ruleViolations(files)).toEqual(['storage/ imports only storage/ and protocol/records, protocol/primitives: storage/log.ts -> src/broker/broker.ts']);
  });

  it('reports a handler importing storage, type-only imports included', () => {
    const files = new Map([['src/handlers/fetch.ts', "import type { Log } from '../../storage/log.js';\nimport { Fetch } from '../../protocol/messages/fetch.js';\n"]]);
    expect(ruleViolations(files)).toEqual(['handlers read the metadata image and ask the replica manager, never storage/: src/handlers/fetch.ts -> storage/log.ts']);
  });

  it('reports an import cycle, once per tangle, and not a mere diamond', () => {
    const files = new Map([
      ['src/broker/broker.ts', "import { start } from '../group/start.js';"],
      ['src/group/start.ts', "import { Store } from './offsets-topic-store.js';"],
      ['src/group/offsets-topic-store.ts', "import type { Broker } from '../broker/broker.js';"],
      ['src/a.ts', "import './b.js'; import './c.js';"],
      ['src/b.ts', "import './d.js';"],
      ['src/c.ts', "export * from './d.js';"],
      ['src/d.ts', ''],
      ['src/self.ts', "import './self.js';"],
    ]);
    expect(importCycles(files).sort()).toEqual(['src/broker/broker.ts -> src/group/start.ts -> src/group/offsets-topic-store.ts -> src/broker/broker.ts', 'src/self.ts -> src/self.ts']);
  });
});
