/**
 * README "Look inside: the web console" and "Metrics" are copy-paste: every `curl` line of their ```sh
 * blocks is read from the README as written and sent (method, headers, body and URL as curl would; the
 * README's 127.0.0.1:8080 replaced by a broker on a free port), against a broker holding what the examples
 * name: a topic `orders` with records and an empty group `my-group` with committed offsets. Each answer
 * must be what the line says it shows, and a `| grep -E 'pattern'` after a line must find its lines.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../src/client/client.js';
import { commitOffsets, fetchCommitted, produce } from '../../src/client/operations.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

let broker: TestBroker;
let client: KafkaClient;

beforeAll(async () => {
  broker = await startTestBroker({ 'samsa.http.listeners': 'http://127.0.0.1:0' });
  client = new KafkaClient({ bootstrap: broker.bootstrap });
  await broker.broker.createTopic('orders', 1, 1, new Map());
  const t = await client.topic('orders');
  await produce(client, t, new Map([[0, Array.from({ length: 8 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`order-${i}`) }))]]), { acks: -1, timeoutMs: 5000 });
  await commitOffsets(client, 'my-group', [{ topic: 'orders', partition: 0, offset: 6n }]);
});
afterAll(async () => {
  await client.close();
  await broker.destroy();
});

interface Curl {
  readonly line: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly url: string;
  /** The pattern of a `| grep -E '...'` after the command, if any. */
  readonly grep: string | undefined;
}

/** Shell words of a line: single- and double-quoted strings, bare words; stops at a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(#.*$)|([^\s'"#]+)/g)) {
    if (m[3] !== undefined) break;
    out.push(m[1] ?? m[2] ?? m[4]!);
  }
  return out;
}

/** The curl options the README uses (-s, -X, -H, -d); any other fails, so a new one is noticed. */
function parseCurl(line: string): Curl {
  const [command, pipe] = line.split(/\s\|\s/, 2) as [string, string | undefined];
  const w = words(command);
  expect(w[0]).toBe('curl');
  let method = 'GET';
  const headers: Record<string, string> = {};
  let body: string | undefined;
  let url: string | undefined;
  for (let i = 1; i < w.length; i++) {
    const a = w[i]!;
    if (a === '-s') continue;
    else if (a === '-X') method = w[++i]!;
    else if (a === '-H') {
      const [k, ...v] = w[++i]!.split(':');
      headers[k!.trim()] = v.join(':').trim();
    } else if (a === '-d') {
      body = w[++i]!;
      if (method === 'GET') method = 'POST';
    } else if (!a.startsWith('-') && url === undefined) url = a;
    else throw new Error(`README curl option ${a} is not known to this test: ${line}`);
  }
  const grep = pipe === undefined ? undefined : /^grep -E (.*)$/.exec(pipe.trim())?.[1];
  return { line, method, headers, body, url: url!, grep: grep === undefined ? undefined : words(grep)[0] };
}

/** The curl lines of the ```sh blocks in the README section headed `heading`. */
function curlLines(heading: string): Curl[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "${heading}" section`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).filter((l) => l.startsWith('curl '));
  return lines.map(parseCurl);
}

async function send(c: Curl): Promise<{ status: number; text: string }> {
  expect(c.url.startsWith('http://127.0.0.1:8080/'), c.line).toBe(true);
  const url = c.url.replace('127.0.0.1:8080', `127.0.0.1:${broker.httpPort}`);
  const res = await fetch(url, { method: c.method, headers: c.headers, body: c.body });
  return { status: res.status, text: await res.text() };
}

describe('README "Look inside: the web console"', () => {
  it('each curl line answers what it says: the topics, the last 5 messages, a group, an offset reset', async () => {
    const curls = curlLines('Look inside: the web console');
    expect(curls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'GET /api/topics',
      'GET /api/topics/orders/partitions/0/messages',
      'GET /api/groups/my-group',
      'POST /api/groups/my-group/reset-offsets',
    ]);
    const answers = [];
    for (const c of curls) {
      const r = await send(c);
      expect(r.status, `${c.line}\n${r.text}`).toBe(200);
      answers.push(JSON.parse(r.text) as unknown);
    }
    const [topics, messages, group] = answers as [{ name: string }[], { messages: { offset: number | string }[] }, Record<string, unknown>];
    expect(topics.map((t) => t.name)).toContain('orders');
    // ?from=end&limit=5: the last five records.
    expect(messages.messages.map((r) => Number(r.offset))).toEqual([3, 4, 5, 6, 7]);
    expect(JSON.stringify(group)).toContain('"lag":2');
    // {"to":"earliest"}: the group's committed offset went back to the log start.
    expect(await fetchCommitted(client, 'my-group')).toMatchObject([{ topic: 'orders', partition: 0, offset: 0n }]);
  });
});

describe('README "Metrics"', () => {
  it('its curl | grep -E line finds each metric it names', async () => {
    const curls = curlLines('Metrics');
    expect(curls.length).toBeGreaterThan(0);
    for (const c of curls) {
      const r = await send(c);
      expect(r.status, c.line).toBe(200);
      expect(c.grep, c.line).toBeDefined();
      // Each alternative of the pattern finds at least one line.
      for (const alternative of c.grep!.split('|')) expect(r.text, `${alternative} in /metrics`).toMatch(new RegExp(alternative, 'm'));
    }
  });
});
