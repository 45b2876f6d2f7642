/**
 * Registry tests: an in-process broker with its Schema Registry on a free port, and a small JSON client.
 */
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

export const REGISTRY_PROPS = { 'samsa.schema.registry.enable': 'true', 'schema.registry.listeners': 'http://127.0.0.1:0' };

export async function startRegistryBroker(props: Record<string, string> = {}, dataDir?: string): Promise<TestBroker & { url: string }> {
  const b = await startTestBroker({ ...REGISTRY_PROPS, ...props }, dataDir);
  if (!b.registry) throw new Error('the registry did not start');
  return Object.assign(b, { url: b.registry.url });
}

export interface Reply {
  status: number;
  contentType: string | null;
  body: unknown;
  text: string;
}

export async function call(url: string, method: string, path: string, body?: unknown, rawBody?: string): Promise<Reply> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json', Accept: 'application/vnd.schemaregistry.v1+json' },
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed, text };
}

export const avro = (o: unknown): { schema: string } => ({ schema: JSON.stringify(o) });

export function userV1(): object {
  return { type: 'record', name: 'User', namespace: 'com.example', fields: [{ name: 'id', type: 'int' }, { name: 'nome', type: 'string' }] };
}
