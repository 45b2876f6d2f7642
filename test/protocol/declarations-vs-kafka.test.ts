/**
 * Every declaration in protocol/messages/ checked against Apache Kafka's own JSON specs (the ones Kafka
 * generates its Java message classes from), field by field and version by version over the versions we
 * declare. The round-trip tests encode and decode with the same declaration, so only this test can catch a
 * transcription mistake (a wrong version range, type, nullability, tag or default).
 *
 * Specs come from kafka-clients 4.4.0; versions that Kafka 4 removed (KIP-896: e.g. Produce v0-2, Fetch
 * v0-3) are checked against kafka-clients 3.9.2, the last release that still had them. Both jars are
 * downloaded from Maven Central once and cached in test/.cache/. If the download fails, this test fails
 * with the reason: it never skips.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../protocol/apis.js';
import { inRange, parseVersions, type FieldDecl, type MessageDecl } from '../../protocol/schema.js';
import { kafkaClientsJar, loadKafkaSpecs, stripJsonComments, type KafkaSpec } from '../helpers/kafka-specs.js';
import { checkDeclaration, formatVersions, type SpecForVersion } from './declaration-check.js';

const CURRENT = '4.4.0';
const LEGACY = '3.9.2';

let current: Map<string, KafkaSpec>;
let legacy: Map<string, KafkaSpec>;

beforeAll(async () => {
  [current, legacy] = await Promise.all([loadKafkaSpecs(CURRENT), loadKafkaSpecs(LEGACY)]);
}, 300_000);

function specFor(name: string): SpecForVersion {
  return (v) => {
    for (const [specs, source] of [[current, CURRENT], [legacy, LEGACY]] as const) {
      const spec = specs.get(name);
      if (spec && inRange(v, parseVersions(spec.validVersions))) return { spec, source };
    }
    return undefined;
  };
}

const DECLS: MessageDecl[] = ALL_APIS.flatMap((a) => [a.request.decl, a.response.decl]);

describe('declarations match Kafka JSON specs', () => {
  it('loaded both kafka-clients jars', () => {
    expect(current.size).toBeGreaterThan(100);
    expect(legacy.size).toBeGreaterThan(100);
    expect(current.get('MetadataRequest')?.apiKey).toBe(3);
  });

  for (const decl of DECLS) {
    it(`${decl.name} ${decl.validVersions}`, () => {
      expect(checkDeclaration(decl, specFor(decl.name))).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// The checker must notice a mistake: each mutation below, made on a deep clone, is reported.

function clone(decl: MessageDecl): MessageDecl {
  return structuredClone(decl);
}

/** The first field (depth first) satisfying `pred`, for mutating in place on a clone. */
function findField(fields: readonly FieldDecl[], pred: (f: FieldDecl) => boolean): FieldDecl | undefined {
  for (const f of fields) {
    if (pred(f)) return f;
    const inner = f.fields && findField(f.fields, pred);
    if (inner) return inner;
  }
  return undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

describe('the checker reports a mutated declaration', () => {
  const byName = new Map(DECLS.map((d) => [d.name, d]));
  const mutate = (name: string, field: string, change: (f: Mutable<FieldDecl>) => void): string[] => {
    const d = clone(byName.get(name)!);
    const f = findField(d.fields, (x) => x.name === field) as Mutable<FieldDecl> | undefined;
    expect(f, `${name} has a field ${field}`).toBeDefined();
    change(f!);
    return checkDeclaration(d, specFor(name));
  };

  it('a field present in one version too many', () => {
    const problems = mutate('MetadataResponse', 'leaderEpoch', (f) => (f.versions = '6+'));
    expect(problems.join('\n')).toMatch(/MetadataResponse v6: topics\.partitions: fields on the wire/);
  });
  it('a field whose version range ends too early', () => {
    const problems = mutate('MetadataRequest', 'includeClusterAuthorizedOperations', (f) => (f.versions = '8-9'));
    expect(problems.join('\n')).toMatch(/MetadataRequest v10: \(top level\): fields on the wire/);
  });
  it('a wrong type', () => {
    const problems = mutate('ProduceResponse', 'baseOffset', (f) => (f.type = 'int32'));
    expect(problems.join('\n')).toMatch(/responses\.partitionResponses\.baseOffset: type int32, Kafka says int64/);
  });
  it('a wrong nullability', () => {
    const problems = mutate('MetadataResponse', 'clusterId', (f) => (f.nullableVersions = undefined));
    expect(problems.join('\n')).toMatch(/clusterId: nullable false, Kafka true/);
  });
  it('a wrong tag', () => {
    const problems = mutate('ApiVersionsResponse', 'supportedFeatures', (f) => (f.tag = 7));
    expect(problems.join('\n')).toMatch(/supportedFeatures: tag 7, Kafka says 0/);
  });
  it('a field no longer tagged', () => {
    const problems = mutate('ApiVersionsResponse', 'finalizedFeaturesEpoch', (f) => {
      delete f.tag;
      delete f.taggedVersions;
    });
    expect(problems.join('\n')).toMatch(/finalizedFeaturesEpoch: Kafka has it as tagged field 1/);
  });
  it('a wrong default', () => {
    const problems = mutate('MetadataResponse', 'controllerId', (f) => (f.default = 0));
    expect(problems.join('\n')).toMatch(/controllerId: default 0, Kafka -1/);
  });
  it('a wrong flexible range', () => {
    const d = { ...clone(byName.get('FetchRequest')!), flexibleVersions: '11+' };
    expect(checkDeclaration(d, specFor('FetchRequest')).join('\n')).toMatch(/FetchRequest v11: flexible: ours true, Kafka false/);
  });
  it('a version Kafka never had', () => {
    const d = { ...clone(byName.get('HeartbeatRequest')!), validVersions: '0-99' };
    expect(checkDeclaration(d, specFor('HeartbeatRequest')).join('\n')).toMatch(/HeartbeatRequest v\d+-99: Kafka's HeartbeatRequest spec has no such version/);
  });
  // Every field of every declaration, mutated three ways (one at a time): its first version moved up by one,
  // its nullability flipped, its type swapped for another of a different wire form. Each must be reported.
  it('every single-field mutation of every declaration is reported', () => {
    const SWAP: Record<string, string> = {
      bool: 'int8', int8: 'bool', int16: 'int32', uint16: 'int16', int32: 'int64', uint32: 'int32', int64: 'int32',
      float64: 'int64', string: 'bytes', bytes: 'string', uuid: 'string', records: 'bytes',
    };
    let checked = 0;
    const missed: string[] = [];
    for (const decl of DECLS) {
      const valid = parseVersions(decl.validVersions);
      // Each field with the first version in which it and all its enclosing structs are on the wire.
      const paths: { path: string; index: number; reachable: number }[] = [];
      const all: FieldDecl[] = [];
      (function walk(fs: readonly FieldDecl[], prefix: string, from: number) {
        for (const f of fs) {
          all.push(f);
          const reachable = Math.max(from, parseVersions(f.versions).min);
          paths.push({ path: prefix + f.name, index: all.length - 1, reachable });
          if (f.fields) walk(f.fields, `${prefix}${f.name}.`, reachable);
        }
      })(decl.fields, '', valid.min);
      for (const { path, index, reachable } of paths) {
        const fv = parseVersions(all[index]!.versions);
        const first = reachable;
        if (first > Math.min(fv.max, valid.max)) continue; // not in any version we declare
        const mutations: [string, (f: Mutable<FieldDecl>) => void][] = [
          ['versions', (f) => (f.versions = first + 1 > fv.max ? 'none' : fv.max === Number.MAX_SAFE_INTEGER ? `${first + 1}+` : `${first + 1}-${fv.max}`)],
          ['nullability', (f) => (f.nullableVersions = f.nullableVersions === undefined ? f.versions : undefined)],
        ];
        const element = all[index]!.type.replace(/^\[\]/, '');
        if (SWAP[element]) mutations.push(['type', (f) => (f.type = f.type.replace(element, SWAP[element]!))]);
        for (const [what, change] of mutations) {
          const d = clone(decl);
          const flat: FieldDecl[] = [];
          (function walk(fs: readonly FieldDecl[]) {
            for (const f of fs) {
              flat.push(f);
              if (f.fields) walk(f.fields);
            }
          })(d.fields);
          change(flat[index] as Mutable<FieldDecl>);
          checked++;
          if (checkDeclaration(d, specFor(d.name)).length === 0) missed.push(`${decl.name}.${path} ${what}`);
        }
      }
    }
    expect(missed).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('the unmutated clone passes', () => {
    expect(checkDeclaration(clone(byName.get('FetchResponse')!), specFor('FetchResponse'))).toEqual([]);
  });
});

describe('helpers', () => {
  it('a jar that cannot be downloaded is an error that says why', async () => {
    await expect(kafkaClientsJar('0.0.0-no-such-version')).rejects.toThrow(/cannot download https:\/\/repo1\.maven\.org.*HTTP 404/);
  });
  it('strips comments but not // inside strings', () => {
    const text = '{ // a comment\n "about": "see http://x//y", /* block */ "n": 1 }';
    expect(JSON.parse(stripJsonComments(text))).toEqual({ about: 'see http://x//y', n: 1 });
    expect(JSON.parse(stripJsonComments('{"a": "q\\"//not a comment"}'))).toEqual({ a: 'q"//not a comment' });
  });
  it('formats version lists as ranges', () => {
    expect(formatVersions([8, 0, 1, 2, 5, 7])).toBe('v0-2,5,7-8');
  });
});
