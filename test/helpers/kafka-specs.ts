/**
 * Apache Kafka's own message specs (common/message/*.json, packaged in the kafka-clients jar) and metadata
 * record specs (common/metadata/*.json, in the kafka-metadata jar), for the declarations tests. The jar comes from Maven Central, is checked against Maven's published SHA-1, and is
 * cached in test/.cache/ (gitignored), so only the first run on a machine downloads it.
 *
 * Nothing here is optional: when the jar cannot be fetched the caller gets an Error that says why (the
 * test then fails loudly rather than skipping).
 *
 * The jar is read with a minimal zip reader (central directory + inflateRawSync), and the spec files'
 * `//` comments are stripped by a scanner that knows about JSON strings (a URL inside an "about" text
 * must survive).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_CACHE_DIR = join(REPO_ROOT, 'test', '.cache');
const MAVEN = 'https://repo1.maven.org/maven2/org/apache/kafka';

export interface KafkaField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  ignorable?: boolean;
  default?: string | number | boolean;
  fields?: KafkaField[];
}

export interface KafkaSpec {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: KafkaField[];
  commonStructs?: { name: string; versions: string; fields: KafkaField[] }[];
}

async function fetchWithRetry(url: string, attempts = 4, timeoutMs = 60_000): Promise<Buffer> {
  const errors: string[] = [];
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      // A 4xx (no such version) will not change on retry; a 5xx or a network error may.
      if (res.status >= 400 && res.status < 500) throw new Error(`cannot download ${url}: HTTP ${res.status} ${res.statusText}`);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      if ((err as Error).message.startsWith('cannot download')) throw err;
      errors.push(`attempt ${i + 1}: ${(err as Error).message}${(err as Error).cause ? ` (${String((err as Error).cause)})` : ''}`);
      // Back off 1, 2, 4 s between attempts: a fresh CI machine's network may still be settling.
      if (i + 1 < attempts) await new Promise((r) => setTimeout(r, 1000 * 2 ** i));
    }
  }
  throw new Error(`cannot download ${url}:\n  ${errors.join('\n  ')}`);
}

/** Path of kafka-clients-<version>.jar, downloading it (verified by SHA-1) when not cached. */
export async function kafkaClientsJar(version: string): Promise<string> {
  return kafkaJar('kafka-clients', version);
}

/** Path of org.apache.kafka:<artifact>:<version>'s jar, downloading it (verified by SHA-1) when not cached. */
export async function kafkaJar(artifact: string, version: string): Promise<string> {
  const dir = join(TEST_CACHE_DIR, artifact);
  const jar = join(dir, `${artifact}-${version}.jar`);
  if (existsSync(jar)) return jar;
  mkdirSync(dir, { recursive: true });
  const url = `${MAVEN}/${artifact}/${version}/${artifact}-${version}.jar`;
  const [body, sha1] = await Promise.all([fetchWithRetry(url), fetchWithRetry(`${url}.sha1`)]);
  const want = sha1.toString('utf8').trim().split(/\s+/)[0]!.toLowerCase();
  const got = createHash('sha1').update(body).digest('hex');
  if (got !== want) throw new Error(`${url}: SHA-1 ${got} does not match Maven Central's ${want}`);
  // Written under a temporary name and renamed, so an interrupted run never leaves a truncated jar cached.
  const tmp = `${jar}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  renameSync(tmp, jar);
  return jar;
}

/** The entries of a zip archive whose names match `want`, decompressed. Zip64 is not needed for this jar. */
export function readZipEntries(zip: Buffer, want: (name: string) => boolean): Map<string, Buffer> {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (!want(name)) continue;
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + compressedSize);
    if (method === 0) out.set(name, Buffer.from(data));
    else if (method === 8) out.set(name, inflateRawSync(data));
    else throw new Error(`${name}: unsupported zip compression method ${method}`);
  }
  return out;
}

/** Removes `//` and `/* *\/` comments outside JSON strings. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      // Copy the string verbatim, honouring backslash escapes.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const specCache = new Map<string, Map<string, KafkaSpec>>();

/** Every message spec in kafka-clients-<version>.jar, by message name (e.g. `MetadataRequest`). */
export async function loadKafkaSpecs(version: string): Promise<Map<string, KafkaSpec>> {
  return loadSpecsFrom('kafka-clients', version, 'common/message');
}

/** Every metadata record spec in kafka-metadata-<version>.jar (common/metadata/*.json), by name (e.g. `TopicRecord`). */
export async function loadKafkaMetadataSpecs(version: string): Promise<Map<string, KafkaSpec>> {
  return loadSpecsFrom('kafka-metadata', version, 'common/metadata');
}

async function loadSpecsFrom(artifact: string, version: string, folder: string): Promise<Map<string, KafkaSpec>> {
  const cacheKey = `${artifact}:${version}`;
  const cached = specCache.get(cacheKey);
  if (cached) return cached;
  const jar = await kafkaJar(artifact, version);
  const pattern = new RegExp(`^${folder}/[A-Za-z0-9]+\\.json$`);
  const entries = readZipEntries(readFileSync(jar), (n) => pattern.test(n));
  if (entries.size === 0) throw new Error(`${jar} holds no ${folder}/*.json specs`);
  const specs = new Map<string, KafkaSpec>();
  for (const [name, body] of entries) {
    let spec: KafkaSpec;
    try {
      spec = JSON.parse(stripJsonComments(body.toString('utf8'))) as KafkaSpec;
    } catch (err) {
      throw new Error(`${jar}!${name}: ${(err as Error).message}`);
    }
    specs.set(spec.name, spec);
  }
  specCache.set(cacheKey, specs);
  return specs;
}
