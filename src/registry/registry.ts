/**
 * The registry's state and operations, independent of HTTP: subjects and their versions, schemas by global
 * id, compatibility and mode settings, materialised from the `_schemas` records (store-records.ts).
 *
 * - Every write is checked against the current state, appended to `_schemas` and applied to the state
 *   before it is answered; writes run one at a time (a chain of promises), so the check, the id and version
 *   chosen and the append cannot interleave with another write.
 * - Identity (Confluent's): the same schema type, canonical string and references is the same schema, with
 *   the same global id under every subject. A new schema gets max(id) + 1.
 * - A soft-deleted version keeps its id resolvable by `GET /schemas/ids/{id}` (consumers still decode old
 *   records); a hard delete removes it, and the id disappears once no version uses it.
 */
import type { Logger } from 'pino';
import {
  idDoesNotMatch,
  incompatibleSchema,
  invalidSchema,
  invalidSubject,
  operationNotPermitted,
  operationTimeout,
  referenceExists,
  schemaNotFound,
  schemaTooLarge,
  storeError,
  subjectCompatibilityNotConfigured,
  subjectModeNotConfigured,
  subjectNotFound,
  subjectNotSoftDeleted,
  subjectSoftDeleted,
  versionNotFound,
  versionNotSoftDeleted,
  versionSoftDeleted,
  RegistryError,
} from './errors.js';
import { parseSchema } from './formats.js';
import { normalizeReferences, SchemaParseError, type ParsedSchema, type ResolvedReference, type SchemaReference, type SchemaType } from './parsed-schema.js';
import type { SchemaValue, StoreRecord } from './store-records.js';
import { SchemasTopicError } from './schemas-topic.js';
import { ErrorCode } from '../../protocol/errors.js';
import { COMPATIBILITY_LEVELS, MODES, type CompatibilityLevel, type Mode } from './settings.js';

// The levels and modes live in settings.ts, which loads no schema library: the broker validates
// schema.compatibility.level at start even with the registry off (config.ts), without loading this file.
export { COMPATIBILITY_LEVELS, MODES, parseCompatibilityLevel, parseMode, type CompatibilityLevel, type Mode } from './settings.js';

/** The body of a register, lookup or compatibility request. */
export interface SchemaRequest {
  readonly schema: string;
  readonly schemaType: SchemaType;
  readonly references: readonly SchemaReference[];
  readonly id?: number;
  readonly version?: number;
  /** `normalize=true`: register or look up the normalized schema (Confluent's ParsedSchema.normalize()). */
  readonly normalize?: boolean;
}

/** A subject's or the global config as answered (Confluent's Config: fields not set are absent). */
export interface RegistryConfig {
  readonly compatibilityLevel?: CompatibilityLevel;
  readonly normalize?: boolean;
}

/** A subject's version, as the registry answers it. */
export type VersionEntry = SchemaValue;

/** Where writes go: `_schemas` in the broker (schemas-topic.ts), or anything that keeps records in order. */
export interface RecordLog {
  append(records: readonly StoreRecord[]): Promise<void>;
  /**
   * True when the log's own reader applies what `append` wrote before `append` resolves (the Kafka store of a
   * cluster, kafka-store.ts): the registry then does not apply the records a second time.
   */
  readonly appliesItself?: boolean;
  /** Runs before each write: a new writer first catches up with the log (Confluent's waitUntilKafkaReaderReachesLastOffset). */
  beforeWrite?(): Promise<void>;
}

/** A write, as Confluent names it in its 50002 "... operation timed out" messages. */
type Operation = 'Register' | 'Delete subject' | 'Delete schema version' | 'Update config' | 'Delete config' | 'Update mode' | 'Delete mode';

/** A version selector: a number, or the latest (live) version. */
export type VersionSpec = number | 'latest';

const MAX_VERSION = 2 ** 31 - 1;
/** The parse cache: at most this many entries, of texts up to this long (bounded memory: <= 64 MiB of text). */
const PARSE_CACHE_ENTRIES = 256;
const PARSE_CACHE_MAX_TEXT = 256 * 1024;

/** Confluent's QualifiedSubject.DEFAULT_CONTEXT. */
export const DEFAULT_CONTEXT = '.';
/** The tenant of every context here (Confluent's QualifiedSubject.DEFAULT_TENANT; multi-tenancy is Confluent Cloud's). */
export const DEFAULT_TENANT = 'default';

/**
 * The context of a subject, as Confluent's QualifiedSubject parses `[:.context:]subject`: `:.ctx:orders`
 * is `orders` in context `.ctx`; a name without the prefix is in the default context `.`.
 */
export function contextOf(subject: string): string {
  if (!subject.startsWith(':.')) return DEFAULT_CONTEXT;
  const ix = subject.indexOf(':', 2);
  return ix < 0 ? subject.slice(1) : subject.slice(1, ix);
}

/**
 * The subject as Confluent names it (QualifiedSubject.toQualifiedSubject): the default context's prefix
 * `:.:` is dropped, so `:.:orders` and `orders` are one subject.
 */
export function qualifiedSubject(subject: string): string {
  if (!subject.startsWith(':.')) return subject;
  const ix = subject.indexOf(':', 2);
  const context = ix < 0 ? subject.slice(1) : subject.slice(1, ix);
  const name = ix < 0 ? '' : subject.slice(ix + 1);
  return context === DEFAULT_CONTEXT ? name : `:${context}:${name}`;
}

/** Ids are per context (Confluent's IncrementalIdGenerator keeps a max id per context). */
const idKey = (context: string, id: number): string => `${context}\u0000${id}`;

function identityKey(context: string, schemaType: SchemaType, canonical: string, references: readonly SchemaReference[]): string {
  const refs = references.map((r) => `${r.name}\u0000${r.subject}\u0000${r.version}`).join('\u0001');
  return `${context}\u0002${schemaType}\u0002${refs}\u0002${canonical}`;
}

export interface RegistryOptions {
  readonly defaultCompatibility: CompatibilityLevel;
}

export class SchemaRegistry {
  private readonly subjects = new Map<string, Map<number, VersionEntry>>();
  /** id -> the schema, and the subject/versions using it. */
  private readonly ids = new Map<string, { readonly schemaType: SchemaType; readonly schema: string; readonly references: readonly SchemaReference[]; readonly users: Set<string> }>();
  private readonly idByIdentity = new Map<string, number>();
  private readonly maxIds = new Map<string, number>();
  /** The contexts other than the default one, from CONTEXT records. */
  private readonly contexts = new Set<string>();
  private globalCompatibility: CompatibilityLevel | null = null;
  private readonly subjectCompatibility = new Map<string, CompatibilityLevel>();
  /** The configs' `normalize` (Confluent's config option: normalize every schema registered or looked up). */
  private globalNormalize: boolean | null = null;
  private readonly subjectNormalize = new Map<string, boolean>();
  private globalMode: Mode | null = null;
  private readonly subjectMode = new Map<string, Mode>();
  private readonly parsedById = new Map<string, ParsedSchema>();
  private readonly parseCache = new Map<string, ParsedSchema>();
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: RecordLog,
    private readonly options: RegistryOptions,
    private readonly logger: Logger,
  ) {}

  // ---------------------------------------------------------------- applying records (replay and writes)

  apply(r: StoreRecord): void {
    switch (r.keytype) {
      case 'SCHEMA':
        if (r.value === null) this.removeVersion(r.subject, r.version);
        else this.putVersion({ ...r.value, subject: r.subject, version: r.version });
        return;
      case 'CONFIG': {
        const given = r.value?.compatibilityLevel;
        const level = given === undefined ? null : COMPATIBILITY_LEVELS.find((l) => l === given.toUpperCase()) ?? null;
        if (given !== undefined && level === null) this.logger.warn({ record: r }, 'unknown compatibility level in _schemas ignored');
        const normalize = r.value?.normalize ?? null;
        if (r.subject === null) {
          this.globalCompatibility = level;
          this.globalNormalize = normalize;
        } else {
          if (level === null) this.subjectCompatibility.delete(r.subject);
          else this.subjectCompatibility.set(r.subject, level);
          if (normalize === null) this.subjectNormalize.delete(r.subject);
          else this.subjectNormalize.set(r.subject, normalize);
        }
        return;
      }
      case 'MODE': {
        const mode = r.value === null ? null : MODES.find((m) => m === r.value!.mode.toUpperCase()) ?? null;
        if (r.subject === null) this.globalMode = mode;
        else if (mode === null) this.subjectMode.delete(r.subject);
        else this.subjectMode.set(r.subject, mode);
        return;
      }
      case 'DELETE_SUBJECT': {
        // Confluent's soft delete of a subject: every version up to this one is deleted.
        if (r.value === null) return;
        for (const v of this.subjects.get(r.subject)?.values() ?? []) {
          if (v.version <= r.value.version && !v.deleted) this.putVersion({ ...v, deleted: true });
        }
        return;
      }
      case 'CLEAR_SUBJECT':
        for (const v of [...(this.subjects.get(r.subject)?.values() ?? [])]) if (v.deleted) this.removeVersion(v.subject, v.version);
        return;
      case 'NOOP':
        return;
      case 'CONTEXT':
        if (r.tenant !== DEFAULT_TENANT) return;
        if (r.value === null) this.contexts.delete(r.context);
        else if (r.context !== DEFAULT_CONTEXT) this.contexts.add(r.context);
        return;
    }
  }

  private putVersion(v: VersionEntry): void {
    let versions = this.subjects.get(v.subject);
    if (!versions) {
      versions = new Map();
      this.subjects.set(v.subject, versions);
    }
    const previous = versions.get(v.version);
    if (previous && previous.id !== v.id) this.dropUser(previous.id, v.subject, v.version);
    versions.set(v.version, v);
    const context = contextOf(v.subject);
    let byId = this.ids.get(idKey(context, v.id));
    if (!byId) {
      byId = { schemaType: v.schemaType, schema: v.schema, references: v.references, users: new Set() };
      this.ids.set(idKey(context, v.id), byId);
      this.idByIdentity.set(identityKey(context, v.schemaType, v.schema, v.references), v.id);
    }
    byId.users.add(`${v.subject}\u0000${v.version}`);
    if (v.id > (this.maxIds.get(context) ?? 0)) this.maxIds.set(context, v.id);
  }

  private removeVersion(subject: string, version: number): void {
    const versions = this.subjects.get(subject);
    const v = versions?.get(version);
    if (!versions || !v) return;
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    this.dropUser(v.id, subject, version);
  }

  private dropUser(id: number, subject: string, version: number): void {
    const context = contextOf(subject);
    const byId = this.ids.get(idKey(context, id));
    if (!byId) return;
    byId.users.delete(`${subject}\u0000${version}`);
    if (byId.users.size === 0) {
      this.ids.delete(idKey(context, id));
      this.parsedById.delete(idKey(context, id));
      const key = identityKey(context, byId.schemaType, byId.schema, byId.references);
      if (this.idByIdentity.get(key) === id) this.idByIdentity.delete(key);
    }
  }

  /**
   * Appends the records, then applies them: the write is answered only once it is in `_schemas`. `operation`
   * names it in Confluent's 50002 message when the store times out (kafkastore.timeout.ms).
   */
  private async commit(records: StoreRecord[], operation: Operation): Promise<void> {
    try {
      await this.log.append(records);
    } catch (err) {
      if (err instanceof SchemasTopicError && (err.errorCode === ErrorCode.MESSAGE_TOO_LARGE || err.errorCode === ErrorCode.RECORD_LIST_TOO_LARGE)) {
        throw schemaTooLarge(`Schema too large: ${err.message}`);
      }
      if (err instanceof SchemasTopicError && err.errorCode === ErrorCode.REQUEST_TIMED_OUT) {
        this.logger.error({ err }, 'write to _schemas timed out (kafkastore.timeout.ms)');
        throw operationTimeout(operation);
      }
      this.logger.error({ err }, 'write to _schemas failed');
      throw storeError(`Error while storing the schema: ${(err as Error).message}`);
    }
    if (!this.log.appliesItself) for (const r of records) this.apply(r);
  }

  /** Runs a write after the previous ones, alone (and, in a cluster, after catching up with `_schemas`). */
  private exclusive<T>(operation: Operation, op: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      if (this.log.beforeWrite) {
        try {
          await this.log.beforeWrite();
        } catch (err) {
          if (err instanceof SchemasTopicError && err.errorCode === ErrorCode.REQUEST_TIMED_OUT) throw operationTimeout(operation);
          throw storeError(`Error while storing the schema: ${(err as Error).message}`);
        }
      }
      return op();
    };
    const run = this.writes.then(guarded, guarded);
    this.writes = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- reads

  private versionsOf(subject: string): VersionEntry[] {
    return [...(this.subjects.get(subject)?.values() ?? [])].sort((a, b) => a.version - b.version);
  }

  private liveVersions(subject: string): VersionEntry[] {
    return this.versionsOf(subject).filter((v) => !v.deleted);
  }

  listSubjects(opts: { prefix?: string; deleted?: boolean; deletedOnly?: boolean } = {}): string[] {
    const out: string[] = [];
    for (const [subject, versions] of this.subjects) {
      if (opts.prefix !== undefined && !subject.startsWith(opts.prefix)) continue;
      const live = [...versions.values()].some((v) => !v.deleted);
      const dead = [...versions.values()].some((v) => v.deleted);
      if (opts.deletedOnly ? dead && !live : live || (opts.deleted === true && dead)) out.push(subject);
    }
    return out.sort();
  }

  listVersions(subject: string, opts: { deleted?: boolean; deletedOnly?: boolean } = {}): number[] {
    const all = this.versionsOf(subject);
    const chosen = all.filter((v) => (opts.deletedOnly ? v.deleted : opts.deleted === true || !v.deleted));
    if (chosen.length === 0 && (all.length === 0 || !opts.deletedOnly)) throw subjectNotFound(subject);
    return chosen.map((v) => v.version);
  }

  getVersion(subject: string, spec: VersionSpec, lookupDeleted = false): VersionEntry {
    const all = this.versionsOf(subject);
    const visible = lookupDeleted ? all : all.filter((v) => !v.deleted);
    if (visible.length === 0) throw subjectNotFound(subject);
    const found = spec === 'latest' ? visible[visible.length - 1] : visible.find((v) => v.version === spec);
    if (!found) throw versionNotFound(spec === 'latest' ? 'latest' : spec);
    return found;
  }

  /** A schema by id in a context (the default one unless a qualified subject names another). */
  getSchemaById(id: number, context = DEFAULT_CONTEXT): { schemaType: SchemaType; schema: string; references: readonly SchemaReference[] } {
    const byId = this.ids.get(idKey(context, id));
    if (!byId) throw schemaNotFound(id);
    return byId;
  }

  /**
   * The context in which `GET /schemas/ids/{id}?subject=` finds the id (Confluent's
   * getSchemaKeyUsingContexts): no subject, or a context alone (`:.ctx:`), the id in that context; a
   * subject in a named context, the id under that subject; a plain subject, the id under it in the default
   * context, else under the same name in each context (by name), else the id in the default context under
   * any subject. 40403 when none holds it.
   */
  locateId(id: number, subject: string | null): string {
    const has = (context: string, under: string | null): boolean => {
      const byId = this.ids.get(idKey(context, id));
      if (!byId) return false;
      return under === null || [...byId.users].some((u) => u.split('\u0000')[0] === under);
    };
    if (subject === null) {
      if (has(DEFAULT_CONTEXT, null)) return DEFAULT_CONTEXT;
      throw schemaNotFound(id);
    }
    const q = qualifiedSubject(subject);
    const context = contextOf(q);
    const name = q.startsWith(':.') ? q.slice(q.indexOf(':', 2) + 1) : q;
    if (name === '') {
      if (has(context, null)) return context;
      throw schemaNotFound(id);
    }
    if (context !== DEFAULT_CONTEXT) {
      if (has(context, q)) return context;
      throw schemaNotFound(id);
    }
    if (has(DEFAULT_CONTEXT, q)) return DEFAULT_CONTEXT;
    for (const c of [...this.contexts].sort()) if (has(c, `:${c}:${name}`)) return c;
    if (has(DEFAULT_CONTEXT, null)) return DEFAULT_CONTEXT;
    throw schemaNotFound(id);
  }

  /** The highest id given in a context (`fetchMaxId`). */
  maxSchemaId(context = DEFAULT_CONTEXT): number {
    return this.maxIds.get(context) ?? 0;
  }

  /** GET /contexts: the default context, then the others in name order (Confluent's listContexts). */
  listContexts(): string[] {
    return [DEFAULT_CONTEXT, ...[...this.contexts].sort()];
  }

  subjectVersionsForId(id: number, lookupDeleted = false, context = DEFAULT_CONTEXT): { subject: string; version: number }[] {
    const byId = this.ids.get(idKey(context, id));
    if (!byId) throw schemaNotFound(id);
    const out: { subject: string; version: number }[] = [];
    for (const key of byId.users) {
      const [subject, version] = key.split('\u0000') as [string, string];
      const v = this.subjects.get(subject)?.get(Number(version));
      if (v && (lookupDeleted || !v.deleted)) out.push({ subject, version: v.version });
    }
    return out.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version));
  }

  listSchemas(opts: { prefix?: string; deleted?: boolean; latestOnly?: boolean } = {}): VersionEntry[] {
    const out: VersionEntry[] = [];
    for (const subject of this.listSubjects({ prefix: opts.prefix, deleted: opts.deleted })) {
      const versions = this.versionsOf(subject).filter((v) => opts.deleted === true || !v.deleted);
      out.push(...(opts.latestOnly ? versions.slice(-1) : versions));
    }
    return out;
  }

  referencedBy(subject: string, spec: VersionSpec): number[] {
    const target = this.getVersion(subject, spec, true);
    return this.idsReferencing(subject, target.version);
  }

  private idsReferencing(subject: string, version: number): number[] {
    const out = new Set<number>();
    for (const versions of this.subjects.values()) {
      for (const v of versions.values()) {
        if (!v.deleted && v.references.some((r) => r.subject === subject && r.version === version)) out.add(v.id);
      }
    }
    return [...out].sort((a, b) => a - b);
  }

  // ---------------------------------------------------------------- parsing

  /** The referenced schemas, transitively, each after its own references (Confluent's resolveReferences). */
  private resolveReferences(references: readonly SchemaReference[], seen = new Set<string>()): ResolvedReference[] {
    const out: ResolvedReference[] = [];
    for (const ref of references) {
      const key = `${ref.subject}\u0000${ref.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const versions = this.subjects.get(ref.subject);
      const target = ref.version === -1 ? this.liveVersions(ref.subject).at(-1) : versions?.get(ref.version);
      if (!target) throw invalidSchema(`Invalid schema: reference '${ref.name}' to subject '${ref.subject}' version ${ref.version} not found`);
      out.push(...this.resolveReferences(target.references, seen));
      out.push({ name: ref.name, schemaType: target.schemaType, schema: target.schema });
    }
    return out;
  }

  /**
   * Parses a request's schema; 42201 with the parser's reason when it is not a valid schema. Recent results
   * are kept by exact text (and references), because producers register the same schema text over and over
   * (auto.register.schemas) and parsing is the costly part (avsc compiles code per record type: ~15 ms for a
   * 500-field record).
   */
  parse(req: SchemaRequest): ParsedSchema {
    const refs = this.resolveReferences(req.references);
    const key = req.schema.length <= PARSE_CACHE_MAX_TEXT ? `${req.schemaType}\u0002${refs.map((r) => `${r.name}\u0000${r.schema}`).join('\u0001')}\u0002${req.schema}` : null;
    const cached = key === null ? undefined : this.parseCache.get(key);
    if (cached) {
      // Most recently used last: a Map iterates in insertion order, so the first key is the eviction victim.
      this.parseCache.delete(key!);
      this.parseCache.set(key!, cached);
      return cached;
    }
    let parsed: ParsedSchema;
    try {
      parsed = parseSchema(req.schemaType, req.schema, refs);
    } catch (err) {
      if (err instanceof SchemaParseError || err instanceof Error) throw invalidSchema(`Invalid schema of type ${req.schemaType}, details: ${err.message}`);
      throw err;
    }
    if (key !== null) {
      this.parseCache.set(key, parsed);
      if (this.parseCache.size > PARSE_CACHE_ENTRIES) this.parseCache.delete(this.parseCache.keys().next().value!);
    }
    return parsed;
  }

  private parsedVersion(v: VersionEntry): ParsedSchema {
    const key = idKey(contextOf(v.subject), v.id);
    let parsed = this.parsedById.get(key);
    if (!parsed) {
      parsed = parseSchema(v.schemaType, v.schema, this.resolveReferences(v.references));
      this.parsedById.set(key, parsed);
    }
    return parsed;
  }

  // ---------------------------------------------------------------- settings

  compatibilityOf(subject: string | null): CompatibilityLevel {
    return (subject === null ? undefined : this.subjectCompatibility.get(subject)) ?? this.globalCompatibility ?? this.options.defaultCompatibility;
  }

  private ownConfig(subject: string | null): RegistryConfig | null {
    const level = subject === null ? this.globalCompatibility : this.subjectCompatibility.get(subject) ?? null;
    const normalize = subject === null ? this.globalNormalize : this.subjectNormalize.get(subject) ?? null;
    if (level === null && normalize === null) return null;
    return { ...(level === null ? {} : { compatibilityLevel: level }), ...(normalize === null ? {} : { normalize }) };
  }

  /** GET /config[/{s}]: the global config always has a level (the default); a subject's only if it has one. */
  getConfig(subject: string | null, defaultToGlobal = false): RegistryConfig {
    if (subject === null) return { compatibilityLevel: this.compatibilityOf(null), ...(this.globalNormalize === null ? {} : { normalize: this.globalNormalize }) };
    const own = this.ownConfig(subject);
    if (own) return own;
    if (defaultToGlobal) return this.getConfig(null);
    throw subjectCompatibilityNotConfigured(subject);
  }

  /** Whether schemas registered or looked up under `subject` are normalized by config (subject's, else global). */
  private normalizeByConfig(subject: string): boolean {
    return this.subjectNormalize.get(subject) ?? this.globalNormalize ?? false;
  }

  /**
   * PUT /config[/{s}]: the given fields replace the current ones, the others are kept (Confluent's
   * ConfigValue.merge); answers the update as given.
   */
  setConfig(subject: string | null, update: RegistryConfig): Promise<RegistryConfig> {
    return this.exclusive('Update config', async () => {
      if (subject !== null) this.checkSubjectName(subject);
      const current = this.ownConfig(subject);
      const value: { compatibilityLevel?: string; normalize?: boolean } = {};
      const level = update.compatibilityLevel ?? current?.compatibilityLevel;
      if (level !== undefined) value.compatibilityLevel = level;
      const normalize = update.normalize ?? current?.normalize;
      if (normalize !== undefined) value.normalize = normalize;
      await this.commit([{ keytype: 'CONFIG', subject, value }], 'Update config');
      return update;
    });
  }

  /** Removes a config and answers the one that was in force. */
  deleteConfig(subject: string | null): Promise<RegistryConfig> {
    return this.exclusive('Delete config', async () => {
      if (subject === null) {
        const previous = this.getConfig(null);
        await this.commit([{ keytype: 'CONFIG', subject: null, value: null }], 'Delete config');
        return previous;
      }
      if (!this.subjects.has(subject)) throw subjectNotFound(subject);
      const previous = this.getConfig(subject);
      await this.commit([{ keytype: 'CONFIG', subject, value: null }], 'Delete config');
      return previous;
    });
  }

  getMode(subject: string | null, defaultToGlobal = false): Mode {
    if (subject === null) return this.globalMode ?? 'READWRITE';
    const own = this.subjectMode.get(subject);
    if (own) return own;
    if (defaultToGlobal) return this.getMode(null);
    throw subjectModeNotConfigured(subject);
  }

  private modeOf(subject: string): Mode {
    return this.subjectMode.get(subject) ?? this.globalMode ?? 'READWRITE';
  }

  setMode(subject: string | null, mode: Mode, force = false): Promise<Mode> {
    return this.exclusive('Update mode', async () => {
      if (subject !== null) this.checkSubjectName(subject);
      // Confluent: switching to IMPORT where schemas exist needs force=true, ids could otherwise collide.
      if (mode === 'IMPORT' && !force) {
        const occupied = subject === null ? this.subjects.size > 0 : this.subjects.has(subject);
        if (occupied) throw operationNotPermitted('Cannot import since found existing subjects');
      }
      await this.commit([{ keytype: 'MODE', subject, value: { mode } }], 'Update mode');
      return mode;
    });
  }

  deleteMode(subject: string): Promise<Mode> {
    return this.exclusive('Delete mode', async () => {
      const previous = this.getMode(subject);
      await this.commit([{ keytype: 'MODE', subject, value: null }], 'Delete mode');
      return previous;
    });
  }

  private checkWritable(subject: string): Mode {
    const mode = this.modeOf(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw operationNotPermitted(`Subject ${subject} is in read-only mode`);
    return mode;
  }

  private checkSubjectName(subject: string): void {
    // Confluent's QualifiedSubject validation: ISO control characters are refused.
    if (subject === '' || /[\u0000-\u001f\u007f-\u009f]/.test(subject)) throw invalidSubject(subject);
    // A context without a subject name (`:.ctx:`) names the context itself, not a subject.
    if (subject.startsWith(':.') && qualifiedSubject(subject).endsWith(':')) throw invalidSubject(subject);
  }

  // ---------------------------------------------------------------- compatibility

  /**
   * Confluent's CompatibilityChecker: the messages of the first previous schema (newest first) that the new
   * one is incompatible with, under `level`; empty when compatible. BACKWARD: the new schema reads data
   * written with the old one; FORWARD: the old one reads data written with the new; FULL: both; the
   * TRANSITIVE levels check every previous version, the others the latest only.
   */
  private incompatibilities(level: CompatibilityLevel, candidate: ParsedSchema, previous: readonly VersionEntry[]): string[] {
    if (level === 'NONE' || previous.length === 0) return [];
    const newestFirst = [...previous].reverse();
    const checked = level.endsWith('_TRANSITIVE') ? newestFirst : newestFirst.slice(0, 1);
    for (const old of checked) {
      let existing: ParsedSchema;
      try {
        existing = this.parsedVersion(old);
      } catch (err) {
        return [`Unexpected exception during compatibility check: ${(err as Error).message}`];
      }
      const format = (diffs: ReturnType<ParsedSchema['isBackwardCompatible']>, reader: string, writer: string, appendSchema: boolean): string[] => {
        if (diffs.length === 0) return [];
        const out = diffs.map((d) => d(reader, writer));
        if (appendSchema) out.push(`{oldSchemaVersion: ${old.version}}`, `{oldSchema: '${old.schema.length <= 10240 ? old.schema : `${old.schema.slice(0, 10240)}`}'}`);
        return out;
      };
      let messages: string[];
      if (level.startsWith('BACKWARD')) messages = format(candidate.isBackwardCompatible(existing), 'new', 'old', true);
      else if (level.startsWith('FORWARD')) messages = format(existing.isBackwardCompatible(candidate), 'old', 'new', true);
      else messages = [...format(existing.isBackwardCompatible(candidate), 'old', 'new', false), ...format(candidate.isBackwardCompatible(existing), 'new', 'old', true)];
      if (messages.length > 0) return [...messages, `{validateFields: 'false', compatibility: '${level}'}`];
    }
    return [];
  }

  /**
   * POST /compatibility/subjects/{s}/versions/{v}: against that one version (with the subject's level's
   * direction), or with `spec` 'all' against the versions the level covers.
   */
  checkCompatibility(subject: string, spec: VersionSpec | 'all', req: SchemaRequest): string[] {
    const candidate = this.parse(req);
    const level = this.compatibilityOf(subject);
    if (spec === 'all') return this.incompatibilities(level, candidate, this.liveVersions(subject));
    const target = this.getVersion(subject, spec);
    const single = level.endsWith('_TRANSITIVE') ? (level.slice(0, -'_TRANSITIVE'.length) as CompatibilityLevel) : level;
    return this.incompatibilities(single, candidate, [target]);
  }

  // ---------------------------------------------------------------- schemas

  /**
   * The schema and references a request stands for: with `normalize=true` (or the subject's config
   * `normalize`), the normalized schema and sorted references, as Confluent's canonicalizeSchema.
   */
  private prepare(subject: string, req: SchemaRequest): { parsed: ParsedSchema; references: readonly SchemaReference[] } {
    const parsed = this.parse(req);
    if (req.normalize !== true && !this.normalizeByConfig(subject)) return { parsed, references: req.references };
    let normalized: ParsedSchema;
    try {
      normalized = parsed.normalize();
    } catch (err) {
      throw invalidSchema(`Invalid schema of type ${req.schemaType}, details: ${(err as Error).message}`);
    }
    return { parsed: normalized, references: normalizeReferences(req.references) };
  }

  /** POST /subjects/{s}: the live (or with `lookupDeleted`, any) version of `subject` holding this schema. */
  lookup(subject: string, req: SchemaRequest, lookupDeleted = false): VersionEntry {
    const { parsed, references } = this.prepare(subject, req);
    const versions = this.versionsOf(subject).filter((v) => lookupDeleted || !v.deleted);
    if (versions.length === 0) throw subjectNotFound(subject);
    const context = contextOf(subject);
    const key = identityKey(context, parsed.schemaType, parsed.canonical, references);
    const found = versions.reverse().find((v) => identityKey(context, v.schemaType, v.schema, v.references) === key);
    if (!found) throw schemaNotFound();
    return found;
  }

  /** POST /subjects/{s}/versions: the schema's global id, registering it as a new version when needed. */
  register(subject: string, req: SchemaRequest): Promise<number> {
    return this.exclusive('Register', async () => {
      this.checkSubjectName(subject);
      const mode = this.checkWritable(subject);
      const { parsed, references } = this.prepare(subject, req);
      const context = contextOf(subject);
      const key = identityKey(context, parsed.schemaType, parsed.canonical, references);
      const all = this.versionsOf(subject);
      const live = all.filter((v) => !v.deleted);
      const existing = live.find((v) => identityKey(context, v.schemaType, v.schema, v.references) === key);
      if (existing && (req.id === undefined || req.id === existing.id)) return existing.id;

      let id = this.idByIdentity.get(key);
      let version = (all.at(-1)?.version ?? 0) + 1;
      if (mode === 'IMPORT') {
        // Import (migration from another registry): the ids and versions are the source's.
        if (req.id === undefined) throw operationNotPermitted(`Subject ${subject} is in import mode: an id is required`);
        const holder = this.ids.get(idKey(context, req.id));
        if (holder && identityKey(context, holder.schemaType, holder.schema, holder.references) !== key) {
          throw idDoesNotMatch(`Overwrite new schema with id ${req.id} is not permitted.`);
        }
        id = req.id;
        if (req.version !== undefined) {
          if (this.subjects.get(subject)?.has(req.version)) throw operationNotPermitted(`Subject ${subject} already has version ${req.version}`);
          version = req.version;
        }
      } else {
        if (req.id !== undefined && req.id !== id) throw operationNotPermitted(`Subject ${subject} is not in import mode`);
        const level = this.compatibilityOf(subject);
        const messages = this.incompatibilities(level, parsed, live);
        if (messages.length > 0) {
          throw incompatibleSchema(`Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`);
        }
      }
      if (version > MAX_VERSION) throw operationNotPermitted(`Subject ${subject} has no version numbers left`);
      id ??= this.maxSchemaId(context) + 1;
      const value: SchemaValue = { subject, version, id, schemaType: parsed.schemaType, references, schema: parsed.canonical, deleted: false };
      const records: StoreRecord[] = [];
      // Confluent writes the context's record before the first schema registered in it.
      if (context !== DEFAULT_CONTEXT && !this.contexts.has(context)) {
        records.push({ keytype: 'CONTEXT', tenant: DEFAULT_TENANT, context, value: { tenant: DEFAULT_TENANT, context } });
      }
      records.push({ keytype: 'SCHEMA', subject, version, value });
      await this.commit(records, 'Register');
      this.parsedById.set(idKey(context, id), parsed);
      this.logger.info({ subject, version, id, schemaType: parsed.schemaType }, 'schema registered');
      return id;
    });
  }

  private checkNotReferenced(subject: string, version: number): void {
    if (this.idsReferencing(subject, version).length > 0) {
      throw referenceExists(`One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`);
    }
  }

  /** DELETE /subjects/{s}: the versions deleted. Soft first; `permanent` only after a soft delete. */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.exclusive('Delete subject', async () => {
      this.checkWritable(subject);
      const all = this.versionsOf(subject);
      if (all.length === 0) throw subjectNotFound(subject);
      const live = all.filter((v) => !v.deleted);
      if (permanent) {
        if (live.length > 0) throw subjectNotSoftDeleted(subject);
        for (const v of all) this.checkNotReferenced(subject, v.version);
        const records: StoreRecord[] = all.map((v) => ({ keytype: 'SCHEMA', subject, version: v.version, value: null }));
        if (this.subjectCompatibility.has(subject) || this.subjectNormalize.has(subject)) records.push({ keytype: 'CONFIG', subject, value: null });
        if (this.subjectMode.has(subject)) records.push({ keytype: 'MODE', subject, value: null });
        await this.commit(records, 'Delete subject');
        return all.map((v) => v.version);
      }
      if (live.length === 0) throw subjectSoftDeleted(subject);
      for (const v of live) this.checkNotReferenced(subject, v.version);
      await this.commit(live.map((v) => ({ keytype: 'SCHEMA', subject, version: v.version, value: { ...v, deleted: true } })), 'Delete subject');
      return live.map((v) => v.version);
    });
  }

  /** DELETE /subjects/{s}/versions/{v}: the version deleted. */
  deleteVersion(subject: string, spec: VersionSpec, permanent: boolean): Promise<number> {
    return this.exclusive('Delete schema version', async () => {
      this.checkWritable(subject);
      const all = this.versionsOf(subject);
      if (all.length === 0) throw subjectNotFound(subject);
      const v = spec === 'latest' ? (permanent ? all.at(-1) : all.filter((x) => !x.deleted).at(-1)) : all.find((x) => x.version === spec);
      if (!v) throw versionNotFound(spec === 'latest' ? 'latest' : spec);
      if (permanent) {
        if (!v.deleted) throw versionNotSoftDeleted(subject, v.version);
        this.checkNotReferenced(subject, v.version);
        await this.commit([{ keytype: 'SCHEMA', subject, version: v.version, value: null }], 'Delete schema version');
        return v.version;
      }
      if (v.deleted) throw versionSoftDeleted(subject, v.version);
      this.checkNotReferenced(subject, v.version);
      await this.commit([{ keytype: 'SCHEMA', subject, version: v.version, value: { ...v, deleted: true } }], 'Delete schema version');
      return v.version;
    });
  }

  /** Waits for the writes in flight (shutdown). */
  async drain(): Promise<void> {
    await this.writes;
  }
}

export { RegistryError };
