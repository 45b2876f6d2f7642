/**
 * The import checker behind layers.test.ts: finds every module a TypeScript source names, in every form
 * (static `import ... from`, side-effect `import '...'`, `import type`, `export ... from`, dynamic
 * `import('...')`, `require('...')` and the worker form `new URL('...', import.meta.url)`), and checks the
 * layering rules and the absence of import cycles over a set of files.
 *
 * It is a small scanner rather than a regular expression over the text so that comments, strings and
 * template literals that merely mention `import '...'` are not taken for imports, and imports spread over
 * several lines are not missed. Type-only imports count: a cycle through types is still a cycle in the
 * design, and the next edit may turn it into a value import.
 */
import { dirname, posix } from 'node:path';

/** The module specifiers a source file names, in order of appearance. */
export function importSpecifiers(source: string): string[] {
  const tokens = tokenize(source);
  const out: string[] = [];
  const str = (i: number): string | null => (tokens[i]?.kind === 'string' ? tokens[i]!.text : null);
  const punct = (i: number, p: string): boolean => tokens[i]?.kind === 'punct' && tokens[i]!.text === p;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'word') continue;
    // A property access (`x.import`, `obj.require(...)`) is not the keyword.
    if (punct(i - 1, '.')) continue;
    if (t.text === 'import') {
      if (str(i + 1) !== null) {
        out.push(str(i + 1)!); // import 'x' (side effect)
      } else if (punct(i + 1, '(') && str(i + 2) !== null) {
        out.push(str(i + 2)!); // import('x')
      } else if (!punct(i + 1, '.') && !punct(i + 1, '(')) {
        const from = findFrom(tokens, i + 1);
        if (from !== null) out.push(from);
      }
    } else if (t.text === 'export') {
      const from = findFrom(tokens, i + 1);
      if (from !== null) out.push(from);
    } else if (t.text === 'require' && punct(i + 1, '(') && str(i + 2) !== null) {
      out.push(str(i + 2)!);
    } else if (t.text === 'new' && tokens[i + 1]?.text === 'URL' && punct(i + 2, '(') && str(i + 3) !== null && punct(i + 4, ',')) {
      out.push(str(i + 3)!);
    }
  }
  return out;
}

/**
 * For `import a, { b } from 'x'` / `export * as n from 'x'` / `export { a } from 'x'`: the string after
 * `from`, scanning the clause up to the statement's end. Null for a declaration (`export const ...`) or a
 * local `export { a }`.
 */
function findFrom(tokens: Token[], start: number): string | null {
  let depth = 0;
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct') {
      if (t.text === '{') depth++;
      else if (t.text === '}') depth--;
      else if (t.text === ';' || t.text === '(' || t.text === '=') return null;
      if (depth < 0) return null;
      continue;
    }
    if (t.kind === 'string') return null;
    if (t.kind === 'word') {
      if (t.text === 'from' && depth === 0) return tokens[i + 1]?.kind === 'string' ? tokens[i + 1]!.text : null;
      // A declaration, not an import/export clause.
      if (depth === 0 && /^(const|let|var|function|class|interface|type|enum|default|async|abstract|declare|namespace)$/.test(t.text)) {
        // `import type { X } from` and `export type { X } from` are clauses; `export type X = ...` is not.
        if (t.text === 'type' && (tokens[i + 1]?.text === '{' || tokens[i + 1]?.text === '*')) continue;
        if (t.text === 'type' && tokens[i + 1]?.kind === 'word' && tokens[i + 2]?.kind === 'word' && tokens[i + 2]!.text === 'from') continue;
        return null;
      }
    }
  }
  return null;
}

interface Token {
  kind: 'word' | 'string' | 'punct';
  text: string;
}

/** Words, string literal values and punctuation; comments, regular expressions and templates skipped. */
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = src.length;
  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.kind === 'punct') return prev.text !== ')' && prev.text !== ']' && prev.text !== '}';
    if (prev.kind === 'word') return /^(return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(prev.text);
    return false;
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < n && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') {
          text += src[j + 1] ?? '';
          j += 2;
        } else text += src[j++];
      }
      tokens.push({ kind: 'string', text });
      i = j + 1;
    } else if (c === '`') {
      i = skipTemplate(src, i + 1);
      tokens.push({ kind: 'punct', text: '`' }); // an expression operand, not an import specifier
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
        j++;
      }
      j++;
      while (j < n && /[a-z]/i.test(src[j]!)) j++;
      tokens.push({ kind: 'punct', text: ')' }); // a regex is an operand: a following `/` divides
      i = j;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(src[j]!)) j++;
      tokens.push({ kind: 'word', text: src.slice(i, j) });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j]!)) j++;
      tokens.push({ kind: 'word', text: src.slice(i, j) });
      i = j;
    } else {
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

/** Skips a template literal body (from after the opening backtick), nested `${ ... }` included. */
function skipTemplate(src: string, start: number): number {
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') i += 2;
    else if (c === '`') return i + 1;
    else if (c === '$' && src[i + 1] === '{') {
      let depth = 1;
      i += 2;
      while (i < src.length && depth > 0) {
        const d = src[i]!;
        if (d === '{') depth++;
        else if (d === '}') depth--;
        else if (d === '`') {
          i = skipTemplate(src, i + 1);
          continue;
        } else if (d === '"' || d === "'") {
          i++;
          while (i < src.length && src[i] !== d) i += src[i] === '\\' ? 2 : 1;
        }
        i++;
      }
    } else i++;
  }
  return i;
}

/**
 * The repository files a file imports (e.g. "protocol/records/batch.ts"), from its relative specifiers;
 * package imports (`node:fs`, `pino`) are not ours and are left out.
 */
export function localImports(file: string, source: string): string[] {
  return importSpecifiers(source)
    .filter((s) => s.startsWith('.'))
    .map((s) => posix.normalize(posix.join(dirname(file), s)).replace(/\.js$/, '.ts'));
}

export interface Rule {
  readonly name: string;
  /** Files the rule governs, by repository path. */
  readonly appliesTo: (file: string) => boolean;
  /** Whether `file` may import `target`. */
  readonly allowed: (target: string, file: string) => boolean;
}

/** The layering rules (docs/architecture.md). */
export const RULES: readonly Rule[] = [
  { name: 'protocol/ imports nothing of ours outside protocol/', appliesTo: (f) => f.startsWith('protocol/'), allowed: (t) => t.startsWith('protocol/') },
  {
    name: 'storage/ imports only storage/ and protocol/records, protocol/primitives',
    appliesTo: (f) => f.startsWith('storage/'),
    allowed: (t) => t.startsWith('storage/') || t.startsWith('protocol/records/') || t === 'protocol/primitives.ts',
  },
  {
    name: 'src/ does not reach into tests, conformance or benchmarks',
    appliesTo: (f) => f.startsWith('src/'),
    allowed: (t) => !t.startsWith('test/') && !t.startsWith('conformance/') && !t.startsWith('bench/'),
  },
  {
    name: 'handlers read the metadata image and ask the replica manager, never storage/',
    appliesTo: (f) => f.startsWith('src/handlers/'),
    allowed: (t) => !t.startsWith('storage/'),
  },
];

/** Every rule broken, as "rule: file -> target". `files` maps repository paths to their source. */
export function ruleViolations(files: ReadonlyMap<string, string>, rules: readonly Rule[] = RULES): string[] {
  const bad: string[] = [];
  for (const [file, source] of files) {
    for (const rule of rules) {
      if (!rule.appliesTo(file)) continue;
      for (const target of localImports(file, source)) if (!rule.allowed(target, file)) bad.push(`${rule.name}: ${file} -> ${target}`);
    }
  }
  return bad;
}

/**
 * The import cycles among `files` (imports of files outside the map are ignored), each as the path
 * "a -> b -> ... -> a", one per strongly connected component (Tarjan), so a tangle is reported once.
 */
export function importCycles(files: ReadonlyMap<string, string>): string[] {
  const edges = new Map<string, string[]>();
  for (const [file, source] of files) edges.set(file, [...new Set(localImports(file, source))].filter((t) => files.has(t)).sort());
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)!) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.get(v)!.includes(v)) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return components.map((c) => describeCycle(c, edges));
}

/** One concrete cycle through a strongly connected component, starting at its first file by name. */
function describeCycle(component: string[], edges: ReadonlyMap<string, string[]>): string {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  // Breadth-first from start's successors back to start: the shortest cycle through it.
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v)!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = previous.get(x)!) path.unshift(x);
        path.unshift(start);
        path.pop();
        return [...path, start].join(' -> ');
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component.join(' -> ');
}
