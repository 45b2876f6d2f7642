/**
 * `<log dir>/meta.properties`: which cluster and node a log directory belongs to, in Kafka's format
 * (MetaProperties version 1, as `kafka-storage.sh format` and a KRaft broker write it): a Java properties
 * file written by Properties.store with an empty comment, so it opens with `#` and a `#<date>` line, then
 * `cluster.id`, `directory.id` (KIP-858, Kafka 3.7+: a Uuid in base64url), `node.id` and `version=1`.
 *
 * At start (MetaPropertiesEnsemble.verify): a directory of another node or cluster is refused with Kafka's
 * messages, so one node's data is never served as another's; a file without a directory.id gets one and
 * is written again; a file that does not read stops the start. The file is written atomically (temp file,
 * fsync, rename, directory fsync), as Kafka's PropertiesUtils.writePropertiesFile with fsync.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogDirFailureError } from './errors.js';
import { writeFileAtomic } from './file-util.js';

export const META_PROPERTIES_FILE = 'meta.properties';

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
  /** Kafka's Uuid text (base64url). */
  directoryId: string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString in UTC: `Thu Dec 03 11:24:13 UTC 2026`. */
export function javaDateString(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Properties.store's escaping of a key or value (saveConvert): backslash before specials, \uXXXX beyond ASCII. */
function escapeProperty(text: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const code = text.charCodeAt(i);
    if (c === ' ' && (i === 0 || isKey)) out += '\\ ';
    else if (c === '\\' || c === '=' || c === ':' || c === '#' || c === '!') out += `\\${c}`;
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += c;
  }
  return out;
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 'f' ? '\f' : e;
  });
}

/** The key=value lines of a properties file (comments and blank lines skipped; no line continuations here). */
export function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) props.set(unescapeProperty(m[1]!), unescapeProperty(m[2]!));
    else props.set(unescapeProperty(line), '');
  }
  return props;
}

/** The text Kafka writes for these properties (keys sorted; Kafka's order is a hash table's). */
export function formatMetaProperties(meta: MetaProperties, nowMs: number): string {
  const entries: [string, string][] = [
    ['cluster.id', meta.clusterId],
    ['directory.id', meta.directoryId],
    ['node.id', String(meta.nodeId)],
    ['version', '1'],
  ];
  return `#\n#${javaDateString(nowMs)}\n${entries.map(([k, v]) => `${escapeProperty(k, true)}=${escapeProperty(v, false)}`).join('\n')}\n`;
}

/**
 * Checks `<logDir>/meta.properties` against this node's cluster id and node id and writes it when it is
 * missing or lacks a directory.id. Throws LogDirFailureError (Kafka's messages) for another node's or
 * cluster's directory or an unreadable file. Returns the directory's properties.
 */
export async function ensureMetaProperties(logDir: string, expected: { clusterId: string; nodeId: number }, nowMs = Date.now()): Promise<MetaProperties> {
  const path = join(logDir, META_PROPERTIES_FILE);
  let text: string | null = null;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let directoryId: string | null = null;
  if (text !== null) {
    const props = parseProperties(text);
    const version = props.get('version');
    const nodeIdText = props.get('node.id') ?? props.get('broker.id');
    const nodeId = Number(nodeIdText);
    if ((version !== '0' && version !== '1') || nodeIdText === undefined || !/^-?\d+$/.test(nodeIdText) || !Number.isSafeInteger(nodeId)) {
      throw new LogDirFailureError(`Unable to read ${path}: expected version 0 or 1 and a numeric node.id`, path);
    }
    if (nodeId !== expected.nodeId) {
      throw new LogDirFailureError(
        `Stored node id ${nodeId} doesn't match previous node id ${expected.nodeId} in ${path}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.`,
        path,
      );
    }
    const clusterId = props.get('cluster.id');
    if (clusterId !== undefined && clusterId !== expected.clusterId) {
      throw new LogDirFailureError(`Invalid cluster.id in: ${path}. Expected ${expected.clusterId}, but read ${clusterId}`, path);
    }
    directoryId = props.get('directory.id') ?? null;
    if (directoryId !== null && version === '1' && clusterId !== undefined && text.startsWith('#\n#')) {
      return { clusterId, nodeId, directoryId };
    }
  }
  const meta: MetaProperties = { clusterId: expected.clusterId, nodeId: expected.nodeId, directoryId: directoryId ?? newDirectoryId() };
  await writeFileAtomic(path, formatMetaProperties(meta, nowMs), logDir);
  return meta;
}

/**
 * A random directory id: Kafka's DirectoryId.random avoids the reserved ids (first 8 bytes 0) and, as
 * Uuid.randomUuid, ids whose text starts with '-' (command-line tools would read them as options).
 */
function newDirectoryId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    const text = bytes.toString('base64url');
    if (bytes.readBigUInt64BE(0) !== 0n && !text.startsWith('-')) return text;
  }
}
