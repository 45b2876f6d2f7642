/**
 * The console's schema registry view, read from the in-process registry (src/registry/registry.ts):
 * subjects with their versions and compatibility levels, one subject's versions with the schema texts, and
 * a line diff of two versions. Avro and JSON schemas are stored in canonical form (one line), so they are
 * pretty-printed before the diff; Protobuf schemas are compared as stored.
 */
import { RegistryError } from '../registry/errors.js';
import type { VersionEntry } from '../registry/registry.js';
import { ApiError, intParam, type ConsoleContext } from './console-common.js';

function registry(ctx: ConsoleContext) {
  if (ctx.registry === null) throw new ApiError(404, 'the schema registry is off (samsa.schema.registry.enable=false)');
  return ctx.registry;
}

/** Registry lookups that fail (unknown subject or version) become the console's 404. */
function lookup<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RegistryError) throw new ApiError(err.status === 404 ? 404 : 400, err.message);
    throw err;
  }
}

export function registryOverview(ctx: ConsoleContext): unknown {
  if (ctx.registry === null) return { enabled: false, url: null, subjects: [] };
  const r = ctx.registry;
  const subjects = r.listSubjects().map((subject) => {
    const latest = r.getVersion(subject, 'latest');
    return { subject, versions: r.listVersions(subject), latest: { version: latest.version, id: latest.id, schemaType: latest.schemaType }, compatibility: r.compatibilityOf(subject), mode: r.getMode(subject, true) };
  });
  return { enabled: true, url: ctx.registryUrl, compatibility: r.getConfig(null, true).compatibilityLevel, mode: r.getMode(null, true), subjects };
}

function versionView(v: VersionEntry): unknown {
  return { version: v.version, id: v.id, schemaType: v.schemaType, references: v.references, schema: v.schema, pretty: pretty(v), deleted: v.deleted };
}

export function subjectDetail(ctx: ConsoleContext, subject: string): unknown {
  const r = registry(ctx);
  const versions = lookup(() => r.listVersions(subject, { deleted: true })).map((n) => versionView(r.getVersion(subject, n, true)));
  if (versions.length === 0) throw new ApiError(404, `Subject '${subject}' not found.`);
  return { subject, compatibility: r.compatibilityOf(subject), mode: r.getMode(subject, true), versions };
}

function pretty(v: VersionEntry): string {
  if (v.schemaType === 'PROTOBUF') return v.schema;
  try {
    return JSON.stringify(JSON.parse(v.schema), null, 2);
  } catch {
    return v.schema;
  }
}

export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** Cells of the LCS table beyond which the middle part is shown as removed-then-added (no alignment). */
const MAX_DIFF_CELLS = 4_000_000;

/** A line diff (longest common subsequence), with the common prefix and suffix trimmed first. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const out: DiffLine[] = a.slice(0, pre).map((text) => ({ op: ' ', text }));
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  if (x.length * y.length > MAX_DIFF_CELLS) {
    out.push(...x.map((text) => ({ op: '-' as const, text })), ...y.map((text) => ({ op: '+' as const, text })));
  } else {
    const n = x.length;
    const m = y.length;
    // lcs[i][j]: the LCS length of x[i..] and y[j..], row-major in one array.
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) {
        out.push({ op: ' ', text: x[i]! });
        i++;
        j++;
      } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) {
        out.push({ op: '-', text: x[i++]! });
      } else {
        out.push({ op: '+', text: y[j++]! });
      }
    }
    while (i < n) out.push({ op: '-', text: x[i++]! });
    while (j < m) out.push({ op: '+', text: y[j++]! });
  }
  out.push(...a.slice(a.length - suf).map((text) => ({ op: ' ' as const, text })));
  return out;
}

export function subjectDiff(ctx: ConsoleContext, subject: string, q: URLSearchParams): unknown {
  const r = registry(ctx);
  const from = intParam(q, 'from', null, 1);
  const to = intParam(q, 'to', null, 1);
  if (from === null || to === null) throw new ApiError(400, 'give the two versions to compare: ?from=N&to=M');
  const a = lookup(() => r.getVersion(subject, from, true));
  const b = lookup(() => r.getVersion(subject, to, true));
  const lines = diffLines(pretty(a).split('\n'), pretty(b).split('\n'));
  return { subject, from: { version: a.version, id: a.id }, to: { version: b.version, id: b.id }, added: lines.filter((l) => l.op === '+').length, removed: lines.filter((l) => l.op === '-').length, lines };
}
