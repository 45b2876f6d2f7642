/**
 * The registry's REST API on Node's `http`: Confluent's paths, query parameters, JSON shapes, status codes
 * and `error_code`s (io.confluent.kafka.schemaregistry.rest.resources.*). Answers carry
 * `Content-Type: application/vnd.schemaregistry.v1+json`; requests are read as JSON whatever their
 * content type says (so `curl -d` works without -H), and unknown JSON properties are ignored, as Confluent
 * does for clients sending `Confluent-Accept-Unknown-Properties: true`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { badRequest, forwardingFailed, httpNotFound, unknownLeader, invalidSchema, invalidVersion, methodNotAllowed, RegistryError, schemaNotFound } from './errors.js';
import { isSchemaType, SCHEMA_TYPES } from './formats.js';
import { serializedDescriptor } from './protobuf.js';
import type { SchemaReference } from './parsed-schema.js';
import { parseCompatibilityLevel, parseMode, qualifiedSubject, type SchemaRegistry, type SchemaRequest, type VersionEntry, type VersionSpec } from './registry.js';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Larger request bodies are refused with 413 and the connection closed; a schema this large could not be stored anyway. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

type Query = URLSearchParams;
interface Request {
  readonly method: string;
  readonly segments: readonly string[];
  readonly query: Query;
  body(): Promise<unknown>;
}
/** A JSON value to answer with, or `raw` text (the `/schema` endpoints answer the schema itself). */
type Answer = { readonly json: unknown } | { readonly raw: string };

const flag = (q: Query, name: string): boolean => q.get(name)?.toLowerCase() === 'true';

function parseVersion(s: string): VersionSpec {
  if (s === 'latest' || s === '-1') return 'latest';
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 2 ** 31 - 1) return n;
  }
  throw invalidVersion(s);
}

function parseId(s: string): number {
  if (!/^-?\d+$/.test(s)) throw httpNotFound();
  return Number(s);
}

function versionJson(v: VersionEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
  if (v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  if (v.references.length > 0) out.references = v.references;
  out.schema = v.schema;
  return out;
}

function schemaRequest(body: unknown, q?: Query): SchemaRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body is not a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.schema !== 'string' || b.schema.trim() === '') throw invalidSchema('Empty schema');
  const type = b.schemaType === undefined || b.schemaType === null ? 'AVRO' : String(b.schemaType).toUpperCase();
  if (!isSchemaType(type)) throw invalidSchema(`Invalid schema type ${String(b.schemaType)}; this registry serves ${SCHEMA_TYPES.join(', ')}`);
  const refs: SchemaReference[] = [];
  if (b.references !== undefined && b.references !== null) {
    if (!Array.isArray(b.references)) throw invalidSchema('references must be an array');
    for (const r of b.references as unknown[]) {
      const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      if (typeof o.name !== 'string' || typeof o.subject !== 'string' || typeof o.version !== 'number' || !Number.isInteger(o.version)) {
        throw invalidSchema(`Invalid reference ${JSON.stringify(r)}: name, subject and version are required`);
      }
      refs.push({ name: o.name, subject: o.subject, version: o.version });
    }
  }
  const optionalInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  return { schema: b.schema, schemaType: type, references: refs, id: optionalInt(b.id), version: optionalInt(b.version), normalize: q !== undefined && flag(q, 'normalize') };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body is not a JSON object');
  return body as Record<string, unknown>;
}

export interface RegistryHttpOptions {
  readonly clusterId: string;
  /** Log every request and answer at info (samsa.protocol.trace); debug otherwise. */
  readonly trace: boolean;
  /** In a cluster: who writes. Writes reaching another node are forwarded to the leader's URL. */
  readonly leader?: LeaderView;
  /** Confluent's `leader.connect.timeout.ms` and `leader.read.timeout.ms` (60000 each) for forwarded writes. */
  readonly forwardTimeouts?: { readonly connectMs: number; readonly readMs: number };
}

/** The registry leader as this node knows it (leader-election.ts). */
export interface LeaderView {
  readonly isLeader: boolean;
  /** null while no leader is known. */
  readonly leaderUrl: string | null;
}

/** Marks a request forwarded by another node: it is never forwarded again (no ping-pong during a re-election). */
const FORWARDED_HEADER = 'x-samsa-registry-forwarded';
const DEFAULT_FORWARD_TIMEOUTS = { connectMs: 60_000, readMs: 60_000 };

/** The requests that change state: only the leader serves them (Confluent forwards exactly these). */
function isWrite(method: string, segments: readonly string[]): boolean {
  switch (segments[0]) {
    case 'subjects':
      if (method === 'DELETE') return true;
      return method === 'POST' && segments.length === 3 && segments[2] === 'versions';
    case 'config':
    case 'mode':
      return method === 'PUT' || method === 'DELETE';
    default:
      return false;
  }
}

export class RegistryHttpServer {
  private readonly server: Server;

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly options: RegistryHttpOptions,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('clientError', (err, socket) => {
      this.logger.debug({ err: err.message }, 'bad HTTP request to the schema registry');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://registry');
    let status = 200;
    let payload: string;
    try {
      // A declared length over the limit is refused before any of the body is read.
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw new RegistryError(413, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
      const segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
      const leader = this.options.leader;
      if (leader !== undefined && !leader.isLeader && isWrite(method, segments)) {
        const target = leader.leaderUrl;
        if (target === null || req.headers[FORWARDED_HEADER] !== undefined) throw unknownLeader(target === null ? 'Leader not known' : `This node is not the leader; the request was forwarded to it as the leader`);
        const forwarded = await this.forward(req, method, `${target}${url.pathname}${url.search}`);
        this.logger[this.options.trace ? 'info' : 'debug']({ method, path: url.pathname, query: url.search, status: forwarded.status, leader: target, ms: Date.now() - started }, 'schema registry request forwarded');
        res.writeHead(forwarded.status, { 'Content-Type': forwarded.contentType, 'Content-Length': forwarded.body.length });
        res.end(forwarded.body);
        return;
      }
      const answer = await this.route({ method, segments, query: url.searchParams, body: () => readJson(req) });
      payload = 'raw' in answer ? answer.raw : JSON.stringify(answer.json);
    } catch (err) {
      let e: RegistryError;
      if (err instanceof RegistryError) e = err;
      else if (err instanceof URIError) e = httpNotFound();
      else {
        this.logger.error({ err, method, path: url.pathname }, 'schema registry request failed');
        e = new RegistryError(500, 50001, `Error in the backend data store: ${(err as Error).message}`);
      }
      status = e.status;
      payload = JSON.stringify({ error_code: e.errorCode, message: e.message });
      if (status === 413) res.setHeader('Connection', 'close');
    }
    const level = this.options.trace ? 'info' : 'debug';
    this.logger[level]({ method, path: url.pathname, query: url.search, status, ms: Date.now() - started }, 'schema registry request');
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  /**
   * Sends the request on to the leader and returns its answer as it is (status, body, content type). The
   * connection must open within leader.connect.timeout.ms and the leader's answer must keep arriving
   * (no silence longer than leader.read.timeout.ms), as Confluent's forwarding client's timeouts.
   */
  private async forward(req: IncomingMessage, method: string, target: string): Promise<{ status: number; body: Buffer; contentType: string }> {
    const body = await readBody(req);
    const headers: Record<string, string> = { [FORWARDED_HEADER]: '1', Accept: String(req.headers.accept ?? CONTENT_TYPE) };
    if (body.length > 0) {
      headers['Content-Type'] = String(req.headers['content-type'] ?? CONTENT_TYPE);
      headers['Content-Length'] = String(body.length);
    }
    const timeouts = this.options.forwardTimeouts ?? DEFAULT_FORWARD_TIMEOUTS;
    try {
      return await new Promise((resolve, reject) => {
        // agent: false: a socket of its own, so the read timeout set on it never outlives this request.
        const out = httpRequest(target, { method, headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 500, body: Buffer.concat(chunks), contentType: String(res.headers['content-type'] ?? CONTENT_TYPE) }));
          res.on('error', reject);
        });
        const connectTimer = setTimeout(() => out.destroy(new Error(`connect timed out after ${timeouts.connectMs} ms (leader.connect.timeout.ms)`)), timeouts.connectMs);
        out.on('socket', (socket) => {
          const connected = (): void => {
            clearTimeout(connectTimer);
            socket.setTimeout(timeouts.readMs, () => out.destroy(new Error(`read timed out after ${timeouts.readMs} ms (leader.read.timeout.ms)`)));
          };
          if (socket.connecting) socket.once('connect', connected);
          else connected();
        });
        out.on('error', (err) => {
          clearTimeout(connectTimer);
          reject(err);
        });
        out.on('close', () => clearTimeout(connectTimer));
        out.end(body.length > 0 ? body : undefined);
      });
    } catch (err) {
      const cause = (err as Error).message;
      this.logger.warn({ target, reason: cause }, 'forwarding a schema registry write to the leader failed');
      throw forwardingFailed(`${target}: ${cause}`);
    }
  }

  private async route(r: Request): Promise<Answer> {
    const [head, ...rest] = r.segments;
    const m = r.method;
    const reg = this.registry;
    const q = r.query;
    const only = (method: string, f: () => Answer | Promise<Answer>): Answer | Promise<Answer> => {
      if (m !== method) throw methodNotAllowed();
      return f();
    };
    switch (head) {
      case undefined:
        return only('GET', () => ({ json: {} }));
      case 'schemas': {
        if (rest.length === 0) {
          return only('GET', () => ({ json: reg.listSchemas({ prefix: q.get('subjectPrefix') ?? undefined, deleted: flag(q, 'deleted'), latestOnly: flag(q, 'latestOnly') }).map(versionJson) }));
        }
        if (rest[0] === 'types' && rest.length === 1) return only('GET', () => ({ json: [...SCHEMA_TYPES] }));
        if (rest[0] !== 'ids' || rest.length < 2 || rest.length > 3) throw httpNotFound();
        const id = parseId(rest[1]!);
        return only('GET', () => {
          // `subject` (Confluent's QualifiedSubject) also names the context the id is looked up in.
          const given = q.get('subject');
          const context = reg.locateId(id, given === null || given === '' ? null : given);
          const s = reg.getSchemaById(id, context);
          switch (rest[2]) {
            case undefined: {
              const out: Record<string, unknown> = {};
              if (s.schemaType !== 'AVRO') out.schemaType = s.schemaType;
              // format=serialized: a Protobuf schema as its base64 FileDescriptorProto, which
              // confluent-kafka-python's ProtobufDeserializer asks for.
              out.schema = s.schemaType === 'PROTOBUF' && q.get('format') === 'serialized' ? serializedDescriptor(s.schema) : s.schema;
              if (s.references.length > 0) out.references = s.references;
              if (flag(q, 'fetchMaxId')) out.maxId = reg.maxSchemaId(context);
              return { json: out };
            }
            case 'schema':
              return { raw: s.schema };
            case 'subjects':
              return { json: [...new Set(reg.subjectVersionsForId(id, flag(q, 'deleted'), context).map((sv) => sv.subject))] };
            case 'versions':
              return { json: reg.subjectVersionsForId(id, flag(q, 'deleted'), context) };
            default:
              throw httpNotFound();
          }
        });
      }
      case 'subjects':
        return this.subjects(r, rest);
      case 'config': {
        if (rest.length > 1) throw httpNotFound();
        const subject = rest[0] === undefined ? null : qualifiedSubject(rest[0]);
        switch (m) {
          case 'GET':
            return { json: reg.getConfig(subject, flag(q, 'defaultToGlobal')) };
          case 'PUT': {
            // ConfigUpdateRequest: `compatibility` and/or `normalize`; what is absent stays as it was.
            const body = objectBody(await r.body());
            const normalize = typeof body.normalize === 'boolean' ? body.normalize : undefined;
            const level = body.compatibility === undefined && normalize !== undefined ? undefined : parseCompatibilityLevel(body.compatibility);
            const done = await reg.setConfig(subject, { ...(level === undefined ? {} : { compatibilityLevel: level }), ...(normalize === undefined ? {} : { normalize }) });
            return { json: { ...(done.compatibilityLevel === undefined ? {} : { compatibility: done.compatibilityLevel }), ...(done.normalize === undefined ? {} : { normalize: done.normalize }) } };
          }
          case 'DELETE':
            return { json: await reg.deleteConfig(subject) };
          default:
            throw methodNotAllowed();
        }
      }
      case 'mode': {
        if (rest.length > 1) throw httpNotFound();
        const subject = rest[0] === undefined ? null : qualifiedSubject(rest[0]);
        switch (m) {
          case 'GET':
            return { json: { mode: reg.getMode(subject, flag(q, 'defaultToGlobal')) } };
          case 'PUT': {
            const body = objectBody(await r.body());
            return { json: { mode: await reg.setMode(subject, parseMode(body.mode), flag(q, 'force')) } };
          }
          case 'DELETE':
            if (subject === null) throw methodNotAllowed();
            return { json: { mode: await reg.deleteMode(subject) } };
          default:
            throw methodNotAllowed();
        }
      }
      case 'compatibility': {
        // /compatibility/subjects/{s}/versions[/{v}]
        if (rest[0] !== 'subjects' || rest.length < 3 || rest.length > 4 || rest[2] !== 'versions') throw httpNotFound();
        const subject = qualifiedSubject(rest[1]!);
        const spec = rest.length === 4 ? parseVersion(rest[3]!) : 'all';
        if (m !== 'POST') throw methodNotAllowed();
        const messages = reg.checkCompatibility(subject, spec, schemaRequest(await r.body(), q));
        return { json: flag(q, 'verbose') ? { is_compatible: messages.length === 0, messages } : { is_compatible: messages.length === 0 } };
      }
      case 'contexts':
        if (rest.length > 0) throw httpNotFound();
        return only('GET', () => ({ json: reg.listContexts() }));
      case 'v1':
        if (rest[0] === 'metadata' && rest[1] === 'id' && rest.length === 2) {
          return only('GET', () => ({ json: { scope: { path: [], clusters: { 'kafka-cluster': this.options.clusterId, 'schema-registry-cluster': 'schema-registry' } } } }));
        }
        if (rest[0] === 'metadata' && rest[1] === 'version' && rest.length === 2) return only('GET', () => ({ json: { version: '7.6.0-samsa', commitId: 'samsa' } }));
        throw httpNotFound();
      default:
        throw httpNotFound();
    }
  }

  private async subjects(r: Request, rest: readonly string[]): Promise<Answer> {
    const reg = this.registry;
    const q = r.query;
    const m = r.method;
    if (rest.length === 0) {
      if (m !== 'GET') throw methodNotAllowed();
      // Confluent's default prefix is the wildcard `:*:`, every context's subjects.
      const prefix = q.get('subjectPrefix');
      let list = reg.listSubjects({ prefix: prefix === null || prefix === ':*:' ? undefined : prefix, deleted: flag(q, 'deleted'), deletedOnly: flag(q, 'deletedOnly') });
      const offset = Number(q.get('offset') ?? 0);
      const limit = Number(q.get('limit') ?? -1);
      if (Number.isInteger(offset) && offset > 0) list = list.slice(offset);
      if (Number.isInteger(limit) && limit >= 0) list = list.slice(0, limit);
      return { json: list };
    }
    const subject = qualifiedSubject(rest[0]!);
    if (rest.length === 1) {
      switch (m) {
        case 'POST':
          return { json: versionJson(reg.lookup(subject, schemaRequest(await r.body(), q), flag(q, 'deleted'))) };
        case 'DELETE':
          return { json: await reg.deleteSubject(subject, flag(q, 'permanent')) };
        default:
          throw methodNotAllowed();
      }
    }
    if (rest[1] !== 'versions' || rest.length > 4) throw httpNotFound();
    if (rest.length === 2) {
      switch (m) {
        case 'GET':
          return { json: reg.listVersions(subject, { deleted: flag(q, 'deleted'), deletedOnly: flag(q, 'deletedOnly') }) };
        case 'POST':
          return { json: { id: await reg.register(subject, schemaRequest(await r.body(), q)) } };
        default:
          throw methodNotAllowed();
      }
    }
    const spec = parseVersion(rest[2]!);
    if (rest.length === 3) {
      switch (m) {
        case 'GET':
          return { json: versionJson(reg.getVersion(subject, spec, flag(q, 'deleted'))) };
        case 'DELETE':
          return { json: await reg.deleteVersion(subject, spec, flag(q, 'permanent')) };
        default:
          throw methodNotAllowed();
      }
    }
    if (m !== 'GET') throw methodNotAllowed();
    if (rest[3] === 'schema') return { raw: reg.getVersion(subject, spec, flag(q, 'deleted')).schema };
    if (rest[3] === 'referencedby') return { json: reg.referencedBy(subject, spec) };
    throw httpNotFound();
  }
}

/** The request body as JSON; at most MAX_BODY_BYTES are read. An empty body is null. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`Unexpected character in the request body: ${(err as Error).message}`);
  }
}

/** The request body's bytes; at most MAX_BODY_BYTES are read (413 beyond). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        chunks.length = 0;
        req.pause();
        reject(new RegistryError(413, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(badRequest(err.message));
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
  });
}
